package approval

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// TaskCompleter sends a callback's result (the sfn client satisfies it).
type TaskCompleter interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Decision is what RequestApproval's task returns to the workflow.
type Decision struct {
	Decision   string `json:"decision"` // approved or rejected
	Approver   string `json:"approver"`
	Reason     string `json:"reason,omitempty"`
	ApprovalID string `json:"approval_id"`
}

// Completer hands approvers' decisions back to the waiting workflow.
type Completer struct{ SFN TaskCompleter }

// Decided is the callback of Handler and SlackHandler: SendTaskSuccess with
// the decision (the task token is read from the store and never leaves the
// server).
func (c Completer) Decided(ctx context.Context, a Approval) error {
	return c.Send(ctx, a.TaskToken, a)
}

// Send completes the task behind token with a's decision.
func (c Completer) Send(ctx context.Context, token string, a Approval) error {
	d := Decision{Decision: "rejected", Approver: a.DecidedBy, Reason: a.Reason, ApprovalID: a.ID}
	if a.Decision == Approve {
		d.Decision = "approved"
	}
	out, _ := json.Marshal(d)
	if _, err := c.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))}); err != nil {
		return fmt.Errorf("send decision of approval %s to the workflow: %w", a.ID, err)
	}
	return nil
}
