package sfnlocal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tangkal/tangkal/internal/asl"
)

// Task resource kinds.
const (
	kindLambda    = "lambda"    // arn:aws:states:::lambda:invoke[.waitForTaskToken]
	kindLambdaARN = "lambdaArn" // arn:aws:lambda:REGION:ACCOUNT:function:NAME
	kindDynamoDB  = "dynamodb"  // arn:aws:states:::dynamodb:ACTION
)

// taskCall is a resolved Task resource with its parameters.
type taskCall struct {
	Kind     string          `json:"k"`
	Resource string          `json:"r"`
	Action   string          `json:"a,omitempty"`
	Token    bool            `json:"t,omitempty"`
	Params   json.RawMessage `json:"p,omitempty"`
}

func (c *taskCall) resourceType() string { return c.Kind }

func (c *taskCall) resourceName() string {
	if c.Token {
		return c.Action + ".waitForTaskToken"
	}
	return c.Action
}

var (
	integrationRE = regexp.MustCompile(`^arn:aws[a-z-]*:states:[a-z0-9-]*:[0-9]*:([a-z0-9]+):([A-Za-z]+)(\.waitForTaskToken|\.sync(?::2)?)?$`)
	functionRE    = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$`)
)

var dynamoActions = map[string]string{"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}

// parseResource resolves a Task's Resource, or says why it is unsupported.
func parseResource(res string) (*taskCall, error) {
	if functionRE.MatchString(res) {
		return &taskCall{Kind: kindLambdaARN, Resource: res, Action: FunctionName(res)}, nil
	}
	m := integrationRE.FindStringSubmatch(res)
	if m == nil {
		return nil, fmt.Errorf("the resource %q is not supported by the local engine (supported: arn:aws:states:::lambda:invoke[.waitForTaskToken], arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem, arn:aws:lambda:REGION:ACCOUNT:function:NAME)", res)
	}
	service, action, pattern := m[1], m[2], m[3]
	switch {
	case service == "lambda" && action == "invoke" && (pattern == "" || pattern == ".waitForTaskToken"):
		return &taskCall{Kind: kindLambda, Resource: res, Action: action, Token: pattern != ""}, nil
	case service == "dynamodb" && dynamoActions[action] != "" && pattern == "":
		return &taskCall{Kind: kindDynamoDB, Resource: res, Action: action}, nil
	}
	return nil, fmt.Errorf("the resource %q is not supported by the local engine (supported: arn:aws:states:::lambda:invoke[.waitForTaskToken], arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem, arn:aws:lambda:REGION:ACCOUNT:function:NAME)", res)
}

// taskResult is the outcome of one task invocation.
type taskResult struct {
	output  json.RawMessage
	failed  bool
	errName string
	cause   string
}

func failure(name, cause string) taskResult {
	return taskResult{failed: true, errName: name, cause: cause}
}

// runTask calls a task's resource. It runs outside any lock.
func (e *Engine) runTask(ctx context.Context, c *taskCall, token string) taskResult {
	switch c.Kind {
	case kindLambdaARN:
		return e.invokeLambda(ctx, c.Resource, c.Params, false)
	case kindLambda:
		params, _ := decode(c.Params).(map[string]any)
		fn, _ := params["FunctionName"].(string)
		if fn == "" {
			return failure(asl.ErrRuntime, "The field \"FunctionName\" is required for resource "+c.Resource)
		}
		payload := json.RawMessage("{}")
		if p, ok := params["Payload"]; ok {
			payload = marshal(p)
		}
		if params["InvocationType"] == "Event" && e.cfg.Invoker != nil {
			e.spawn(func() { _, _ = e.cfg.Invoker.Invoke(e.ctx, fn, payload) })
			return taskResult{output: marshal(map[string]any{"ExecutedVersion": "$LATEST", "Payload": "",
				"SdkHttpMetadata":     map[string]any{"HttpStatusCode": json.Number("202")},
				"SdkResponseMetadata": map[string]any{"RequestId": newID()}, "StatusCode": json.Number("202")})}
		}
		return e.invokeLambda(ctx, fn, payload, true)
	case kindDynamoDB:
		return e.callDynamoDB(ctx, c.Action, c.Params)
	}
	return failure(asl.ErrRuntime, "unsupported resource "+c.Resource)
}

// invokeLambda runs a function; wrap adds the lambda:invoke response wrapper.
func (e *Engine) invokeLambda(ctx context.Context, fn string, payload json.RawMessage, wrap bool) taskResult {
	if e.cfg.Invoker == nil {
		return failure("Lambda.ServiceException", "no Lambda invoker is configured for the local engine")
	}
	out, err := e.cfg.Invoker.Invoke(ctx, fn, payload)
	reqID := newID()
	if err != nil {
		var fe *FunctionError
		var nf *ErrFunctionNotFound
		switch {
		case errors.As(err, &fe):
			name := fe.Type
			if name == "" {
				name = "Lambda.Unknown"
			}
			return failure(name, fe.payload())
		case errors.As(err, &nf):
			return failure("Lambda.ResourceNotFoundException", fmt.Sprintf("Function not found: %s (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)", fn, reqID))
		case ctx.Err() != nil:
			return failure(asl.ErrTimeout, "")
		default:
			return failure("Lambda.ServiceException", fmt.Sprintf("%v (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: %s; Proxy: null)", err, reqID))
		}
	}
	if !wrap {
		if len(bytes.TrimSpace(out)) == 0 {
			out = json.RawMessage("null")
		}
		return taskResult{output: out}
	}
	var pl any
	if len(bytes.TrimSpace(out)) > 0 {
		v, err := asl.Decode(out)
		if err != nil {
			v = string(out)
		}
		pl = v
	}
	wrapper := map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         pl,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": map[string]any{
				"X-Amz-Executed-Version": []any{"$LATEST"}, "x-amzn-Remapped-Content-Length": []any{"0"},
				"Connection": []any{"keep-alive"}, "x-amzn-RequestId": []any{reqID},
				"Content-Length": []any{strconv.Itoa(len(out))}, "Date": []any{e.clock.Now().UTC().Format(http.TimeFormat)},
				"X-Amzn-Trace-Id": []any{"Root=1-" + reqID[:8]}, "Content-Type": []any{"application/json"},
			},
			"HttpHeaders": map[string]any{
				"Connection": "keep-alive", "Content-Length": strconv.Itoa(len(out)), "Content-Type": "application/json",
				"Date": e.clock.Now().UTC().Format(http.TimeFormat), "X-Amz-Executed-Version": "$LATEST",
				"x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": reqID, "X-Amzn-Trace-Id": "Root=1-" + reqID[:8],
			},
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": reqID},
		"StatusCode":          json.Number("200"),
	}
	return taskResult{output: marshal(wrapper)}
}

// callDynamoDB forwards a dynamodb:* task's parameters to DynamoDB.
func (e *Engine) callDynamoDB(ctx context.Context, action string, params json.RawMessage) taskResult {
	op := dynamoActions[action]
	endpoint := strings.TrimRight(e.cfg.DynamoDBEndpoint, "/")
	if endpoint == "" {
		return failure("DynamoDB.AmazonDynamoDBException", "no DynamoDB endpoint is configured for the local engine")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(params))
	if err != nil {
		return failure("DynamoDB.AmazonDynamoDBException", err.Error())
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	opts := e.db.Options()
	if opts.Credentials != nil {
		creds, err := opts.Credentials.Retrieve(ctx)
		if err == nil {
			sum := sha256.Sum256(params)
			_ = v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", opts.Region, time.Now())
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return failure(asl.ErrTimeout, "")
		}
		return failure("DynamoDB.SdkClientException", "Unable to execute HTTP request: "+err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	reqID := resp.Header.Get("x-amzn-RequestId")
	if resp.StatusCode != http.StatusOK {
		var de struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		_ = json.Unmarshal(body, &de)
		code := de.Type
		if i := strings.LastIndex(code, "#"); i >= 0 {
			code = code[i+1:]
		}
		if code == "" {
			code = "AmazonDynamoDBException"
		}
		msg := de.Message
		if msg == "" {
			msg = de.Msg
		}
		return failure("DynamoDB."+code, fmt.Sprintf("%s (Service: AmazonDynamoDBv2; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)", msg, resp.StatusCode, code, reqID))
	}
	v, err := asl.Decode(body)
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		m = map[string]any{}
	}
	m["SdkHttpMetadata"] = map[string]any{
		"HttpHeaders":    map[string]any{"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": reqID},
		"HttpStatusCode": json.Number("200"),
	}
	m["SdkResponseMetadata"] = map[string]any{"RequestId": reqID}
	return taskResult{output: marshal(m)}
}
