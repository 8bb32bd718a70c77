package wiring

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/configstore"
)

// params answers GetParameter from a map, as SSM does (ParameterNotFound).
type params map[string]string

func (p params) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	v, ok := p[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(v)}}, nil
}

const oneAgency = `{"agencies":[{"id":"kp2mi","name_id":"K","name_en":"K","channels":{"email":true},
	"members":[{"email":"a@kp2mi.go.id","role":"approver"}]}],
	"policies":[{"name":"p","require":["kp2mi"],"tiers":[{"role":"approver","window_seconds":3600,"reminder_seconds":1800}]}]}`

// The agencies come from the run-time configuration, like the platforms:
// the document kept there, else the bundled file; one kept there that is
// broken stops the function instead of falling back.
func TestAgencyConfig(t *testing.T) {
	bundled, err := agency.Default()
	if err != nil || len(bundled.Agencies) < 2 {
		t.Fatalf("bundled agencies: %d, %v", len(bundled.Agencies), err)
	}
	for _, tc := range []struct {
		name     string
		kept     params
		doc      string
		agencies int
		err      string
	}{
		{name: "nothing kept: bundled", kept: params{}, agencies: len(bundled.Agencies)},
		{name: "kept in SSM", kept: params{"/tangkal/config/agencies": oneAgency}, agencies: 1},
		{name: "broken in SSM", kept: params{"/tangkal/config/agencies": `{"agencies": []}`}, err: "SSM parameter /tangkal/config/agencies"},
		{name: "given directly wins", kept: params{"/tangkal/config/agencies": `not read`}, doc: oneAgency, agencies: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := AgencyConfig(configstore.Source{Location: "ssm:/tangkal/config/", SSM: tc.kept}, tc.doc)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case len(d.Agencies) != tc.agencies:
				t.Fatalf("%d agencies, want %d", len(d.Agencies), tc.agencies)
			}
		})
	}
}
