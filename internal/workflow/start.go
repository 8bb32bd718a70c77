package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/store"
)

// Starter starts executions (the sfn client satisfies it).
type Starter interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Launcher is StartWorkflow: one execution per new case, named after the
// case id, so a replayed stream record starts nothing twice.
type Launcher struct {
	SFN             Starter
	StateMachineARN string
}

// Start handles a batch of stream records. Only the records that fail are
// reported as batch item failures (store.EachPerCase), so Lambda retries
// them and, when they keep failing, sends them alone to the DLQ.
func (l Launcher) Start(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return store.EachPerCase(ctx, ev.Records, func(ctx context.Context, r events.DynamoDBEventRecord) error {
		caseID, ok := newCase(r)
		if !ok {
			return nil
		}
		if err := l.start(ctx, caseID); err != nil {
			slog.ErrorContext(logging.With(ctx, logging.CaseID, caseID), "start workflow", "err", err)
			return err
		}
		return nil
	}), nil
}

func (l Launcher) start(ctx context.Context, caseID string) error {
	input, _ := json.Marshal(map[string]string{"case_id": caseID})
	out, err := l.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(l.StateMachineARN), Name: aws.String(caseID), Input: aws.String(string(input)),
	})
	var exists *sfntypes.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		// The same name ran before (a replayed record): nothing to do.
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution for case %s: %w", caseID, err)
	}
	slog.InfoContext(logging.With(ctx, logging.CaseID, caseID, logging.Execution, aws.ToString(out.ExecutionArn)), "workflow started")
	return nil
}

// newCase recognises the INSERT of a case's META item (the template's
// FilterCriteria already narrows the stream to these in AWS).
func newCase(r events.DynamoDBEventRecord) (string, bool) {
	if r.EventName != string(events.DynamoDBOperationTypeInsert) {
		return "", false
	}
	pk, sk := r.Change.Keys["PK"], r.Change.Keys["SK"]
	if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
		return "", false
	}
	if sk.String() != store.SKMeta {
		return "", false
	}
	return store.CaseIDOf(pk.String())
}
