package agency

import (
	"strings"
	"testing"
)

func TestBundledDirectory(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"kp2mi", "komdigi", "polri", "bin", "bssn"} {
		a, ok := d.Agency(id)
		if !ok || a.NameID == "" || a.NameEN == "" {
			t.Errorf("agency %s: %+v", id, a)
		}
	}
	urgent, normal := d.PolicyFor("scam_compound", "urgent"), d.PolicyFor("", "normal")
	if urgent.Tiers[0].WindowSeconds != 3600 || urgent.Tiers[0].ReminderSeconds != 1800 ||
		normal.Tiers[0].WindowSeconds != 8*3600 || normal.Tiers[0].ReminderSeconds != 4*3600 {
		t.Errorf("windows: urgent %+v normal %+v", urgent.Tiers, normal.Tiers)
	}
	if strings.Join(urgent.Require, ",") != "kp2mi,komdigi" || !urgent.MayHold("polri") || urgent.MayHold("kp2mi") || !urgent.Veto {
		t.Errorf("urgent policy %+v", urgent)
	}
	var asked []string
	for _, m := range d.Asked(urgent, 2, "komdigi") {
		asked = append(asked, m.Email)
	}
	if strings.Join(asked, ",") != "approver@komdigi.local,supervisor@komdigi.local" {
		t.Errorf("tier 2 of Komdigi asks %v", asked)
	}
}

func TestEvaluate(t *testing.T) {
	all := Policy{Require: []string{"kp2mi", "komdigi"}, Veto: true}
	twoOfThree := Policy{Require: []string{"kp2mi", "komdigi", "bssn"}, Min: 2}
	tests := []struct {
		name      string
		p         Policy
		decisions map[string]string
		want      string
		missing   string
	}{
		{"nothing yet", all, nil, Pending, "kp2mi,komdigi"},
		{"one of two", all, map[string]string{"kp2mi": Approve}, Pending, "komdigi"},
		{"both", all, map[string]string{"kp2mi": Approve, "komdigi": Approve}, Approved, ""},
		{"one rejection under veto", all, map[string]string{"kp2mi": Approve, "komdigi": Reject}, Rejected, ""},
		{"outsider's decision counts for nothing", all, map[string]string{"kp2mi": Approve, "polri": Approve}, Pending, "komdigi"},
		{"2 of 3", twoOfThree, map[string]string{"kp2mi": Approve, "bssn": Approve}, Approved, ""},
		{"2 of 3, one rejected, still possible", twoOfThree, map[string]string{"kp2mi": Reject, "bssn": Approve}, Pending, "komdigi"},
		{"2 of 3 can no longer be met", twoOfThree, map[string]string{"kp2mi": Reject, "bssn": Reject}, Rejected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.p.Evaluate(tt.decisions)
			if e.Outcome != tt.want || strings.Join(e.Missing, ",") != tt.missing || e.Why == "" {
				t.Fatalf("%+v, want %s missing %s", e, tt.want, tt.missing)
			}
		})
	}
}

func TestParseRefusesBadDirectories(t *testing.T) {
	base := `{"agencies":[{"id":"kp2mi","name_id":"a","name_en":"b","channels":{"email":true},"members":[{"email":"x@k","role":"approver"}]}],
	"policies":[{"name":"p","require":["kp2mi"],"tiers":[{"role":"approver","window_seconds":60,"reminder_seconds":30}]}]}`
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("valid: %v", err)
	}
	for name, bad := range map[string][2]string{
		"unknown agency in policy":  {`"require":["kp2mi"]`, `"require":["kominfo"]`},
		"reminder after the window": {`"reminder_seconds":30`, `"reminder_seconds":90`},
		"unknown role":              {`"role":"approver"}]}]`, `"role":"boss"}]}]`},
		"no channel":                {`"channels":{"email":true}`, `"channels":{}`},
		"bad Slack user":            {`"email":"x@k"`, `"slack":"nobody"`},
		"min above the agencies":    {`"require":["kp2mi"]`, `"require":["kp2mi"],"min":2`},
	} {
		if _, err := Parse([]byte(strings.Replace(base, bad[0], bad[1], 1))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
