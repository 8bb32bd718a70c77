package sfnlocal

import (
	"encoding/json"
	"strconv"
	"time"
)

// event is one history event in the shape GetExecutionHistory returns.
type event struct {
	ID        int64
	Prev      int64
	Time      time.Time
	Type      string
	DetailKey string // e.g. "stateEnteredEventDetails"; "" for none
	Details   map[string]any
	th        *thread // the thread that emitted it (for previousEventId)
	// afterPrevious makes previousEventId the event just before this one
	// (the ExecutionFailed of the history limit).
	afterPrevious bool
}

// epoch renders a time as AWS JSON 1.0 does: seconds since the epoch.
func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}

func (ev *event) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"id":              ev.ID,
		"previousEventId": ev.Prev,
		"timestamp":       epoch(ev.Time),
		"type":            ev.Type,
	}
	if ev.DetailKey != "" {
		m[ev.DetailKey] = ev.Details
	}
	return json.Marshal(m)
}

var notTruncated = map[string]any{"truncated": false}

func detailsInput(name, input string) map[string]any {
	return map[string]any{"name": name, "input": input, "inputDetails": notTruncated}
}

func detailsOutput(name, output string) map[string]any {
	return map[string]any{"name": name, "output": output, "outputDetails": notTruncated}
}

// stateEventPrefix maps a state type to its event type prefix.
func stateEventPrefix(typ string) string {
	switch typ {
	case "Fail":
		return "Fail"
	}
	return typ
}
