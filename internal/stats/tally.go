package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/store"
)

// MarkerTTL is how long a counted event's marker stays (a stream keeps
// records for 24 hours; a replay after that cannot happen).
const MarkerTTL = 7 * 24 * time.Hour

// MaxWatchEntities is how many of a case's entities the watchlist counts
// (a transaction holds 100 items).
const MaxWatchEntities = 80

// Tally is TallyFunction: it counts every history event once, from the
// table's stream.
type Tally struct {
	Table store.Table
	Now   func() time.Time
}

func (t Tally) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Handle counts a batch; only a record that fails is reported (with the
// later records of its case), so the stream retries those only.
func (t Tally) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return store.EachPerCase(ctx, ev.Records, func(ctx context.Context, rec events.DynamoDBEventRecord) error {
		if rec.EventName != "INSERT" {
			return nil
		}
		e, err := eventOf(rec.Change.NewImage)
		if err == nil {
			err = t.count(ctx, e, moveOf(rec.Change.NewImage))
		}
		if err != nil {
			slog.ErrorContext(ctx, "tally", "case_id", e.CaseID, "seq", e.Seq, "err", err)
		}
		return err
	}), nil
}

// update is one counter item's change.
type update struct {
	pk, sk  string
	add     map[string]int64
	set     map[string]any
	ifNew   map[string]any
	addSets map[string][]string
}

func newUpdate(pk, sk string) *update {
	return &update{pk: pk, sk: sk, add: map[string]int64{}, set: map[string]any{}, ifNew: map[string]any{}, addSets: map[string][]string{}}
}

func (u *update) item(table string) (types.TransactWriteItem, error) {
	names, values := map[string]string{}, map[string]types.AttributeValue{}
	i := 0
	ph := func(name string, v types.AttributeValue) (string, string) {
		i++
		n, p := "#n"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[n], values[p] = name, v
		return n, p
	}
	var sets, adds []string
	for k, v := range u.set {
		av, err := attr(v)
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		n, p := ph(k, av)
		sets = append(sets, n+" = "+p)
	}
	for k, v := range u.ifNew {
		av, err := attr(v)
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		n, p := ph(k, av)
		sets = append(sets, n+" = if_not_exists("+n+", "+p+")")
	}
	for k, v := range u.add {
		n, p := ph(k, &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)})
		adds = append(adds, n+" "+p)
	}
	for k, v := range u.addSets {
		n, p := ph(k, &types.AttributeValueMemberSS{Value: v})
		adds = append(adds, n+" "+p)
	}
	expr := ""
	if len(sets) > 0 {
		expr = "SET " + join(sets)
	}
	if len(adds) > 0 {
		if expr != "" {
			expr += " "
		}
		expr += "ADD " + join(adds)
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: store.Key(u.pk, u.sk),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values}}, nil
}

func join(parts []string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += ", "
		}
		s += p
	}
	return s
}

func attr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case int64:
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(x, 10)}, nil
	case int:
		return &types.AttributeValueMemberN{Value: strconv.Itoa(x)}, nil
	}
	return nil, fmt.Errorf("tally: attribute of type %T", v)
}

// Move is the status change an event made (history.AttrStatusFrom and
// AttrStatusTo on its item): From is empty for the case's first status.
type Move struct{ From, To string }

func moveOf(img map[string]events.DynamoDBAttributeValue) Move {
	return Move{From: store.ImageString(img, history.AttrStatusFrom), To: store.ImageString(img, history.AttrStatusTo)}
}

// Count counts one event (once: a second call writes nothing).
func (t Tally) Count(ctx context.Context, e history.Event) error { return t.count(ctx, e, Move{}) }

// CountMove counts one event and the status change it made.
func (t Tally) CountMove(ctx context.Context, e history.Event, m Move) error {
	return t.count(ctx, e, m)
}

func (t Tally) count(ctx context.Context, e history.Event, m Move) error {
	ups, err := t.updates(ctx, e)
	if err != nil {
		return err
	}
	if m.To != "" && m.To != m.From {
		// Cases by status: commutative increments, so the order in which
		// a case's events are counted does not matter.
		u := newUpdate(store.StatsPK(store.StatsPipeline), store.SKStatus)
		u.add[AttrStatus+m.To] = 1
		if m.From != "" {
			u.add[AttrStatus+m.From] = -1
		}
		ups = append(ups, u)
	}
	ups = mergeUpdates(ups)
	if len(ups) == 0 {
		return nil
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(t.Table.Name),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: store.CasePK(e.CaseID)}, "SK": &types.AttributeValueMemberS{Value: store.TalliedSK(e.Seq)},
			"expires_at": &types.AttributeValueMemberN{Value: strconv.FormatInt(t.now().Add(MarkerTTL).Unix(), 10)},
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}}
	for _, u := range ups {
		it, err := u.item(t.Table.Name)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	_, err = t.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if c, ok := store.Cancelled(err); ok && c.ConditionFailed(0) {
		return nil // counted before
	}
	if err != nil {
		return fmt.Errorf("tally %s event %d of case %s: %w", e.Type, e.Seq, e.CaseID, err)
	}
	return nil
}

