package workflow

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// Routes VerifyAd chooses (RouteVerdict in the state machine).
const (
	RouteNeedsApproval = "needs_approval"
	RouteNotActionable = "not_actionable"
	RouteDuplicate     = "duplicate"
	RouteClose         = "close" // legitimate or not a job ad: closes with the label
)

// VerifyOutput is VerifyAd's answer.
type VerifyOutput struct {
	Route   string `json:"route"`
	Urgency string `json:"urgency"`
	Label   string `json:"label"`
}

// Evidence is what the fetch found, as recorded in the history.
type Evidence struct {
	Status      int      `json:"status,omitempty"`
	FinalURL    string   `json:"final_url,omitempty"`
	Redirects   []string `json:"redirects,omitempty"`
	SHA256      string   `json:"sha256,omitempty"`
	Location    string   `json:"location,omitempty"`
	FetchedAt   string   `json:"fetched_at,omitempty"`
	Title       string   `json:"title,omitempty"`
	Excerpt     string   `json:"excerpt,omitempty"`
	Truncated   bool     `json:"truncated,omitempty"`
	Unreachable string   `json:"unreachable,omitempty"`
	Blocked     string   `json:"blocked,omitempty"`
	Gone        bool     `json:"gone,omitempty"`
}

// VerifyAd fetches the ad safely, keeps the evidence, assesses the text,
// indexes recruiter entities and decides the route.
func (s *Steps) VerifyAd(ctx context.Context, in CaseInput) (VerifyOutput, error) {
	c, err := s.getCase(ctx, in.CaseID)
	if err != nil {
		return VerifyOutput{}, err
	}
	if contains(c.StepsDone, "verify") {
		return VerifyOutput{Route: c.Verdict, Urgency: c.Urgency, Label: c.Label}, nil
	}
	assessor, err := s.Assessors.Assessor(ctx)
	if err != nil {
		return VerifyOutput{}, err
	}
	ev, text, duplicateOf, err := s.fetch(ctx, c)
	if err != nil {
		return VerifyOutput{}, err
	}
	out := VerifyOutput{}
	var a risk.Assessment
	switch {
	case ev.Blocked != "":
		out.Route = RouteNotActionable
	case ev.Gone:
		out.Route = RouteNotActionable
	case duplicateOf != "":
		out.Route = RouteDuplicate
	default:
		a = assessor.Assess(text, c.URL)
		out.Label, out.Urgency = a.Label, a.Urgency
		if a.Label == risk.LabelTakedown {
			out.Route = RouteNeedsApproval
		} else {
			out.Route = RouteClose
		}
	}
	var related []entity.RelatedCase
	if !a.Entities.Empty() {
		if err := entity.Index(ctx, s.Table.DB, s.Table.Name, c.ID, c.Platform, c.CanonicalURL, a.Entities); err != nil {
			return VerifyOutput{}, &TransientError{Err: err}
		}
		if related, err = entity.Related(ctx, s.Table.DB, s.Table.Name, c.ID, a.Entities); err != nil {
			return VerifyOutput{}, &TransientError{Err: err}
		}
	}
	ids := make([]string, 0, len(a.Indicators))
	for _, ind := range a.Indicators {
		ids = append(ids, ind.ID)
	}
	set := map[string]any{"verdict": out.Route, "status": store.StatusVerifying}
	if out.Label != "" {
		set["label"] = out.Label
		set["score"] = a.Score
	}
	if out.Urgency != "" {
		set["urgency"] = out.Urgency
	}
	if len(ids) > 0 {
		set["indicators"] = ids
	}
	if ev.Location != "" {
		set["evidence"] = ev.Location
	}
	if duplicateOf != "" {
		set["duplicate_of"] = duplicateOf
	}
	data := map[string]any{
		"route": out.Route, "label": out.Label, "urgency": out.Urgency, "score": a.Score,
		"indicators": a.Indicators, "entities": a.Entities, "registry": a.Registry, "related": related, "evidence": ev,
	}
	if duplicateOf != "" {
		data["duplicate_of"] = duplicateOf
	}
	if _, err := s.record(ctx, c.ID, "verify", "verified", data, history.Change{Set: set}); err != nil {
		return VerifyOutput{}, err
	}
	return out, nil
}

// fetch gets the ad and stores its body. The text to assess is what the
// reporter pasted plus what the page shows.
func (s *Steps) fetch(ctx context.Context, c *store.Case) (Evidence, string, string, error) {
	text := c.Text
	res, err := s.Fetcher.Get(ctx, c.URL)
	var blocked *safefetch.BlockedError
	switch {
	case errors.As(err, &blocked):
		return Evidence{Blocked: blocked.Error()}, text, "", nil
	case err != nil:
		return Evidence{Unreachable: err.Error()}, text, "", nil
	}
	ev := Evidence{
		Status: res.Status, FinalURL: res.FinalURL, Redirects: res.Redirects, SHA256: res.SHA256,
		FetchedAt: store.FormatTime(res.FetchedAt), Title: res.Title, Excerpt: res.Excerpt, Truncated: res.Truncated,
	}
	if len(res.Body) > 0 {
		loc, err := s.Evidence.Put(ctx, res.Body, res.ContentType)
		if err != nil {
			return ev, "", "", &TransientError{Err: err}
		}
		ev.Location = loc
	}
	p, _ := s.Platforms.Config.Get(c.Platform)
	if v := compliance.Evaluate(p, compliance.Check{HTTPStatus: res.Status, FinalURL: res.FinalURL, Body: res.Title + " " + res.Excerpt}); v.State == compliance.Removed {
		ev.Gone = true
		return ev, text, "", nil
	}
	text = strings.TrimSpace(text + "\n" + res.Title + "\n" + res.Excerpt)
	dup, err := s.claimFinalURL(ctx, c, res.FinalURL)
	if err != nil {
		return ev, "", "", err
	}
	return ev, text, dup, nil
}

// claimFinalURL makes later reports of the URL a short link led to join
// this case, or finds the case that already holds it.
func (s *Steps) claimFinalURL(ctx context.Context, c *store.Case, final string) (string, error) {
	fc, err := urlcanon.Canonicalize(final)
	if err != nil || fc.URL == c.CanonicalURL {
		return "", nil
	}
	pk := "URL#" + urlcanon.Key(fc.URL)
	_, err = s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table.Name),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "CLAIM"},
			"case_id": &types.AttributeValueMemberS{Value: c.ID}, "canonical_url": &types.AttributeValueMemberS{Value: fc.URL},
		},
		ConditionExpression: aws.String("attribute_not_exists(PK) OR case_id = :me"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me": &types.AttributeValueMemberS{Value: c.ID},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		out, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table.Name), Key: store.Key(pk, "CLAIM"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", &TransientError{Err: err}
		}
		if v, ok := out.Item["case_id"].(*types.AttributeValueMemberS); ok && v.Value != c.ID {
			return v.Value, nil
		}
		return "", nil
	}
	if err != nil {
		return "", &TransientError{Err: err}
	}
	return "", nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
