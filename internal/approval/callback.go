package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// TaskCompleter sends a callback's result (the sfn client satisfies it).
type TaskCompleter interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Decision is what the approval callbacks return to the workflow.
type Decision struct {
	Decision   string `json:"decision"` // approved, rejected or held
	Approver   string `json:"approver"`
	Reason     string `json:"reason,omitempty"`
	ApprovalID string `json:"approval_id"`
	// HoldSeconds is how long the hold may still last (held only).
	HoldSeconds int    `json:"hold_seconds,omitempty"`
	HeldBy      string `json:"held_by,omitempty"`
}

// Completer hands the agencies' outcome back to the waiting workflow.
type Completer struct {
	SFN   TaskCompleter
	Store *Store           // when set, a delivery is marked on the approval
	Now   func() time.Time // nil: time.Now
}

// Decided completes the waiting task with a's outcome (the task token is
// read from the store and never leaves the server).
func (c Completer) Decided(ctx context.Context, a Approval) error {
	return c.Send(ctx, a.TaskToken, a)
}

// Send completes the task behind token with a's outcome.
func (c Completer) Send(ctx context.Context, token string, a Approval) error {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	out, _ := json.Marshal(a.Outcome(now))
	if _, err := c.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))}); err != nil {
		return fmt.Errorf("send the outcome of approval %s to the workflow: %w", a.ID, err)
	}
	if c.Store != nil {
		if err := c.Store.MarkDelivered(ctx, a.ID, token); err != nil {
			return fmt.Errorf("mark approval %s delivered: %w", a.ID, err)
		}
	}
	return nil
}
