package anchor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/store"
)

// Head is a case's last anchored event.
type Head struct {
	CaseID string `json:"case_id"`
	Seq    int    `json:"seq"`
	Hash   string `json:"hash"`
}

// Digest is a signed statement of every case's head at a time: kept at
// least daily, and made on demand, so a history that is later cut short
// or rebuilt can be shown to differ from what stood then.
type Digest struct {
	At    string `json:"at"`
	Cases []Head `json:"cases"`
	// Root is SHA-256 over the heads, one "case_id seq hash" line each,
	// in case id order.
	Root string `json:"root"`
	MAC  string `json:"mac"`
}

func (d Digest) message() []byte {
	return []byte("tangkal anchor digest v1\n" + d.At + "\n" + d.Root)
}

func root(heads []Head) string {
	h := sha256.New()
	for _, c := range heads {
		fmt.Fprintf(h, "%s %d %s\n", c.CaseID, c.Seq, c.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Heads reads every case's last anchored event.
func Heads(ctx context.Context, st Store) ([]Head, error) {
	names, err := st.List(ctx, prefixEvents)
	if err != nil {
		return nil, err
	}
	last := map[string]string{}
	var order []string
	for _, n := range names {
		rest := strings.TrimPrefix(n, prefixEvents)
		id, _, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		if _, seen := last[id]; !seen {
			order = append(order, id)
		}
		last[id] = n // names sort by seq within a case
	}
	heads := make([]Head, 0, len(order))
	for _, id := range order {
		b, err := st.Get(ctx, last[id])
		if err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("anchor: decode %s: %w", last[id], err)
		}
		heads = append(heads, Head{CaseID: id, Seq: r.Seq, Hash: r.Hash})
	}
	return heads, nil
}

// MakeDigest signs the current heads (it stores nothing).
func MakeDigest(ctx context.Context, st Store, mac MAC, now time.Time) (Digest, error) {
	heads, err := Heads(ctx, st)
	if err != nil {
		return Digest{}, err
	}
	d := Digest{At: store.FormatTime(now), Cases: heads, Root: root(heads)}
	sum, err := mac.Sum(ctx, d.message())
	if err != nil {
		return Digest{}, err
	}
	d.MAC = hex.EncodeToString(sum)
	return d, nil
}

// CheckDigest verifies a digest's root and MAC.
func CheckDigest(ctx context.Context, mac MAC, d Digest) (bool, error) {
	if root(d.Cases) != d.Root {
		return false, nil
	}
	m, err := hex.DecodeString(d.MAC)
	if err != nil {
		return false, nil
	}
	return mac.Verify(ctx, d.message(), m)
}

// DigestName is where a digest made at t is kept.
func DigestName(t time.Time) string {
	return prefixDigests + t.UTC().Format("2006/01/02/150405.000000Z") + ".json"
}

// LastDigest is the newest stored digest, ok false when none is.
func LastDigest(ctx context.Context, st Store) (Digest, bool, error) {
	names, err := st.List(ctx, prefixDigests)
	if err != nil || len(names) == 0 {
		return Digest{}, false, err
	}
	b, err := st.Get(ctx, names[len(names)-1])
	if err != nil {
		return Digest{}, false, err
	}
	var d Digest
	if err := json.Unmarshal(b, &d); err != nil {
		return Digest{}, false, fmt.Errorf("anchor: decode digest: %w", err)
	}
	return d, true, nil
}

// StoreDigest makes a digest of the current heads and keeps it.
func (w Writer) StoreDigest(ctx context.Context) (Digest, error) {
	now := w.now()
	d, err := MakeDigest(ctx, w.Store, w.MAC, now)
	if err != nil {
		return Digest{}, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return Digest{}, err
	}
	if err := w.Store.Put(ctx, DigestName(now), b); err != nil && !errors.Is(err, ErrExists) {
		return Digest{}, err
	}
	return d, nil
}

func (w Writer) digestIfDue(ctx context.Context) error {
	every := w.DigestEvery
	if every <= 0 {
		every = 24 * time.Hour
	}
	last, ok, err := LastDigest(ctx, w.Store)
	if err != nil {
		return err
	}
	if ok {
		if at, err := time.Parse(time.RFC3339Nano, last.At); err == nil && w.now().Sub(at) < every {
			return nil
		}
	}
	_, err = w.StoreDigest(ctx)
	return err
}
