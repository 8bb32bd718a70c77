// Package evidence keeps the raw bodies of fetched ads, named by their
// SHA-256, so an auditor can check that the stored copy is what was seen:
// S3 (with object lock) in AWS, a local folder in the local stack.
package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Store keeps a body under its hash and returns where it is.
type Store interface {
	Put(ctx context.Context, body []byte, contentType string) (location string, err error)
}

var hexRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Name is the object name of a body: sha256/<hex>.
func Name(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256/" + hex.EncodeToString(sum[:])
}

// Folder stores bodies as files under Dir.
type Folder struct{ Dir string }

// Put writes the body once (content-addressed: a second Put is a no-op).
func (f Folder) Put(_ context.Context, body []byte, _ string) (string, error) {
	name := Name(body)
	path := filepath.Join(f.Dir, filepath.FromSlash(name))
	if _, err := os.Stat(path); err == nil {
		return "file://" + path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("store evidence: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("store evidence: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store evidence: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store evidence: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("store evidence: %w", err)
	}
	return "file://" + path, nil
}

// Reader reads stored bodies back by their hex hash.
type Reader interface {
	// Get returns the body, ErrNotFound when none is stored under hash.
	Get(ctx context.Context, hash string) ([]byte, error)
}

// ErrNotFound means no body is stored under a hash.
var ErrNotFound = errors.New("no evidence copy with that hash")

// MaxServed is the largest body Get returns (the safe fetcher keeps at
// most 2 MiB; a Lambda answer holds about 6 MB once base64-encoded).
const MaxServed = 4 << 20

// Get reads a body back by its hex hash.
func (f Folder) Get(_ context.Context, hash string) ([]byte, error) {
	if !hexRe.MatchString(hash) {
		return nil, errors.New("not a sha256 hex hash")
	}
	b, err := os.ReadFile(filepath.Join(f.Dir, "sha256", hash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read evidence %s: %w", hash, err)
	}
	return b, nil
}

// S3 stores bodies in a bucket.
type S3 struct {
	Client *s3.Client
	Bucket string
}

// Put uploads the body with its SHA-256 checksum checked by S3.
func (s S3) Put(ctx context.Context, body []byte, contentType string) (string, error) {
	name := Name(body)
	sum := sha256.Sum256(body)
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(s.Bucket),
		Key:            aws.String(name),
		Body:           bytes.NewReader(body),
		ContentType:    aws.String(contentType),
		ChecksumSHA256: aws.String(b64(sum[:])),
	})
	if err != nil {
		return "", fmt.Errorf("store evidence %s: %w", name, err)
	}
	return "s3://" + s.Bucket + "/" + name, nil
}

// Get downloads the body stored under hash.
func (s S3) Get(ctx context.Context, hash string) ([]byte, error) {
	if !hexRe.MatchString(hash) {
		return nil, errors.New("not a sha256 hex hash")
	}
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String("sha256/" + hash)})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read evidence %s: %w", hash, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxServed+1))
	if err != nil {
		return nil, fmt.Errorf("read evidence %s: %w", hash, err)
	}
	if len(b) > MaxServed {
		return nil, fmt.Errorf("read evidence %s: larger than %d bytes", hash, MaxServed)
	}
	return b, nil
}
