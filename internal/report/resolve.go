package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// Reasons for resolving a pseudonym: stated, and long enough to say why.
const (
	MinResolveReason = 10
	MaxResolveReason = 2000
)

// validPseudonym: what Pseudonym makes, keyed ("rp-") or not.
var validPseudonym = regexp.MustCompile(`^(?:rp-[0-9a-f]{20}|reporter-[0-9a-f]{12})$`)

// Contact is the name and contact a reporter gave with one report.
type Contact struct {
	ReportID   string `json:"report_id"`
	CaseID     string `json:"case_id"`
	Name       string `json:"name,omitempty"`
	Contact    string `json:"contact,omitempty"`
	ReceivedAt string `json:"received_at"`
	// ExpiresAt is when the retention ends and the details are deleted.
	ExpiresAt string `json:"expires_at"`
}

// Resolution is the answer of POST /reporters/{pseudonym}/resolve.
type Resolution struct {
	Pseudonym string `json:"pseudonym"`
	// Account is the reporter's account (the subject the pseudonym keys).
	Account string `json:"account"`
	Reason  string `json:"reason"`
	// Cases are every case the reporter reported; each now has a
	// pseudonym_resolved event in its history.
	Cases []string `json:"cases"`
	// Contacts are the names and contacts still kept (the retention
	// deletes them; the account and cases stay).
	Contacts             []Contact `json:"contacts"`
	ContactRetentionDays int       `json:"contact_retention_days"`
}

// Resolve serves POST /reporters/{pseudonym}/resolve (admin): who is behind
// a pseudonym, with the reason stated in the body ({"reason": "…"},
// required). The act is recorded first, as a pseudonym_resolved event in
// the history of every case the reporter reported (pseudonym, reason and
// how many contacts were disclosed, by the admin): if that fails, nothing
// is disclosed.
func (h Handler) Resolve(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	// The route's segment is the pseudonym (named {sub} like the other
	// /reporters/{sub} routes: one variable name per level).
	p := req.PathParameters["sub"]
	if !validPseudonym.MatchString(p) {
		return api.Response{}, api.NotFound("pseudonym")
	}
	body, err := api.Body(req, MaxBodyBytes)
	if err != nil {
		return api.Response{}, err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := api.DecodeStrict(body, &in); err != nil {
		return api.Response{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if n := len([]rune(in.Reason)); n < MinResolveReason || n > MaxResolveReason {
		return api.Response{}, api.Invalid("reason", "alasan wajib, %d sampai %d karakter / a reason of %d to %d characters is required",
			MinResolveReason, MaxResolveReason, MinResolveReason, MaxResolveReason)
	}
	res, err := h.Intake.Resolve(ctx, p, in.Reason, "admin:"+who.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("pseudonym")
	}
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(200, res), nil
}

// Resolve records the resolution of a pseudonym in the history of each of
// its reporter's cases, then returns who it is (store.ErrNotFound for a
// pseudonym that reported nothing).
func (in Intake) Resolve(ctx context.Context, pseudonym, reason, actor string) (Resolution, error) {
	now := in.now()
	res := Resolution{Pseudonym: pseudonym, Reason: reason, Cases: []string{}, Contacts: []Contact{},
		ContactRetentionDays: int(in.contactRetention() / (24 * time.Hour))}
	cases := map[string]bool{}
	pg := dynamodb.NewQueryPaginator(in.Table.DB, &dynamodb.QueryInput{
		TableName:              aws.String(in.Table.Name),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.MyReportsPK(pseudonym)},
		},
		ConsistentRead: aws.Bool(true),
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return res, fmt.Errorf("resolve pseudonym: %w", err)
		}
		for _, it := range page.Items {
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			switch {
			case sk == nil:
			case strings.HasPrefix(sk.Value, store.PrefixReport):
				var r reporterReport
				if err := attributevalue.UnmarshalMap(it, &r); err != nil {
					return res, fmt.Errorf("resolve pseudonym: decode: %w", err)
				}
				cases[r.CaseID] = true
				res.Account = r.ReporterSub
			case strings.HasPrefix(sk.Value, store.PrefixContact):
				var c contactItem
				if err := attributevalue.UnmarshalMap(it, &c); err != nil {
					return res, fmt.Errorf("resolve pseudonym: decode: %w", err)
				}
				// TTL deletes within days of the expiry, not at it: an
				// expired item is gone already for anyone who asks.
				if c.ExpiresAt <= now.Unix() {
					continue
				}
				res.Contacts = append(res.Contacts, Contact{ReportID: c.ReportID, CaseID: c.CaseID, Name: c.Name, Contact: c.Contact,
					ReceivedAt: c.ReceivedAt, ExpiresAt: store.FormatTime(time.Unix(c.ExpiresAt, 0))})
			}
		}
	}
	if len(cases) == 0 {
		return res, fmt.Errorf("resolve pseudonym %s: %w", pseudonym, store.ErrNotFound)
	}
	for id := range cases {
		res.Cases = append(res.Cases, id)
	}
	sort.Strings(res.Cases)
	log := history.Log{Table: in.Table, Now: in.Now}
	for _, id := range res.Cases {
		n := 0
		for _, c := range res.Contacts {
			if c.CaseID == id {
				n++
			}
		}
		if _, err := log.Append(ctx, id, history.PseudonymResolved, actor, history.PseudonymResolvedData{
			Pseudonym: pseudonym, Reason: reason, ContactsDisclosed: n,
		}, history.Change{}); err != nil {
			return Resolution{}, fmt.Errorf("resolve pseudonym: record on case %s: %w", id, err)
		}
	}
	slog.InfoContext(ctx, "pseudonym resolved", "pseudonym", pseudonym, "actor", actor, "cases", len(res.Cases), "contacts", len(res.Contacts))
	return res, nil
}
