package workflow

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// CloseInput is CloseCase's payload.
type CloseInput struct {
	CaseID  string         `json:"case_id"`
	Outcome string         `json:"outcome"`
	Failure map[string]any `json:"failure,omitempty"`
	Task
}

var outcomes = map[string]bool{
	store.StatusRemovedInTime: true, store.StatusRemovedLate: true, store.StatusNonCompliant: true,
	store.StatusRejected: true, store.StatusApprovalExpired: true, store.StatusNotActionable: true,
	store.StatusLegitimate: true, store.StatusNotJobAd: true, store.StatusDuplicate: true, store.StatusManualQueue: true,
	store.StatusObjectionUpheld: true,
}

// ManualQueueLog is the message CloseCase logs once for each case it moves
// to the manual queue: template.yaml's ManualQueueMetricFilter counts these
// lines and ManualQueueAlarm tells the operators.
const ManualQueueLog = "case moved to the manual queue"

// CloseCase records the case's outcome, or its move to the manual queue.
func (s *Steps) CloseCase(ctx context.Context, in CloseInput) (_ struct{}, err error) {
	const stepName = "close"
	ctx = begin(ctx, stepName, in.CaseID, in.Task)
	defer func() { done(ctx, stepName, err) }()
	if !outcomes[in.Outcome] {
		return struct{}{}, &InputError{Field: "outcome", Message: fmt.Sprintf("unknown outcome %q", in.Outcome)}
	}
	c, err := s.getCase(ctx, stepName, in.CaseID)
	if err != nil {
		return struct{}{}, err
	}
	now := store.FormatTime(s.now())
	set := map[string]any{"status": in.Outcome, "outcome": in.Outcome}
	typ := history.CaseClosed
	if in.Outcome == store.StatusManualQueue {
		typ = history.MovedToManualQueue
	} else {
		set["closed_at"] = now
	}
	data := history.CaseClosedData{Outcome: in.Outcome, Failure: in.Failure, RemovedAt: c.RemovedAt}
	ch := history.Change{Set: set}
	if in.Outcome != store.StatusManualQueue && c.Platform != "" {
		// The platform has nothing left to answer on a closed case.
		ch.Items = append(ch.Items, s.Table.DeleteOpenNotice(c.Platform, c.ID))
	}
	recorded, err := s.record(ctx, stepName, c.ID, "close", typ, data, ch)
	if recorded && in.Outcome == store.StatusManualQueue {
		slog.WarnContext(ctx, ManualQueueLog, "outcome", in.Outcome)
	}
	return struct{}{}, err
}
