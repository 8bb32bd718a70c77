package risk

import (
	"strings"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
)

type derived struct{ id, match string }

// freeMail are email domains anyone can register; an address there is a
// personal contact, not a company's.
var freeMail = []string{"gmail.", "yahoo.", "ymail.", "hotmail.", "outlook.", "live.", "icloud.", "aol.", "proton", "gmx.", "mail.com"}

func isCompanyEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return false
	}
	domain := e[at+1:]
	for _, f := range freeMail {
		if strings.HasPrefix(domain, f) || strings.Contains(domain, "."+f) {
			return false
		}
	}
	return true
}

// contactFacts describes how the post can be contacted.
func contactFacts(s entity.Set) map[string]bool {
	f := map[string]bool{}
	for _, p := range s.Phones {
		f["has_phone"] = true
		switch {
		case !strings.HasPrefix(p, "+62"):
			f["has_foreign_phone"] = true
		case strings.HasPrefix(p, "+628"):
			f["has_mobile"] = true
		default:
			f["has_landline"] = true
		}
	}
	if len(s.Telegram) > 0 {
		f["has_telegram"] = true
	}
	if len(s.Banks) > 0 {
		f["has_bank"] = true
	}
	for _, e := range s.Emails {
		f["has_email"] = true
		if isCompanyEmail(e) {
			f["has_company_email"] = true
		}
	}
	if len(s.Companies) > 0 {
		f["has_company"] = true
	}
	return f
}

