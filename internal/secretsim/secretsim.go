// Package secretsim stands in for AWS Secrets Manager locally: it speaks
// its protocol (JSON 1.1 over POST, the operation in X-Amz-Target) for
// GetSecretValue, with the AWSCURRENT and AWSPREVIOUS stages, and
// PutSecretValue, which rotates them as Secrets Manager does. The local
// stack reads its keys through it with the same code as in AWS.
package secretsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

type version struct {
	id      string
	value   string
	created time.Time
}

// Server holds secrets by name (an ARN works as a name too).
type Server struct {
	mu      sync.Mutex
	secrets map[string][]version // oldest first; the last is AWSCURRENT
	// Fallback, when set, gives the value of a secret nobody put.
	Fallback func(id string) (string, bool)
	Now      func() time.Time
}

// New returns a Server holding the secrets given (name → value).
func New(secrets map[string]string) *Server {
	s := &Server{secrets: map[string][]version{}}
	for id, v := range secrets {
		s.Put(id, v)
	}
	return s
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Put stores a new current version of the secret id; the current one
// becomes AWSPREVIOUS (what a rotation does).
func (s *Server) Put(id, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.secrets[id]) + 1
	v := version{id: fmt.Sprintf("v%06d", n), value: value, created: s.now()}
	s.secrets[id] = append(s.secrets[id], v)
	return v.id
}

func (s *Server) get(id, stage string) (version, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.secrets[id]
	if len(vs) == 0 && s.Fallback != nil {
		if v, ok := s.Fallback(id); ok {
			vs = []version{{id: "v000001", value: v, created: time.Unix(0, 0)}}
		}
	}
	switch stage {
	case "", "AWSCURRENT":
		if len(vs) > 0 {
			return vs[len(vs)-1], true
		}
	case "AWSPREVIOUS":
		if len(vs) > 1 {
			return vs[len(vs)-2], true
		}
	}
	return version{}, false
}

func fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// ServeHTTP answers the Secrets Manager operations above.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SecretId, VersionStage, SecretString string
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil || in.SecretId == "" {
		fail(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "secretsmanager.GetSecretValue":
		v, ok := s.get(in.SecretId, in.VersionStage)
		if !ok {
			fail(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+in.VersionStage)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		stage := in.VersionStage
		if stage == "" {
			stage = "AWSCURRENT"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"ARN": in.SecretId, "Name": in.SecretId, "VersionId": v.id, "SecretString": v.value,
			"VersionStages": []string{stage}, "CreatedDate": float64(v.created.UnixMilli()) / 1000,
		})
	case "secretsmanager.PutSecretValue":
		id := s.Put(in.SecretId, in.SecretString)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": in.SecretId, "VersionId": id, "VersionStages": []string{"AWSCURRENT"}})
	default:
		fail(w, http.StatusBadRequest, "UnknownOperationException", r.Header.Get("X-Amz-Target"))
	}
}
