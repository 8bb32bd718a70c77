// Package auth answers who is calling and what they may do.
//
// In AWS the HTTP API's JWT authorizer (Cognito) verifies the token and puts
// its claims in the request context; handlers read them with FromRequest.
// Locally, the local HTTP API verifies tokens signed by a local key (Signer)
// and puts the same claims in the same fields, so handlers cannot tell.
package auth

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Roles, as Cognito groups.
const (
	Reporter = "reporter"
	Approver = "approver"
	Auditor  = "auditor"
	Admin    = "admin"
	// Platform is a platform's trust-and-safety team: it reads the
	// notices addressed to its platform and answers them, nothing else.
	Platform = "platform"
)

// AllRoles lists every role.
var AllRoles = []string{Reporter, Approver, Auditor, Admin, Platform}

// PlatformClaim names the platform a user of the platform role answers
// for (a Cognito custom attribute, set by the operator who creates the
// user; locally `tangkal token --role platform --sub facebook`).
const PlatformClaim = "custom:platform"

// GroupsClaim is the claim that carries the roles.
const GroupsClaim = "cognito:groups"

// Principal is an authenticated caller.
type Principal struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Roles   []string `json:"roles"`
	// Platform is the platform a platform-role user answers for ("" for
	// everyone else).
	Platform string `json:"platform,omitempty"`
}

// HasAny reports whether p holds at least one of roles.
func (p Principal) HasAny(roles ...string) bool {
	for _, have := range p.Roles {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// Actor names the principal in histories: "role:subject".
func (p Principal) Actor() string {
	role := "user"
	if len(p.Roles) > 0 {
		role = p.Roles[0]
	}
	return role + ":" + p.Subject
}

// FromRequest reads the JWT authorizer's claims. ok is false when the
// request carries no authenticated subject.
func FromRequest(req events.APIGatewayV2HTTPRequest) (Principal, bool) {
	a := req.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		return Principal{}, false
	}
	c := a.JWT.Claims
	sub := c["sub"]
	if sub == "" {
		return Principal{}, false
	}
	return Principal{Subject: sub, Email: c["email"], Roles: ParseGroups(c[GroupsClaim]), Platform: c[PlatformClaim]}, true
}

// ParseGroups reads a groups claim as API Gateway passes it: "[a b]" for a
// JSON array flattened by the authorizer, a JSON array, or a comma list.
func ParseGroups(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var arr []string
	if strings.HasPrefix(s, "[\"") && json.Unmarshal([]byte(s), &arr) == nil {
		return arr
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// AuthorizerClaims flattens JWT claims the way API Gateway's JWT authorizer
// does: strings stay, arrays become "[a b]", other values their JSON.
func AuthorizerClaims(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		switch x := v.(type) {
		case string:
			out[k] = x
		case []any:
			parts := make([]string, 0, len(x))
			for _, e := range x {
				if s, ok := e.(string); ok {
					parts = append(parts, s)
				} else {
					b, _ := json.Marshal(e)
					parts = append(parts, string(b))
				}
			}
			out[k] = "[" + strings.Join(parts, " ") + "]"
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}
