// Package agency holds the agencies that decide on takedowns together
// (KP2MI, Komdigi, Polri, BIN, BSSN), their members and channels, and the
// approval policy per category and urgency: which agencies must approve
// (all of a set, or N of M), who is told for deconfliction and may hold,
// whether one rejection ends it, and each tier's window and reminder.
//
// The directory is data (data/agencies.yaml, bundled); a deployment may
// keep its own (the same document, YAML or JSON) in its run-time
// configuration next to the platforms' (TANGKAL_CONFIG_SOURCE).
//
//	dir, _ := agency.Default()
//	p := dir.PolicyFor("scam_compound", "urgent")
//	out := p.Evaluate(map[string]string{"kp2mi": agency.Approve})
//	// out.Outcome == agency.Pending, out.Missing == ["komdigi"]
package agency

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tangkal/tangkal/data"
)

// Roles of members.
const (
	RoleApprover     = "approver"
	RoleSupervisor   = "supervisor"
	RoleInvestigator = "investigator"
)

// Decisions an agency can make.
const (
	Approve = "approve"
	Reject  = "reject"
	Hold    = "hold"
	Release = "release"
)

// Outcomes of a policy.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// Member is one person of an agency.
type Member struct {
	Email string `yaml:"email" json:"email,omitempty"`
	Slack string `yaml:"slack" json:"slack,omitempty"` // Slack user id
	Role  string `yaml:"role" json:"role"`
	Name  string `yaml:"name" json:"name,omitempty"`
}

// Channels are where an agency is asked.
type Channels struct {
	Email        bool   `yaml:"email" json:"email"`
	SlackChannel string `yaml:"slack_channel" json:"slack_channel,omitempty"`
}

// Agency is one agency.
type Agency struct {
	ID       string   `yaml:"id" json:"id"`
	NameID   string   `yaml:"name_id" json:"name_id"`
	NameEN   string   `yaml:"name_en" json:"name_en"`
	Channels Channels `yaml:"channels" json:"channels"`
	Members  []Member `yaml:"members" json:"members"`
}

// Short is the agency's short name as officers write it (KP2MI, Komdigi…).
func (a Agency) Short() string {
	if s, ok := shortNames[a.ID]; ok {
		return s
	}
	return strings.ToUpper(a.ID)
}

var shortNames = map[string]string{"kp2mi": "KP2MI", "komdigi": "Komdigi", "polri": "Polri", "bin": "BIN", "bssn": "BSSN"}

// Tier is one round of asking.
type Tier struct {
	Role            string `yaml:"role" json:"role"`
	WindowSeconds   int    `yaml:"window_seconds" json:"window_seconds"`
	ReminderSeconds int    `yaml:"reminder_seconds" json:"reminder_seconds"`
}

// Window is the tier's time to decide.
func (t Tier) Window() time.Duration { return time.Duration(t.WindowSeconds) * time.Second }

// Reminder is when, after the tier starts, undecided members are reminded.
func (t Tier) Reminder() time.Duration { return time.Duration(t.ReminderSeconds) * time.Second }

// Policy says who decides a case of a category and urgency.
type Policy struct {
	Name     string   `yaml:"name" json:"name"`
	Category string   `yaml:"category" json:"category"`
	Urgency  string   `yaml:"urgency" json:"urgency"`
	Require  []string `yaml:"require" json:"require"`
	// Min is how many of Require must approve (0: all).
	Min            int      `yaml:"min" json:"min,omitempty"`
	Notify         []string `yaml:"notify" json:"notify,omitempty"`
	Holders        []string `yaml:"hold" json:"hold,omitempty"`
	Veto           bool     `yaml:"veto" json:"veto"`
	HoldMaxSeconds int      `yaml:"hold_max_seconds" json:"hold_max_seconds"`
	Tiers          []Tier   `yaml:"tiers" json:"tiers"`
	// TrustedFlagger, when set, is the window and reminder of every tier
	// for a case a trusted flagger reported (shorter: reviewed first).
	TrustedFlagger *Timing `yaml:"trusted_flagger" json:"trusted_flagger,omitempty"`
	// ExtraReview, when set, is who reviews a case that needs an extra
	// review (public reports) before the required agencies are asked.
	ExtraReview *Review `yaml:"extra_review" json:"extra_review,omitempty"`
}

