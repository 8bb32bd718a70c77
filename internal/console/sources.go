package console

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/store"
)

// InboxItem is one pending approval request as the inbox lists it.
type InboxItem struct {
	ApprovalID string
	CaseID     string
	URL        string
	Platform   string
	Urgency    string
	Score      float64
	Agency     string
	ExpiresAt  time.Time
	// MayDecide is what the member may do now (approve, reject, hold,
	// release); Needs where the policy stands.
	MayDecide []string
	Needs     agency.Evaluation
	// TrustedFlagger: a trusted flagger reported the case (reviewed first);
	// Review: the member is asked for the extra review before the agencies.
	TrustedFlagger bool
	Review         bool
}

// Inbox lists the pending approvals a signed-in approver may act on,
// urgent first, then trusted flaggers' cases, then by deadline.
type Inbox interface {
	Pending(ctx context.Context, s Session) ([]InboxItem, error)
}

// MyReport is one report a reporter sent.
type MyReport struct {
	CaseID     string `dynamodbav:"case_id"`
	ReportID   string `dynamodbav:"report_id"`
	URL        string `dynamodbav:"url"`
	ReceivedAt string `dynamodbav:"received_at"`
	Duplicate  bool   `dynamodbav:"duplicate"`
}

// ReporterReports keeps and lists the reports of one reporter, never
// another's. TableReports lists every report of the reporter, however
// sent (intake keeps them under the reporter's pseudonym).
type ReporterReports interface {
	Add(ctx context.Context, s Session, r MyReport) error
	List(ctx context.Context, s Session) ([]MyReport, error)
}

// TableReports lists a reporter's reports under
// store.MyReportsPK(pseudonym), newest first.
type TableReports struct {
	Table store.Table
	// PseudonymKey keys reporters' pseudonyms, as intake does.
	PseudonymKey []byte
}

// Add implements ReporterReports. Intake already keeps every report under
// its reporter's pseudonym (report.Intake), whichever way it was sent, so
// there is nothing to add.
func (t TableReports) Add(ctx context.Context, s Session, r MyReport) error { return nil }

// List implements ReporterReports.
func (t TableReports) List(ctx context.Context, s Session) ([]MyReport, error) {
	out, err := t.Table.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(t.Table.Name), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.MyReportsPK(report.Pseudonym(t.PseudonymKey, s.Subject))},
			":r":  &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(100),
	})
	if err != nil {
		return nil, fmt.Errorf("reports of a reporter: %w", err)
	}
	var rs []MyReport
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rs); err != nil {
		return nil, fmt.Errorf("reports of a reporter: decode: %w", err)
	}
	return rs, nil
}

// AgencyInbox is the inbox of the multi-agency approval: what waits for
// the signed-in member's agency (approval.Store.Pending, as GET /approvals
// answers, in its order: urgent first, then trusted flaggers' cases, then
// by deadline).
type AgencyInbox struct{ Approvals *approval.Store }

// Pending implements Inbox.
func (in AgencyInbox) Pending(ctx context.Context, s Session) ([]InboxItem, error) {
	waiting, err := in.Approvals.Pending(ctx, s.Email)
	if err != nil {
		return nil, err
	}
	items := make([]InboxItem, 0, len(waiting))
	for _, w := range waiting {
		items = append(items, InboxItem{ApprovalID: w.ApprovalID, CaseID: w.CaseID, URL: w.URL, Platform: w.Platform,
			Urgency: w.Urgency, Agency: w.Agency, ExpiresAt: w.Deadline, MayDecide: w.MayDecide, Needs: w.Needs,
			TrustedFlagger: w.TrustedFlagger, Review: w.Stage == approval.StageReview})
	}
	return items, nil
}
