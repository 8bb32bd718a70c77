// Package feedback tells reporters what became of the ads they reported,
// from the table's stream: when a case is approved, its takedown requested,
// rejected or closed, each reporter of the case gets a signed webhook at its
// callback URL (the SSRF rules of fetching ads apply; retried), or an e-mail
// if it gave an address instead. A message names the reporter's own reports
// only: never other reporters, the approvers or the platform's contacts.
// Closing outcomes also go into each reporter's accuracy record.
package feedback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/publicreport"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
)

// Notifier is ReporterFeedbackFunction.
type Notifier struct {
	Table   store.Table
	Fetcher *safefetch.Fetcher
	Mailer  outbox.Mailer
	Sender  string
	Now     func() time.Time
	// Backoff is the pause before each further attempt of a webhook.
	Backoff []time.Duration
}

// Notified reports whether reporters hear about a status.
func Notified(status string) bool {
	return status == store.StatusApproved || status == store.StatusTakedownSent || store.IsClosed(status)
}

// Message is a webhook's body.
type Message struct {
	Event    string   `json:"event"`
	CaseID   string   `json:"case_id"`
	Reports  []string `json:"report_ids"`
	URL      string   `json:"url"`
	Status   string   `json:"status"`
	Outcome  string   `json:"outcome,omitempty"`
	At       string   `json:"at"`
	TextID   string   `json:"message_id"`
	TextEN   string   `json:"message_en"`
	Delivery string   `json:"delivery_id"`
}

func (n Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// Handle handles a batch of stream records (case META items).
func (n Notifier) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return store.EachPerCase(ctx, ev.Records, func(ctx context.Context, rec events.DynamoDBEventRecord) error {
		img := rec.Change.NewImage
		str := func(k string) string { return store.ImageString(img, k) }
		caseID, status := str("case_id"), str("status")
		sk := rec.Change.Keys["SK"]
		if sk.DataType() != events.DataTypeString || sk.String() != store.SKMeta || caseID == "" || !Notified(status) {
			return nil
		}
		err := n.handle(logging.With(ctx, logging.CaseID, caseID), caseID, status, str("url"))
		if err != nil {
			slog.ErrorContext(ctx, "reporter feedback", "case_id", caseID, "status", status, "err", err)
		}
		return err
	}), nil
}

func (n Notifier) handle(ctx context.Context, caseID, status, adURL string) error {
	done, err := n.marked(ctx, caseID, status)
	if err != nil || done {
		return err
	}
	byReporter, err := n.reports(ctx, caseID)
	if err != nil {
		return err
	}
	subs := make([]string, 0, len(byReporter))
	for s := range byReporter {
		subs = append(subs, s)
	}
	sort.Strings(subs)
	for _, sub := range subs {
		if store.IsClosed(status) {
			if err := n.count(ctx, sub, caseID, status); err != nil {
				return err
			}
		}
		if sub == publicreport.Subject {
			continue // public reporters follow their status link
		}
		p, err := report.ReadProfile(ctx, n.Table, sub)
		if err != nil {
			return err
		}
		msg := n.message(caseID, status, adURL, sub, byReporter[sub])
		switch {
		case p.CallbackURL != "":
			if err := n.webhook(ctx, p, msg); err != nil {
				return err
			}
		case p.NotifyEmail != "" && n.Mailer != nil:
			if err := n.email(ctx, p, msg); err != nil {
				return err
			}
		}
	}
	return n.mark(ctx, caseID, status)
}

func (n Notifier) message(caseID, status, adURL, sub string, reports []string) Message {
	ps := publicreport.Public(status)
	m := Message{Event: "case.status", CaseID: caseID, Reports: reports, URL: adURL, Status: status,
		At: store.FormatTime(n.now()), TextID: ps.ID, TextEN: ps.EN}
	if store.IsClosed(status) {
		m.Outcome = status
	}
	sum := sha256.Sum256([]byte(caseID + "\x00" + status + "\x00" + sub))
	m.Delivery = hex.EncodeToString(sum[:16])
	return m
}

// reports lists the case's reports by reporter (its token subject).
func (n Notifier) reports(ctx context.Context, caseID string) (map[string][]string, error) {
	out := map[string][]string{}
	p := dynamodb.NewQueryPaginator(n.Table.DB, &dynamodb.QueryInput{
		TableName: aws.String(n.Table.Name), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ProjectionExpression:   aws.String("reporter_sub, report_id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(caseID)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read reports of case %s: %w", caseID, err)
		}
		for _, it := range page.Items {
			sub, _ := it["reporter_sub"].(*types.AttributeValueMemberS)
			id, _ := it["report_id"].(*types.AttributeValueMemberS)
			if sub != nil && id != nil {
				out[sub.Value] = append(out[sub.Value], id.Value)
			}
		}
	}
	return out, nil
}

