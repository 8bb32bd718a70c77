package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// API is the part of the Step Functions API a case needs.
type API interface {
	CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

// Clock lets Run drive an engine's time instead of waiting for it.
type Clock interface {
	// Settle returns once the engine has nothing left to do at the current
	// time.
	Settle(ctx context.Context) error
	// Advance moves the engine's time forward by one step.
	Advance(ctx context.Context) error
}

// RoleARN is the role every case's state machine is created with.
const RoleARN = "arn:aws:iam::123456789012:role/conformance"

// MaxSteps bounds how many times Run advances the clock for one execution.
const MaxSteps = 600

// StatusRejected is the status Run reports when CreateStateMachine refuses
// the definition (moto_runner.py reports the same); Error and Cause then
// hold the API error's code and message.
const StatusRejected = "REJECTED"

// Run creates the case's state machine and one execution, both named after
// the case, drives the clock until the execution ends and returns its
// outcome with the states entered (from GetExecutionHistory).
func Run(ctx context.Context, api API, clock Clock, c Case) (Result, error) {
	sm, err := api.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(c.Name), Definition: aws.String(c.Definition), RoleArn: aws.String(RoleARN),
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		return Result{Status: StatusRejected, Error: &code, Cause: &msg, States: []string{}}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("case %s: create state machine: %w", c.Name, err)
	}
	ex, err := api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: sm.StateMachineArn, Name: aws.String(c.Name), Input: aws.String(c.Input),
	})
	if err != nil {
		return Result{}, fmt.Errorf("case %s: start execution: %w", c.Name, err)
	}
	var d *sfn.DescribeExecutionOutput
	for step := 0; ; step++ {
		if err := clock.Settle(ctx); err != nil {
			return Result{}, fmt.Errorf("case %s: settle: %w", c.Name, err)
		}
		d, err = api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			return Result{}, fmt.Errorf("case %s: describe execution: %w", c.Name, err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			break
		}
		if step == MaxSteps {
			return Result{}, fmt.Errorf("case %s: still running after %d clock steps", c.Name, MaxSteps)
		}
		if err := clock.Advance(ctx); err != nil {
			return Result{}, fmt.Errorf("case %s: advance clock: %w", c.Name, err)
		}
	}
	r := Result{Status: string(d.Status), Error: d.Error, Cause: d.Cause}
	if d.Output != nil {
		if err := json.Unmarshal([]byte(*d.Output), &r.Output); err != nil {
			return r, fmt.Errorf("case %s: execution output is not JSON: %w", c.Name, err)
		}
	}
	if r.States, err = enteredStates(ctx, api, ex.ExecutionArn); err != nil {
		return r, fmt.Errorf("case %s: %w", c.Name, err)
	}
	return r, nil
}

func enteredStates(ctx context.Context, api API, arn *string) ([]string, error) {
	states := []string{}
	var token *string
	for {
		page, err := api.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 1000, NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("get execution history: %w", err)
		}
		for _, ev := range page.Events {
			if strings.HasSuffix(string(ev.Type), "StateEntered") && ev.StateEnteredEventDetails != nil {
				states = append(states, aws.ToString(ev.StateEnteredEventDetails.Name))
			}
		}
		if page.NextToken == nil {
			return states, nil
		}
		token = page.NextToken
	}
}
