// Package audit is the read side of tangkal: cases, their verified
// histories, listings for auditors and per-platform compliance figures.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// List serves GET /cases?status=&platform=&urgency=&category=&agency=&approver=&from=&to=&limit=&cursor=:
// one page, newest first, from one Query of an index (never a Scan, never
// a filter, so a page is short only when it is the last). One of status,
// platform, status with platform, urgency, category, agency or approver
// selects the cases; none of them lists every case in the time range.
// from and to bound the creation time, or for agency and approver the
// decision's time.
func (r Reader) List(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := req.QueryStringParameters
	l, err := listingOf(q)
	if err != nil {
		return api.Response{}, err
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
	cq := cursorQuery{Index: l.index, PK: l.pk, PKName: l.pkName, KeyNames: []string{"PK", "SK", l.pkName, l.skName},
		From: store.FormatTime(from), To: store.FormatTime(to)}
	in := &dynamodb.QueryInput{
		TableName: aws.String(r.Table.Name), IndexName: aws.String(l.index), Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": l.pkName, "#sk": l.skName},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: l.pk},
			":from": &types.AttributeValueMemberS{Value: cq.From},
			":to":   &types.AttributeValueMemberS{Value: cq.To + "~"},
		},
	}
	if cur := q["cursor"]; cur != "" {
		k, err := r.decodeCursor(cq, cur)
		if err != nil {
			return api.Response{}, api.Invalid("cursor", "cursor is not one this API returned for this listing (same selection, from and to)")
		}
		in.ExclusiveStartKey = k
	}
	out, err := r.Table.DB.Query(ctx, in)
	if err != nil {
		return api.Response{}, fmt.Errorf("list cases: %w", err)
	}
	items := out.Items
	if l.keysOnly {
		if items, err = r.casesOf(ctx, items); err != nil {
			return api.Response{}, err
		}
	}
	cases := []ListedCase{}
	if err := attributevalue.UnmarshalListOfMaps(items, &cases); err != nil {
		return api.Response{}, fmt.Errorf("decode cases: %w", err)
	}
	resp := map[string]any{"cases": cases}
	if out.LastEvaluatedKey != nil {
		resp["next_cursor"] = r.encodeCursor(cq, out.LastEvaluatedKey)
	}
	return api.JSON(200, resp), nil
}

// listing is the index and partition a listing reads.
type listing struct {
	index, pkName, skName, pk string
	// keysOnly: the index holds the case's key only (ByFacet).
	keysOnly bool
}

// listingOf picks the index for the selection in q.
func listingOf(q map[string]string) (listing, error) {
	var given []string
	for _, f := range []string{"status", "platform", "urgency", "category", "agency", "approver"} {
		v := q[f]
		if v == "" {
			continue
		}
		if len(v) > 200 || strings.ContainsAny(v, "#\x00") {
			return listing{}, api.Invalid(f, "%s is not a valid value", f)
		}
		given = append(given, f)
	}
	if u := q["urgency"]; u != "" && u != "urgent" && u != "normal" {
		return listing{}, api.Invalid("urgency", "urgency must be urgent or normal")
	}
	facet := func(name, value string) listing {
		return listing{index: store.IndexByFacet, pkName: "FPK", skName: "GSI1SK", pk: store.FacetKey(name, value), keysOnly: true}
	}
	switch {
	case len(given) == 0:
		return facet(store.FacetAll, ""), nil
	case len(given) == 2 && given[0] == "status" && given[1] == "platform":
		return listing{index: store.IndexByStatusPlatform, pkName: "GSI4PK", skName: "GSI1SK", pk: store.StatusPlatformKey(q["status"], q["platform"])}, nil
	case len(given) > 1:
		return listing{}, api.Invalid(given[1], "list by one of status, platform, urgency, category, agency or approver (or status with platform), not %s with %s", given[0], given[1])
	}
	switch f := given[0]; f {
	case "status":
		return listing{index: store.IndexByStatus, pkName: "GSI1PK", skName: "GSI1SK", pk: store.StatusKey(q[f])}, nil
	case "platform":
		return listing{index: store.IndexByPlatform, pkName: "GSI2PK", skName: "GSI2SK", pk: store.PlatformKey(q[f])}, nil
	case "urgency":
		return facet(store.FacetUrgency, q[f]), nil
	case "category":
		return facet(store.FacetCategory, q[f]), nil
	case "agency":
		return facet(store.FacetAgency, strings.ToLower(q[f])), nil
	default:
		return facet(store.FacetApprover, strings.ToLower(q[f])), nil
	}
}

// listedProjection is what a listing shows of a case (ListedCase).
const listedProjection = "case_id, #url, canonical_url, platform, #status, urgency, label, score, report_count, created_at, deadline, takedown_at, removed_at, outcome, closed_at"

// casesOf reads the cases a keys-only page names (one BatchGetItem), in
// the page's order.
func (r Reader) casesOf(ctx context.Context, page []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(page))
	order := make([]string, 0, len(page))
	for _, it := range page {
		pk, _ := it["PK"].(*types.AttributeValueMemberS)
		if pk == nil {
			continue
		}
		keys = append(keys, store.Key(pk.Value, store.SKMeta))
		order = append(order, pk.Value)
	}
	found, err := r.Table.BatchGetNamed(ctx, keys, listedProjection, map[string]string{"#url": "url", "#status": "status"})
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	byPK := make(map[string]map[string]types.AttributeValue, len(found))
	for _, it := range found {
		if id, ok := it["case_id"].(*types.AttributeValueMemberS); ok {
			byPK[store.CasePK(id.Value)] = it
		}
	}
	out := make([]map[string]types.AttributeValue, 0, len(order))
	for _, pk := range order {
		if it, ok := byPK[pk]; ok {
			out = append(out, it)
		}
	}
	return out, nil
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
	case "GET /stats/pipeline":
		return r.Pipeline(ctx, req)
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
