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
	"time"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
)

// Actor names the workflow in histories.
const Actor = "workflow"

// Steps are the task handlers and what they need.
type Steps struct {
	Table     store.Table
	Now       func() time.Time
	Fetcher   *safefetch.Fetcher
	Evidence  evidence.Store
	Assessors interface {
		Assessor(ctx context.Context) (*risk.Assessor, error)
	}
	Platforms *platform.Client
	Approvals *approval.Store
	Links     *approval.Signer
	// Tasks completes callback tasks (recovering a decision that was
	// recorded but never delivered).
	Tasks  TaskCompleter
	Mailer outbox.Mailer
	// Slack, when set, also posts approval requests with buttons.
	Slack        outbox.SlackPoster
	SlackChannel string
	// SlackApprovers are the Slack user ids who may decide with buttons.
	SlackApprovers []string
	// ApproverTiers lists the approvers (e-mail addresses) of each tier.
	ApproverTiers [][]string
	// Sender is the From address of approval requests.
	Sender string
}

func (s *Steps) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Steps) log() history.Log { return history.Log{Table: s.Table, Now: s.Now} }

// TransientError is a failure worth retrying; the state machine's Retry
// names it.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// InputError is a task input the handler cannot act on.
type InputError struct{ Field, Message string }

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// record appends a once-only step; a step already recorded is not an error.
func (s *Steps) record(ctx context.Context, caseID, once, typ string, data any, ch history.Change) (bool, error) {
	ch.Once = once
	_, err := s.log().Append(ctx, caseID, typ, Actor, data, ch)
	if errors.Is(err, history.ErrAlreadyRecorded) {
		return false, nil
	}
	if err != nil {
		return false, &TransientError{Err: err}
	}
	return true, nil
}

func (s *Steps) getCase(ctx context.Context, id string) (*store.Case, error) {
	if id == "" {
		return nil, &InputError{Field: "case_id", Message: "required"}
	}
	c, err := s.Table.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Field: "case_id", Message: fmt.Sprintf("case %s not found", id)}
	}
	if err != nil {
		return nil, &TransientError{Err: err}
	}
	return c, nil
}

// CaseInput is the payload most tasks receive.
type CaseInput struct {
	CaseID string `json:"case_id"`
}