// Timing is a window and its reminder, in seconds.
type Timing struct {
	WindowSeconds   int `yaml:"window_seconds" json:"window_seconds"`
	ReminderSeconds int `yaml:"reminder_seconds" json:"reminder_seconds"`
}

// Review names the members who review a case first: an agency's members
// of a role.
type Review struct {
	Agency string `yaml:"agency" json:"agency"`
	Role   string `yaml:"role" json:"role"`
}

// Traits are what of a case changes its approval by policy.
type Traits struct {
	// TrustedFlagger: a trusted flagger reported the ad.
	TrustedFlagger bool
	// ExtraReview: the case asks for an extra review (a public report).
	ExtraReview bool
}

// TierFor is a case's tier (1-based): its role, window and reminder. A
// trusted flagger's case gets the policy's trusted_flagger window and
// reminder. Every place that times a tier (the workflow's reminder and
// window, the approval's deadline, the inbox) takes it from here.
func (p Policy) TierFor(tier int, c Traits) (Tier, bool) {
	if tier < 1 || tier > len(p.Tiers) {
		return Tier{}, false
	}
	t := p.Tiers[tier-1]
	if c.TrustedFlagger && p.TrustedFlagger != nil {
		t.WindowSeconds, t.ReminderSeconds = p.TrustedFlagger.WindowSeconds, p.TrustedFlagger.ReminderSeconds
	}
	return t, true
}

// Reviews reports whether a case is reviewed first (the policy has an
// extra_review and the case asks for one).
func (p Policy) Reviews(c Traits) bool { return c.ExtraReview && p.ExtraReview != nil }

// Needed is how many approvals the policy needs.
func (p Policy) Needed() int {
	if p.Min <= 0 || p.Min > len(p.Require) {
		return len(p.Require)
	}
	return p.Min
}

// HoldMax is the longest a hold keeps a takedown waiting.
func (p Policy) HoldMax() time.Duration { return time.Duration(p.HoldMaxSeconds) * time.Second }

// Requires reports whether agency must (or may) approve.
func (p Policy) Requires(agency string) bool { return slices.Contains(p.Require, agency) }

// MayHold reports whether agency may hold.
func (p Policy) MayHold(agency string) bool { return slices.Contains(p.Holders, agency) }

// Evaluation is where a policy stands given the agencies' decisions.
type Evaluation struct {
	Outcome string `json:"outcome" dynamodbav:"outcome"` // Pending, Approved or Rejected
	// Approvals is how many required agencies approved; Needed how many
	// must.
	Approvals int `json:"approvals" dynamodbav:"approvals"`
	Needed    int `json:"needed" dynamodbav:"needed"`
	// Missing are the required agencies that have not decided yet.
	Missing []string `json:"missing,omitempty" dynamodbav:"missing,omitempty"`
	// Why says it in words (Indonesian / English).
	Why string `json:"why,omitempty" dynamodbav:"why,omitempty"`
}

// GetWhy is Why (for templates).
func (e Evaluation) GetWhy() string { return e.Why }

// Evaluate applies the policy to decisions (agency → Approve or Reject).
// It is Approved when enough required agencies approved, Rejected when one
// rejected under a veto or enough can no longer approve, else Pending.
func (p Policy) Evaluate(decisions map[string]string) Evaluation {
	e := Evaluation{Needed: p.Needed()}
	rejected := 0
	for _, a := range p.Require {
		switch decisions[a] {
		case Approve:
			e.Approvals++
		case Reject:
			rejected++
		default:
			e.Missing = append(e.Missing, a)
		}
	}
	switch {
	case p.Veto && rejected > 0:
		e.Outcome, e.Why = Rejected, "ditolak oleh instansi yang wajib menyetujui / rejected by a required agency"
	case e.Approvals >= e.Needed:
		e.Outcome, e.Why = Approved, "semua persetujuan yang diperlukan sudah ada / every approval needed is in"
	case e.Approvals+len(e.Missing) < e.Needed:
		e.Outcome, e.Why = Rejected, "persetujuan yang diperlukan tidak mungkin lagi tercapai / the approvals needed can no longer be reached"
	default:
		e.Outcome = Pending
		e.Why = fmt.Sprintf("menunggu %d persetujuan lagi dari %s / waiting for %d more approval(s) from %s",
			e.Needed-e.Approvals, strings.Join(e.Missing, ", "), e.Needed-e.Approvals, strings.Join(e.Missing, ", "))
	}
	if e.Outcome != Pending {
		e.Missing = nil
	}
	return e
}