// count adds a closed case to a reporter's accuracy record, once.
func (n Notifier) count(ctx context.Context, sub, caseID, status string) error {
	field := ""
	switch status {
	case store.StatusRemovedInTime, store.StatusRemovedLate, store.StatusNonCompliant:
		field = "approved"
	case store.StatusRejected:
		field = "rejected"
	case store.StatusNotJobAd, store.StatusLegitimate:
		field = "not_job_ad"
	}
	expr := "SET subject = if_not_exists(subject, :s) ADD closed :one"
	if field != "" {
		expr += ", " + field + " :one"
	}
	_, err := n.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(n.Table.Name),
			Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: store.ReporterPK(sub)}, "SK": &types.AttributeValueMemberS{Value: store.OutcomeSK(caseID)},
				"outcome": &types.AttributeValueMemberS{Value: status},
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
		{Update: &types.Update{
			TableName: aws.String(n.Table.Name), Key: store.Key(store.ReporterPK(sub), store.SKProfile),
			UpdateExpression: aws.String(expr),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": &types.AttributeValueMemberS{Value: sub}, ":one": &types.AttributeValueMemberN{Value: "1"},
			},
		}},
	}})
	if cancel, ok := store.Cancelled(err); ok && cancel.ConditionFailed(0) {
		return nil // counted before
	}
	if err != nil {
		return fmt.Errorf("count outcome of case %s: %w", caseID, err)
	}
	return nil
}

// Signature is the X-Tangkal-Signature header of a webhook body.
func Signature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

var errRefused = errors.New("callback answered with an error status")

func (n Notifier) webhook(ctx context.Context, p report.Profile, msg Message) error {
	body, _ := json.Marshal(msg)
	backoff := n.Backoff
	if backoff == nil {
		backoff = []time.Duration{500 * time.Millisecond, 2 * time.Second}
	}
	var last error
	for attempt := 0; attempt <= len(backoff); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff[attempt-1]):
			}
		}
		code, err := n.Fetcher.Post(ctx, p.CallbackURL, "application/json", body, map[string]string{
			"X-Tangkal-Signature": Signature(p.CallbackSecret, time.Now(), body), "Idempotency-Key": msg.Delivery,
		})
		var blocked *safefetch.BlockedError
		switch {
		case errors.As(err, &blocked):
			// Never retried: the address is not allowed (it may resolve
			// somewhere private now). Logged, not delivered.
			slog.WarnContext(ctx, "callback refused by the fetch rules", "reason", blocked.Reason)
			return nil
		case err == nil && code >= 200 && code < 300:
			return nil
		case err == nil && code >= 400 && code < 500 && code != 408 && code != 429:
			slog.WarnContext(ctx, "callback refused the webhook", "status", code)
			return nil
		case err == nil:
			last = fmt.Errorf("%w: %d", errRefused, code)
		default:
			last = err
		}
	}
	return fmt.Errorf("webhook to reporter: %w", last)
}

func (n Notifier) email(ctx context.Context, p report.Profile, msg Message) error {
	text := fmt.Sprintf("Status laporan Anda / Your report's status\n\nIklan / Ad: %s\nKasus / Case: %s\nLaporan / Reports: %v\n\n%s\n%s\n\nStatus: %s\n",
		msg.URL, msg.CaseID, msg.Reports, msg.TextID, msg.TextEN, msg.Status)
	_, err := n.Mailer.Send(ctx, outbox.Email{
		From: n.Sender, To: []string{p.NotifyEmail},
		Subject: fmt.Sprintf("Status laporan: %s – Report status (%s)", msg.Status, msg.CaseID),
		Text:    text, Headers: map[string]string{"X-Tangkal-Delivery": msg.Delivery},
	})
	if err != nil {
		return fmt.Errorf("e-mail to reporter: %w", err)
	}
	return nil
}

func (n Notifier) marked(ctx context.Context, caseID, status string) (bool, error) {
	out, err := n.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(n.Table.Name), Key: store.Key(store.CasePK(caseID), store.FeedbackSK(status)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("read feedback mark of case %s: %w", caseID, err)
	}
	return out.Item != nil, nil
}

func (n Notifier) mark(ctx context.Context, caseID, status string) error {
	_, err := n.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(n.Table.Name),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: store.CasePK(caseID)}, "SK": &types.AttributeValueMemberS{Value: store.FeedbackSK(status)},
			"at": &types.AttributeValueMemberS{Value: store.FormatTime(n.now())},
		},
	})
	if err != nil {
		return fmt.Errorf("mark feedback of case %s: %w", caseID, err)
	}
	return nil
}
