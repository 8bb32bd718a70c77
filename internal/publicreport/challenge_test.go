package publicreport

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestChallenges(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := Challenges{Key: []byte("k"), Bits: 10}
	ch := c.Issue(now)
	nonce := Solve(ch.Challenge, 10)
	if _, err := c.Check(ch.Challenge, nonce, now.Add(time.Minute)); err != nil {
		t.Fatalf("solved challenge refused: %v", err)
	}
	easier := strings.Replace(ch.Challenge, ".10.", ".1.", 1)
	for name, tc := range map[string]struct {
		challenge, nonce string
		at               time.Time
		want             error
	}{
		"expired":        {ch.Challenge, nonce, now.Add(ChallengeLifetime), ErrExpired},
		"other key":      {Challenges{Key: []byte("x"), Bits: 10}.Issue(now).Challenge, nonce, now, ErrForged},
		"easier, forged": {easier, "0", now, ErrForged},
		"not solved":     {ch.Challenge, "", now, ErrWork},
		"garbage":        {"a.b", "1", now, ErrForged},
		"nonce too long": {ch.Challenge, strings.Repeat("9", 65), now, ErrWork},
	} {
		if _, err := c.Check(tc.challenge, tc.nonce, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
