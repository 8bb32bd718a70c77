package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tangkal/tangkal/internal/samtemplate"
)

// streamer is the local stand-in for Lambda's DynamoDB event source
// mapping: it reads the table's stream from DynamoDB Local, applies the
// template's FilterCriteria, and invokes the function with real
// events.DynamoDBEvent payloads, checkpointing what succeeded (on disk
// at most checkpointEvery later). A restart resumes after the last
// checkpoint (or from TRIM_HORIZON), so a crash between a write and its
// processing loses nothing; the function is idempotent for replays.
type streamer struct {
	stack    *Stack
	client   *dynamodbstreams.Client
	function string
	filters  []any
	batch    int
	path     string
	log      *slog.Logger

	// The stream's ARN and shards as last described (poll's goroutine only).
	arn         *string
	shards      []st.Shard
	describedAt time.Time

	mu          sync.Mutex
	checkpoints map[string]string // shard id → last processed sequence number
	processed   int
	// quietSince is when the last poll that found nothing new began: by
	// then, it had handed every earlier record to the function.
	quietSince time.Time
	// dirty: checkpoints holds more than the file (saved at savedAt).
	dirty   bool
	savedAt time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

func newStreamer(s *Stack, function string, ev samtemplate.Event, path string, log *slog.Logger) (*streamer, error) {
	sm := &streamer{stack: s, client: dynamodbstreams.NewFromConfig(AWSConfig(s.DynamoDBURL)), path: path, log: log,
		function: function, checkpoints: map[string]string{}, batch: 100, done: make(chan struct{})}
	if n, ok := ev.Properties["BatchSize"].(int); ok && n > 0 {
		sm.batch = min(n, 1000)
	}
	var err error
	if sm.filters, err = ev.Filters(); err != nil {
		return nil, fmt.Errorf("%s: %w", function, err)
	}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &sm.checkpoints)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	sm.cancel = cancel
	go sm.run(runCtx)
	return sm, nil
}

func (sm *streamer) close() {
	sm.cancel()
	<-sm.done
}

// checkpointEvery is how often, at most, the checkpoints are written
// while batches keep coming (always once the stream is quiet, and at
// close): each write creates and renames a file, which cost the stack
// more CPU than most batches it recorded. A crash replays at most this
// much of the stream; the functions are idempotent for replays, as
// Lambda's at-least-once delivery needs them to be.
const checkpointEvery = 250 * time.Millisecond

func (sm *streamer) run(ctx context.Context) {
	defer close(sm.done)
	defer sm.save(true)
	iters := map[string]*string{}
	for ctx.Err() == nil {
		began := time.Now()
		busy, err := sm.poll(ctx, iters)
		if err != nil && ctx.Err() == nil {
			sm.log.Warn("stream poll", "err", err)
			iters = map[string]*string{}
			busy = false
		} else if !busy {
			sm.mu.Lock()
			sm.quietSince = began
			sm.mu.Unlock()
		}
		sm.save(!busy)
		if !busy {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// describeEvery is how often a poller re-reads the stream's ARN and shards:
// between, each poll is one GetRecords a shard, so idle pollers add little
// load to DynamoDB Local (they used to describe the table and the stream on
// every 100 ms poll).
const describeEvery = 2 * time.Second

func (sm *streamer) describe(ctx context.Context, iters map[string]*string) (*string, []st.Shard, error) {
	if sm.arn != nil && time.Since(sm.describedAt) < describeEvery && len(iters) > 0 {
		return sm.arn, sm.shards, nil
	}
	tbl, err := sm.stack.Table.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(sm.stack.Table.Name)})
	if err != nil {
		return nil, nil, err
	}
	arn := tbl.Table.LatestStreamArn
	if arn == nil {
		return nil, nil, errors.New("table has no stream")
	}
	desc, err := sm.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		return nil, nil, err
	}
	sm.arn, sm.shards, sm.describedAt = arn, desc.StreamDescription.Shards, time.Now()
	return arn, sm.shards, nil
}

func (sm *streamer) poll(ctx context.Context, iters map[string]*string) (bool, error) {
	arn, shards, err := sm.describe(ctx, iters)
	if err != nil {
		sm.arn = nil
		return false, err
	}
	busy := false
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		it, ok := iters[id]
		if !ok {
			in := &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon}
			sm.mu.Lock()
			if seq := sm.checkpoints[id]; seq != "" {
				in.ShardIteratorType, in.SequenceNumber = st.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
			}
			sm.mu.Unlock()
			out, err := sm.client.GetShardIterator(ctx, in)
			if err != nil {
				return busy, err
			}
			it = out.ShardIterator
			iters[id] = it
		}
		if it == nil {
			continue // closed shard fully read
		}
		out, err := sm.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(int32(sm.batch))})
		if err != nil {
			delete(iters, id)
			return busy, err
		}
		if len(out.Records) > 0 {
			busy = true
			if err := sm.deliver(ctx, id, aws.ToString(arn), out.Records); err != nil {
				delete(iters, id) // re-read from the checkpoint
				return busy, err
			}
		}
		iters[id] = out.NextShardIterator
	}
	return busy, nil
}

