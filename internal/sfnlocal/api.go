package sfnlocal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/asl"
)

// Handler serves the Step Functions API (AWS JSON 1.0, X-Amz-Target
// AWSStepFunctions.<Action>) and the local admin endpoint /_local/clock
// (GET: now; POST {"advance": "24h"}: move the clock forward).
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/_local/clock", e.serveClock)
	mux.HandleFunc("/", e.serveAPI)
	return mux
}

func (e *Engine) serveClock(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var req struct {
			Advance string `json:"advance"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "InvalidRequest", "message": "body must be JSON: " + err.Error(), "field": "advance"}})
			return
		}
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d < 0 {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "InvalidDuration", "message": fmt.Sprintf("advance: %q is not a non-negative Go duration such as 90s or 24h", req.Advance), "field": "advance"}})
			return
		}
		// The tasks running now end first, unless the stack stays busy for
		// half a minute.
		if _, _, err := e.AdvanceBetweenTasks(r.Context(), d, 30*time.Second); err != nil {
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "ClockNotAdvanceable", "message": err.Error()}})
			return
		}
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	now := e.clock.Now().UTC()
	_ = json.NewEncoder(w).Encode(map[string]any{"now": now.Format(time.RFC3339Nano), "offset": (now.Sub(time.Now())).Round(time.Second).String()})
}

func writeErr(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (e *Engine) serveAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newID())
	target := r.Header.Get("X-Amz-Target")
	action, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "expected POST with X-Amz-Target: AWSStepFunctions.<Action>")
		return
	}
	h := e.actions()[action]
	if h == nil {
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "unsupported action "+action)
		return
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", "request body is not a JSON object: "+err.Error())
		return
	}
	out, err := h(r.Context(), req(body))
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			writeErr(w, http.StatusBadRequest, ae.Type, ae.Message)
			return
		}
		e.log.Error("step functions api", "action", action, "error", err)
		writeErr(w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

type req map[string]any

func (r req) s(k string) string {
	v, _ := r[k].(string)
	return v
}

func (r req) n(k string) int {
	switch v := r[k].(type) {
	case json.Number:
		i, _ := v.Int64()
		return int(i)
	}
	return 0
}

func (r req) b(k string) bool {
	v, _ := r[k].(bool)
	return v
}

func required(r req, fields ...string) error {
	for _, f := range fields {
		if r.s(f) == "" {
			return apiErr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", f)
		}
	}
	return nil
}

type action func(ctx context.Context, r req) (map[string]any, error)

// page cuts a list by nextToken (an offset) and maxResults (default 100).
func page[T any](list []T, r req) ([]T, string, error) {
	start := 0
	if tok := r.s("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(list) {
			return nil, "", apiErr("InvalidToken", "Invalid Token: '%s'", tok)
		}
		start = n
	}
	limit := r.n("maxResults")
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	end := min(len(list), start+limit)
	next := ""
	if end < len(list) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return list[start:end], next, nil
}

func (e *Engine) actions() map[string]action {
	return map[string]action{
		"CreateStateMachine": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "name", "definition"); err != nil {
				return nil, err
			}
			sm, err := e.CreateStateMachine(ctx, r.s("name"), r.s("definition"), r.s("roleArn"), r.s("type"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stateMachineArn": sm.Arn, "creationDate": epoch(sm.Created)}, nil
		},
		"UpdateStateMachine": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "stateMachineArn"); err != nil {
				return nil, err
			}
			if r.s("definition") == "" && r.s("roleArn") == "" {
				return nil, apiErr("MissingRequiredParameter", "Either the definition or the roleArn must be specified")
			}
			sm, err := e.UpdateStateMachine(ctx, r.s("stateMachineArn"), r.s("definition"), r.s("roleArn"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"updateDate": epoch(sm.Updated), "revisionId": sm.Rev}, nil
		},
		"DescribeStateMachine": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "stateMachineArn"); err != nil {
				return nil, err
			}
			sm, err := e.getStateMachine(ctx, r.s("stateMachineArn"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stateMachineArn": sm.Arn, "name": sm.Name, "status": "ACTIVE", "definition": sm.Def,
				"roleArn": sm.Role, "type": sm.Type, "creationDate": epoch(sm.Created), "revisionId": sm.Rev,
				"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
				"tracingConfiguration": map[string]any{"enabled": false}}, nil
		},
		"ListStateMachines": func(ctx context.Context, r req) (map[string]any, error) {
			sms, err := e.listStateMachines(ctx)
			if err != nil {
				return nil, err
			}
			p, next, err := page(sms, r)
			if err != nil {
				return nil, err
			}
			list := make([]any, 0, len(p))
			for _, sm := range p {
				list = append(list, map[string]any{"stateMachineArn": sm.Arn, "name": sm.Name, "type": sm.Type, "creationDate": epoch(sm.Created)})
			}
			out := map[string]any{"stateMachines": list}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		},
		"DeleteStateMachine": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "stateMachineArn"); err != nil {
				return nil, err
			}
			return nil, e.DeleteStateMachine(ctx, r.s("stateMachineArn"))
		},
		"StartExecution": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "stateMachineArn"); err != nil {
				return nil, err
			}
			if _, ok := parseSMARN(r.s("stateMachineArn")); !ok {
				return nil, apiErr("InvalidArn", "Invalid Arn: '%s'", r.s("stateMachineArn"))
			}
			info, err := e.StartExecution(ctx, r.s("stateMachineArn"), r.s("name"), r.s("input"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"executionArn": info.Arn, "startDate": epoch(info.Start)}, nil
		},
		"DescribeExecution": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "executionArn"); err != nil {
				return nil, err
			}
			it, err := e.getExec(ctx, r.s("executionArn"))
			if err != nil {
				return nil, err
			}
			x := execFromItem(it)
			out := map[string]any{"executionArn": x.Arn, "stateMachineArn": x.SMArn, "name": x.Name, "status": x.Status,
				"startDate": epoch(x.Start), "input": x.Input, "inputDetails": map[string]any{"included": true},
				"redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE"}
			if !x.Stop.IsZero() {
				out["stopDate"] = epoch(x.Stop)
			}
			if x.Status == statusSucceeded {
				out["output"] = x.Output
				out["outputDetails"] = map[string]any{"included": true}
			}
			if x.Error != "" {
				out["error"] = x.Error
			}
			if x.Cause != "" {
				out["cause"] = x.Cause
			}
			return out, nil
		},
		"ListExecutions": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "stateMachineArn"); err != nil {
				return nil, err
			}
			if _, err := e.getStateMachine(ctx, r.s("stateMachineArn")); err != nil {
				return nil, err
			}
			items, err := queryAll(ctx, e.db, e.table, prefixExecs+r.s("stateMachineArn"))
			if err != nil {
				return nil, err
			}
			var xs []*execInfo
			for _, it := range items {
				x := execFromItem(it)
				if f := r.s("statusFilter"); f == "" || f == x.Status {
					xs = append(xs, x)
				}
			}
			sort.SliceStable(xs, func(i, j int) bool {
				if !xs[i].Start.Equal(xs[j].Start) {
					return xs[i].Start.After(xs[j].Start)
				}
				return xs[i].Name < xs[j].Name
			})
			p, next, err := page(xs, r)
			if err != nil {
				return nil, err
			}
			list := make([]any, 0, len(p))
			for _, x := range p {
				m := map[string]any{"executionArn": x.Arn, "stateMachineArn": x.SMArn, "name": x.Name, "status": x.Status, "startDate": epoch(x.Start)}
				if !x.Stop.IsZero() {
					m["stopDate"] = epoch(x.Stop)
				}
				list = append(list, m)
			}
			out := map[string]any{"executions": list}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		},
		"GetExecutionHistory": e.getHistory,
		"StopExecution": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "executionArn"); err != nil {
				return nil, err
			}
			stop, err := e.StopExecution(ctx, r.s("executionArn"), r.s("error"), r.s("cause"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stopDate": epoch(stop)}, nil
		},
		"SendTaskSuccess": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "taskToken", "output"); err != nil {
				return nil, err
			}
			return nil, e.SendTaskSuccess(ctx, r.s("taskToken"), r.s("output"))
		},
		"SendTaskFailure": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "taskToken"); err != nil {
				return nil, err
			}
			return nil, e.SendTaskFailure(ctx, r.s("taskToken"), r.s("error"), r.s("cause"))
		},
		"SendTaskHeartbeat": func(ctx context.Context, r req) (map[string]any, error) {
			if err := required(r, "taskToken"); err != nil {
				return nil, err
			}
			return nil, e.SendTaskHeartbeat(ctx, r.s("taskToken"))
		},
	}
}

func (e *Engine) getHistory(ctx context.Context, r req) (map[string]any, error) {
	if err := required(r, "executionArn"); err != nil {
		return nil, err
	}
	arn := r.s("executionArn")
	if _, err := e.getExec(ctx, arn); err != nil {
		return nil, err
	}
	reverse := r.b("reverseOrder")
	limit := r.n("maxResults")
	if limit == 0 {
		limit = 1000
	} else if limit < 0 || limit > 1000 {
		limit = 100
	}
	var from historyCursor
	if tok := r.s("nextToken"); tok != "" {
		c, ok := parseHistoryCursor(tok, reverse)
		if !ok {
			return nil, apiErr("InvalidToken", "Invalid Token: '%s'", tok)
		}
		from = c
	}
	events, next, err := e.historyPage(ctx, arn, reverse, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	out := map[string]any{"events": events}
	if next != nil {
		out["nextToken"] = next.token(reverse)
	}
	return out, nil
}

// StopExecution aborts a running execution and returns its stop date.
func (e *Engine) StopExecution(ctx context.Context, arn, errName, cause string) (time.Time, error) {
	it, err := e.getExec(ctx, arn)
	if err != nil {
		return time.Time{}, err
	}
	e.mu.Lock()
	ex := e.execs[arn]
	e.mu.Unlock()
	if ex == nil {
		x := execFromItem(it)
		if x.Status == statusRunning {
			return time.Time{}, errors.New("execution is running but not loaded by this engine")
		}
		return x.Stop, nil
	}
	ex.mu.Lock()
	if ex.status != statusRunning {
		ex.mu.Unlock()
		return ex.now(), nil
	}
	ex.abort(statusAborted, "ExecutionAborted", "executionAbortedEventDetails", errName, cause)
	stop := ex.now()
	err = ex.flush(ctx)
	ex.mu.Unlock()
	e.afterFlush(ex, err)
	return stop, err
}

// callback finds the task a token belongs to and applies f to it under the
// execution's lock, then persists and lets the thread go on.
func (e *Engine) callback(ctx context.Context, token string, f func(ex *execution, th *thread) (drive bool)) error {
	tb, ok := parseToken(token)
	if !ok {
		return apiErr("InvalidToken", "Invalid token")
	}
	e.mu.Lock()
	ex := e.execs[tb.Exec]
	e.mu.Unlock()
	if ex == nil {
		if _, err := e.getExec(ctx, tb.Exec); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Type == "ExecutionDoesNotExist" {
				return apiErr("TaskDoesNotExist", "Task does not exist anymore")
			}
			return err
		}
		return apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
	}
	ex.mu.Lock()
	th := ex.threads[tb.Thread]
	if ex.status != statusRunning || th == nil || th.Token != token || (th.Phase != phaseRun && th.Phase != phaseCallback) {
		ex.mu.Unlock()
		return apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
	}
	drive := f(ex, th)
	err := ex.flush(ctx)
	ex.mu.Unlock()
	if !e.afterFlush(ex, err) {
		return err
	}
	if drive {
		e.spawn(func() { e.drive(ex, th, nil) })
	}
	return nil
}

// SendTaskSuccess completes a waiting task with output.
func (e *Engine) SendTaskSuccess(ctx context.Context, token, output string) error {
	if len(output) > asl.MaxPayloadSize {
		return apiErr("InvalidOutput", "Invalid output: the output exceeds %d bytes", asl.MaxPayloadSize)
	}
	if _, err := asl.Decode([]byte(output)); err != nil {
		return apiErr("InvalidOutput", "Invalid output: %v", err)
	}
	return e.callback(ctx, token, func(ex *execution, th *thread) bool {
		if th.Phase == phaseRun { // the invocation is still running: its driver applies this
			if th.Early != nil {
				return false
			}
			th.Early = &earlyCallback{Output: json.RawMessage(output)}
			ex.touch(th)
			return false
		}
		ex.taskSucceeded(th, ex.stateOf(th), json.RawMessage(output))
		return true
	})
}

// SendTaskFailure fails a waiting task.
func (e *Engine) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	return e.callback(ctx, token, func(ex *execution, th *thread) bool {
		if th.Phase == phaseRun { // the invocation is still running: its driver applies this
			if th.Early != nil {
				return false
			}
			th.Early = &earlyCallback{Failed: true, Error: errName, Cause: cause}
			ex.touch(th)
			return false
		}
		ex.taskFailed(th, errName, cause)
		return true
	})
}

// SendTaskHeartbeat restarts a waiting task's heartbeat timeout.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, token string) error {
	return e.callback(ctx, token, func(ex *execution, th *thread) bool {
		if th.HB > 0 {
			th.HBAt = ex.now().Add(th.HB)
			ex.touch(th)
			ex.timers = append(ex.timers, timer{at: th.HBAt, exec: ex.arn, thread: th.ID, gen: th.Gen})
		}
		return false
	})
}
