package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

// ObjectionInput is RequestObjectionDecision's payload: the callback task
// waiting for the agency's decision on the platform's objection (with the
// task token), or, after its timeout, the note that it lapsed.
type ObjectionInput struct {
	CaseID         string `json:"case_id"`
	TaskToken      string `json:"task_token,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
	// Lapsed: the agency did not decide in time; the ladder resumes.
	Lapsed bool `json:"lapsed,omitempty"`
	Task
}

// ObjectionOutput is the decision the callback hands the workflow
// (SendTaskSuccess), or "lapsed".
type ObjectionOutput struct {
	Decision string `json:"decision,omitempty"`
}

const stepObjection = "objection decision"

// CompleteObjection hands the agency's decision to the workflow waiting
// behind token.
func CompleteObjection(ctx context.Context, tasks approval.TaskCompleter, token, decision string) error {
	out, _ := json.Marshal(ObjectionOutput{Decision: decision})
	if _, err := tasks.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))}); err != nil {
		return fmt.Errorf("send the objection decision to the workflow: %w", err)
	}
	return nil
}

// RequestObjectionDecision pauses the ladder on a platform's objection: it
// keeps the task token (never sent anywhere), records the request and asks
// the deciding agency. A decision made before the ladder got here is
// handed on at once.
func (s *Steps) RequestObjectionDecision(ctx context.Context, in ObjectionInput) (out ObjectionOutput, err error) {
	ctx = begin(ctx, stepObjection, in.CaseID, in.Task)
	defer func() { done(ctx, stepObjection, err) }()
	c, err := s.getCase(ctx, stepObjection, in.CaseID)
	if err != nil {
		return ObjectionOutput{}, err
	}
	agency := s.Sanctions.Agency
	if in.Lapsed {
		_, err := s.record(ctx, stepObjection, c.ID, "objection:lapsed", history.ObjectionLapsed,
			history.ObjectionDecidedData{Agency: agency.ID, Decision: store.ObjectionLapsed},
			history.Change{Set: map[string]any{"objection": store.ObjectionLapsed}})
		return ObjectionOutput{Decision: store.ObjectionLapsed}, err
	}
	if in.TaskToken == "" {
		return ObjectionOutput{}, &InputError{Field: "task_token", Message: "required"}
	}
	if c.Objection == store.ObjectionUpheld || c.Objection == store.ObjectionDismissed {
		if err := CompleteObjection(ctx, s.Tasks, in.TaskToken, c.Objection); err != nil {
			return ObjectionOutput{}, transient(stepObjection, c.ID, "hand on the decision", err)
		}
		return ObjectionOutput{Decision: c.Objection}, nil
	}
	now := s.now()
	expires := now.Add(time.Duration(in.TimeoutSeconds) * time.Second)
	if err := s.Table.PutObjection(ctx, store.Objection{CaseID: c.ID, TaskToken: in.TaskToken, ExpiresAt: store.FormatTime(expires),
		TTL: expires.Add(30 * 24 * time.Hour).Unix()}); err != nil {
		return ObjectionOutput{}, transient(stepObjection, c.ID, "keep the task token", err)
	}
	// The decision may have come between reading the case and keeping the
	// token: then the decision route found no token, so hand it on here.
	if c2, err := s.Table.GetCase(ctx, c.ID); err == nil && (c2.Objection == store.ObjectionUpheld || c2.Objection == store.ObjectionDismissed) {
		if err := CompleteObjection(ctx, s.Tasks, in.TaskToken, c2.Objection); err != nil {
			return ObjectionOutput{}, transient(stepObjection, c.ID, "hand on the decision", err)
		}
		return ObjectionOutput{Decision: c2.Objection}, nil
	}
	objection, err := s.lastObjection(ctx, c.ID)
	if err != nil {
		return ObjectionOutput{}, transient(stepObjection, c.ID, "read the objection", err)
	}
	first, err := s.record(ctx, stepObjection, c.ID, "objection:requested", history.ObjectionDecisionRequested,
		history.ObjectionRequestedData{Agency: agency.ID, Grounds: objection.Grounds, ExpiresAt: store.FormatTime(expires)}, history.Change{})
	if err != nil {
		return ObjectionOutput{}, err
	}
	if first && s.Mailer != nil && len(agency.Emails) > 0 {
		if _, err := s.Mailer.Send(ctx, s.objectionMail(c, agency, objection, expires)); err != nil {
			// The request is recorded (the case shows objection pending);
			// a lost mail does not keep the ladder from its timeout.
			slog.WarnContext(ctx, "could not mail the agency about the objection", "agency", agency.ID, "err", err.Error())
		}
	}
	return ObjectionOutput{}, nil
}

// lastObjection is the platform's objection as its history recorded it.
func (s *Steps) lastObjection(ctx context.Context, caseID string) (history.PlatformAnsweredData, error) {
	evs, err := s.log().List(ctx, caseID, 0, 0)
	if err != nil {
		return history.PlatformAnsweredData{}, err
	}
	var last history.PlatformAnsweredData
	for _, e := range evs {
		if e.Type != history.PlatformAnswered {
			continue
		}
		var d history.PlatformAnsweredData
		if err := e.Decode(&d); err != nil {
			return history.PlatformAnsweredData{}, err
		}
		if d.Answer == AnswerObjected {
			last = d
		}
	}
	if last.Answer == "" {
		return last, errors.New("the case's history holds no objection")
	}
	return last, nil
}

// objectionMail asks the agency to decide: Bahasa Indonesia first.
func (s *Steps) objectionMail(c *store.Case, a platform.Agency, o history.PlatformAnsweredData, by time.Time) outbox.Email {
	var b strings.Builder
	fmt.Fprintf(&b, "Yth. %s,\n\n", a.Name)
	fmt.Fprintf(&b, "Platform %s mengajukan sanggahan atas permintaan penurunan konten untuk kasus %s (%s).\n", c.Platform, c.ID, c.CanonicalURL)
	fmt.Fprintf(&b, "Alasan: %s\nPernyataan platform:\n%s\n\n", o.Grounds, o.Text)
	fmt.Fprintf(&b, "Eskalasi dihentikan sementara. Mohon putuskan paling lambat %s: POST /objections/%s dengan {\"decision\": \"upheld\" atau \"dismissed\", \"reasons\": \"…\"}.\n\n", platform.WaktuID(by), c.ID)
	b.WriteString("---\n\n")
	fmt.Fprintf(&b, "Dear %s,\n\n", a.Name)
	fmt.Fprintf(&b, "The platform %s objects to the takedown request of case %s (%s).\n", c.Platform, c.ID, c.CanonicalURL)
	fmt.Fprintf(&b, "Grounds: %s\nThe platform's statement:\n%s\n\n", o.Grounds, o.Text)
	fmt.Fprintf(&b, "The escalation is paused. Please decide by %s: POST /objections/%s with {\"decision\": \"upheld\" or \"dismissed\", \"reasons\": \"…\"}.\n\n%s\n", platform.TimeEN(by), c.ID, platform.Signatory)
	return outbox.Email{
		From: s.Sender, To: a.Emails, Text: b.String(),
		Subject: fmt.Sprintf("Sanggah perlu diputuskan – %s – Objection to decide", c.ID),
		Headers: map[string]string{outbox.IdempotencyHeader: c.ID + ":objection", "X-Tangkal-Case": c.ID},
	}
}
