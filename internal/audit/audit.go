// Package audit is the read side of tangkal: cases, their verified
// histories, listings for auditors and per-platform compliance figures.
package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
)

// Reader answers the audit API.
type Reader struct {
	Table store.Table
	// Extra routes served by other packages (related cases, entities,
	// compliance figures), by route key.
	Extra map[string]api.HandlerFunc
	// Platforms are the platform ids GET /stats/compliance covers (and
	// the only ones its platform parameter accepts, when set).
	Platforms []string
	Now       func() time.Time
	// CursorKey signs paging cursors (HMAC-SHA256). Empty: a random key
	// for this process, so cursors page only within one instance.
	CursorKey []byte
	// Anchors verifies histories against the external copy (nil: GET
	// /cases/{id}/verify answers 503).
	Anchors *anchor.Verifier
}

func (r Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r Reader) log() history.Log { return history.Log{Table: r.Table} }

// caseID reads and checks the {id} path parameter.
func caseID(req api.Request) (string, error) {
	id := req.PathParameters["id"]
	if !ident.Valid("c_", id) {
		return "", api.NotFound("case")
	}
	return id, nil
}

// pathCase loads the case named by the {id} path parameter: 404 for an
// id that is malformed or unknown.
func (r Reader) pathCase(ctx context.Context, req api.Request) (*store.Case, error) {
	id, err := caseID(req)
	if err != nil {
		return nil, err
	}
	c, err := r.Table.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NotFound("case")
	}
	return c, err
}

// GetCase serves GET /cases/{id}. Auditors and admins see the case; a
// reporter sees only the status of a case it reported.
func (r Reader) GetCase(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Auditor, auth.Admin, auth.Approver, auth.Reporter)
	if err != nil {
		return api.Response{}, err
	}
	c, err := r.pathCase(ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	id := c.ID
	if who.HasAny(auth.Auditor, auth.Admin, auth.Approver) {
		return api.JSON(200, c), nil
	}
	mine, err := r.reportedBy(ctx, id, who.Subject)
	if err != nil {
		return api.Response{}, err
	}
	if !mine {
		return api.Response{}, api.NotFound("case")
	}
	return api.JSON(200, map[string]any{"case_id": c.ID, "status": c.Status, "updated_at": c.UpdatedAt}), nil
}

func (r Reader) reportedBy(ctx context.Context, id, sub string) (bool, error) {
	p := dynamodb.NewQueryPaginator(r.Table.DB, &dynamodb.QueryInput{
		TableName:              aws.String(r.Table.Name),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		FilterExpression:       aws.String("reporter_sub = :sub"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(id)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
			":sub": &types.AttributeValueMemberS{Value: sub},
		},
		ProjectionExpression: aws.String("PK"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("reports of case %s: %w", id, err)
		}
		if len(page.Items) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Events serves GET /cases/{id}/events: the full history and whether its
// hash chain verifies.
func (r Reader) Events(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	c, err := r.pathCase(ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	id := c.ID
	evs, err := r.log().List(ctx, id, 0, 0)
	if err != nil {
		return api.Response{}, err
	}
	chain := map[string]any{"valid": true, "head": c.LastHash, "length": len(evs)}
	if err := history.Verify(evs, c.LastHash); err != nil {
		chain["valid"], chain["error"] = false, err.Error()
	}
	if evs == nil {
		evs = []history.Event{}
	}
	return api.JSON(200, map[string]any{"case_id": id, "events": evs, "chain": chain}), nil
}

// List serves GET /cases?status=&platform=&from=&to=&limit=&cursor=, one
// page from the ByStatus or ByPlatform index (never a Scan).
func (r Reader) List(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := req.QueryStringParameters
	status, platform := q["status"], q["platform"]
	if status == "" && platform == "" {
		return api.Response{}, api.Invalid("status", "give status or platform (or both) to list cases")
	}
	from, to, err := timeRange(q)
	if err != nil {
		return api.Response{}, err
	}
	limit := 50
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return api.Response{}, api.Invalid("limit", "limit must be a whole number from 1 to 200")
		}
		limit = n
	}
	in := &dynamodb.QueryInput{TableName: aws.String(r.Table.Name), Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false)}
	vals := map[string]types.AttributeValue{
		":from": &types.AttributeValueMemberS{Value: store.FormatTime(from)},
		":to":   &types.AttributeValueMemberS{Value: store.FormatTime(to) + "~"},
	}
	cq := cursorQuery{From: store.FormatTime(from), To: store.FormatTime(to)}
	if status != "" {
		in.IndexName = aws.String(store.IndexByStatus)
		in.KeyConditionExpression = aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to")
		cq.Index, cq.PK, cq.PKName = store.IndexByStatus, store.StatusKey(status), "GSI1PK"
		cq.KeyNames = []string{"PK", "SK", "GSI1PK", "GSI1SK"}
		if platform != "" {
			in.FilterExpression = aws.String("platform = :p")
			vals[":p"] = &types.AttributeValueMemberS{Value: platform}
			cq.Filter = "platform=" + platform
		}
	} else {
		in.IndexName = aws.String(store.IndexByPlatform)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to")
		cq.Index, cq.PK, cq.PKName = store.IndexByPlatform, store.PlatformKey(platform), "GSI2PK"
		cq.KeyNames = []string{"PK", "SK", "GSI2PK", "GSI2SK"}
	}
	vals[":pk"] = &types.AttributeValueMemberS{Value: cq.PK}
	in.ExpressionAttributeValues = vals
	if cur := q["cursor"]; cur != "" {
		k, err := r.decodeCursor(cq, cur)
		if err != nil {
			return api.Response{}, api.Invalid("cursor", "cursor is not one this API returned for this listing (same status, platform, from and to)")
		}
		in.ExclusiveStartKey = k
	}
	out, err := r.Table.DB.Query(ctx, in)
	if err != nil {
		return api.Response{}, fmt.Errorf("list cases: %w", err)
	}
	cases := []ListedCase{}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &cases); err != nil {
		return api.Response{}, fmt.Errorf("decode cases: %w", err)
	}
	resp := map[string]any{"cases": cases}
	if out.LastEvaluatedKey != nil {
		resp["next_cursor"] = r.encodeCursor(cq, out.LastEvaluatedKey)
	}
	return api.JSON(200, resp), nil
}