// updates are the counters an event changes.
func (t Tally) updates(ctx context.Context, e history.Event) ([]*update, error) {
	switch e.Type {
	case history.CaseOpened, history.TakedownRequested, history.WarningSent, history.ComplianceChecked, history.CaseClosed, history.ApprovalDecided:
	default:
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339, e.At)
	if err != nil {
		return nil, fmt.Errorf("event %d of case %s: time %q: %w", e.Seq, e.CaseID, e.At, err)
	}
	if e.Type == history.CaseOpened {
		return opened(e, at)
	}
	c, err := t.Table.GetCase(ctx, e.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cohort := ""
	if ta, err := time.Parse(time.RFC3339, c.TakedownAt); err == nil {
		cohort = Month(ta)
	}
	platformMonth := func(m string) *update {
		return newUpdate(store.StatsPK(store.StatsPlatform(c.Platform)), store.MonthSK(m))
	}
	switch e.Type {
	case history.TakedownRequested:
		var d history.NoticeSentData
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if d.Level != 0 {
			return nil, nil
		}
		v, _, err := t.verified(ctx, e.CaseID)
		if err != nil {
			return nil, err
		}
		u := platformMonth(Month(at))
		u.add[CounterRequests] = 1
		pipe := newUpdate(store.StatsPK(store.StatsPipeline), store.MonthSK(Month(at)))
		if created, err := time.Parse(time.RFC3339, c.CreatedAt); err == nil {
			pipe.add[AttrReportToRequest+strconv.Itoa(Bucket(int64(at.Sub(created).Seconds())))] = 1
		}
		cat := c.Category
		if cat == "" {
			cat = "unspecified"
		}
		u.add[AttrCategory+cat] = 1
		for _, d := range Destinations(adText(c, v)) {
			u.add[AttrDestination+d] = 1
		}
		ups := []*update{u, pipe}
		for i, k := range v.Entities.Keys() {
			if i >= MaxWatchEntities {
				break
			}
			w := newUpdate(store.EntityPK(k.Kind, k.Value), store.SKWatch)
			w.add["takedown_cases"] = 1
			w.addSets["case_ids"] = []string{c.ID}
			w.addSets["platforms"] = []string{c.Platform}
			w.set["GSI3PK"], w.set["kind"], w.set["value"], w.set["last_seen"] = store.PKWatchlist, k.Kind, k.Value, e.At
			w.ifNew["first_seen"] = e.At
			ups = append(ups, w)
		}
		return ups, nil
	case history.WarningSent:
		var d history.NoticeSentData
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if cohort == "" {
			return nil, nil
		}
		u := platformMonth(cohort)
		u.add[CounterEscalations] = 1
		u.add[AttrEscLevel+strconv.Itoa(d.Level)] = 1
		return []*update{u}, nil
	case history.ComplianceChecked:
		var d history.ComplianceCheckedData
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if cohort == "" || !d.Removed || d.TimeToRemovalSeconds == nil {
			return nil, nil
		}
		u := platformMonth(cohort)
		u.add[AttrTTR+strconv.Itoa(Bucket(*d.TimeToRemovalSeconds))] = 1
		return []*update{u}, nil
	case history.ApprovalDecided:
		var d history.ApprovalDecidedData
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		// The extra review is not an agency's approval: only the
		// agencies' decisions count, each from the request that asked it.
		if d.Stage == approval.StageReview {
			return nil, nil
		}
		agency := d.Agency
		if agency == "" {
			agency = UnknownAgency
		}
		asked, err := t.firstApprovalRequest(ctx, e.CaseID, d.Agency)
		if err != nil || asked.IsZero() {
			return nil, err
		}
		u := newUpdate(store.StatsPK(store.StatsPipeline), store.MonthSK(Month(at)))
		u.add[AttrApproval+agency+"#"+strconv.Itoa(Bucket(int64(at.Sub(asked).Seconds())))] = 1
		return []*update{u}, nil
	case history.CaseClosed:
		var d history.CaseClosedData
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		var ups []*update
		if cohort != "" {
			u := platformMonth(cohort)
			switch d.Outcome {
			case store.StatusRemovedInTime, store.StatusRemovedLate, store.StatusNonCompliant:
				u.add[d.Outcome] = 1
			default:
				u.add[CounterOtherClosed] = 1
			}
			ups = append(ups, u)
		}
		if d.Outcome == store.StatusRemovedInTime || d.Outcome == store.StatusRemovedLate {
			v, _, err := t.verified(ctx, e.CaseID)
			if err != nil {
				return nil, err
			}
			a := newUpdate(store.StatsPK(store.StatsAwareness), store.MonthSK(Month(at)))
			a.add["removed"] = 1
			a.add[AttrPlatform+c.Platform] = 1
			for _, d := range Destinations(adText(c, v)) {
				a.add[AttrDestination+d] = 1
			}
			for _, ind := range v.Indicators {
				if ind.Kind != risk.KindRisk {
					continue
				}
				a.add[AttrIndicator+ind.ID] = 1
				if q := Redact(ind.Match); q != "" {
					a.ifNew[AttrLure+ind.ID] = q
				}
			}
			ups = append(ups, a)
		}
		return ups, nil
	}
	return nil, nil
}

// opened counts a new case in its platform's month (the event names the
// platform, so the case is not read).
func opened(e history.Event, at time.Time) ([]*update, error) {
	var d history.CaseOpenedData
	if err := e.Decode(&d); err != nil {
		return nil, err
	}
	if d.Platform == "" {
		return nil, nil
	}
	u := newUpdate(store.StatsPK(store.StatsPlatform(d.Platform)), store.MonthSK(Month(at)))
	u.add[CounterCases] = 1
	return []*update{u}, nil
}

// firstApprovalRequest is when agency was first asked to decide on the
// case (the first request of the agencies, not of the extra review, that
// names it), zero if never.
func (t Tally) firstApprovalRequest(ctx context.Context, caseID, agency string) (time.Time, error) {
	evs, err := history.Log{Table: t.Table}.List(ctx, caseID, 0, 0)
	if err != nil {
		return time.Time{}, err
	}
	for _, e := range evs {
		if e.Type != history.ApprovalRequested {
			continue
		}
		var d history.ApprovalRequestedData
		if err := e.Decode(&d); err != nil {
			return time.Time{}, err
		}
		if d.Stage == approval.StageReview || (agency != "" && len(d.Agencies) > 0 && !slices.Contains(d.Agencies, agency)) {
			continue
		}
		at, err := time.Parse(time.RFC3339, e.At)
		if err != nil {
			return time.Time{}, fmt.Errorf("event %d of case %s: time %q: %w", e.Seq, caseID, e.At, err)
		}
		return at, nil
	}
	return time.Time{}, nil
}

// mergeUpdates joins the changes of one item (a transaction may name an
// item once).
func mergeUpdates(ups []*update) []*update {
	var out []*update
	byKey := map[string]*update{}
	for _, u := range ups {
		k := u.pk + "\x00" + u.sk
		m, ok := byKey[k]
		if !ok {
			byKey[k] = u
			out = append(out, u)
			continue
		}
		for a, n := range u.add {
			m.add[a] += n
		}
		for a, v := range u.set {
			m.set[a] = v
		}
		for a, v := range u.ifNew {
			m.ifNew[a] = v
		}
		for a, v := range u.addSets {
			m.addSets[a] = append(m.addSets[a], v...)
		}
	}
	return out
}

// verified is the case's last verification (a Query of its own events).
func (t Tally) verified(ctx context.Context, caseID string) (history.VerifiedData, bool, error) {
	evs, err := history.Log{Table: t.Table}.List(ctx, caseID, 0, 0)
	if err != nil {
		return history.VerifiedData{}, false, err
	}
	return history.LastVerified(evs)
}

func adText(c *store.Case, v history.VerifiedData) string {
	s := c.Text + "\n" + v.Evidence.Title + "\n" + v.Evidence.Excerpt
	for _, ind := range v.Indicators {
		s += "\n" + ind.Match
	}
	return s
}

// eventOf reads a stream image of an event item.
func eventOf(img map[string]events.DynamoDBAttributeValue) (history.Event, error) {
	e, err := history.FromStreamImage(img)
	if err != nil {
		return e, fmt.Errorf("tally: %w", err)
	}
	return e, nil
}
