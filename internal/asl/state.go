package asl

import (
	"fmt"
	"math"
	"time"
)

func (s *State) compiledOrErr() (*compiledState, error) {
	if s.compiled == nil {
		return nil, runtimeErr("state %q was not created by Parse", s.Name)
	}
	return s.compiled, nil
}

func (s *State) input(raw, ctx any) (any, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return nil, err
	}
	eff := raw
	if s.Type == TypeFail {
		return raw, nil
	}
	if s.InputPath == "" {
		eff = map[string]any{}
	} else if c.inputPath != nil {
		if eff, err = evalDoc(c.inputPath, raw, ctx); err != nil {
			return nil, err
		}
	}
	if c.parameters != nil {
		return c.parameters.eval(eff, ctx)
	}
	return eff, nil
}

func (s *State) items(eff any) ([]any, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return nil, err
	}
	if c.itemsPath == nil {
		return nil, runtimeErr("state %q is not a Map state", s.Name)
	}
	v, err := c.itemsPath.eval(eff)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, runtimeErr("Map state input must be an array but was: %s (ItemsPath '%s')", jsonType(v), s.ItemsPath)
	}
	return arr, nil
}

func (s *State) itemInput(item any, index int, eff, ctx any) (any, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return nil, err
	}
	if c.itemSelector == nil {
		return item, nil
	}
	return c.itemSelector.eval(eff, MapItemContext(ctx, index, item))
}

// MapItemContext returns a copy of ctx with Map.Item.Index and
// Map.Item.Value set, as seen by an iteration of a Map state.
func MapItemContext(ctx any, index int, item any) map[string]any {
	out := map[string]any{}
	if m, ok := ctx.(map[string]any); ok {
		for k, v := range m {
			out[k] = v
		}
	}
	out["Map"] = map[string]any{"Item": map[string]any{"Index": intNumber(int64(index)), "Value": item}}
	return out
}

func (s *State) selectResult(result, ctx any) (any, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return nil, err
	}
	if c.resultSelector == nil {
		return result, nil
	}
	return c.resultSelector.eval(result, ctx)
}

func hasResultPath(typ string) bool {
	switch typ {
	case TypeTask, TypePass, TypeParallel, TypeMap:
		return true
	}
	return false
}

func (s *State) output(raw, result, ctx any) (any, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return nil, err
	}
	combined := result
	if hasResultPath(s.Type) {
		if combined, err = applyResultPath(s.ResultPath, c.resultPath, raw, result); err != nil {
			return nil, err
		}
	}
	if s.OutputPath == "" {
		return map[string]any{}, nil
	}
	if c.outputPath == nil {
		return combined, nil
	}
	return evalDoc(c.outputPath, combined, ctx)
}

