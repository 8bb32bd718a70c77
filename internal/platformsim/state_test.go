package platformsim

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/platform"
)

// TestStateSurvivesARestart runs a simulator with a state file, throws it
// away and starts another from the same file: the new one knows the same
// ads and removal times, answers a repeated notice as the first time, and
// keeps counting a flaky platform's failures where the old one stopped.
func TestStateSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sim", "state.json")
	c := &clock{t: t0}
	opts := Options{StatePath: path, Behaviors: map[string]Behavior{
		"facebook": {Mode: Late, Delay: 10 * time.Hour},
		"youtube":  {Mode: Flaky, Failures: 2},
	}}
	const (
		late    = "https://www.facebook.com/groups/1/posts/2"
		flaky   = "https://www.youtube.com/watch?v=abc123XYZ"
		gone    = "https://t.me/lokerkamboja/77"
		never   = "https://www.instagram.com/p/Cnever/"
		adText  = "Lowongan kerja Taiwan, biaya Rp 25 juta, hubungi WA 0812"
		urgency = platform.UrgencyUrgent
	)
	e := newEnvAt(t, opts, c)
	for _, u := range []string{late, gone, never} {
		if err := e.sim.Seed(u, adText); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sim.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetURLBehavior(never, Behavior{Mode: Never}); err != nil {
		t.Fatal(err)
	}
	first, err := e.client.Send(ctx, req("facebook", late, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Send(ctx, req("instagram", never, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Send(ctx, req("youtube", flaky, 1)); !platform.IsTransient(err) {
		t.Fatalf("first flaky notice: %v, want a transient error", err)
	}
	ads, reqs := e.sim.Ads(), e.sim.Requests()

	// The restarted simulator: same file, same clock, no memory of its own.
	c.Add(time.Hour)
	e2 := newEnvAt(t, opts, c)
	if got := e2.sim.Ads(); !reflect.DeepEqual(got, ads) {
		t.Fatalf("ads after restart:\n%+v\nwant\n%+v", got, ads)
	}
	if got := e2.sim.Requests(); !sameRequests(got, reqs) {
		t.Fatalf("requests after restart:\n%+v\nwant\n%+v", got, reqs)
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"a repeated notice gets the first answer", func(t *testing.T) {
			again, err := e2.client.Send(ctx, req("facebook", late, 1))
			if err != nil || again.PlatformRef != first.PlatformRef {
				t.Fatalf("replay %+v (%v), want reference %s", again, err, first.PlatformRef)
			}
			rs := e2.sim.Requests()
			if last := rs[len(rs)-1]; !last.Duplicate {
				t.Fatalf("replay not recorded as duplicate: %+v", last)
			}
		}},
		{"a new notice gets a new reference", func(t *testing.T) {
			next, err := e2.client.Send(ctx, req("facebook", late, 2))
			if err != nil || next.PlatformRef == first.PlatformRef {
				t.Fatalf("new attempt %+v %v", next, err)
			}
		}},
		{"the late removal keeps its time", func(t *testing.T) {
			ans, err := e2.client.Status(ctx, "facebook", late)
			if err != nil || ans.Status != platform.StatusLive {
				t.Fatalf("before the delay: %+v %v", ans, err)
			}
			c.Add(9 * time.Hour)
			ans, err = e2.client.Status(ctx, "facebook", late)
			if err != nil || ans.Status != platform.StatusRemoved || !ans.RemovedAt.Equal(t0.Add(10*time.Hour)) {
				t.Fatalf("after the delay: %+v %v", ans, err)
			}
		}},
		{"a removed ad stays removed", func(t *testing.T) {
			if st := e2.evaluate(t, "telegram", gone); st != compliance.Removed {
				t.Fatalf("removed ad is %s", st)
			}
		}},
		{"a per-ad behaviour survives", func(t *testing.T) {
			c.Add(1000 * time.Hour)
			if st := e2.evaluate(t, "instagram", never); st != compliance.Live {
				t.Fatalf("never-mode ad is %s", st)
			}
		}},
		{"flaky failures keep counting", func(t *testing.T) {
			if _, err := e2.client.Send(ctx, req("youtube", flaky, 1)); !platform.IsTransient(err) {
				t.Fatalf("second flaky notice: %v, want a transient error", err)
			}
			if _, err := e2.client.Send(ctx, req("youtube", flaky, 1)); err != nil {
				t.Fatalf("third flaky notice: %v, want it accepted", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}

	// Behaviours given at start override saved ones.
	opts.Behaviors = map[string]Behavior{"facebook": {Mode: Down}}
	e3 := newEnvAt(t, opts, c)
	if _, err := e3.client.Send(ctx, req("facebook", late, 3)); !platform.IsTransient(err) {
		t.Fatalf("facebook set down at start: %v", err)
	}
}

// sameRequests compares received notices; times compare as instants (a
// reloaded time has no monotonic reading).
func sameRequests(a, b []Received) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.At.Equal(y.At) {
			return false
		}
		x.At, y.At = time.Time{}, time.Time{}
		if x != y {
			return false
		}
	}
	return true
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "state file"},
		{"other version", `{"version": 99}`, "field version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, _ := platform.Default()
			_, err := New(Options{Config: cfg, StatePath: path})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.want)
			}
		})
	}
}