// derive decides the indicators that come from the registry and the
// extracted contacts rather than from words. Weights, explanations and any
// extra conditions come from the rules file.
func (a *Assessor) derive(ents entity.Set, matches []registry.Match, licences []registry.Found, facts map[string]bool, has func(string) bool, isAd bool) []derived {
	var out []derived
	add := func(id, match string) { out = append(out, derived{id, match}) }
	overseas := has("overseas")

	if isAd && !overseas {
		add("domestic_job", "no overseas destination, passport or visa mentioned")
	}

	// Contacts.
	if facts["has_mobile"] && !facts["has_landline"] && !facts["has_email"] {
		add("whatsapp_only_contact", strings.Join(mobiles(ents.Phones), ", "))
	}
	if facts["has_telegram"] {
		add("telegram_contact", strings.Join(ents.Telegram, ", "))
	}
	if facts["has_foreign_phone"] {
		var f []string
		for _, p := range ents.Phones {
			if !strings.HasPrefix(p, "+62") {
				f = append(f, p)
			}
		}
		add("foreign_phone_contact", strings.Join(f, ", "))
	}
	for _, e := range ents.Emails {
		if isCompanyEmail(e) {
			add("company_email", e)
			break
		}
	}

	// Registry.
	personalOnly := (facts["has_mobile"] || facts["has_telegram"] || has("personal_bank_account")) &&
		!facts["has_landline"] && !facts["has_company_email"]
	named := map[string]bool{} // registry companies the text names
	for _, m := range matches {
		if m.ByName {
			named[m.Entry.Licence] = true
		}
	}
	expired := func(e registry.Entry) bool {
		return !e.ValidUntil.IsZero() && e.ValidUntil.Before(a.now())
	}
	anyRegistry := false
	for _, m := range matches {
		e := m.Entry
		label := e.Company
		if m.Licence != "" {
			label += " (" + m.Licence + ")"
		}
		if !m.ByName && !m.ByLicence {
			// Only the office phone: not a claim to be that company, unless
			// that company lost its licence and the ad names another one.
			if (e.Status == registry.StatusSuspended || e.Status == registry.StatusRevoked) && len(ents.Companies) > 0 {
				add("renamed_company", strings.Join(ents.Companies, ", ")+" gives "+m.Phone+", the registered office of "+entryLabel(e))
			}
			continue
		}
		anyRegistry = true
		switch {
		case e.Status == registry.StatusSuspended:
			add("suspended_licence", label+": licence suspended")
			continue
		case e.Status == registry.StatusRevoked:
			add("revoked_licence", label+": licence revoked")
			continue
		case expired(e):
			add("expired_licence", label+": licence expired "+e.ValidUntil.Format("2006-01-02"))
			continue
		}
		if m.ByLicence && !m.ByName {
			// Someone else's licence number: the text names another company
			// or none at all.
			add("licence_number_mismatch", m.Licence+" belongs to "+e.Company+", who is not named")
			continue
		}
		if m.ByPhone {
			add("official_contact", m.Phone+" is "+e.Company+"'s registered office number")
		}
		if m.Lookalike && !m.ByPhone && !m.ByLicence {
			add("lookalike_company_name", m.Name+" imitates "+entryLabel(e))
		}
		corroborated := m.ByLicence || m.ByPhone || has("government_facilitated")
		switch {
		case personalOnly && !m.ByPhone && !has("government_facilitated"):
			add("impersonated_company", m.Name+" is the licensed "+entryLabel(e)+", but the ad gives only personal contacts")
		case corroborated:
			add("licensed_company", label+": active licence in the registry")
		default:
			add("registry_company_mentioned", m.Name)
		}
	}
	// Companies that look like a new name for a suspended or revoked one.
	if a.reg != nil {
		for _, c := range ents.Companies {
			if isRegistryName(c, matches) {
				continue
			}
			if e, ok := a.reg.Renamed(c); ok {
				add("renamed_company", c+" looks like a new name for "+entryLabel(e))
				anyRegistry = true
			}
		}
	}
	// Licence numbers not in the registry at all.
	if a.reg != nil {
		for _, f := range licences {
			if _, ok := a.reg.ByLicence(f.Value); ok {
				continue
			}
			// A licensed company named with a licence number not its own.
			var owner string
			for _, m := range matches {
				if m.ByName && !m.ByLicence {
					owner = m.Entry.Company + "'s licence is " + m.Entry.Licence
				}
			}
			if owner != "" {
				add("licence_number_mismatch", f.Text+" is not in the registry; "+owner)
			} else {
				add("licence_number_mismatch", f.Text+" is not in the licensed-recruiter registry")
			}
		}
	}

	// Companies not in the registry.
	var unregistered []string
	for _, c := range ents.Companies {
		if !isRegistryName(c, matches) && (strings.HasPrefix(c, "PT ") || strings.HasPrefix(c, "CV ")) {
			unregistered = append(unregistered, c)
		}
	}
	if isAd && overseas {
		switch {
		case len(unregistered) > 0 && !anyRegistry:
			add("unlicensed_company", strings.Join(unregistered, ", ")+" is not in the licensed-recruiter registry")
		case !anyRegistry && len(ents.Companies) == 0:
			add("no_licence_named", "no licensed recruitment company (P3MI) named")
		}
	}
	return out
}

func mobiles(phones []string) []string {
	var out []string
	for _, p := range phones {
		if strings.HasPrefix(p, "+628") {
			out = append(out, p)
		}
	}
	return out
}

func isRegistryName(company string, matches []registry.Match) bool {
	for _, m := range matches {
		if m.ByName && (strings.Contains(strings.ToLower(company), strings.ToLower(strings.TrimPrefix(m.Entry.Company, "PT "))) ||
			strings.Contains(strings.ToLower(m.Name), strings.ToLower(strings.TrimPrefix(company, "PT ")))) {
			return true
		}
	}
	return false
}

// entryLabel names a registry entry for approvers: company, licence, status,
// city and office phone.
func entryLabel(e registry.Entry) string {
	parts := []string{e.Licence}
	if e.Status != "" && e.Status != registry.StatusActive {
		parts = append(parts, "licence "+e.Status)
	}
	if e.City != "" {
		parts = append(parts, e.City)
	}
	if e.Phone != "" {
		parts = append(parts, "office "+e.Phone)
	}
	return e.Company + " (" + strings.Join(parts, ", ") + ")"
}
