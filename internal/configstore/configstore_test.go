package configstore

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// parameterStore answers GetParameter as SSM does; "/broken/" paths fail.
func parameterStore(params map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.Name == "/broken/platforms" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"__type": "AccessDeniedException", "message": "no"})
			return
		}
		v, ok := params[in.Name]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"__type": "ParameterNotFound"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": in.Name, "Value": v, "Type": "String"}})
	}))
}

func TestDocumentFromSSM(t *testing.T) {
	srv := parameterStore(map[string]string{"/tangkal/config/platforms": `{"platforms":{}}`})
	defer srv.Close()
	client := ssm.NewFromConfig(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	for _, tc := range []struct {
		name, location string
		wantBody       string
		wantFound      bool
		wantErr        bool
	}{
		{"kept there", "ssm:/tangkal/config/", `{"platforms":{}}`, true, false},
		{"not there: the bundled default", "ssm:/other/", "", false, false},
		{"no place: the bundled default", "", "", false, false},
		{"unreadable: an error, never the default", "ssm:/broken/", "", false, true},
		{"not a place", "https://example.org/config", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, found, err := Source{Location: tc.location, SSM: client}.Document(context.Background(), Platforms)
			if string(b) != tc.wantBody || found != tc.wantFound || (err != nil) != tc.wantErr {
				t.Errorf("Document = %q, %v, %v; want %q, %v, error %v", b, found, err, tc.wantBody, tc.wantFound, tc.wantErr)
			}
		})
	}
}
