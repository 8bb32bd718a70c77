package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Paging cursors are opaque to clients and tamper-proof: the index's last
// evaluated key, with an HMAC-SHA256 over it and over the query it pages
// (index, partition, time range, filter), so a cursor cannot be forged,
// altered, or used to page another listing.
//
//	v1.<base64url(JSON key)>.<base64url(MAC)>

const cursorVersion = "v1"

// cursorQuery is what a cursor is bound to.
type cursorQuery struct {
	Index, PK, From, To, Filter string
	// KeyNames are the attributes of the index's keys (table and index);
	// PKName is the index's partition key among them.
	KeyNames []string
	PKName   string
}

var errBadCursor = errors.New("bad cursor")

// numberKey marks a numeric key attribute in a cursor's payload.
const numberKey = "n:"

// CursorKey is the key that signs paging cursors in AWS: the cursor
// secret, else one derived from the approval-link secret (HMAC-SHA256 with
// a fixed label, so the two keys differ), else nil (the Reader then signs
// with a random key per instance: cursors page only within one instance).
func CursorKey(cursorSecret, approvalSecret string) []byte {
	if cursorSecret != "" {
		return []byte(cursorSecret)
	}
	if approvalSecret != "" {
		m := hmac.New(sha256.New, []byte(approvalSecret))
		m.Write([]byte("tangkal paging cursor key v1"))
		return m.Sum(nil)
	}
	return nil
}

var (
	processKeyOnce sync.Once
	processKey     []byte
)

// cursorKey is the Reader's key, or one random key for this process when
// none is configured (cursors then page only within one instance).
func (r Reader) cursorKey() []byte {
	if len(r.CursorKey) > 0 {
		return r.CursorKey
	}
	processKeyOnce.Do(func() {
		processKey = make([]byte, 32)
		if _, err := rand.Read(processKey); err != nil {
			panic("no randomness for the cursor key: " + err.Error())
		}
	})
	return processKey
}

func (q cursorQuery) mac(key []byte, payload string) []byte {
	bound, _ := json.Marshal([]string{cursorVersion, q.Index, q.PK, q.From, q.To, q.Filter})
	m := hmac.New(sha256.New, key)
	m.Write(bound)
	m.Write([]byte{'\n'})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (r Reader) encodeCursor(q cursorQuery, k map[string]types.AttributeValue) string {
	m := map[string]string{}
	for name, v := range k {
		switch a := v.(type) {
		case *types.AttributeValueMemberS:
			m[name] = a.Value
		case *types.AttributeValueMemberN:
			m[numberKey+name] = a.Value // a numeric key (the watchlist's count)
		}
	}
	b, _ := json.Marshal(m) // map keys are sorted: one encoding per key
	payload := base64.RawURLEncoding.EncodeToString(b)
	return cursorVersion + "." + payload + "." + base64.RawURLEncoding.EncodeToString(q.mac(r.cursorKey(), payload))
}

func (r Reader) decodeCursor(q cursorQuery, s string) (map[string]types.AttributeValue, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return nil, errBadCursor
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, q.mac(r.cursorKey(), parts[1])) {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadCursor
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errBadCursor
	}
	// Signed by us for this query, so this holds; checked all the same.
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, strings.TrimPrefix(k, numberKey))
	}
	sort.Strings(names)
	want := append([]string(nil), q.KeyNames...)
	sort.Strings(want)
	if strings.Join(names, ",") != strings.Join(want, ",") || m[q.PKName] != q.PK {
		return nil, errBadCursor
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, numberKey); ok {
			out[name] = &types.AttributeValueMemberN{Value: v}
			continue
		}
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
