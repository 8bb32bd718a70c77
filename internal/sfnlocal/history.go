package sfnlocal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reading a history back pages through the journal by position: a page
// token names the journal record holding the page's first event (its sort
// key base "<first event>.<seq>") and that event's id, so each page reads
// only the records it returns (and at most one more, to know whether
// another page follows), whatever the length of the history.

// historyCursor is where a history page starts; the zero value is the
// start of the history (its end, in reverse order).
type historyCursor struct {
	base string // sort key of the journal record, without "/<part>"
	id   int64  // the first event to return
}

var cursorBaseRE = regexp.MustCompile(`^[0-9]{12}\.[0-9]{6}$`)

func (c *historyCursor) token(reverse bool) string {
	dir := "f"
	if reverse {
		dir = "r"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + "|" + c.base + "|" + strconv.FormatInt(c.id, 10)))
}

// parseHistoryCursor reads a token given for the same direction.
func parseHistoryCursor(tok string, reverse bool) (historyCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return historyCursor{}, false
	}
	f := strings.Split(string(b), "|")
	if len(f) != 3 || f[0] != map[bool]string{false: "f", true: "r"}[reverse] || !cursorBaseRE.MatchString(f[1]) {
		return historyCursor{}, false
	}
	id, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || id < 1 {
		return historyCursor{}, false
	}
	return historyCursor{base: f[1], id: id}, true
}

// historyPage returns up to limit events from c on, in the order asked,
// and where the next page starts (nil at the end of the history).
func (e *Engine) historyPage(ctx context.Context, arn string, reverse bool, c historyCursor, limit int) ([]json.RawMessage, *historyCursor, error) {
	jr := &journalReader{e: e, pk: prefixEvents + arn, reverse: reverse, from: c.base, batch: int32(limit/2 + 2)}
	events := make([]json.RawMessage, 0, min(limit, 64))
	for {
		base, first, evs, ok, err := jr.next(ctx)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return events, nil, nil
		}
		for i := range evs {
			k := i
			if reverse {
				k = len(evs) - 1 - i
			}
			id := first + int64(k)
			if c.id != 0 && (!reverse && id < c.id || reverse && id > c.id) {
				continue
			}
			if len(events) == limit {
				return events, &historyCursor{base: base, id: id}, nil
			}
			events = append(events, evs[k])
		}
	}
}

// journalReader reads an execution's journal records one at a time, in
// sort key order or in reverse, from a record on, querying DynamoDB in
// batches as it goes.
type journalReader struct {
	e       *Engine
	pk      string
	reverse bool
	from    string // record to start at ("": the first, or the last in reverse)
	batch   int32  // items per query; doubles up to 1,000

	items []map[string]types.AttributeValue // fetched, not yet consumed
	start map[string]types.AttributeValue   // ExclusiveStartKey of the next query
	done  bool                              // no more items to fetch
}

func (jr *journalReader) fetch(ctx context.Context) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(jr.e.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(jr.pk)},
		ScanIndexForward:          aws.Bool(!jr.reverse),
		ExclusiveStartKey:         jr.start,
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(jr.batch),
	}
	if jr.from != "" {
		if jr.reverse {
			// Every part of the record ("<base>/<part>") and all before it.
			in.KeyConditionExpression = aws.String("pk = :pk AND sk < :sk")
			in.ExpressionAttributeValues[":sk"] = str(jr.from + "0")
		} else {
			in.KeyConditionExpression = aws.String("pk = :pk AND sk >= :sk")
			in.ExpressionAttributeValues[":sk"] = str(jr.from)
		}
	}
	res, err := jr.e.db.Query(ctx, in)
	if err != nil {
		return fmt.Errorf("query %s: %w", jr.pk, err)
	}
	jr.items = append(jr.items, res.Items...)
	jr.start = res.LastEvaluatedKey
	jr.done = len(res.LastEvaluatedKey) == 0
	jr.batch = min(2*jr.batch, 1000)
	return nil
}

// next returns the next record's sort key base, the id of its first event
// and its events (in their own order); ok is false past the last record.
func (jr *journalReader) next(ctx context.Context) (base string, first int64, events []json.RawMessage, ok bool, err error) {
	var chunks []string
	for {
		if len(jr.items) == 0 {
			if jr.done {
				if len(chunks) > 0 {
					return "", 0, nil, false, fmt.Errorf("journal record %s is incomplete", base)
				}
				return "", 0, nil, false, nil
			}
			if err := jr.fetch(ctx); err != nil {
				return "", 0, nil, false, err
			}
			continue
		}
		it := jr.items[0]
		jr.items = jr.items[1:]
		sk := getS(it, "sk")
		b, p, found := strings.Cut(sk, "/")
		part, perr := strconv.ParseInt(p, 10, 64)
		if !found || perr != nil {
			return "", 0, nil, false, fmt.Errorf("journal record %s: bad sort key", sk)
		}
		base = b
		chunks = append(chunks, getS(it, "j"))
		// Parts come in order (last part first in reverse): a record is
		// whole at its last part going forward, at part 0 in reverse.
		if jr.reverse && part > 0 || !jr.reverse && part+1 < getN(it, "parts") {
			continue
		}
		if jr.reverse {
			slices.Reverse(chunks)
		}
		var rec struct {
			Events []json.RawMessage `json:"e"`
		}
		if err := json.Unmarshal([]byte(strings.Join(chunks, "")), &rec); err != nil {
			return "", 0, nil, false, fmt.Errorf("decode transition %s: %w", sk, err)
		}
		firstID, _, _ := strings.Cut(base, ".")
		first, err = strconv.ParseInt(firstID, 10, 64)
		if err != nil {
			return "", 0, nil, false, fmt.Errorf("journal record %s: bad sort key", sk)
		}
		return base, first, rec.Events, true, nil
	}
}
