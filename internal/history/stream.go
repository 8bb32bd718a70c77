package history

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/store"
)

// FromStreamImage reads an event item as the table's stream carries it
// (a NEW_IMAGE or OLD_IMAGE), for the stream consumers that copy or count
// events.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (Event, error) {
	str := func(k string) string { return store.ImageString(img, k) }
	e := Event{CaseID: str("case_id"), Type: str("type"), Actor: str("actor"), At: str("at"), PrevHash: str("prev_hash"), Hash: str("hash")}
	if v, ok := img["seq"]; ok && v.DataType() == events.DataTypeNumber {
		n, err := strconv.Atoi(v.Number())
		if err != nil {
			return e, fmt.Errorf("event seq %q: %w", v.Number(), err)
		}
		e.Seq = n
	}
	if d := str("data"); d != "" {
		e.Data = json.RawMessage(d)
	}
	return e, nil
}
