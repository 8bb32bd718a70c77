package console

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
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
}

// Inbox lists the pending approvals a signed-in approver may decide,
// urgent first, then by deadline. Today StoreInbox reads them from
// internal/approval's store; the multi-agency inbox query (GET
// /approvals) slots in behind the same interface.
type Inbox interface {
	Pending(ctx context.Context, s Session) ([]InboxItem, error)
}

// StoreInbox: the cases awaiting approval (ByStatus index), each case's
// current approval request, kept when it is pending and the person is one
// of its approvers (admins see all).
type StoreInbox struct {
	Table     store.Table
	Approvals *approval.Store
}

// maxInbox bounds how many waiting cases one inbox page reads.
const maxInbox = 200

// Pending implements Inbox.
func (in StoreInbox) Pending(ctx context.Context, s Session) ([]InboxItem, error) {
	out, err := in.Table.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(in.Table.Name), IndexName: aws.String(store.IndexByStatus),
		KeyConditionExpression: aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.StatusKey(store.StatusAwaitingApprove)},
		},
		Limit: aws.Int32(maxInbox),
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: cases awaiting approval: %w", err)
	}
	var listed []struct {
		ID string `dynamodbav:"case_id"`
	}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &listed); err != nil {
		return nil, fmt.Errorf("inbox: decode: %w", err)
	}
	me := strings.ToLower(strings.TrimSpace(s.Email))
	var items []InboxItem
	for _, l := range listed {
		c, err := in.Table.GetCase(ctx, l.ID)
		if err != nil || c.ApprovalID == "" {
			continue
		}
		a, err := in.Approvals.Get(ctx, c.ApprovalID)
		if err != nil || a.Status != approval.StatusPending {
			continue
		}
		if !s.Has(auth.Admin) && (me == "" || !slices.Contains(a.Approvers, me)) {
			continue
		}
		items = append(items, InboxItem{ApprovalID: a.ID, CaseID: c.ID, URL: c.URL, Platform: c.Platform,
			Urgency: c.Urgency, Score: c.Score, Agency: s.Agency, ExpiresAt: a.ExpiresAt})
	}
	sort.SliceStable(items, func(i, j int) bool {
		ui, uj := items[i].Urgency == "urgent", items[j].Urgency == "urgent"
		if ui != uj {
			return ui
		}
		return items[i].ExpiresAt.Before(items[j].ExpiresAt)
	})
	return items, nil
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
// store.ReporterPK(pseudonym), newest first.
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
			":pk": &types.AttributeValueMemberS{Value: store.ReporterPK(report.Pseudonym(t.PseudonymKey, s.Subject))},
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

// caseReport is a report of a case as auditors see it: pseudonymous.
type caseReport struct {
	ReportID     string `dynamodbav:"report_id"`
	Pseudonym    string `dynamodbav:"reporter_pseudonym"`
	Organization string `dynamodbav:"organization"`
	Category     string `dynamodbav:"category"`
	ReceivedAt   string `dynamodbav:"received_at"`
	URL          string `dynamodbav:"url"`
}

func caseReports(ctx context.Context, t store.Table, caseID string) ([]caseReport, error) {
	out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(t.Name), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(caseID)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
		ProjectionExpression:     aws.String("report_id, reporter_pseudonym, organization, category, received_at, #u"),
		ExpressionAttributeNames: map[string]string{"#u": "url"},
		Limit:                    aws.Int32(200),
	})
	if err != nil {
		return nil, fmt.Errorf("reports of case %s: %w", caseID, err)
	}
	var rs []caseReport
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rs); err != nil {
		return nil, fmt.Errorf("reports of case %s: decode: %w", caseID, err)
	}
	return rs, nil
}
