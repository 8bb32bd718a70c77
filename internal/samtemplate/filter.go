package samtemplate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Filters are the patterns of a stream event's FilterCriteria, decoded;
// none means every record matches.
func (e Event) Filters() ([]any, error) {
	var out []any
	fc, _ := e.Properties["FilterCriteria"].(map[string]any)
	fs, _ := fc["Filters"].([]any)
	for _, raw := range fs {
		m, _ := raw.(map[string]any)
		var p any
		if err := json.Unmarshal([]byte(fmt.Sprint(m["Pattern"])), &p); err != nil {
			return nil, fmt.Errorf("FilterCriteria pattern: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Matches reports whether a record in Lambda's event form passes filters.
func Matches(filters []any, record map[string]any) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if MatchFilter(f, record) {
			return true
		}
	}
	return false
}

// MatchFilter implements the part of Lambda's event filtering that the
// template uses: nested objects, lists of exact values, and {"prefix": …}.
func MatchFilter(pattern, value any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		v, ok := value.(map[string]any)
		if !ok {
			return false
		}
		for k, sub := range p {
			if !MatchFilter(sub, v[k]) {
				return false
			}
		}
		return true
	case []any:
		for _, alt := range p {
			if m, ok := alt.(map[string]any); ok {
				if pre, ok := m["prefix"].(string); ok {
					if s, ok := value.(string); ok && strings.HasPrefix(s, pre) {
						return true
					}
				}
				continue
			}
			if fmt.Sprint(alt) == fmt.Sprint(value) && value != nil {
				return true
			}
		}
		return false
	}
	return false
}