// Directory is every agency and policy.
type Directory struct {
	Agencies []Agency `yaml:"agencies" json:"agencies"`
	Policies []Policy `yaml:"policies" json:"policies"`
}

// Default is the bundled directory.
func Default() (Directory, error) { return Parse(data.Agencies) }

// Load is the override if it is not blank, else the bundled directory.
func Load(override string) (Directory, error) {
	if strings.TrimSpace(override) != "" {
		d, err := Parse([]byte(override))
		if err != nil {
			return Directory{}, fmt.Errorf("agencies override: %w", err)
		}
		return d, nil
	}
	return Default()
}

var idRe = regexp.MustCompile(`^[a-z0-9_]{2,32}$`)
var slackRe = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// Parse reads a directory (YAML or JSON) and checks it.
func Parse(b []byte) (Directory, error) {
	var d Directory
	if err := yaml.Unmarshal(b, &d); err != nil {
		return Directory{}, fmt.Errorf("agencies: %w", err)
	}
	return d, d.Check()
}

// Check validates the directory: ids, roles, policies naming known
// agencies, tiers with a reminder inside the window.
func (d Directory) Check() error {
	if len(d.Agencies) == 0 {
		return errors.New("agencies: none defined")
	}
	seen := map[string]bool{}
	who := map[string]string{}
	for i, a := range d.Agencies {
		if !idRe.MatchString(a.ID) || seen[a.ID] {
			return fmt.Errorf("agencies[%d].id: %q is not a new lower-case id", i, a.ID)
		}
		seen[a.ID] = true
		if a.NameID == "" || a.NameEN == "" {
			return fmt.Errorf("agencies[%d] (%s): name_id and name_en are required", i, a.ID)
		}
		if !a.Channels.Email && a.Channels.SlackChannel == "" {
			return fmt.Errorf("agencies[%d] (%s).channels: e-mail, a Slack channel or both", i, a.ID)
		}
		for j, m := range a.Members {
			switch m.Role {
			case RoleApprover, RoleSupervisor, RoleInvestigator:
			default:
				return fmt.Errorf("agencies[%d] (%s).members[%d].role: %q is not approver, supervisor or investigator", i, a.ID, j, m.Role)
			}
			if m.Email == "" && m.Slack == "" {
				return fmt.Errorf("agencies[%d] (%s).members[%d]: an e-mail, a Slack user id or both", i, a.ID, j)
			}
			if m.Slack != "" && !slackRe.MatchString(m.Slack) {
				return fmt.Errorf("agencies[%d] (%s).members[%d].slack: %q is not a Slack user id", i, a.ID, j, m.Slack)
			}
			for _, id := range m.Identities() {
				if other, dup := who[id]; dup && other != a.ID {
					return fmt.Errorf("agencies[%d] (%s).members[%d]: %s is already a member of %s", i, a.ID, j, id, other)
				}
				who[id] = a.ID
			}
		}
	}
	if len(d.Policies) == 0 {
		return errors.New("agencies: no policies")
	}
	for i, p := range d.Policies {
		if len(p.Require) == 0 {
			return fmt.Errorf("policies[%d] (%s).require: at least one agency", i, p.Name)
		}
		for _, list := range [][]string{p.Require, p.Notify, p.Holders} {
			for _, a := range list {
				if !seen[a] {
					return fmt.Errorf("policies[%d] (%s): unknown agency %q", i, p.Name, a)
				}
			}
		}
		if p.Min < 0 || p.Min > len(p.Require) {
			return fmt.Errorf("policies[%d] (%s).min: %d is not between 0 and %d", i, p.Name, p.Min, len(p.Require))
		}
		if len(p.Tiers) == 0 {
			return fmt.Errorf("policies[%d] (%s).tiers: at least one", i, p.Name)
		}
		for j, t := range p.Tiers {
			if t.WindowSeconds < 2 || t.ReminderSeconds < 1 || t.ReminderSeconds >= t.WindowSeconds {
				return fmt.Errorf("policies[%d] (%s).tiers[%d]: the reminder must come inside the window (0 < reminder < window)", i, p.Name, j)
			}
			if t.Role != RoleApprover && t.Role != RoleSupervisor {
				return fmt.Errorf("policies[%d] (%s).tiers[%d].role: approver or supervisor", i, p.Name, j)
			}
		}
		if tf := p.TrustedFlagger; tf != nil {
			if tf.WindowSeconds < 2 || tf.ReminderSeconds < 1 || tf.ReminderSeconds >= tf.WindowSeconds {
				return fmt.Errorf("policies[%d] (%s).trusted_flagger: the reminder must come inside the window (0 < reminder < window)", i, p.Name)
			}
			for j, t := range p.Tiers {
				if tf.WindowSeconds > t.WindowSeconds {
					return fmt.Errorf("policies[%d] (%s).trusted_flagger.window_seconds: %d is longer than tiers[%d]'s %d (a trusted flagger's window is shorter)", i, p.Name, tf.WindowSeconds, j, t.WindowSeconds)
				}
			}
		}
		if r := p.ExtraReview; r != nil {
			if !seen[r.Agency] {
				return fmt.Errorf("policies[%d] (%s).extra_review.agency: unknown agency %q", i, p.Name, r.Agency)
			}
			if r.Role != RoleApprover && r.Role != RoleSupervisor {
				return fmt.Errorf("policies[%d] (%s).extra_review.role: approver or supervisor", i, p.Name)
			}
			if len(d.Reviewers(p)) == 0 {
				return fmt.Errorf("policies[%d] (%s).extra_review: %s has no %s with an e-mail", i, p.Name, r.Agency, r.Role)
			}
		}
		if len(p.Holders) > 0 && p.HoldMaxSeconds <= 0 {
			return fmt.Errorf("policies[%d] (%s).hold_max_seconds: required when someone may hold", i, p.Name)
		}
	}
	return nil
}

