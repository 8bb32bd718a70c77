package audit

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

// PseudonymousReport is a report as auditors see it: who by pseudonym and
// organisation, and when; never a name, contact or account.
type PseudonymousReport struct {
	ReportID     string `dynamodbav:"report_id" json:"report_id"`
	Pseudonym    string `dynamodbav:"reporter_pseudonym" json:"reporter"`
	Organization string `dynamodbav:"organization,omitempty" json:"organization,omitempty"`
	ReceivedAt   string `dynamodbav:"received_at" json:"received_at"`
	Duplicate    bool   `dynamodbav:"duplicate" json:"duplicate"`
}

// Reports serves GET /cases/{id}/reports: the case's reports in
// pseudonymous form, oldest first. Only these attributes are read from
// the table (a projection), so nothing else can leak into the answer.
func (r Reader) Reports(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	c, err := r.pathCase(ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	p := dynamodb.NewQueryPaginator(r.Table.DB, &dynamodb.QueryInput{
		TableName:              aws.String(r.Table.Name),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(c.ID)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
		ProjectionExpression:     aws.String("report_id, reporter_pseudonym, organization, received_at, #d"),
		ExpressionAttributeNames: map[string]string{"#d": "duplicate"},
	})
	reports := []PseudonymousReport{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return api.Response{}, fmt.Errorf("reports of case %s: %w", c.ID, err)
		}
		var batch []PseudonymousReport
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &batch); err != nil {
			return api.Response{}, fmt.Errorf("decode reports of case %s: %w", c.ID, err)
		}
		reports = append(reports, batch...)
	}
	return api.JSON(200, map[string]any{"case_id": c.ID, "reports": reports}), nil
}
