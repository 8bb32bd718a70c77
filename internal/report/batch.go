package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/logging"
)

// Limits of POST /reports/batch.
const (
	// MaxBatchItems is the most reports one batch holds.
	MaxBatchItems = 500
	// MaxBatchBytes is the largest batch body (under Lambda's 6 MB
	// request limit, with room for the event around it).
	MaxBatchBytes = 5 << 20
	// batchWorkers is how many items of a batch are recorded at once.
	batchWorkers = 16
	// BatchReserve is the part of the function's time no item starts in:
	// an item started then could be cut off by the function's timeout.
	// Items not started are answered not_processed, to be sent again.
	BatchReserve = 10 * time.Second
)

// BatchItem is one report of a batch: a report as POST /reports takes it,
// with its own idempotency key.
type BatchItem struct {
	Submission
	// IdempotencyKey works as the Idempotency-Key header of POST /reports
	// (the same namespace: one key names one report of this reporter).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// BatchResult is the answer for one item, in the order sent.
type BatchResult struct {
	Index int `json:"index"`
	// Status is 202 for a recorded report (or a replayed one), else the
	// status POST /reports would have answered.
	Status int `json:"status"`
	*Receipt
	Error *api.Error `json:"error,omitempty"`
}

// BatchAnswer is the answer of POST /reports/batch (200).
type BatchAnswer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
	// NotProcessed counts the items the batch had no time left for (status
	// 503, code not_processed): nothing of them was recorded; send them
	// again (their idempotency keys make a resend safe).
	NotProcessed int           `json:"not_processed"`
	Results      []BatchResult `json:"results"`
}

// notProcessed is the answer for an item the batch had no time left for.
func notProcessed(i int) BatchResult {
	return BatchResult{Index: i, Status: 503, Error: &api.Error{Status: 503, Code: "not_processed",
		Message: "belum diproses: batas waktu permintaan hampir habis; kirim ulang butir ini (dengan idempotency_key yang sama) / " +
			"not processed: the request ran out of time; send this item again (with the same idempotency_key)"}}
}

// SplitBatch cuts a batch body into its items: a JSON array of objects, or
// NDJSON (one object a line; Content-Type application/x-ndjson, or any body
// not starting with '['). Blank lines are skipped.
func SplitBatch(body []byte, contentType string) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, api.Invalid("body", "body is empty; a JSON array of reports or NDJSON (one report a line) is required")
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	ndjson := ct == "application/x-ndjson" || ct == "application/jsonl" || ct == "application/ndjson" || trimmed[0] != '['
	var items []json.RawMessage
	if !ndjson {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, api.Invalid("body", "body is not a JSON array of reports: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
	} else {
		for _, line := range bytes.Split(trimmed, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				items = append(items, json.RawMessage(line))
			}
			if len(items) > MaxBatchItems {
				break
			}
		}
	}
	switch {
	case len(items) == 0:
		return nil, api.Invalid("body", "the batch holds no reports")
	case len(items) > MaxBatchItems:
		return nil, api.Errorf(413, "too_many_items", "body", "a batch holds at most %d reports", MaxBatchItems)
	}
	return items, nil
}

// Batch records up to MaxBatchItems reports, each validated, deduplicated
// and made idempotent as POST /reports does; one bad item never rejects the
// others.
func (h Handler) Batch(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	body, err := api.Body(req, MaxBatchBytes)
	if err != nil {
		return api.Response{}, err
	}
	items, err := SplitBatch(body, api.Header(req, "Content-Type"))
	if err != nil {
		return api.Response{}, err
	}
	p, err := h.take(ctx, who, len(items))
	if err != nil {
		return api.Response{}, err
	}
	ans := BatchAnswer{Results: make([]BatchResult, len(items))}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(batchWorkers, len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ans.Results[i] = h.item(ctx, who, Origin{Trusted: p.Trusted}, i, items[i])
			}
		}()
	}
	deadline, bounded := ctx.Deadline()
	for i := range items {
		if bounded && time.Until(deadline) < BatchReserve {
			ans.Results[i] = notProcessed(i)
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range ans.Results {
		switch {
		case r.Error != nil && r.Error.Code == "not_processed":
			ans.NotProcessed++
		case r.Error != nil:
			ans.Rejected++
		case r.Duplicate:
			ans.Duplicates++
			ans.Accepted++
		default:
			ans.Accepted++
		}
	}
	return api.JSON(200, ans), nil
}

func (h Handler) item(ctx context.Context, who auth.Principal, o Origin, i int, raw json.RawMessage) BatchResult {
	res := BatchResult{Index: i}
	fail := func(err error) BatchResult {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// Cut off by the function's time: a resend under the same
			// idempotency key records it once (or finds it recorded).
			return notProcessed(i)
		}
		res.Error = errorOf(err)
		res.Status = res.Error.Status
		if res.Status == 500 {
			slog.ErrorContext(logging.With(ctx, "item", i), "batch item", "err", err)
		}
		return res
	}
	if len(raw) > MaxBodyBytes {
		return fail(api.Errorf(413, "too_large", "body", "report is larger than %d bytes", MaxBodyBytes))
	}
	var it BatchItem
	if err := api.DecodeStrict(raw, &it); err != nil {
		return fail(err)
	}
	if it.IdempotencyKey != "" && !ValidIdempotencyKey(it.IdempotencyKey) {
		return fail(api.Invalid("idempotency_key", "idempotency_key must be 1 to %d printable ASCII characters", MaxIdemKey))
	}
	s := it.Submission
	c, err := s.Validate(h.Intake.now())
	if err != nil {
		return fail(err)
	}
	// The stored hash is over the report without its key, so the same
	// report sent again under its key is recognised.
	canon, _ := json.Marshal(s)
	r, err := h.Intake.SubmitFrom(ctx, who, o, s, c, canonicalBody(canon), it.IdempotencyKey)
	if err != nil {
		return fail(err)
	}
	res.Status, res.Receipt = 202, &r
	return res
}

func canonicalBody(b []byte) []byte {
	sum := sha256.Sum256(b)
	return append([]byte("batch-item:"), sum[:]...)
}

func asAPI(err error, e **api.Error) bool { return errors.As(err, e) }
