package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
)

func batchRequest(n int) api.Request {
	var items []string
	for i := 0; i < n; i++ {
		items = append(items, fmt.Sprintf(`{"url":"https://t.me/lokerkamboja/%d","text":"Dicari admin online","idempotency_key":"k-%d"}`, 7000+i, i))
	}
	return api.Request{
		RouteKey: "POST /reports/batch",
		Body:     "[" + strings.Join(items, ",") + "]",
		Headers:  map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "crawler-1", auth.GroupsClaim: "[" + auth.Reporter + "]"}},
		}},
	}
}

// A batch with too little of the function's time left starts no item: each
// is answered not_processed (503) and nothing is written, so the sender can
// send them again; sent again with time to spare, each is recorded once.
func TestBatchOutOfTimeRecordsNothingAndSaysSendAgain(t *testing.T) {
	tb := newTable(t)
	h := Handler{Intake: Intake{Table: tb}}
	before := count(t, tb)

	short, cancel := context.WithTimeout(context.Background(), BatchReserve/2)
	defer cancel()
	resp, err := h.Batch(short, batchRequest(3))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("batch: %v %+v", err, resp)
	}
	var ans BatchAnswer
	if err := json.Unmarshal([]byte(resp.Body), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.NotProcessed != 3 || ans.Accepted != 0 || ans.Rejected != 0 {
		t.Fatalf("answer %+v", ans)
	}
	for _, r := range ans.Results {
		if r.Status != 503 || r.Error == nil || r.Error.Code != "not_processed" || !strings.Contains(r.Error.Message, "kirim ulang") {
			t.Fatalf("item %+v", r)
		}
	}
	if after := count(t, tb); after != before {
		t.Fatalf("an unprocessed batch wrote %d items", after-before)
	}

	long, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	resp, err = h.Batch(long, batchRequest(3))
	if err != nil {
		t.Fatal(err)
	}
	ans = BatchAnswer{}
	if err := json.Unmarshal([]byte(resp.Body), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Accepted != 3 || ans.NotProcessed != 0 || ans.Duplicates != 0 {
		t.Fatalf("sent again: %+v", ans)
	}
}
