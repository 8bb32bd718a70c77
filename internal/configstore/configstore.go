// Package configstore reads configuration documents (the platforms'
// configuration, and the agencies' when it lands) from the one place a
// deployment keeps them: SSM parameters under a path, or S3 objects under
// a prefix, named by one environment variable (TANGKAL_CONFIG_SOURCE).
// A document that is not there is the bundled default; one that is there
// and unreadable is an error, never silently the default.
package configstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SourceEnv names the place: "ssm:/tangkal/config/" (parameter
// /tangkal/config/platforms) or "s3://bucket/config/" (object
// config/platforms.json); empty: the bundled files.
const SourceEnv = "TANGKAL_CONFIG_SOURCE"

// Documents.
const (
	Platforms = "platforms"
	Agencies  = "agencies"
)

// MaxDocument bounds a document read from S3.
const MaxDocument = 1 << 20

// SSMGetter and S3Getter are the calls used (the SDK clients satisfy them).
type SSMGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}
type S3Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Source is where the documents are.
type Source struct {
	Location string
	SSM      SSMGetter
	S3       S3Getter
}

// Where names the document's place, for messages and logs.
func (s Source) Where(name string) string {
	switch {
	case strings.HasPrefix(s.Location, "ssm:"):
		return "SSM parameter " + strings.TrimPrefix(s.Location, "ssm:") + name
	case strings.HasPrefix(s.Location, "s3://"):
		return s.Location + name + ".json"
	}
	return "the bundled " + name + ".json"
}

// Check reports a Location that is neither form.
func (s Source) Check() error {
	l := s.Location
	switch {
	case l == "":
		return nil
	case strings.HasPrefix(l, "ssm:/"):
		return nil
	case strings.HasPrefix(l, "s3://"):
		if b, _, _ := strings.Cut(strings.TrimPrefix(l, "s3://"), "/"); b == "" {
			return fmt.Errorf("%s %q: no bucket", SourceEnv, l)
		}
		return nil
	}
	return fmt.Errorf("%s %q: want ssm:/path/ or s3://bucket/prefix/", SourceEnv, l)
}

// Document reads the named document; found is false when the place holds
// none (or there is no place), so the caller uses its bundled default.
func (s Source) Document(ctx context.Context, name string) (body []byte, found bool, err error) {
	if err := s.Check(); err != nil {
		return nil, false, err
	}
	switch {
	case s.Location == "":
		return nil, false, nil
	case strings.HasPrefix(s.Location, "ssm:"):
		if s.SSM == nil {
			return nil, false, fmt.Errorf("read %s: no SSM client", s.Where(name))
		}
		out, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(strings.TrimPrefix(s.Location, "ssm:") + name), WithDecryption: aws.Bool(true)})
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", s.Where(name), err)
		}
		return []byte(aws.ToString(out.Parameter.Value)), true, nil
	default:
		if s.S3 == nil {
			return nil, false, fmt.Errorf("read %s: no S3 client", s.Where(name))
		}
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(s.Location, "s3://"), "/")
		out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + name + ".json")})
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", s.Where(name), err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(io.LimitReader(out.Body, MaxDocument+1))
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", s.Where(name), err)
		}
		if len(b) > MaxDocument {
			return nil, false, fmt.Errorf("read %s: larger than %d bytes", s.Where(name), MaxDocument)
		}
		return b, true, nil
	}
}