// ListedCase is a case as listings show it: only what the ByStatus and
// ByPlatform indexes project (template.yaml), so a listing never shows a
// zero or an empty value for what the index does not carry (history
// length, head hash, last update: GET /cases/{id} has them).
type ListedCase struct {
	ID           string  `dynamodbav:"case_id" json:"case_id"`
	URL          string  `dynamodbav:"url" json:"url"`
	CanonicalURL string  `dynamodbav:"canonical_url" json:"canonical_url"`
	Platform     string  `dynamodbav:"platform" json:"platform"`
	Status       string  `dynamodbav:"status" json:"status"`
	Urgency      string  `dynamodbav:"urgency,omitempty" json:"urgency,omitempty"`
	Label        string  `dynamodbav:"label,omitempty" json:"label,omitempty"`
	Score        float64 `dynamodbav:"score,omitempty" json:"score,omitempty"`
	ReportCount  int     `dynamodbav:"report_count" json:"report_count"`
	CreatedAt    string  `dynamodbav:"created_at" json:"created_at"`
	Deadline     string  `dynamodbav:"deadline,omitempty" json:"deadline,omitempty"`
	TakedownAt   string  `dynamodbav:"takedown_at,omitempty" json:"takedown_requested_at,omitempty"`
	RemovedAt    string  `dynamodbav:"removed_at,omitempty" json:"removed_at,omitempty"`
	Outcome      string  `dynamodbav:"outcome,omitempty" json:"outcome,omitempty"`
	ClosedAt     string  `dynamodbav:"closed_at,omitempty" json:"closed_at,omitempty"`
}

func timeRange(q map[string]string) (time.Time, time.Time, error) {
	from, to := time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if s := q[f.name]; s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return from, to, api.Invalid(f.name, "%s must be an RFC 3339 time like 2026-11-01T00:00:00Z", f.name)
			}
			*f.dst = t
		}
	}
	if to.Before(from) {
		return from, to, api.Invalid("to", "to is before from")
	}
	return from, to, nil
}

// percentile of sorted durations (nearest rank).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(p*float64(len(d))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

// Route dispatches the read API's routes (one Lambda serves them all).
func (r Reader) Route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RouteKey {
	case "GET /cases":
		return r.List(ctx, req)
	case "GET /cases/{id}":
		return r.GetCase(ctx, req)
	case "GET /cases/{id}/events":
		return r.Events(ctx, req)
	case "GET /cases/{id}/related":
		return r.Related(ctx, req)
	case "GET /entities/{kind}/{value}":
		return r.Entity(ctx, req)
	case "GET /stats/compliance":
		return r.ComplianceStats(ctx, req)
	case "GET /cases/{id}/reports":
		return r.Reports(ctx, req)
	case "GET /cases/{id}/verify":
		return r.Verify(ctx, req)
	case "GET /anchors/digest":
		return r.Digest(ctx, req)
	case "GET /exports/watchlist":
		return r.Watchlist(ctx, req)
	}
	if h, ok := r.Extra[req.RouteKey]; ok {
		return h(ctx, req)
	}
	return api.Response{}, api.Errorf(404, "not_found", "", "no route %s", req.RouteKey)
}
