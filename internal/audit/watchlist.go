package audit

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

// WatchEntry is one recruiter entity of the watchlist.
type WatchEntry struct {
	Kind          string   `dynamodbav:"kind" json:"kind"`
	Value         string   `dynamodbav:"value" json:"value"`
	TakedownCases int      `dynamodbav:"takedown_cases" json:"takedown_cases"`
	CaseIDs       []string `dynamodbav:"case_ids,stringset" json:"case_ids"`
	Platforms     []string `dynamodbav:"platforms,stringset" json:"platforms"`
	FirstSeen     string   `dynamodbav:"first_seen" json:"first_seen"`
	LastSeen      string   `dynamodbav:"last_seen" json:"last_seen"`
}

// Watchlist serves GET /exports/watchlist?min=&limit=&cursor= (auditor,
// admin): recruiter entities (phones and WhatsApp numbers, Telegram
// handles, bank and e-wallet accounts, e-mail addresses, companies) in at
// least min takedown cases (default 2), most cases first, for the police
// and immigration at departure points. One Query page of the ByCount
// index, whose counts package stats keeps from the stream.
func (r Reader) Watchlist(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := req.QueryStringParameters
	minCases := 2
	if s := q["min"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000000 {
			return api.Response{}, api.Invalid("min", "min harus bilangan bulat 1 atau lebih / min must be a whole number of at least 1")
		}
		minCases = n
	}
	limit := 50
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return api.Response{}, api.Invalid("limit", "limit must be a whole number from 1 to 200")
		}
		limit = n
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(r.Table.Name), IndexName: aws.String(store.IndexByCount),
		KeyConditionExpression: aws.String("GSI3PK = :pk AND takedown_cases >= :min"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: store.PKWatchlist},
			":min": &types.AttributeValueMemberN{Value: strconv.Itoa(minCases)},
		},
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	cq := cursorQuery{Index: store.IndexByCount, PK: store.PKWatchlist, Filter: "min=" + strconv.Itoa(minCases),
		KeyNames: []string{"PK", "SK", "GSI3PK", "takedown_cases"}, PKName: "GSI3PK"}
	if cur := q["cursor"]; cur != "" {
		k, err := r.decodeCursor(cq, cur)
		if err != nil {
			return api.Response{}, api.Invalid("cursor", "cursor is not one this API returned for this listing (same min)")
		}
		in.ExclusiveStartKey = k
	}
	out, err := r.Table.DB.Query(ctx, in)
	if err != nil {
		return api.Response{}, fmt.Errorf("watchlist: %w", err)
	}
	entries := []WatchEntry{}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &entries); err != nil {
		return api.Response{}, fmt.Errorf("decode watchlist: %w", err)
	}
	for i := range entries {
		sort.Strings(entries[i].CaseIDs)
		sort.Strings(entries[i].Platforms)
	}
	resp := map[string]any{"min": minCases, "entities": entries,
		"note_id": "Hanya untuk penegak hukum dan imigrasi: memuat kontak perekrut. Jangan disebarkan.",
		"note_en": "For law enforcement and immigration only: holds recruiters' contacts. Do not publish."}
	if out.LastEvaluatedKey != nil {
		resp["next_cursor"] = r.encodeCursor(cq, out.LastEvaluatedKey)
	}
	return api.JSON(200, resp), nil
}
