// Package workflow holds the handlers of the takedown state machine's tasks
// (workflows/takedown.asl.json) and of the stream that starts it. Each
// handler reads the case, does its step through the domain packages, and
// records the step in the case's history exactly once, so Step Functions
// may run any task twice without a second notice or a second event.
package workflow

import (
	"context"
	"errors"
	"fmt"
	"github.com/tangkal/tangkal/internal/agency"
	"log/slog"
	"time"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
)

// Actor names the workflow in histories.
const Actor = "workflow"

// Fetcher fetches reported ads (safefetch.Fetcher in AWS and locally).
type Fetcher interface {
	Get(ctx context.Context, rawURL string) (*safefetch.Result, error)
}

// AssessorSource gives VerifyAd the current risk assessor (Assessors).
type AssessorSource interface {
	Assessor(ctx context.Context) (*risk.Assessor, error)
}

// Steps are the task handlers and what they need.
type Steps struct {
	Table     store.Table
	Now       func() time.Time
	Fetcher   Fetcher
	Evidence  evidence.Store
	Assessors AssessorSource
	Platforms *platform.Client
	Approvals *approval.Store
	Links     *approval.Signer
	// Tasks completes callback tasks (recovering a decision that was
	// recorded but never delivered).
	Tasks  approval.TaskCompleter
	Mailer outbox.Mailer
	// Slack, when set, posts approval requests with buttons to the
	// channels of agencies that decide in Slack.
	Slack approval.SlackMessenger
	// Agencies are the agencies, their members and the approval
	// policies.
	Agencies agency.Directory
	// Rules name the indicators in both languages for approvers.
	Rules risk.Rules
	// Sender is the From address of approval requests.
	Sender string
	// Sanctions configure the ladder after warning 3 and the agency that
	// decides objections.
	Sanctions Sanctions
}

func (s *Steps) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Steps) log() history.Log { return history.Log{Table: s.Table, Now: s.Now} }

// Task is what every task's payload carries besides its own fields: the
// execution and the state that sent it (the ASL passes $$.Execution.Id and
// $$.State.Name), for logs and errors.
type Task struct {
	Execution string `json:"execution,omitempty"`
	State     string `json:"state,omitempty"`
}

// begin puts the task's case, execution and state into ctx for every log
// line of the step, and logs its start.
func begin(ctx context.Context, step, caseID string, t Task) context.Context {
	ctx = logging.With(ctx, logging.CaseID, caseID, logging.Execution, t.Execution, logging.State, t.State)
	slog.DebugContext(ctx, "task started", "step", step)
	return ctx
}

// done logs how a step ended: errors with their kind, so a retried
// TransientError is told apart from a failure that ends the case.
func done(ctx context.Context, step string, err error) {
	var te *TransientError
	switch {
	case err == nil:
		slog.InfoContext(ctx, "task done", "step", step)
	case errors.As(err, &te):
		slog.WarnContext(ctx, "task failed; Step Functions retries it", "step", step, "err", err.Error())
	default:
		slog.ErrorContext(ctx, "task failed", "step", step, "err", err.Error())
	}
}

// TransientError is a failure worth retrying; the state machine's Retry
// names it. It says which step of which case failed, and at what.
type TransientError struct {
	Step   string
	CaseID string
	Err    error
}

func (e *TransientError) Error() string {
	return fmt.Sprintf("transient: %s %s: %v", e.Step, e.CaseID, e.Err)
}
func (e *TransientError) Unwrap() error { return e.Err }

// transient wraps err, if any, as a TransientError of step on caseID,
// saying what was being done.
func transient(step, caseID, doing string, err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Step: step, CaseID: caseID, Err: fmt.Errorf("%s: %w", doing, err)}
}

// InputError is a task input the handler cannot act on.
type InputError struct{ Field, Message string }

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// record appends a once-only step; a step already recorded is not an error.
func (s *Steps) record(ctx context.Context, step, caseID, once string, typ history.Type, data any, ch history.Change) (bool, error) {
	ch.Once = once
	_, err := s.log().Append(ctx, caseID, typ, Actor, data, ch)
	if errors.Is(err, history.ErrAlreadyRecorded) {
		slog.InfoContext(ctx, "step already recorded", "step", step, "event", typ)
		return false, nil
	}
	if err != nil {
		return false, transient(step, caseID, "record "+typ, err)
	}
	return true, nil
}

func (s *Steps) getCase(ctx context.Context, step, id string) (*store.Case, error) {
	if id == "" {
		return nil, &InputError{Field: "case_id", Message: "required"}
	}
	c, err := s.Table.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Field: "case_id", Message: fmt.Sprintf("case %s not found", id)}
	}
	if err != nil {
		return nil, transient(step, id, "read case", err)
	}
	return c, nil
}

// CaseInput is the payload of tasks that need only the case.
type CaseInput struct {
	CaseID string `json:"case_id"`
	Task
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