// deliver invokes the function with the matching records, retrying (with
// backoff) from the first failed item until it succeeds or ctx ends.
func (sm *streamer) deliver(ctx context.Context, shard, arn string, recs []st.Record) error {
	var evs []map[string]any
	for _, r := range recs {
		ev := recordJSON(r, arn)
		if sm.matches(ev) {
			evs = append(evs, ev)
			sm.publish(ctx, r)
		}
	}
	for attempt := 0; len(evs) > 0; attempt++ {
		payload, _ := json.Marshal(map[string]any{"Records": evs})
		out, err := sm.stack.invoker.Invoke(ctx, sm.function, payload)
		var resp events.DynamoDBEventResponse
		if err == nil {
			_ = json.Unmarshal(out, &resp)
			if len(resp.BatchItemFailures) == 0 {
				break
			}
			first := resp.BatchItemFailures[0].ItemIdentifier
			for i, e := range evs {
				if e["dynamodb"].(map[string]any)["SequenceNumber"] == first {
					evs = evs[i:]
					break
				}
			}
			err = fmt.Errorf("%d records failed", len(resp.BatchItemFailures))
		}
		sm.log.Warn("stream batch failed; retrying", "function", sm.function, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(1<<min(attempt, 6))*100*time.Millisecond, 5*time.Second)):
		}
	}
	sm.mu.Lock()
	sm.checkpoints[shard] = aws.ToString(recs[len(recs)-1].Dynamodb.SequenceNumber)
	sm.processed += len(recs)
	sm.dirty = true
	sm.mu.Unlock()
	return nil
}

// save writes the checkpoints if they moved: now when quiet (or
// closing), else once checkpointEvery has passed since the last write. A
// failed write is tried again after the next poll.
func (sm *streamer) save(quiet bool) {
	sm.mu.Lock()
	if !sm.dirty || (!quiet && time.Since(sm.savedAt) < checkpointEvery) {
		sm.mu.Unlock()
		return
	}
	b, _ := json.Marshal(sm.checkpoints)
	sm.dirty, sm.savedAt = false, time.Now()
	sm.mu.Unlock()
	if err := writeFileAtomic(sm.path, b); err != nil {
		sm.log.Warn("stream checkpoint", "function", sm.function, "err", err)
		sm.mu.Lock()
		sm.dirty = true
		sm.mu.Unlock()
	}
}

// publish makes the simulated platform serve each newly reported ad (an ad
// a reporter saw exists on its platform until it is taken down), unless
// the test or person already set that ad up.
func (sm *streamer) publish(_ context.Context, r st.Record) {
	img := r.Dynamodb.NewImage
	url, _ := img["url"].(*st.AttributeValueMemberS)
	text, _ := img["text"].(*st.AttributeValueMemberS)
	if url == nil || text == nil || sm.stack.Sim.Known(url.Value) {
		return
	}
	_ = sm.stack.Sim.Seed(url.Value, text.Value)
}

func (sm *streamer) matches(ev map[string]any) bool {
	if len(sm.filters) == 0 {
		return true
	}
	for _, f := range sm.filters {
		if samtemplate.MatchFilter(f, ev) {
			return true
		}
	}
	return false
}

// recordJSON is the Lambda event form of a stream record.
func recordJSON(r st.Record, arn string) map[string]any {
	d := r.Dynamodb
	ddb := map[string]any{
		"Keys": attrMap(d.Keys), "SequenceNumber": aws.ToString(d.SequenceNumber),
		"SizeBytes": aws.ToInt64(d.SizeBytes), "StreamViewType": string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		ddb["ApproximateCreationDateTime"] = d.ApproximateCreationDateTime.Unix()
	}
	if d.NewImage != nil {
		ddb["NewImage"] = attrMap(d.NewImage)
	}
	if d.OldImage != nil {
		ddb["OldImage"] = attrMap(d.OldImage)
	}
	return map[string]any{
		"eventID": aws.ToString(r.EventID), "eventName": string(r.EventName), "eventVersion": aws.ToString(r.EventVersion),
		"eventSource": "aws:dynamodb", "awsRegion": Region, "dynamodb": ddb, "eventSourceARN": arn,
	}
}

func attrMap(m map[string]st.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

func attr(v st.AttributeValue) map[string]any {
	switch x := v.(type) {
	case *st.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *st.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *st.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *st.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *st.AttributeValueMemberB:
		return map[string]any{"B": x.Value}
	case *st.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}
	case *st.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}
	case *st.AttributeValueMemberBS:
		return map[string]any{"BS": x.Value}
	case *st.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = attr(e)
		}
		return map[string]any{"L": l}
	case *st.AttributeValueMemberM:
		return map[string]any{"M": attrMap(x.Value)}
	}
	return map[string]any{"NULL": true}
}

// caughtUp tells whether a poll that began after t found nothing new, and
// how many records the reader has handed over so far.
func (sm *streamer) caughtUp(t time.Time) (bool, int) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.quietSince.After(t), sm.processed
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return os.Rename(tmp, path)
}
