package stats

import "strconv"

// Counter names of a platform's month (STATS#PLATFORM#<p> / MONTH#<m>).
// The outcomes are named as the case statuses are.
const (
	CounterCases         = "cases"
	CounterRequests      = "requests"
	CounterRemovedInTime = "removed_in_time"
	CounterRemovedLate   = "removed_late"
	CounterNonCompliant  = "non_compliant"
	CounterOtherClosed   = "other_closed"
	CounterEscalations   = "escalations"
)

// Outcomes are a platform's compliance figures read from its monthly
// counters: what became of the takedown requests of those months. Cases
// counts the cases opened in the months (with or without a request).
type Outcomes struct {
	Cases, Requests                                       int64
	RemovedInTime, RemovedLate, NonCompliant, OtherClosed int64
	Escalations                                           int64
	// EscalationsByLevel are warnings 1, 2 and 3.
	EscalationsByLevel [3]int64
	// TimeToRemoval is the histogram of request-to-removal times.
	TimeToRemoval Histogram
}

// OutcomesOf reads one counter item's figures.
func OutcomesOf(n map[string]int64) Outcomes {
	o := Outcomes{
		Cases: n[CounterCases], Requests: n[CounterRequests],
		RemovedInTime: n[CounterRemovedInTime], RemovedLate: n[CounterRemovedLate],
		NonCompliant: n[CounterNonCompliant], OtherClosed: n[CounterOtherClosed],
		Escalations: n[CounterEscalations], TimeToRemoval: HistogramOf(n),
	}
	for l := 1; l <= 3; l++ {
		o.EscalationsByLevel[l-1] = n[AttrEscLevel+strconv.Itoa(l)]
	}
	return o
}

// Add adds p's figures to o.
func (o *Outcomes) Add(p Outcomes) {
	o.Cases += p.Cases
	o.Requests += p.Requests
	o.RemovedInTime += p.RemovedInTime
	o.RemovedLate += p.RemovedLate
	o.NonCompliant += p.NonCompliant
	o.OtherClosed += p.OtherClosed
	o.Escalations += p.Escalations
	for i, n := range p.EscalationsByLevel {
		o.EscalationsByLevel[i] += n
	}
	if o.TimeToRemoval == nil {
		o.TimeToRemoval = Histogram{}
	}
	o.TimeToRemoval.Add(p.TimeToRemoval)
}

// StillLive is how many requests have no outcome yet: the case is open
// (waiting for its deadline, in warnings, or in the manual queue).
func (o Outcomes) StillLive() int64 {
	return max(0, o.Requests-o.RemovedInTime-o.RemovedLate-o.NonCompliant-o.OtherClosed)
}
