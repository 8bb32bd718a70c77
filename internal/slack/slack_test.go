package slack

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Slack's documented example ("Verifying requests from Slack").
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = "1531420618"
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func at(ts int64) func() time.Time { return func() time.Time { return time.Unix(ts, 0) } }

func TestSlackDocumentedExample(t *testing.T) {
	if got := Sign([]byte(docSecret), docTimestamp, []byte(docBody)); got != docSignature {
		t.Fatalf("Sign = %s, want %s", got, docSignature)
	}
}

func TestVerify(t *testing.T) {
	v := Verifier{Secret: []byte(docSecret), Now: at(1531420618)}
	tests := []struct {
		name          string
		now           int64
		ts, sig, body string
		want          error
	}{
		{"documented example", 1531420618, docTimestamp, docSignature, docBody, nil},
		{"4m59s later", 1531420618 + 299, docTimestamp, docSignature, docBody, nil},
		{"5m01s later (replay)", 1531420618 + 301, docTimestamp, docSignature, docBody, ErrStale},
		{"from the future", 1531420618 - 301, docTimestamp, docSignature, docBody, ErrStale},
		{"body tampered", 1531420618, docTimestamp, docSignature, strings.Replace(docBody, "roadrunner", "coyote", 1), ErrBadSignature},
		{"timestamp tampered", 1531420619, "1531420619", docSignature, docBody, ErrBadSignature},
		{"uppercase hex", 1531420618, docTimestamp, strings.ToUpper(docSignature), docBody, ErrBadSignature},
		{"v1 scheme", 1531420618, docTimestamp, "v1=" + docSignature[3:], docBody, ErrBadSignature},
		{"no signature", 1531420618, docTimestamp, "", docBody, ErrMissingHeaders},
		{"no timestamp", 1531420618, "", docSignature, docBody, ErrMissingHeaders},
		{"non-numeric timestamp", 1531420618, "now", docSignature, docBody, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.Now = at(tt.now)
			if err := v.Verify(tt.ts, tt.sig, []byte(tt.body)); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if err := (Verifier{}).Verify(docTimestamp, docSignature, []byte(docBody)); err == nil {
		t.Fatal("verified without a secret")
	}
}

func TestVerifyRequest(t *testing.T) {
	v := Verifier{Secret: []byte(docSecret), Now: at(1531420618)}
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		ok   bool
	}{
		{"lowercase headers (API Gateway v2)", events.APIGatewayV2HTTPRequest{Body: docBody,
			Headers: map[string]string{"x-slack-signature": docSignature, "x-slack-request-timestamp": docTimestamp}}, true},
		{"canonical headers", events.APIGatewayV2HTTPRequest{Body: docBody,
			Headers: map[string]string{"X-Slack-Signature": docSignature, "X-Slack-Request-Timestamp": docTimestamp}}, true},
		{"base64 body", events.APIGatewayV2HTTPRequest{Body: base64.StdEncoding.EncodeToString([]byte(docBody)), IsBase64Encoded: true,
			Headers: map[string]string{"x-slack-signature": docSignature, "x-slack-request-timestamp": docTimestamp}}, true},
		{"no headers", events.APIGatewayV2HTTPRequest{Body: docBody}, false},
	}
	for _, tt := range tests {
		body, err := v.VerifyRequest(tt.req)
		if (err == nil) != tt.ok || (tt.ok && string(body) != docBody) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func form(payload string) []byte {
	return []byte(url.Values{"payload": {payload}}.Encode())
}

func TestParseInteraction(t *testing.T) {
	good := `{"type":"block_actions","user":{"id":"U024BE7LH","username":"dewi","name":"dewi","team_id":"T1"},
	"team":{"id":"T1","domain":"bp2mi"},"channel":{"id":"C1","name":"approvals"},"message":{"ts":"1.2"},
	"response_url":"https://hooks.slack.com/actions/T1/1/x","trigger_id":"13345224609.738474920.8088930838d88f008e0",
	"actions":[{"action_id":"approval_approve","block_id":"decide","type":"button","value":"ap_123","action_ts":"1548426417.840180"}]}`
	in, err := ParseInteraction(form(good))
	if err != nil {
		t.Fatal(err)
	}
	if in.User.ID != "U024BE7LH" || in.User.Username != "dewi" || in.Actions[0].ActionID != "approval_approve" ||
		in.Actions[0].Value != "ap_123" || in.Channel.ID != "C1" || in.Team.Domain != "bp2mi" {
		t.Fatalf("%+v", in)
	}
	tests := []struct{ name, body, field string }{
		{"no payload", "foo=bar", "payload"},
		{"bad json", string(form("{")), "payload"},
		{"wrong type", string(form(`{"type":"view_submission","user":{"id":"U1"},"actions":[{}]}`)), "type"},
		{"no user", string(form(`{"type":"block_actions","actions":[{"value":"x"}]}`)), "user.id"},
		{"no actions", string(form(`{"type":"block_actions","user":{"id":"U1"}}`)), "actions"},
		{"bad form", "%zz", "form"},
	}
	for _, tt := range tests {
		if _, err := ParseInteraction([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
