package compliance

import (
	"errors"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/platform"
)

func cfg(t *testing.T, id string) platform.Platform {
	t.Helper()
	c, err := platform.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c.Platforms[id]
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		platform string
		check    Check
		want     State
	}{
		{"status api removed", "facebook", Check{Status: platform.StatusRemoved, HTTPStatus: 200}, Removed},
		{"status api live", "facebook", Check{Status: platform.StatusLive, HTTPStatus: 404}, Live},
		{"status unknown, page 404", "facebook", Check{Status: platform.StatusUnknown, HTTPStatus: 404}, Removed},
		{"410", "website", Check{HTTPStatus: 410}, Removed},
		{"451", "website", Check{HTTPStatus: 451}, Removed},
		{"facebook marker, curly apostrophe", "facebook", Check{HTTPStatus: 200, Body: "<h2>This content isn’t available right now</h2>"}, Removed},
		{"marker with HTML entity", "instagram", Check{HTTPStatus: 200, Body: "<p>Sorry, this page isn&#39;t available.</p>"}, Removed},
		{"instagram marker", "instagram", Check{HTTPStatus: 200, Body: "Sorry, this page isn't available. The link you followed may be broken"}, Removed},
		{"tiktok marker", "tiktok", Check{HTTPStatus: 200, Body: "Video currently unavailable"}, Removed},
		{"x marker", "x", Check{HTTPStatus: 200, Body: "This account doesn't exist. Try searching for another."}, Removed},
		{"youtube marker", "youtube", Check{HTTPStatus: 200, Body: "Video unavailable. This video has been removed"}, Removed},
		{"another platform's marker does not count", "website", Check{HTTPStatus: 200, Body: "Video currently unavailable"}, Live},
		{"live page", "tiktok", Check{HTTPStatus: 200, FinalURL: "https://www.tiktok.com/@agen/video/1", Body: "Lowongan kerja Malaysia, hubungi WA"}, Live},
		{"redirect to home", "facebook", Check{HTTPStatus: 200, FinalURL: "https://www.facebook.com/", Body: "Log in"}, Removed},
		{"server error", "facebook", Check{HTTPStatus: 503}, Unknown},
		{"forbidden (login wall)", "instagram", Check{HTTPStatus: 403}, Unknown},
		{"fetch failed", "website", Check{FetchErr: errors.New("timeout")}, Unknown},
		{"nothing observed", "website", Check{}, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Evaluate(cfg(t, tt.platform), tt.check)
			if v.State != tt.want || v.Reason == "" {
				t.Fatalf("%+v, want %s", v, tt.want)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	req := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	deadline := req.Add(4 * time.Hour)
	tests := []struct {
		name      string
		removedAt time.Time
		outcome   string
		ttr, late time.Duration
	}{
		{"well in time", req.Add(90 * time.Minute), RemovedInTime, 90 * time.Minute, 0},
		{"exactly at the deadline", deadline, RemovedInTime, 4 * time.Hour, 0},
		{"a second late", deadline.Add(time.Second), RemovedLate, 4*time.Hour + time.Second, time.Second},
		{"a day late", deadline.Add(24 * time.Hour), RemovedLate, 28 * time.Hour, 24 * time.Hour},
	}
	for _, tt := range tests {
		r := OutcomeSince(req, deadline, tt.removedAt)
		if r.Outcome != tt.outcome || r.TimeToRemoval != tt.ttr || r.Late != tt.late {
			t.Errorf("%s: %+v", tt.name, r)
		}
		if Outcome(deadline, tt.removedAt).Outcome != tt.outcome {
			t.Errorf("%s: Outcome differs", tt.name)
		}
	}
}

func TestLadder(t *testing.T) {
	now := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	custom := Ladder{Warning1: 12 * time.Hour, Warning2: 6 * time.Hour, Warning3: 2 * time.Hour}
	tests := []struct {
		ladder   Ladder
		from     Level
		to       Level
		kind     platform.Kind
		deadline time.Time
		final    bool
	}{
		{DefaultLadder, None, Warning1, platform.KindWarning1, now.Add(24 * time.Hour), false},
		{DefaultLadder, Warning1, Warning2, platform.KindWarning2, now.Add(24 * time.Hour), false},
		{DefaultLadder, Warning2, Warning3, platform.KindWarning3, now.Add(24 * time.Hour), false},
		{DefaultLadder, Warning3, NonCompliant, "", time.Time{}, true},
		{custom, None, Warning1, platform.KindWarning1, now.Add(12 * time.Hour), false},
		{custom, Warning1, Warning2, platform.KindWarning2, now.Add(6 * time.Hour), false},
		{custom, Warning2, Warning3, platform.KindWarning3, now.Add(2 * time.Hour), false},
		{Ladder{}, None, Warning1, platform.KindWarning1, now.Add(24 * time.Hour), false},
	}
	for _, tt := range tests {
		s, err := tt.ladder.NextStep(tt.from, now)
		if err != nil || s.Level != tt.to || s.Kind != tt.kind || !s.Deadline.Equal(tt.deadline) || s.Final != tt.final {
			t.Errorf("NextStep(%q) = %+v %v", tt.from, s, err)
		}
		if tt.to.Kind() != tt.kind {
			t.Errorf("%q.Kind() = %q", tt.to, tt.to.Kind())
		}
	}
	if _, err := NextStep(NonCompliant, now); !errors.Is(err, ErrLadderEnd) {
		t.Errorf("past the end: %v", err)
	}
	if _, err := NextStep("warning_9", now); err == nil {
		t.Error("unknown level accepted")
	}
}