// applyResultPath places result into raw as ResultPath directs.
func applyResultPath(src string, jp *jsonPath, raw, result any) (any, error) {
	if src == "" {
		return raw, nil
	}
	if jp == nil {
		var err error
		if jp, err = parseReferencePath(src); err != nil {
			return nil, &StatesError{Name: ErrResultPathMatchFailure, Cause: err.Error()}
		}
	}
	if len(jp.segs) == 0 {
		return result, nil
	}
	out, ok := setPath(deepCopy(raw), jp.segs, result)
	if !ok {
		return nil, &StatesError{Name: ErrResultPathMatchFailure,
			Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input %s", src, mustJSON(raw))}
	}
	return out, nil
}

func setPath(doc any, segs []segment, value any) (any, bool) {
	if len(segs) == 0 {
		return value, true
	}
	seg := segs[0]
	switch seg.kind {
	case segNames:
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		child, exists := m[seg.names[0]]
		if !exists && len(segs) > 1 {
			if segs[1].kind != segNames {
				return nil, false
			}
			child = map[string]any{}
		}
		v, ok := setPath(child, segs[1:], value)
		if !ok {
			return nil, false
		}
		m[seg.names[0]] = v
		return m, true
	case segIndexes:
		a, ok := doc.([]any)
		if !ok {
			return nil, false
		}
		i := seg.indexes[0]
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		v, ok := setPath(a[i], segs[1:], value)
		if !ok {
			return nil, false
		}
		a[i] = v
		return a, true
	}
	return nil, false
}

func (c *Catcher) output(raw, errorOutput any) (any, error) {
	return applyResultPath(c.ResultPath, c.resultPath, raw, errorOutput)
}

func (s *State) waitUntil(input any, now time.Time) (time.Time, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case s.Seconds != nil:
		return now.Add(time.Duration(*s.Seconds) * time.Second), nil
	case s.Timestamp != "":
		t, ok := parseTimestamp(s.Timestamp)
		if !ok {
			return time.Time{}, runtimeErr("invalid Timestamp %q", s.Timestamp)
		}
		return t, nil
	case c.secondsPath != nil:
		v, err := c.secondsPath.eval(input)
		if err != nil {
			return time.Time{}, err
		}
		n, ok := toInt(v)
		if !ok || n < 0 || n > maxSeconds {
			return time.Time{}, runtimeErr("The SecondsPath parameter does not reference a valid non-negative integer: %s", mustJSON(v))
		}
		return now.Add(time.Duration(n) * time.Second), nil
	case c.timestampPath != nil:
		v, err := c.timestampPath.eval(input)
		if err != nil {
			return time.Time{}, err
		}
		str, _ := v.(string)
		t, ok := parseTimestamp(str)
		if !ok {
			return time.Time{}, runtimeErr("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", mustJSON(v))
		}
		return t, nil
	}
	return time.Time{}, runtimeErr("state %q is not a Wait state", s.Name)
}

func (s *State) failInfo(input any) (string, string, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return "", "", err
	}
	errName, cause := s.Error, s.Cause
	resolve := func(t *template, field string) (string, error) {
		v, err := t.eval(input, nil)
		if err != nil {
			return "", err
		}
		str, ok := v.(string)
		if !ok {
			return "", runtimeErr("The %s value must be a string but was %s", field, jsonType(v))
		}
		return str, nil
	}
	if c.errorPath != nil {
		if errName, err = resolve(c.errorPath, "ErrorPath"); err != nil {
			return "", "", err
		}
	}
	if c.causePath != nil {
		if cause, err = resolve(c.causePath, "CausePath"); err != nil {
			return "", "", err
		}
	}
	return errName, cause, nil
}

func positiveSeconds(jp *jsonPath, input any, field string) (time.Duration, error) {
	v, err := jp.eval(input)
	if err != nil {
		return 0, err
	}
	n, ok := toInt(v)
	if !ok || n <= 0 || n > maxSeconds {
		return 0, runtimeErr("The %s parameter does not reference a valid positive integer: %s", field, mustJSON(v))
	}
	return time.Duration(n) * time.Second, nil
}

func (s *State) taskTimeouts(input any) (time.Duration, time.Duration, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return 0, 0, err
	}
	var timeout, heartbeat time.Duration
	if s.TimeoutSeconds != nil {
		timeout = time.Duration(*s.TimeoutSeconds) * time.Second
	} else if c.timeoutPath != nil {
		if timeout, err = positiveSeconds(c.timeoutPath, input, "TimeoutSecondsPath"); err != nil {
			return 0, 0, err
		}
	}
	if s.HeartbeatSeconds != nil {
		heartbeat = time.Duration(*s.HeartbeatSeconds) * time.Second
	} else if c.heartbeatPath != nil {
		if heartbeat, err = positiveSeconds(c.heartbeatPath, input, "HeartbeatSecondsPath"); err != nil {
			return 0, 0, err
		}
	}
	return timeout, heartbeat, nil
}

