package sfnlocal

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestClockEndpoint(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	cases := []struct {
		body   string
		status int
		now    string
	}{
		{`{"advance":"24h"}`, 200, "2025-03-02T08:00:00Z"},
		{`{"advance":"90m"}`, 200, "2025-03-02T09:30:00Z"},
		{`{"advance":"-1h"}`, 400, ""},
		{`{"advance":"soon"}`, 400, ""},
	}
	for _, tc := range cases {
		resp, err := http.Post(s.srv.URL+"/_local/clock", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Now   string `json:"now"`
			Error struct {
				Field string `json:"field"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.status || out.Now != tc.now {
			t.Fatalf("%s: %d %q, want %d %q", tc.body, resp.StatusCode, out.Now, tc.status, tc.now)
		}
		if tc.status == 400 && out.Error.Field != "advance" {
			t.Fatalf("%s: error does not name the field", tc.body)
		}
	}
}
