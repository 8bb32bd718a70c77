// Package registry holds the list of licensed migrant-worker recruitment
// agencies (P3MI) and matches the company names, licence numbers and office
// phones written in an ad against it, tolerating "PT." variants, case and
// small misspellings.
package registry

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/data"
	"github.com/tangkal/tangkal/internal/entity"
)

// Licence statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
)

// Entry is one licensed company.
type Entry struct {
	Company    string    `json:"company_name"`
	Licence    string    `json:"licence_number"` // normalised, e.g. "SIP3MI 092/KP2MI/2024"
	Status     string    `json:"status"`
	City       string    `json:"city"`
	Phone      string    `json:"phone"` // E.164 when it parses, else as written
	ValidUntil time.Time `json:"valid_until"`
}

// Registry is an in-memory copy of the licence registry.
type Registry struct {
	entries []Entry
	byLic   map[string]int
}

// New builds a registry from entries; licence numbers are normalised.
func New(entries []Entry) *Registry {
	r := &Registry{byLic: map[string]int{}}
	for _, e := range entries {
		if n, ok := NormalizeLicence(e.Licence); ok {
			e.Licence = n
		}
		if p, ok := entity.NormalizePhone(e.Phone, strings.HasPrefix(strings.TrimSpace(e.Phone), "+")); ok {
			e.Phone = p
		}
		r.byLic[e.Licence] = len(r.entries)
		r.entries = append(r.entries, e)
	}
	return r
}

// Entries returns a copy of the registry's entries.
func (r *Registry) Entries() []Entry {
	if r == nil {
		return nil
	}
	return slices.Clone(r.entries)
}

// Len is the number of entries.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.entries)
}

// ByLicence finds the entry with a licence number (any spelling).
func (r *Registry) ByLicence(number string) (Entry, bool) {
	if r == nil {
		return Entry{}, false
	}
	n, ok := NormalizeLicence(number)
	if !ok {
		return Entry{}, false
	}
	i, ok := r.byLic[n]
	if !ok {
		return Entry{}, false
	}
	return r.entries[i], true
}

// Default parses the registry copy bundled with tangkal.
func Default() *Registry {
	r, err := ParseCSV(strings.NewReader(string(data.RegistryCSV)))
	if err != nil {
		// The bundled file is checked by tests; reaching this is a build error.
		panic(fmt.Sprintf("bundled registry.csv: %v", err))
	}
	return r
}

var columns = []string{"company_name", "licence_number", "status", "city", "phone", "valid_until"}

// ParseCSV reads the registry CSV: an optional leading "#" comment, a header
// row with the columns company_name, licence_number, status, city, phone,
// valid_until (any order), then one company per row.
func ParseCSV(rd io.Reader) (*Registry, error) {
	cr := csv.NewReader(rd)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("registry csv: empty file, want a header row")
		}
		return nil, fmt.Errorf("registry csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range columns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("registry csv header: missing column %q", c)
		}
	}
	var entries []Entry
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("registry csv: %w", err)
		}
		get := func(c string) string {
			if i := col[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := Entry{Company: get("company_name"), Status: strings.ToLower(get("status")), City: get("city"), Phone: get("phone")}
		if e.Company == "" {
			return nil, fmt.Errorf("registry csv line %d: field company_name is empty", line)
		}
		lic, ok := NormalizeLicence(get("licence_number"))
		if !ok {
			return nil, fmt.Errorf("registry csv line %d: field licence_number %q is not a licence number like \"SIP3MI 092/KP2MI/2024\"", line, get("licence_number"))
		}
		e.Licence = lic
		if prev, dup := seen[lic]; dup {
			return nil, fmt.Errorf("registry csv line %d: field licence_number %q repeats line %d", line, lic, prev)
		}
		seen[lic] = line
		switch e.Status {
		case StatusActive, StatusSuspended, StatusRevoked:
		default:
			return nil, fmt.Errorf("registry csv line %d: field status %q, want active, suspended or revoked", line, get("status"))
		}
		if v := get("valid_until"); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fmt.Errorf("registry csv line %d: field valid_until %q, want YYYY-MM-DD", line, v)
			}
			e.ValidUntil = t
		}
		entries = append(entries, e)
	}
	return New(entries), nil
}

// licenceRE finds licence numbers: "SIP3MI 092/KP2MI/2024", "SIP3MI No. 92 / BP2MI / 2024".
var licenceRE = regexp.MustCompile(`(?i)\bsip\s*3\s*mi\b[\s.:]*(?:no(?:mor)?\.?\s*)?(\d{1,4})\s*/\s*(kp2mi|bp2mi|bnp2tki|kemnaker)\s*/\s*((?:19|20)\d{2})`)

// NormalizeLicence writes a licence number the one way the registry keys it.
func NormalizeLicence(s string) (string, bool) {
	m := licenceRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	n, _ := strconv.Atoi(m[1])
	return fmt.Sprintf("SIP3MI %03d/%s/%s", n, strings.ToUpper(m[2]), m[3]), true
}

// LicenceNumbers lists the P3MI licence numbers written in text, normalised,
// each with the words as written.
func LicenceNumbers(text string) []Found {
	var out []Found
	for _, m := range licenceRE.FindAllString(text, -1) {
		n, _ := NormalizeLicence(m)
		if !slices.ContainsFunc(out, func(f Found) bool { return f.Value == n }) {
			out = append(out, Found{Value: n, Text: m})
		}
	}
	return out
}

// Found is a value found in a text, with the text as written.
type Found struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}
