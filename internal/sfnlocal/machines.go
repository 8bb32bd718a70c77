package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/asl"
)

// apiError is an error the API reports as {"__type": Type, "message": ...}.
type apiError struct {
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func apiErr(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

type stateMachine struct {
	Arn     string
	Name    string
	Def     string
	Role    string
	Type    string
	Created time.Time
	Updated time.Time
	Rev     string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,80}$`)

// definition parses a definition (cached by hash) and checks its resources.
func (e *Engine) definition(text string) (*asl.Definition, string, error) {
	h := defHash(text)
	e.defMu.Lock()
	d := e.defs[h]
	e.defMu.Unlock()
	if d != nil {
		return d, h, nil
	}
	d, err := asl.Parse([]byte(text))
	if err != nil {
		return nil, h, apiErr("InvalidDefinition", "Invalid State Machine Definition: '%s'", strings.ReplaceAll(err.Error(), "\n", ", "))
	}
	if err := checkResources(d); err != nil {
		return nil, h, apiErr("InvalidDefinition", "Invalid State Machine Definition: '%s'", err.Error())
	}
	e.defMu.Lock()
	e.defs[h] = d
	e.defMu.Unlock()
	return d, h, nil
}

// checkResources rejects Task resources this engine cannot run.
func checkResources(d *asl.Definition) error {
	var errs []error
	for _, st := range d.States {
		if st.Type == asl.TypeTask {
			if _, err := parseResource(st.Resource); err != nil {
				errs = append(errs, fmt.Errorf("SCHEMA_VALIDATION_FAILED: state %q: field \"Resource\": %w", st.Name, err))
			}
		}
		for _, b := range st.Branches {
			if err := checkResources(b); err != nil {
				errs = append(errs, err)
			}
		}
		if st.ItemProcessor != nil {
			if err := checkResources(st.ItemProcessor); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func smFromItem(it map[string]types.AttributeValue) *stateMachine {
	return &stateMachine{Arn: getS(it, "sk"), Name: getS(it, "name"), Def: getS(it, "def"), Role: getS(it, "role"),
		Type: getS(it, "type"), Created: getTime(it, "created"), Updated: getTime(it, "updated"), Rev: getS(it, "rev")}
}

func (e *Engine) getStateMachine(ctx context.Context, arn string) (*stateMachine, error) {
	e.smMu.Lock()
	sm := e.sms[arn]
	e.smMu.Unlock()
	if sm != nil {
		return sm, nil
	}
	res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key(pkStateMachines, arn), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read state machine: %w", err)
	}
	if res.Item == nil {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	sm = smFromItem(res.Item)
	e.smMu.Lock()
	e.sms[arn] = sm
	e.smMu.Unlock()
	return sm, nil
}

func (e *Engine) putDef(ctx context.Context, hash, text string) error {
	_, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
		"pk": str(prefixDef + hash), "sk": str("D"), "def": str(text)}})
	if err != nil {
		return fmt.Errorf("store definition: %w", err)
	}
	return nil
}

func (e *Engine) loadDef(ctx context.Context, hash string) (*asl.Definition, error) {
	e.defMu.Lock()
	d := e.defs[hash]
	e.defMu.Unlock()
	if d != nil {
		return d, nil
	}
	res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key(prefixDef+hash, "D"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read definition: %w", err)
	}
	if res.Item == nil {
		return nil, fmt.Errorf("definition %s is missing", hash)
	}
	d, _, err = e.definition(getS(res.Item, "def"))
	return d, err
}

// CreateStateMachine stores a state machine. The same name with the same
// definition and role returns the existing one.
func (e *Engine) CreateStateMachine(ctx context.Context, name, def, role, typ string) (*stateMachine, error) {
	if !nameRE.MatchString(name) {
		return nil, apiErr("InvalidName", "Invalid Name: '%s'", name)
	}
	if typ == "" {
		typ = "STANDARD"
	}
	if typ != "STANDARD" && typ != "EXPRESS" {
		return nil, apiErr("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", typ)
	}
	_, hash, err := e.definition(def)
	if err != nil {
		return nil, err
	}
	if err := e.putDef(ctx, hash, def); err != nil {
		return nil, err
	}
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	sm := &stateMachine{Arn: e.smARN(name), Name: name, Def: def, Role: role, Type: typ, Created: now, Updated: now, Rev: newID()}
	_, err = e.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(e.table),
		Item: map[string]types.AttributeValue{"pk": str(pkStateMachines), "sk": str(sm.Arn), "name": str(name), "def": str(def),
			"role": str(role), "type": str(typ), "created": num(now.UnixMilli()), "updated": num(now.UnixMilli()), "rev": str(sm.Rev)},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		e.smMu.Lock()
		delete(e.sms, sm.Arn)
		e.smMu.Unlock()
		old, gerr := e.getStateMachine(ctx, sm.Arn)
		if gerr != nil {
			return nil, gerr
		}
		if old.Def == def && old.Role == role && old.Type == typ {
			return old, nil
		}
		return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", sm.Arn)
	}
	if err != nil {
		return nil, fmt.Errorf("store state machine: %w", err)
	}
	e.smMu.Lock()
	e.sms[sm.Arn] = sm
	e.smMu.Unlock()
	return sm, nil
}

// UpdateStateMachine replaces a definition and/or role. Running executions
// keep the definition they started with.
func (e *Engine) UpdateStateMachine(ctx context.Context, arn, def, role string) (*stateMachine, error) {
	sm, err := e.getStateMachine(ctx, arn)
	if err != nil {
		return nil, err
	}
	next := *sm
	if def != "" {
		_, hash, err := e.definition(def)
		if err != nil {
			return nil, err
		}
		if err := e.putDef(ctx, hash, def); err != nil {
			return nil, err
		}
		next.Def = def
	}
	if role != "" {
		next.Role = role
	}
	next.Updated = e.clock.Now().UTC().Truncate(time.Millisecond)
	next.Rev = newID()
	_, err = e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(e.table), Key: key(pkStateMachines, arn),
		UpdateExpression:         aws.String("SET def = :d, #role = :r, updated = :u, rev = :rev"),
		ExpressionAttributeNames: map[string]string{"#role": "role"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(next.Def), ":r": str(next.Role),
			":u": num(next.Updated.UnixMilli()), ":rev": str(next.Rev)},
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if err != nil {
		return nil, fmt.Errorf("update state machine: %w", err)
	}
	e.smMu.Lock()
	e.sms[arn] = &next
	e.smMu.Unlock()
	return &next, nil
}

// DeleteStateMachine removes a state machine (its executions stay).
func (e *Engine) DeleteStateMachine(ctx context.Context, arn string) error {
	if _, ok := parseSMARN(arn); !ok {
		return apiErr("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	e.smMu.Lock()
	delete(e.sms, arn)
	e.smMu.Unlock()
	_, err := e.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: key(pkStateMachines, arn)})
	if err != nil {
		return fmt.Errorf("delete state machine: %w", err)
	}
	return nil
}

func (e *Engine) listStateMachines(ctx context.Context) ([]*stateMachine, error) {
	items, err := queryAll(ctx, e.db, e.table, pkStateMachines)
	if err != nil {
		return nil, err
	}
	out := make([]*stateMachine, 0, len(items))
	for _, it := range items {
		out = append(out, smFromItem(it))
	}
	return out, nil
}

// execInfo is an execution's summary as stored.
type execInfo struct {
	Arn, SMArn, Name, Status, Input, Output, Error, Cause string
	Start, Stop                                           time.Time
}

func execFromItem(it map[string]types.AttributeValue) *execInfo {
	return &execInfo{Arn: getS(it, "arn"), SMArn: strings.TrimPrefix(getS(it, "pk"), prefixExecs), Name: getS(it, "sk"),
		Status: getS(it, "status"), Input: getS(it, "input"), Output: getS(it, "output"), Error: getS(it, "error"),
		Cause: getS(it, "cause"), Start: getTime(it, "startDate"), Stop: getTime(it, "stopDate")}
}

func (e *Engine) getExec(ctx context.Context, arn string) (map[string]types.AttributeValue, error) {
	smArn, name, ok := parseExecARN(arn)
	if !ok {
		return nil, apiErr("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key(prefixExecs+smArn, name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read execution: %w", err)
	}
	if res.Item == nil {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return res.Item, nil
}

func (e *Engine) execFromMeta(ctx context.Context, it map[string]types.AttributeValue) (*execution, error) {
	info := execFromItem(it)
	d, err := e.loadDef(ctx, getS(it, "defHash"))
	if err != nil {
		return nil, err
	}
	smName, _ := parseSMARN(info.SMArn)
	ex := newExecution(e)
	ex.arn, ex.name, ex.smArn, ex.smName, ex.roleArn = info.Arn, info.Name, info.SMArn, smName, getS(it, "role")
	ex.start, ex.defHash, ex.def = info.Start, getS(it, "defHash"), d
	ex.input = decode(json.RawMessage(info.Input))
	ex.deadline = getTime(it, "deadline")
	return ex, nil
}

// StartExecution starts an execution. A repeated name with the same input
// while the execution runs returns it again; otherwise the name is taken.
func (e *Engine) StartExecution(ctx context.Context, smArn, name, input string) (*execInfo, error) {
	sm, err := e.getStateMachine(ctx, smArn)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = newID()
	}
	if !nameRE.MatchString(name) {
		return nil, apiErr("InvalidName", "Invalid Name: '%s'", name)
	}
	if input == "" {
		input = "{}"
	}
	if len(input) > asl.MaxPayloadSize {
		return nil, apiErr("InvalidExecutionInput", "Invalid execution input: the input exceeds %d bytes", asl.MaxPayloadSize)
	}
	in, err := asl.Decode([]byte(input))
	if err != nil {
		return nil, apiErr("InvalidExecutionInput", "Invalid execution input: %v", err)
	}
	d, hash, err := e.definition(sm.Def)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	ex := newExecution(e)
	ex.arn, ex.name, ex.smArn, ex.smName, ex.roleArn = e.execARN(sm.Name, name), name, sm.Arn, sm.Name, sm.Role
	ex.start, ex.defHash, ex.def, ex.input, ex.nextEvent = now, hash, d, in, 1
	if d.TimeoutSeconds > 0 {
		ex.deadline = now.Add(time.Duration(d.TimeoutSeconds) * time.Second)
	}
	root := &thread{ID: "r", State: d.StartAt, Phase: phaseEnter, Input: json.RawMessage(input)}
	ex.addThread(root)
	ex.emit(root, "ExecutionStarted", "executionStartedEventDetails",
		map[string]any{"input": input, "inputDetails": notTruncated, "roleArn": sm.Role})
	ex.events[0].Time = now
	meta := map[string]types.AttributeValue{
		"pk": str(prefixExecs + sm.Arn), "sk": str(name), "arn": str(ex.arn), "status": str(statusRunning),
		"input": str(input), "startDate": num(now.UnixMilli()), "defHash": str(hash), "role": str(sm.Role),
	}
	if !ex.deadline.IsZero() {
		meta["deadline"] = num(ex.deadline.UnixMilli())
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	// The summary (conditional on the name being free), the root thread and
	// ExecutionStarted go in one transaction.
	ex.extra = []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(e.table), Item: meta,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	err = ex.flush(ctx)
	ex.extra = nil
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		it, gerr := e.getExec(ctx, ex.arn)
		if gerr != nil {
			return nil, gerr
		}
		old := execFromItem(it)
		if old.Status == statusRunning && old.Input == input {
			return old, nil
		}
		return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '%s'", ex.arn)
	}
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	e.mu.Lock()
	e.execs[ex.arn] = ex
	e.mu.Unlock()
	var timers []timer
	if !ex.deadline.IsZero() {
		timers = append(timers, timer{at: ex.deadline, exec: ex.arn})
	}
	e.addTimers(timers)
	e.spawn(func() { e.drive(ex, root, nil) })
	return &execInfo{Arn: ex.arn, SMArn: sm.Arn, Name: name, Status: statusRunning, Input: input, Start: now}, nil
}
