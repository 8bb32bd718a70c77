package anchor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/history"
)

// Problem kinds a verification reports.
const (
	Altered      = "altered"        // content or hash differs (from its own hash, or from the external copy)
	Removed      = "removed"        // an event is missing from the table
	Reordered    = "reordered"      // sequence or previous-hash link out of order
	Truncated    = "truncated"      // the table holds fewer events than were anchored
	HeadMismatch = "head_mismatch"  // the case's head is empty or is not the last event's hash
	NoEvents     = "no_events"      // a case without any event
	NotAnchored  = "not_anchored"   // an event older than the grace period has no external copy
	BadRecord    = "bad_record"     // an external record whose MAC does not verify
	Tampering    = "tampering_seen" // the stream saw an event changed or removed
)

// Grace is how long an event may stay without its external copy before
// verification counts it as a problem (the stream delivers in seconds).
const Grace = 10 * time.Minute

// Problem is one finding, with the event it concerns (0: the case).
type Problem struct {
	Seq     int    `json:"seq,omitempty"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Truncation compares the table's history with the external copy.
type Truncation struct {
	TableLength    int `json:"table_length"`
	AnchoredLength int `json:"anchored_length"`
}

// Report is the result of verifying one case.
type Report struct {
	CaseID string `json:"case_id"`
	Valid  bool   `json:"valid"`
	// Length and Head are the table's: its events and the case's head.
	Length int    `json:"length"`
	Head   string `json:"head"`
	// Anchored is how many events have an external copy; Pending, how
	// many recent ones are still on their way there.
	Anchored int `json:"anchored"`
	Pending  int `json:"pending,omitempty"`
	// AnchoredHead is the hash of the last anchored event.
	AnchoredHead string `json:"anchored_head,omitempty"`
	// First is the first problem (by event), Problems all of them.
	First      *Problem    `json:"first,omitempty"`
	Problems   []Problem   `json:"problems,omitempty"`
	Truncation *Truncation `json:"truncation,omitempty"`
	// Records are the external copies, for evidence bundles.
	Records []Record `json:"-"`
}

// Verifier checks cases against the external copy.
type Verifier struct {
	Store Store
	MAC   MAC
	Now   func() time.Time
}

// Records reads a case's external copies in order; a record that does
// not decode or whose MAC does not verify is returned in bad.
func (v Verifier) Records(ctx context.Context, caseID string) (good []Record, bad []Problem, err error) {
	names, err := v.Store.List(ctx, prefixEvents+caseID+"/")
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		seq, ok := seqOfName(name)
		if !ok {
			continue
		}
		b, err := v.Store.Get(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		var r Record
		if json.Unmarshal(b, &r) != nil || r.CaseID != caseID || r.Seq != seq {
			bad = append(bad, Problem{Seq: seq, Kind: BadRecord, Message: fmt.Sprintf("external record of event %d is unreadable or names another event", seq)})
			continue
		}
		mac, err := hex.DecodeString(r.MAC)
		ok, verr := false, error(nil)
		if err == nil {
			ok, verr = v.MAC.Verify(ctx, r.message(), mac)
		}
		if verr != nil {
			return nil, nil, verr
		}
		if !ok {
			bad = append(bad, Problem{Seq: seq, Kind: BadRecord, Message: fmt.Sprintf("external record of event %d does not carry a valid MAC (not written by the anchor)", seq)})
			continue
		}
		good = append(good, r)
	}
	return good, bad, nil
}

// Alarms are the changes and removals of a case's events the stream saw.
func (v Verifier) Alarms(ctx context.Context, caseID string) ([]Alarm, error) {
	names, err := v.Store.List(ctx, prefixAlarms+caseID+"/")
	if err != nil {
		return nil, err
	}
	var out []Alarm
	for _, name := range names {
		b, err := v.Store.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		var a Alarm
		if json.Unmarshal(b, &a) != nil || a.CaseID != caseID {
			continue
		}
		mac, err := hex.DecodeString(a.MAC)
		if err != nil {
			continue
		}
		if ok, err := v.MAC.Verify(ctx, a.message(), mac); err != nil {
			return nil, err
		} else if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// Verify checks a case's history as the table holds it (events and the
// case's head; found false when the case item is gone) against its own
// chain and against the external copy.
func (v Verifier) Verify(ctx context.Context, caseID string, found bool, head string, evs []history.Event) (Report, error) {
	rep := Report{CaseID: caseID, Length: len(evs), Head: head}
	add := func(seq int, kind, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}

	// The table's own chain.
	prev := history.Genesis
	for i, e := range evs {
		want := i + 1
		if e.Seq != want {
			present := false
			for _, later := range evs[i:] {
				present = present || later.Seq == want
			}
			if !present {
				add(want, Removed, "event %d is missing from the table (the next one is %d)", want, e.Seq)
			} else {
				add(want, Reordered, "event %d appears where event %d should be", e.Seq, want)
			}
			break
		}
		if history.ComputeHash(e) != e.Hash {
			add(e.Seq, Altered, "event %d: its content does not match its hash", e.Seq)
			break
		}
		if e.PrevHash != prev {
			add(e.Seq, Reordered, "event %d: its link to the previous event is broken", e.Seq)
			break
		}
		prev = e.Hash
	}
	switch {
	case !found:
		add(0, NoEvents, "the case is not in the table")
	case len(evs) == 0:
		add(0, NoEvents, "the case has no events")
	case head == "":
		add(0, HeadMismatch, "the case's head is empty but it has %d events", len(evs))
	case head != evs[len(evs)-1].Hash:
		add(0, HeadMismatch, "the case's head is not the hash of its last event %d", evs[len(evs)-1].Seq)
	}

	// The external copy.
	recs, bad, err := v.Records(ctx, caseID)
	if err != nil {
		return Report{}, err
	}
	rep.Problems = append(rep.Problems, bad...)
	rep.Records = recs
	bySeq := map[int]history.Event{}
	maxTable := 0
	for _, e := range evs {
		if _, dup := bySeq[e.Seq]; !dup {
			bySeq[e.Seq] = e
		}
		maxTable = max(maxTable, e.Seq)
	}
	anchored := map[int]bool{}
	maxAnchored := 0
	for _, r := range recs {
		anchored[r.Seq] = true
		if r.Seq > maxAnchored {
			maxAnchored, rep.AnchoredHead = r.Seq, r.Hash
		}
		e, ok := bySeq[r.Seq]
		switch {
		case !ok && r.Seq > maxTable:
			// Reported once, as truncation, below.
		case !ok:
			add(r.Seq, Removed, "event %d (%s, %s) was anchored but is missing from the table", r.Seq, r.Type, r.At)
		case e.Hash != r.Hash || e.PrevHash != r.PrevHash:
			add(r.Seq, Altered, "event %d differs from its external copy (rewritten, hashes recomputed)", r.Seq)
		}
	}
	rep.Anchored = len(recs)
	if maxAnchored > maxTable {
		rep.Truncation = &Truncation{TableLength: len(evs), AnchoredLength: maxAnchored}
		add(maxTable+1, Truncated, "the table holds %d events, the external copy %d: events from %d on were removed", len(evs), maxAnchored, maxTable+1)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	for _, e := range evs {
		if anchored[e.Seq] {
			continue
		}
		if at, err := time.Parse(time.RFC3339Nano, e.At); err == nil && now.Sub(at) < Grace {
			rep.Pending++
			continue
		}
		add(e.Seq, NotAnchored, "event %d has no external copy after %s", e.Seq, Grace)
	}

	alarms, err := v.Alarms(ctx, caseID)
	if err != nil {
		return Report{}, err
	}
	for _, a := range alarms {
		add(a.Seq, Tampering, "the table's stream saw event %d changed (%s) at %s", a.Seq, strings.ToLower(a.Change), a.SeenAt)
	}

	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if (a.Seq == 0) != (b.Seq == 0) {
			return a.Seq != 0 // problems of an event first
		}
		return a.Seq < b.Seq
	})
	rep.Valid = len(rep.Problems) == 0
	if !rep.Valid {
		rep.First = &rep.Problems[0]
	}
	return rep, nil
}
