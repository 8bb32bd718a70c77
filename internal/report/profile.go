package report

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/ratelimit"
	"github.com/tangkal/tangkal/internal/store"
)

// Profile is a reporter's record (REPORTER#<sub>/PROFILE): the class its
// rate limit comes from and its trusted-flagger status, both set by an
// admin. A reporter is an account (the token's subject): an NGO, an
// agency's desk, a crawler.
type Profile struct {
	PK string `dynamodbav:"PK" json:"-"`
	SK string `dynamodbav:"SK" json:"-"`

	Subject string `dynamodbav:"subject" json:"reporter"`
	// Class names the rate limit (ratelimit.Classes); empty: "reporter",
	// or "trusted" for a trusted flagger.
	Class        string `dynamodbav:"class,omitempty" json:"class"`
	Trusted      bool   `dynamodbav:"trusted" json:"trusted_flagger"`
	TrustedSince string `dynamodbav:"trusted_since,omitempty" json:"trusted_since,omitempty"`
	UpdatedAt    string `dynamodbav:"updated_at,omitempty" json:"updated_at,omitempty"`
	// UpdatedBy is the admin who last changed it (not shown to the reporter).
	UpdatedBy string `dynamodbav:"updated_by,omitempty" json:"-"`
	// CallbackURL receives a signed webhook when a case the reporter
	// reported changes outcome; NotifyEmail an e-mail when there is no
	// callback. CallbackSecret signs the webhooks (shown once, when set).
	CallbackURL    string `dynamodbav:"callback_url,omitempty" json:"callback_url,omitempty"`
	CallbackSecret string `dynamodbav:"callback_secret,omitempty" json:"-"`
	NotifyEmail    string `dynamodbav:"notify_email,omitempty" json:"notify_email,omitempty"`
	Accuracy
}

// ReadProfile reads sub's profile from the table (no cache).
func ReadProfile(ctx context.Context, t store.Table, sub string) (Profile, error) {
	return (&Profiles{Table: t}).read(ctx, sub)
}

// RateClass is the class whose limit applies to the reporter.
func (p Profile) RateClass() string {
	switch {
	case p.Class != "":
		return p.Class
	case p.Trusted:
		return ratelimit.ClassTrusted
	}
	return ratelimit.ClassReporter
}

// ProfileTTL is how long a Lambda instance trusts a profile it read: an
// admin's change reaches every instance within it.
const ProfileTTL = 30 * time.Second

// Profiles reads reporters' profiles, caching each for ProfileTTL.
type Profiles struct {
	Table store.Table
	Now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedProfile
}

type cachedProfile struct {
	p    Profile
	read time.Time
}

func (ps *Profiles) now() time.Time {
	if ps.Now != nil {
		return ps.Now()
	}
	return time.Now()
}

// Get returns sub's profile (an empty one for a reporter without a record).
func (ps *Profiles) Get(ctx context.Context, sub string) (Profile, error) {
	now := time.Now() // the cache runs on real time, never a moved clock
	ps.mu.Lock()
	c, ok := ps.cache[sub]
	ps.mu.Unlock()
	if ok && now.Sub(c.read) < ProfileTTL {
		return c.p, nil
	}
	p, err := ps.read(ctx, sub)
	if err != nil {
		return Profile{}, err
	}
	ps.mu.Lock()
	if ps.cache == nil || len(ps.cache) > 10000 {
		ps.cache = map[string]cachedProfile{}
	}
	ps.cache[sub] = cachedProfile{p: p, read: now}
	ps.mu.Unlock()
	return p, nil
}

func (ps *Profiles) read(ctx context.Context, sub string) (Profile, error) {
	out, err := ps.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(ps.Table.Name), Key: store.Key(store.ReporterPK(sub), store.SKProfile),
	})
	if err != nil {
		return Profile{}, fmt.Errorf("read profile of reporter: %w", err)
	}
	p := Profile{Subject: sub}
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &p); err != nil {
			return Profile{}, fmt.Errorf("decode profile of reporter: %w", err)
		}
	}
	return p, nil
}

// forget drops a cached profile (after this instance changed it).
func (ps *Profiles) forget(sub string) {
	ps.mu.Lock()
	delete(ps.cache, sub)
	ps.mu.Unlock()
}

// Accuracy is a reporter's record, kept from its cases' outcomes (package
// report, Outcomes): each case counts once per reporter, however often it
// reported the ad.
type Accuracy struct {
	// Closed is how many of its cases have an outcome.
	Closed int `dynamodbav:"closed" json:"cases_closed"`
	// Approved counts cases whose takedown an approver approved.
	Approved int `dynamodbav:"approved" json:"approved_takedowns"`
	// Rejected counts cases an approver rejected; NotJobAd those verified
	// as not a job ad or a legitimate one.
	Rejected int `dynamodbav:"rejected" json:"rejected"`
	NotJobAd int `dynamodbav:"not_job_ad" json:"not_job_ad"`
}

// Shares are the record's ratios (of the closed cases).
func (a Accuracy) Shares() map[string]float64 {
	if a.Closed == 0 {
		return map[string]float64{"approved": 0, "rejected_or_not_job_ad": 0}
	}
	round := func(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }
	return map[string]float64{
		"approved":               round(float64(a.Approved) / float64(a.Closed)),
		"rejected_or_not_job_ad": round(float64(a.Rejected+a.NotJobAd) / float64(a.Closed)),
	}
}
