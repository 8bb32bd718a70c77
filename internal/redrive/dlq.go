package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tangkal/tangkal/internal/store"
)

// Pointer is one dead-letter message: which function gave up on which
// stream records, and the cases those records belong to (read from the
// stream while it still holds them).
type Pointer struct {
	MessageID     string   `json:"message_id"`
	ReceiptHandle string   `json:"-"`
	FunctionARN   string   `json:"function_arn"`
	CaseIDs       []string `json:"case_ids"`
	// Error says why the cases are unknown (the stream no longer holds
	// the records: pass the case ids with --cases).
	Error string `json:"error,omitempty"`
}

// dlqMessage is what Lambda puts on a stream event source's on-failure
// destination.
type dlqMessage struct {
	RequestContext struct {
		FunctionArn string `json:"functionArn"`
	} `json:"requestContext"`
	BatchInfo struct {
		ShardID             string `json:"shardId"`
		StartSequenceNumber string `json:"startSequenceNumber"`
		EndSequenceNumber   string `json:"endSequenceNumber"`
		StreamArn           string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
}

// Queue reads dead-letter messages.
type Queue struct {
	SQS     *sqs.Client
	URL     string
	Streams *dynamodbstreams.Client
}

// Receive reads up to max messages (they come back to the queue after its
// visibility timeout unless Delete removes them).
func (q Queue) Receive(ctx context.Context, max int) ([]Pointer, error) {
	var out []Pointer
	for len(out) < max {
		res, err := q.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: int32(min(10, max-len(out))), WaitTimeSeconds: 1})
		if err != nil {
			return out, fmt.Errorf("redrive: read %s: %w", q.URL, err)
		}
		if len(res.Messages) == 0 {
			return out, nil
		}
		for _, m := range res.Messages {
			p := Pointer{MessageID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle)}
			var msg dlqMessage
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil || msg.BatchInfo.ShardID == "" {
				p.Error = "not a stream batch's failure record"
			} else {
				p.FunctionARN = msg.RequestContext.FunctionArn
				p.CaseIDs, err = q.cases(ctx, msg)
				if err != nil {
					p.Error = err.Error()
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// cases reads the pointed-at records from the stream.
func (q Queue) cases(ctx context.Context, m dlqMessage) ([]string, error) {
	b := m.BatchInfo
	it, err := q.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(b.StreamArn), ShardId: aws.String(b.ShardID),
		ShardIteratorType: sttypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(b.StartSequenceNumber),
	})
	var trimmed *sttypes.TrimmedDataAccessException
	var gone *sttypes.ResourceNotFoundException
	if errors.As(err, &trimmed) || errors.As(err, &gone) {
		return nil, errors.New("the stream no longer holds these records (kept 24 h): pass the case ids with --cases")
	}
	if err != nil {
		return nil, fmt.Errorf("read the stream: %w", err)
	}
	end, _ := new(big.Int).SetString(b.EndSequenceNumber, 10)
	seen := map[string]bool{}
	var ids []string
	iter := it.ShardIterator
	for i := 0; iter != nil && i < 100; i++ {
		out, err := q.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return ids, fmt.Errorf("read the stream: %w", err)
		}
		for _, r := range out.Records {
			seq, _ := new(big.Int).SetString(aws.ToString(r.Dynamodb.SequenceNumber), 10)
			if end != nil && seq != nil && seq.Cmp(end) > 0 {
				return ids, nil
			}
			pk, _ := r.Dynamodb.Keys["PK"].(*sttypes.AttributeValueMemberS)
			if pk == nil {
				continue
			}
			if id, ok := store.CaseIDOf(pk.Value); ok && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if len(out.Records) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	return ids, nil
}

// Delete removes a message whose cases were replayed.
func (q Queue) Delete(ctx context.Context, p Pointer) error {
	_, err := q.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL), ReceiptHandle: aws.String(p.ReceiptHandle)})
	if err != nil {
		return fmt.Errorf("redrive: delete message %s: %w", p.MessageID, err)
	}
	return nil
}

// FunctionID is the logical id among ids that a function's ARN or name
// carries (SAM names functions <stack>-<LogicalId>-<suffix>), or "".
func FunctionID(arn string, ids []string) string {
	name := arn[strings.LastIndex(arn, ":")+1:]
	for _, id := range ids {
		if strings.Contains(name, id) {
			return id
		}
	}
	return ""
}
