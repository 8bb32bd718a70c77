package stats

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/store"
)

// MaxMonths is the longest period one reading of monthly counters covers.
const MaxMonths = 60

// MonthRange reads the from and to months of a request ("2026-11";
// default: the last 12 months up to now's, WIB).
func MonthRange(q map[string]string, now time.Time) (string, string, error) {
	now = now.In(Jakarta)
	to := Month(now)
	from := Month(time.Date(now.Year(), now.Month()-11, 1, 0, 0, 0, 0, Jakarta))
	for _, f := range []struct {
		name string
		dst  *string
	}{{"from", &from}, {"to", &to}} {
		if s := q[f.name]; s != "" {
			t, err := time.Parse("2006-01", s)
			if err != nil {
				return "", "", api.Invalid(f.name, "%s harus bulan seperti 2026-11 / %s must be a month like 2026-11", f.name, f.name)
			}
			*f.dst = t.Format("2006-01")
		}
	}
	a, _ := time.Parse("2006-01", from)
	b, _ := time.Parse("2006-01", to)
	if b.Before(a) {
		return "", "", api.Invalid("to", "to sebelum from / to is before from")
	}
	if (b.Year()-a.Year())*12+int(b.Month()-a.Month()) >= MaxMonths {
		return "", "", api.Invalid("from", "paling banyak %d bulan / at most %d months", MaxMonths, MaxMonths)
	}
	return from, to, nil
}

// MonthCounters is one counter item: a month's (Month set), or another.
type MonthCounters struct {
	Month   string
	Numbers map[string]int64
	Strings map[string]string
}

func decodeCounters(it map[string]types.AttributeValue) MonthCounters {
	m := MonthCounters{Numbers: map[string]int64{}, Strings: map[string]string{}}
	for k, v := range it {
		switch a := v.(type) {
		case *types.AttributeValueMemberN:
			n, _ := strconv.ParseInt(a.Value, 10, 64)
			m.Numbers[k] = n
		case *types.AttributeValueMemberS:
			m.Strings[k] = a.Value
		}
	}
	m.Month = strings.TrimPrefix(m.Strings["SK"], store.PrefixMonth)
	return m
}

// ReadMonths queries a scope's months from..to (one partition, a range of
// sort keys; "" and "~" leave an end open).
func ReadMonths(ctx context.Context, t store.Table, scope, from, to string) ([]MonthCounters, error) {
	p := dynamodb.NewQueryPaginator(t.DB, &dynamodb.QueryInput{
		TableName:              aws.String(t.Name),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: store.StatsPK(scope)},
			":from": &types.AttributeValueMemberS{Value: store.MonthSK(from)},
			":to":   &types.AttributeValueMemberS{Value: store.MonthSK(to)},
		},
	})
	var out []MonthCounters
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("counters of %s: %w", scope, err)
		}
		for _, it := range page.Items {
			out = append(out, decodeCounters(it))
		}
	}
	return out, nil
}

// ReadItem reads one counter item (empty when it does not exist yet).
func ReadItem(ctx context.Context, t store.Table, pk, sk string) (MonthCounters, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: store.Key(pk, sk)})
	if err != nil {
		return MonthCounters{}, fmt.Errorf("counters %s/%s: %w", pk, sk, err)
	}
	return decodeCounters(out.Item), nil
}
