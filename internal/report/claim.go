package report

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// ClaimFinalURL makes later reports of the URL that a reported link led to
// (a short link, a redirect) join the case, as reports of its own canonical
// URL do. It returns the id of another case that already holds that URL
// (the ad was reported before under that address), or "" when the claim is
// the case's own or the URL is the one reported. reopens is the removed case
// this one reopens (see Intake.Submit), if any: its claims pass to this case.
func ClaimFinalURL(ctx context.Context, t store.Table, caseID, canonicalURL, finalURL, reopens string) (string, error) {
	fc, err := urlcanon.Canonicalize(finalURL)
	if err != nil || fc.URL == canonicalURL {
		return "", nil
	}
	pk := claimPK(fc)
	av, err := attributevalue.MarshalMap(claimItem{PK: pk, SK: store.SKClaim, CaseID: caseID, URL: fc.URL})
	if err != nil {
		return "", fmt.Errorf("claim %s for case %s: %w", fc.URL, caseID, err)
	}
	cond := "attribute_not_exists(PK) OR case_id = :me"
	vals := map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: caseID}}
	if reopens != "" {
		cond += " OR case_id = :old"
		vals[":old"] = &types.AttributeValueMemberS{Value: reopens}
	}
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.Name), Item: av,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
	})
	switch {
	case err == nil:
		return "", nil
	case !store.IsConditionFailed(err):
		return "", fmt.Errorf("claim %s for case %s: %w", fc.URL, caseID, err)
	}
	holder, err := Intake{Table: t}.claimedCase(ctx, fc, false)
	if err != nil && !errors.Is(err, errNoClaim) {
		return "", err
	}
	if holder == caseID {
		return "", nil
	}
	return holder, nil
}
