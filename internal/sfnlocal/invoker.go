package sfnlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invoker runs a Lambda function synchronously. function is the name as
// written in the state machine (a name, a partial ARN or a full ARN).
// A function error (the handler returned an error) is a *FunctionError; any
// other error is an invocation failure.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// FunctionError is an error returned by a function's handler, named the way
// the Lambda Go runtime names it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// payload is the Lambda error document, as Step Functions puts it in Cause.
func (e *FunctionError) payload() string {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{e.Message, e.Type})
	return string(b)
}

// ErrFunctionNotFound is returned by Registry.Invoke for an unknown function.
type ErrFunctionNotFound struct{ Name string }

func (e *ErrFunctionNotFound) Error() string {
	return fmt.Sprintf("Function not found: %s", e.Name)
}

// Registry is an Invoker running Go handlers in this process.
type Registry struct {
	mu       sync.RWMutex
	handlers map[string]*function
	observe  func(name string, took time.Duration, err error)
	// Region and AccountID build the invoked function ARN handed to handlers.
	Region, AccountID string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{handlers: map[string]*function{}} }

// function is a registered handler. A lambda.Handler made by
// lambda.NewHandler returns its response in a pooled buffer that the next
// call reuses, so calls of one such handler are serialized and the response
// copied; a function registered with RegisterFunc gets a fresh handler per
// call and runs concurrently.
type function struct {
	mu sync.Mutex
	h  lambda.Handler
	fn any
}

// Register adds a handler under a function name (for example
// lambda.NewHandler(fn)). Its calls run one at a time.
func (r *Registry) Register(name string, h lambda.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[name] = &function{h: h}
}

// RegisterFunc adds a handler function (any signature lambda.Start
// accepts) under a function name. Its calls run concurrently.
func (r *Registry) RegisterFunc(name string, fn any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[name] = &function{fn: fn}
}

// Observe sets a function called after every invocation with the
// function's name, how long its handler ran and its error (benchmarks count
// Lambda requests and GB-seconds with it). nil removes it.
func (r *Registry) Observe(fn func(name string, took time.Duration, err error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe = fn
}

// FunctionName extracts the function name from a name, a partial ARN
// (ACCOUNT:function:NAME or function:NAME) or a full ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func FunctionName(ref string) string {
	parts := strings.Split(ref, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	if len(parts) == 2 { // NAME:QUALIFIER
		return parts[0]
	}
	return ref
}

// Invoke implements Invoker. A handler's error becomes a *FunctionError
// named as aws-lambda-go names it; a panic likewise.
func (r *Registry) Invoke(ctx context.Context, function string, payload []byte) (out []byte, err error) {
	name := FunctionName(function)
	r.mu.RLock()
	f, ok := r.handlers[name]
	observe := r.observe
	r.mu.RUnlock()
	if !ok {
		return nil, &ErrFunctionNotFound{Name: function}
	}
	if observe != nil {
		start := time.Now()
		defer func() { observe(name, time.Since(start), err) }()
	}
	region, account := r.Region, r.AccountID
	if region == "" {
		region = "us-east-1"
	}
	if account == "" {
		account = "123456789012"
	}
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       newID(),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name),
	}
	ctx = lambdacontext.NewContext(ctx, lc)
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprint(p)
			if e, ok := p.(error); ok {
				msg = e.Error()
			}
			out, err = nil, &FunctionError{Type: errorType(p), Message: msg}
		}
	}()
	h := f.h
	if f.fn != nil {
		h = lambda.NewHandler(f.fn)
	} else {
		f.mu.Lock()
		defer f.mu.Unlock()
	}
	out, err = h.Invoke(ctx, payload)
	if err != nil {
		return nil, &FunctionError{Type: errorType(err), Message: err.Error()}
	}
	return bytes.Clone(out), nil
}

// errorType names an error as aws-lambda-go does: the Go type name without
// package or pointer.
func errorType(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}