// TestSavesLeaveNoTemporaryFiles: every change rewrites the file through a
// temporary file renamed over it.
func TestSavesLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{StatePath: filepath.Join(dir, "state.json")})
	for i := 0; i < 20; i++ {
		if err := e.sim.Seed("https://www.facebook.com/groups/1/posts/"+strings.Repeat("9", i+1), "ad"); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "state.json" {
		var names []string
		for _, en := range entries {
			names = append(names, en.Name())
		}
		t.Fatalf("state folder holds %v, want only state.json", names)
	}
}

func TestParseBehavior(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		want    Behavior
		wantErr string
	}{
		{in: "facebook=late:10h", id: "facebook", want: Behavior{Mode: Late, Delay: 10 * time.Hour}},
		{in: "x=never", id: "x", want: Behavior{Mode: Never}},
		{in: "youtube=flaky:2", id: "youtube", want: Behavior{Mode: Flaky, Failures: 2}},
		{in: "Facebook=DOWN", id: "facebook", want: Behavior{Mode: Down}},
		{in: "tiktok=prompt", id: "tiktok", want: Behavior{Mode: Prompt}},
		{in: "facebook=confirm", id: "facebook", want: Behavior{Mode: Confirm}},
		{in: "facebook=acknowledge", id: "facebook", want: Behavior{Mode: Acknowledge}},
		{in: "facebook=acknowledge:10h", id: "facebook", want: Behavior{Mode: Acknowledge, Delay: 10 * time.Hour}},
		{in: "x=object", id: "x", want: Behavior{Mode: Object}},
		{in: "x=ask", id: "x", want: Behavior{Mode: Ask}},
		{in: "x=false_confirm", id: "x", want: Behavior{Mode: FalseConfirm}},
		{in: "x=acknowledge:soon", wantErr: "removal delay"},
		{in: "x=object:1", wantErr: "takes no argument"},
		{in: "facebook", wantErr: "want platform=mode"},
		{in: "facebook=late", wantErr: "late needs a delay"},
		{in: "facebook=late:-1h", wantErr: "field delay"},
		{in: "youtube=flaky:x", wantErr: "flaky needs a failure count"},
		{in: "x=never:3", wantErr: "takes no argument"},
		{in: "x=sometimes", wantErr: "field mode"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, b, err := ParsePlatformBehavior(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || id != tt.id || b != tt.want {
				t.Fatalf("= %q %+v %v, want %q %+v", id, b, err, tt.id, tt.want)
			}
		})
	}
}

// TestStateOfAnOlderSimulatorBecomesOneAdPerAd: a state file from before
// ads were keyed by canonical URL held the reported form and the notice's
// form of one ad as two ads; loaded now they are one, live text and
// removal together, and a per-URL behaviour follows.
func TestStateOfAnOlderSimulatorBecomesOneAdPerAd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"version": 1,
 "urls": {"youtube.com/watch?v=abc123XYZ": {"mode": "never"}},
 "ads": [
  {"key": "facebook.com/groups/1/posts/2?mibextid=abc", "url": "https://m.facebook.com/groups/1/posts/2/?mibextid=abc", "platform": "facebook", "text": "Loker Kamboja"},
  {"key": "facebook.com/groups/1/posts/2", "url": "https://facebook.com/groups/1/posts/2", "platform": "facebook", "requested_at": "2026-03-02T08:00:00Z", "remove_at": "2026-03-02T08:00:00Z"}
 ],
 "seq": 1}`
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, Options{StatePath: path}, &clock{t: t0.Add(time.Hour)})
	ads := e.sim.Ads()
	if len(ads) != 1 {
		t.Fatalf("ads = %+v, want one", ads)
	}
	fb := ads[0]
	if fb.URL != "https://facebook.com/groups/1/posts/2" || !fb.Seeded || !fb.Removed || fb.FirstURL != "https://m.facebook.com/groups/1/posts/2/?mibextid=abc" {
		t.Fatalf("merged ad = %+v", fb)
	}
	if st := e.evaluate(t, "facebook", "https://m.facebook.com/groups/1/posts/2/?mibextid=abc"); st != compliance.Removed {
		t.Fatalf("reported form is %s after the removal", st)
	}
	// The ad's own behaviour (never) still holds, under any form of its URL.
	yt := "https://www.youtube.com/watch?v=abc123XYZ&feature=share"
	e.sim.Seed(yt, "Kerja di Myanmar")
	if _, err := e.client.Send(context.Background(), req("youtube", yt, 1)); err != nil {
		t.Fatal(err)
	}
	if st := e.evaluate(t, "youtube", "https://youtu.be/abc123XYZ"); st != compliance.Live {
		t.Fatalf("youtube ad with behaviour never is %s after a notice", st)
	}
}