func (s *State) mapLimits(input any) (int, float64, int, error) {
	c, err := s.compiledOrErr()
	if err != nil {
		return 0, 0, 0, err
	}
	maxConc, pct, count := s.MaxConcurrency, -1.0, -1
	if c.maxConcPath != nil {
		v, err := c.maxConcPath.eval(input)
		if err != nil {
			return 0, 0, 0, err
		}
		n, ok := toInt(v)
		if !ok || n < 0 || n > math.MaxInt32 {
			return 0, 0, 0, runtimeErr("The MaxConcurrencyPath parameter does not reference a valid non-negative integer: %s", mustJSON(v))
		}
		maxConc = int(n)
	}
	if s.ToleratedFailurePercentage != nil {
		pct = *s.ToleratedFailurePercentage
	} else if c.tolPctPath != nil {
		v, err := c.tolPctPath.eval(input)
		if err != nil {
			return 0, 0, 0, err
		}
		f, ok := toFloat(v)
		if !ok || f < 0 || f > 100 {
			return 0, 0, 0, runtimeErr("The ToleratedFailurePercentagePath parameter does not reference a number between 0 and 100: %s", mustJSON(v))
		}
		pct = f
	}
	if s.ToleratedFailureCount != nil {
		count = *s.ToleratedFailureCount
	} else if c.tolCountPath != nil {
		v, err := c.tolCountPath.eval(input)
		if err != nil {
			return 0, 0, 0, err
		}
		n, ok := toInt(v)
		if !ok || n < 0 || n > math.MaxInt32 {
			return 0, 0, 0, runtimeErr("The ToleratedFailureCountPath parameter does not reference a valid non-negative integer: %s", mustJSON(v))
		}
		count = int(n)
	}
	return maxConc, pct, count, nil
}

// ToleranceExceeded reports whether failed iterations out of total exceed
// the thresholds returned by MapLimits (pct and count are -1 when unset; with
// neither set, any failure exceeds the threshold).
func ToleranceExceeded(failed, total int, pct float64, count int) bool {
	if failed == 0 {
		return false
	}
	if pct < 0 && count < 0 {
		return true
	}
	if count >= 0 && failed > count {
		return true
	}
	if pct >= 0 && total > 0 && float64(failed)*100/float64(total) > pct {
		return true
	}
	return false
}

// ErrorMatches reports whether errName matches a Retrier's or Catcher's
// ErrorEquals list: an exact name, States.ALL (anything but the terminal
// States.Runtime and States.DataLimitExceeded) or States.TaskFailed (like
// States.ALL but not States.Timeout).
func ErrorMatches(errorEquals []string, errName string) bool {
	terminal := errName == ErrRuntime || errName == ErrDataLimitExceeded
	for _, e := range errorEquals {
		switch {
		case e == errName:
			return true
		case e == ErrALL && !terminal:
			return true
		case e == ErrTaskFailed && !terminal && errName != ErrTimeout:
			return true
		}
	}
	return false
}

func (s *State) retry(errName string, attempts []int) (int, time.Duration, bool) {
	if errName == ErrRuntime || errName == ErrDataLimitExceeded {
		return -1, 0, false
	}
	for i, r := range s.Retriers {
		if !ErrorMatches(r.ErrorEquals, errName) {
			continue
		}
		done := 0
		if i < len(attempts) {
			done = attempts[i]
		}
		if done >= r.MaxAttempts {
			return i, 0, false
		}
		return i, RetryDelay(r, done), true
	}
	return -1, 0, false
}

// RetryDelay is the wait before retry number attempt+1 of r:
// IntervalSeconds × BackoffRate^attempt, capped at MaxDelaySeconds, and with
// JitterStrategy FULL a uniformly random fraction of that.
func RetryDelay(r Retrier, attempt int) time.Duration {
	secs := float64(r.IntervalSeconds) * math.Pow(r.BackoffRate, float64(attempt))
	if r.MaxDelaySeconds > 0 && secs > float64(r.MaxDelaySeconds) {
		secs = float64(r.MaxDelaySeconds)
	}
	if secs > maxSeconds {
		secs = maxSeconds
	}
	if r.JitterStrategy == "FULL" {
		secs *= float64(Random()>>11) / (1 << 53)
	}
	return time.Duration(secs * float64(time.Second))
}

func (s *State) catch(errName string) (*Catcher, bool) {
	for i := range s.Catchers {
		if ErrorMatches(s.Catchers[i].ErrorEquals, errName) {
			return &s.Catchers[i], true
		}
	}
	return nil, false
}
