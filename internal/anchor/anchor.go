// Package anchor keeps a copy of every history event's hash outside the
// table, where the table's writers cannot change it, and verifies case
// histories against it.
//
//	event ──▶ table (hash chain, head in the case)
//	   └─stream─▶ Writer ──▶ append-only Store (S3 with Object Lock in AWS,
//	                         a write-once folder locally)
//	                            events/<case>/<seq>.json  one Record per event, MACed
//	                            alarms/<case>/…           a change or removal of an event seen on the stream
//	                            digests/<time>.json       signed digest over every case's head
//
// The MAC key (KMS HMAC_SHA_256 in AWS, a key file locally) is held by the
// anchor writer and the verifier only, never by the functions that write
// the table: someone who can write the table can recompute every SHA-256
// of the chain and the head, but cannot change, remove or replace what was
// anchored, nor make a record that verifies.
package anchor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MAC computes and checks keyed MACs over anchored records and digests.
type MAC interface {
	Sum(ctx context.Context, msg []byte) ([]byte, error)
	Verify(ctx context.Context, msg, mac []byte) (bool, error)
}

// HMAC is a MAC with a local key (the local stack's key file).
type HMAC struct{ Key []byte }

// Sum is HMAC-SHA256 of msg.
func (h HMAC) Sum(_ context.Context, msg []byte) ([]byte, error) {
	if len(h.Key) == 0 {
		return nil, errors.New("anchor: no MAC key")
	}
	m := hmac.New(sha256.New, h.Key)
	m.Write(msg)
	return m.Sum(nil), nil
}

// Verify checks mac in constant time.
func (h HMAC) Verify(ctx context.Context, msg, mac []byte) (bool, error) {
	want, err := h.Sum(ctx, msg)
	if err != nil {
		return false, err
	}
	return hmac.Equal(want, mac), nil
}

// KMS is a MAC with an AWS KMS HMAC_256 key: the key never leaves KMS, and
// the grants say who may make MACs (the anchor writer) and who may only
// check them.
type KMS struct {
	Client *kms.Client
	KeyID  string
}

// Sum calls GenerateMac.
func (k KMS) Sum(ctx context.Context, msg []byte) ([]byte, error) {
	out, err := k.Client.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(k.KeyID), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256, Message: msg})
	if err != nil {
		return nil, fmt.Errorf("anchor: generate MAC: %w", err)
	}
	return out.Mac, nil
}

// Verify calls VerifyMac; a MAC that does not match is false, not an error.
func (k KMS) Verify(ctx context.Context, msg, mac []byte) (bool, error) {
	out, err := k.Client.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: aws.String(k.KeyID), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256, Message: msg, Mac: mac})
	var invalid *kmstypes.KMSInvalidMacException
	if errors.As(err, &invalid) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("anchor: verify MAC: %w", err)
	}
	return out.MacValid, nil
}

// Store is the append-only store: a name is written once and never
// replaced or removed.
type Store interface {
	// Put writes body under name; ErrExists if the name is taken.
	Put(ctx context.Context, name string, body []byte) error
	// Get reads a name; ErrNotFound if it was never written.
	Get(ctx context.Context, name string) ([]byte, error)
	// List returns the names under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Errors of a Store.
var (
	ErrExists   = errors.New("anchor: name already written")
	ErrNotFound = errors.New("anchor: no such record")
)

// Folder is the local append-only store: every name is a file created
// exclusively, made read-only, and never opened for writing again.
type Folder struct{ Dir string }

func (f Folder) path(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if name == "" || filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("anchor: bad name %q", name)
	}
	return filepath.Join(f.Dir, clean), nil
}

// Put creates the file once (O_EXCL), synced, read-only.
func (f Folder) Put(_ context.Context, name string, body []byte) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	// Written beside, then linked into place: a crash leaves no half record,
	// and link(2) fails if the name exists, so nothing is ever replaced.
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("anchor: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("anchor: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, os.ErrExist) {
			return ErrExists
		}
		return fmt.Errorf("anchor: %w", err)
	}
	return nil
}

// Get reads a record.
func (f Folder) Get(_ context.Context, name string) ([]byte, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	return b, nil
}

// List walks the folder under prefix (a folder path ending in '/', or a
// name prefix).
func (f Folder) List(_ context.Context, prefix string) ([]string, error) {
	dir := f.Dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir = filepath.Join(f.Dir, filepath.FromSlash(prefix[:i]))
	}
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return filepath.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(f.Dir, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("anchor: list %s: %w", prefix, err)
	}
	sort.Strings(names)
	return names, nil
}

// S3 is the store in AWS: a bucket with Object Lock (compliance mode, a
// default retention set by template.yaml), written with If-None-Match so
// a name is never given a second version.
type S3 struct {
	Client *s3.Client
	Bucket string
}

// Put writes an object once.
func (s S3) Put(ctx context.Context, name string, body []byte) error {
	sum := sha256.Sum256(body)
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(name), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*"),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(b64(sum[:])),
	})
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict") {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("anchor: put %s: %w", name, err)
	}
	return nil
}

// Get reads an object.
func (s S3) Get(ctx context.Context, name string) ([]byte, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(name)})
	var nk *s3types.NoSuchKey
	if errors.As(err, &nk) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("anchor: get %s: %w", name, err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 16<<20))
}

// List pages ListObjectsV2 (names come back sorted).
func (s S3) List(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("anchor: list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			names = append(names, aws.ToString(o.Key))
		}
	}
	return names, nil
}

// Names of the records.
const (
	prefixEvents  = "events/"
	prefixAlarms  = "alarms/"
	prefixDigests = "digests/"
)

// EventName is where the seq-th event of a case is anchored.
func EventName(caseID string, seq int) string {
	return fmt.Sprintf("%s%s/%010d.json", prefixEvents, caseID, seq)
}

func seqOfName(name string) (int, bool) {
	base := name[strings.LastIndex(name, "/")+1:]
	n, err := strconv.Atoi(strings.TrimSuffix(base, ".json"))
	return n, err == nil
}

func hexs(b []byte) string { return hex.EncodeToString(b) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
