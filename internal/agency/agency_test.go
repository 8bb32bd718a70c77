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
		"unknown agency in policy":              {`"require":["kp2mi"]`, `"require":["kominfo"]`},
		"reminder after the window":             {`"reminder_seconds":30`, `"reminder_seconds":90`},
		"unknown role":                          {`"role":"approver"}]}]`, `"role":"boss"}]}]`},
		"no channel":                            {`"channels":{"email":true}`, `"channels":{}`},
		"bad Slack user":                        {`"email":"x@k"`, `"slack":"nobody"`},
		"min above the agencies":                {`"require":["kp2mi"]`, `"require":["kp2mi"],"min":2`},
		"trusted window longer than the tier's": {`"require":["kp2mi"]`, `"require":["kp2mi"],"trusted_flagger":{"window_seconds":120,"reminder_seconds":30}`},
		"trusted reminder after its window":     {`"require":["kp2mi"]`, `"require":["kp2mi"],"trusted_flagger":{"window_seconds":30,"reminder_seconds":30}`},
		"review by an unknown agency":           {`"require":["kp2mi"]`, `"require":["kp2mi"],"extra_review":{"agency":"kominfo","role":"approver"}`},
		"review by a role nobody has":           {`"require":["kp2mi"]`, `"require":["kp2mi"],"extra_review":{"agency":"kp2mi","role":"supervisor"}`},
		"review by investigators":               {`"require":["kp2mi"]`, `"require":["kp2mi"],"extra_review":{"agency":"kp2mi","role":"investigator"}`},
	} {
		if _, err := Parse([]byte(strings.Replace(base, bad[0], bad[1], 1))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A trusted flagger's case gets the policy's shorter window and reminder
// in every tier; other cases, and policies without trusted_flagger, the
// tier's own.
func TestTierForTrustedFlaggers(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	urgent, normal := d.PolicyFor("scam_compound", "urgent"), d.PolicyFor("", "normal")
	plain := Policy{Tiers: []Tier{{Role: RoleApprover, WindowSeconds: 600, ReminderSeconds: 300}}}
	trusted, other := Traits{TrustedFlagger: true}, Traits{ExtraReview: true}
	for _, tc := range []struct {
		name             string
		p                Policy
		tier             int
		c                Traits
		window, reminder int
	}{
		{"urgent, trusted flagger", urgent, 1, trusted, 1800, 900},
		{"urgent, trusted flagger, tier 2", urgent, 2, trusted, 1800, 900},
		{"urgent, anyone else", urgent, 1, other, 3600, 1800},
		{"normal, trusted flagger", normal, 1, trusted, 4 * 3600, 2 * 3600},
		{"normal, anyone else", normal, 2, Traits{}, 8 * 3600, 4 * 3600},
		{"no trusted_flagger in the policy", plain, 1, trusted, 600, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.p.TierFor(tc.tier, tc.c)
			if !ok || got.WindowSeconds != tc.window || got.ReminderSeconds != tc.reminder || got.Role != tc.p.Tiers[tc.tier-1].Role {
				t.Fatalf("TierFor(%d) = %+v %v, want window %d reminder %d", tc.tier, got, ok, tc.window, tc.reminder)
			}
		})
	}
	if _, ok := urgent.TierFor(3, trusted); ok {
		t.Error("a tier beyond the policy's was timed")
	}
	if urgent.Tiers[0].WindowSeconds != 3600 {
		t.Error("TierFor changed the policy")
	}
}

// The bundled policies review public reports' cases first, by KP2MI's
// supervisor; a case that does not ask for it, or a policy without
// extra_review, is not reviewed.
func TestExtraReviewByPolicy(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Policies {
		if !p.Reviews(Traits{ExtraReview: true}) || p.Reviews(Traits{TrustedFlagger: true}) {
			t.Errorf("policy %s: reviews a public report %v, another case %v", p.Name, p.Reviews(Traits{ExtraReview: true}), p.Reviews(Traits{}))
		}
		var who []string
		for _, m := range d.Reviewers(p) {
			who = append(who, m.Email)
		}
		if strings.Join(who, ",") != "supervisor@kp2mi.local" {
			t.Errorf("policy %s: reviewers %v", p.Name, who)
		}
	}
	if (Policy{}).Reviews(Traits{ExtraReview: true}) || len(d.Reviewers(Policy{})) != 0 {
		t.Error("a policy without extra_review reviews")
	}
}