// Identities are the names a member decides under: the lower-case e-mail
// and "slack:<user id>".
func (m Member) Identities() []string {
	var ids []string
	if m.Email != "" {
		ids = append(ids, strings.ToLower(strings.TrimSpace(m.Email)))
	}
	if m.Slack != "" {
		ids = append(ids, SlackIdentity(m.Slack))
	}
	return ids
}

// SlackIdentity names a Slack user among identities.
func SlackIdentity(user string) string { return "slack:" + strings.ToLower(user) }

// Agency returns the agency with that id.
func (d Directory) Agency(id string) (Agency, bool) {
	for _, a := range d.Agencies {
		if a.ID == id {
			return a, true
		}
	}
	return Agency{}, false
}

// PolicyFor is the first policy matching category and urgency.
func (d Directory) PolicyFor(category, urgency string) Policy {
	for _, p := range d.Policies {
		if match(p.Category, category) && match(p.Urgency, urgency) {
			return p
		}
	}
	return d.Policies[len(d.Policies)-1]
}

func match(pattern, v string) bool { return pattern == "" || pattern == "*" || pattern == v }

// Asked are the members asked in a tier (1-based) for one agency: the
// tier's role, plus (for holders) investigators.
func (d Directory) Asked(p Policy, tier int, agencyID string) []Member {
	a, ok := d.Agency(agencyID)
	if !ok || tier < 1 || tier > len(p.Tiers) {
		return nil
	}
	role := p.Tiers[tier-1].Role
	var out []Member
	for _, m := range a.Members {
		if (p.Requires(agencyID) && m.Role == role) || (p.MayHold(agencyID) && m.Role == RoleInvestigator) ||
			(p.Requires(agencyID) && tier > 1 && m.Role == RoleApprover) {
			out = append(out, m)
		}
	}
	// An agency with nobody of the tier's role keeps its approvers.
	if len(out) == 0 && p.Requires(agencyID) {
		for _, m := range a.Members {
			if m.Role == RoleApprover {
				out = append(out, m)
			}
		}
	}
	return out
}

// Reviewers are the members who review a case first (the policy's
// extra_review agency's members of its role with an e-mail: the review
// is asked by e-mail).
func (d Directory) Reviewers(p Policy) []Member {
	if p.ExtraReview == nil {
		return nil
	}
	a, ok := d.Agency(p.ExtraReview.Agency)
	if !ok {
		return nil
	}
	var out []Member
	for _, m := range a.Members {
		if m.Role == p.ExtraReview.Role && m.Email != "" {
			out = append(out, m)
		}
	}
	return out
}

// Involved are the agencies a policy involves: required, then holders and
// those notified, each once.
func (p Policy) Involved() []string {
	var out []string
	for _, list := range [][]string{p.Require, p.Holders, p.Notify} {
		for _, a := range list {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
