package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

// MeAnswer is GET /reporters/me: a reporter's own record, nothing of
// anyone else's.
type MeAnswer struct {
	Profile
	Shares map[string]float64 `json:"shares"`
	// RateLimit is the limit of the reporter's class.
	RateLimit *struct {
		Class     string `json:"class"`
		PerMinute int    `json:"per_minute"`
		Burst     int    `json:"burst"`
	} `json:"rate_limit"`
}

// Me serves GET /reporters/me.
func (h Handler) Me(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	ps := h.Profiles
	if ps == nil {
		ps = &Profiles{Table: h.Intake.Table}
	}
	p, err := ps.read(ctx, who.Subject)
	if err != nil {
		return api.Response{}, err
	}
	a := MeAnswer{Profile: p, Shares: p.Shares()}
	a.RateLimit = &struct {
		Class     string `json:"class"`
		PerMinute int    `json:"per_minute"`
		Burst     int    `json:"burst"`
	}{}
	class := p.RateClass()
	lim := h.Classes.For(class)
	a.RateLimit.Class, a.RateLimit.Burst = class, lim.Burst
	if lim.Per > 0 {
		a.RateLimit.PerMinute = int(60e9 / lim.Per.Nanoseconds())
	}
	return api.JSON(200, a), nil
}

var subjectRe = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
var classRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ProfileChange is the body of PUT /reporters/{sub} (admin): grant or
// withdraw trusted-flagger status, set the rate-limit class.
type ProfileChange struct {
	Trusted *bool   `json:"trusted_flagger,omitempty"`
	Class   *string `json:"class,omitempty"`
}

// SetProfile serves PUT /reporters/{sub}.
func (h Handler) SetProfile(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	sub := req.PathParameters["sub"]
	if !subjectRe.MatchString(sub) {
		return api.Response{}, api.Invalid("sub", "sub must be the reporter's account id (1 to 128 printable characters)")
	}
	body, err := api.Body(req, 4<<10)
	if err != nil {
		return api.Response{}, err
	}
	var ch ProfileChange
	if err := api.DecodeStrict(body, &ch); err != nil {
		return api.Response{}, err
	}
	if ch.Trusted == nil && ch.Class == nil {
		return api.Response{}, api.Invalid("body", "give trusted_flagger, class or both")
	}
	if ch.Class != nil && *ch.Class != "" {
		if _, ok := h.Classes[*ch.Class]; !ok || !classRe.MatchString(*ch.Class) {
			return api.Response{}, api.Invalid("class", "unknown class %q (configured: %s)", *ch.Class, h.Classes.String())
		}
	}
	now := store.FormatTime(h.Intake.now())
	names := map[string]string{"#s": "subject", "#u": "updated_at", "#b": "updated_by"}
	vals := map[string]types.AttributeValue{
		":s": &types.AttributeValueMemberS{Value: sub}, ":u": &types.AttributeValueMemberS{Value: now},
		":b": &types.AttributeValueMemberS{Value: who.Subject},
	}
	expr := "SET #s = :s, #u = :u, #b = :b"
	if ch.Trusted != nil {
		names["#t"], names["#ts"] = "trusted", "trusted_since"
		vals[":t"] = &types.AttributeValueMemberBOOL{Value: *ch.Trusted}
		expr += ", #t = :t"
		if *ch.Trusted {
			expr += ", #ts = if_not_exists(#ts, :u)"
		}
	}
	if ch.Class != nil {
		names["#c"] = "class"
		vals[":c"] = &types.AttributeValueMemberS{Value: *ch.Class}
		expr += ", #c = :c"
	}
	if ch.Trusted != nil && !*ch.Trusted {
		expr += " REMOVE #ts"
	}
	_, err = h.Intake.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Intake.Table.Name), Key: store.Key(store.ReporterPK(sub), store.SKProfile),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	})
	if err != nil {
		return api.Response{}, fmt.Errorf("update profile of reporter: %w", err)
	}
	ps := h.Profiles
	if ps == nil {
		ps = &Profiles{Table: h.Intake.Table}
	}
	ps.forget(sub)
	p, err := ps.read(ctx, sub)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(200, MeAnswer{Profile: p, Shares: p.Shares()}), nil
}

// FeedbackChange is the body of PUT /reporters/me: where the reporter
// hears about its cases' outcomes. An empty value removes it.
type FeedbackChange struct {
	CallbackURL *string `json:"callback_url,omitempty"`
	Email       *string `json:"email,omitempty"`
}

var emailRe = regexp.MustCompile(`^[^@\s<>,;"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$`)

// SetFeedback serves PUT /reporters/me. Setting a callback URL answers,
// once, the secret its webhooks are signed with.
func (h Handler) SetFeedback(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	body, err := api.Body(req, 4<<10)
	if err != nil {
		return api.Response{}, err
	}
	var ch FeedbackChange
	if err := api.DecodeStrict(body, &ch); err != nil {
		return api.Response{}, err
	}
	if ch.CallbackURL == nil && ch.Email == nil {
		return api.Response{}, api.Invalid("body", "give callback_url, email or both")
	}
	names := map[string]string{"#s": "subject", "#u": "updated_at"}
	vals := map[string]types.AttributeValue{
		":s": &types.AttributeValueMemberS{Value: who.Subject},
		":u": &types.AttributeValueMemberS{Value: store.FormatTime(h.Intake.now())},
	}
	set, remove := []string{"#s = :s", "#u = :u"}, []string{}
	secret := ""
	if ch.CallbackURL != nil {
		names["#c"], names["#k"] = "callback_url", "callback_secret"
		if u := *ch.CallbackURL; u == "" {
			remove = append(remove, "#c", "#k")
		} else {
			if len(u) > MaxURLLength || !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return api.Response{}, api.Invalid("callback_url", "callback_url must be an http or https URL of at most %d characters", MaxURLLength)
			}
			if h.CheckCallback != nil {
				if err := h.CheckCallback(u); err != nil {
					return api.Response{}, api.Invalid("callback_url", "callback_url is not allowed: %v", err)
				}
			}
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				return api.Response{}, err
			}
			secret = hex.EncodeToString(b[:])
			vals[":c"], vals[":k"] = &types.AttributeValueMemberS{Value: u}, &types.AttributeValueMemberS{Value: secret}
			set = append(set, "#c = :c", "#k = :k")
		}
	}
	if ch.Email != nil {
		names["#e"] = "notify_email"
		if e := strings.TrimSpace(*ch.Email); e == "" {
			remove = append(remove, "#e")
		} else {
			if !emailRe.MatchString(e) {
				return api.Response{}, api.Invalid("email", "email is not an e-mail address")
			}
			vals[":e"] = &types.AttributeValueMemberS{Value: e}
			set = append(set, "#e = :e")
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	if _, err := h.Intake.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Intake.Table.Name), Key: store.Key(store.ReporterPK(who.Subject), store.SKProfile),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}); err != nil {
		return api.Response{}, fmt.Errorf("update feedback of reporter: %w", err)
	}
	p, err := ReadProfile(ctx, h.Intake.Table, who.Subject)
	if err != nil {
		return api.Response{}, err
	}
	out := map[string]any{"reporter": p.Subject, "callback_url": p.CallbackURL, "notify_email": p.NotifyEmail}
	if secret != "" {
		out["callback_secret"] = secret
		out["signature"] = "X-Tangkal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(callback_secret, t + \".\" + body)>"
	}
	return api.JSON(200, out), nil
}
