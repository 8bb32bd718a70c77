package report

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// IdempotencyTTL is how long a stored answer is replayed for a repeated key.
const IdempotencyTTL = 24 * time.Hour

// Receipt is the answer to a submission (202).
type Receipt struct {
	CaseID    string `json:"case_id"`
	ReportID  string `json:"report_id"`
	Duplicate bool   `json:"duplicate"`
	Status    string `json:"status"`
	// Warnings say what intake changed in the report (see Warning).
	Warnings []Warning `json:"warnings,omitempty"`
	// Reopens: the ad's earlier case, closed as removed; this report of
	// the ad opened a new case for it.
	Reopens string `json:"reopens,omitempty"`
}

// Intake records reports.
type Intake struct {
	Table store.Table
	Now   func() time.Time
	// NewID makes ids (default ident.New).
	NewID func(prefix string, now time.Time) string
	// PseudonymKey keys reporters' pseudonyms (Pseudonym).
	PseudonymKey []byte
	// ContactRetention is how long the name and contact a reporter gives
	// are kept (DynamoDB TTL); 0 means DefaultContactRetention.
	ContactRetention time.Duration
	// Claims remembers the claims read and made (nil: every report reads
	// its URL's claim).
	Claims *ClaimCache
}

// DefaultContactRetention is how long reporters' names and contacts are
// kept unless configured (template parameter ReporterContactRetentionDays).
const DefaultContactRetention = 90 * 24 * time.Hour

// ContactRetentionEnv names the variable holding the retention in days
// (template parameter ReporterContactRetentionDays).
const ContactRetentionEnv = "TANGKAL_CONTACT_RETENTION_DAYS"

// RetentionDays reads a retention in whole days (empty: the default).
func RetentionDays(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultContactRetention, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("reporter contact retention %q: want a whole number of days from 1 to 3650", s)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func (in Intake) contactRetention() time.Duration {
	if in.ContactRetention > 0 {
		return in.ContactRetention
	}
	return DefaultContactRetention
}

// reporterReport is MYREPORTS#<pseudonym>/REPORT#<received>#<id>: one report
// of a reporter, however sent (the console's "my reports", and the cases a
// resolution of the pseudonym names). No name or contact.
type reporterReport struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	CaseID      string `dynamodbav:"case_id"`
	ReportID    string `dynamodbav:"report_id"`
	URL         string `dynamodbav:"url"`
	ReceivedAt  string `dynamodbav:"received_at"`
	Duplicate   bool   `dynamodbav:"duplicate"`
	ReporterSub string `dynamodbav:"reporter_sub"`
}

// contactItem is MYREPORTS#<pseudonym>/CONTACT#<report id>: the name and
// contact given with one report, apart from the case, gone after the
// retention (expires_at, the table's TTL attribute).
type contactItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	CaseID     string `dynamodbav:"case_id"`
	ReportID   string `dynamodbav:"report_id"`
	Name       string `dynamodbav:"name,omitempty"`
	Contact    string `dynamodbav:"contact,omitempty"`
	ReceivedAt string `dynamodbav:"received_at"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

// reporterItems are the writes that keep a report under its reporter's
// pseudonym: the report, and the name and contact if any were given.
// The public channel keeps nothing under a reporter: its reports have no
// account, no name and no contact (publicreport), by design.
func (in Intake) reporterItems(rep reportItem, s Submission, now time.Time) ([]types.TransactWriteItem, error) {
	if rep.Source == SourcePublic {
		return nil, nil
	}
	pk := store.MyReportsPK(rep.Pseudonym)
	out := []any{reporterReport{PK: pk, SK: store.ReporterReportSK(now, rep.ReportID), CaseID: rep.CaseID, ReportID: rep.ReportID,
		URL: rep.URL, ReceivedAt: rep.ReceivedAt, Duplicate: rep.Duplicate, ReporterSub: rep.ReporterSub}}
	if r := s.Reporter; r != nil && (r.Name != "" || r.Contact != "") {
		out = append(out, contactItem{PK: pk, SK: store.ContactSK(rep.ReportID), CaseID: rep.CaseID, ReportID: rep.ReportID,
			Name: r.Name, Contact: r.Contact, ReceivedAt: rep.ReceivedAt, ExpiresAt: now.Add(in.contactRetention()).Unix()})
	}
	var items []types.TransactWriteItem
	for _, v := range out {
		p, err := in.put(v)
		if err != nil {
			return nil, err
		}
		items = append(items, p)
	}
	return items, nil
}

func (in Intake) newID(prefix string, now time.Time) string {
	if in.NewID != nil {
		return in.NewID(prefix, now)
	}
	return ident.New(prefix, now)
}

func (in Intake) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// Item shapes.
type claimItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	CaseID string `dynamodbav:"case_id"`
	URL    string `dynamodbav:"canonical_url"`
}

type reportItem struct {
	PK           string     `dynamodbav:"PK"`
	SK           string     `dynamodbav:"SK"`
	ReportID     string     `dynamodbav:"report_id"`
	CaseID       string     `dynamodbav:"case_id"`
	URL          string     `dynamodbav:"url"`
	Platform     string     `dynamodbav:"platform,omitempty"`
	Text         string     `dynamodbav:"text,omitempty"`
	Category     string     `dynamodbav:"category,omitempty"`
	Notes        string     `dynamodbav:"notes,omitempty"`
	ReporterSub  string     `dynamodbav:"reporter_sub"`
	ObservedAt   *time.Time `dynamodbav:"observed_at,omitempty"`
	ReceivedAt   string     `dynamodbav:"received_at"`
	Duplicate    bool       `dynamodbav:"duplicate"`
	Pseudonym    string     `dynamodbav:"reporter_pseudonym"`
	Organization string     `dynamodbav:"organization,omitempty"`
	Trusted      bool       `dynamodbav:"trusted_flagger,omitempty"`
	Source       string     `dynamodbav:"source,omitempty"`
}

// Origin is what the intake knows of a report besides its body: whether a
// trusted flagger sent it, or the public channel.
type Origin struct {
	Trusted bool
	// Source is SourcePublic for the public channel.
	Source string
	// ExtraReview asks for a further review before an approval request.
	ExtraReview bool
	// Gate, when set, is called before the first write: a refusal (e.g.
	// the rate limit, checked while the intake reads) writes nothing, and
	// trusted true makes the report a trusted flagger's (the reporter's
	// profile, read while the intake reads).
	Gate func() (trusted bool, err error)
}

// SourcePublic marks reports and cases from the public channel.
const SourcePublic = "public"

type idemItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	BodyHash  string `dynamodbav:"body_hash"`
	Receipt   string `dynamodbav:"receipt"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// Pseudonym is how auditors see a reporter: HMAC-SHA256 of the reporter's
// subject under the pseudonym key, so it is stable per reporter, and no one
// without the key can link it to a guessed name (an admin resolves one
// with a stated reason). Without a key (tests) it is an unkeyed hash.
func Pseudonym(key []byte, sub string) string {
	if len(key) == 0 {
		sum := sha256.Sum256([]byte("tangkal-reporter:" + sub))
		return "reporter-" + hex.EncodeToString(sum[:])[:12]
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tangkal reporter pseudonym v1\n" + sub))
	return "rp-" + hex.EncodeToString(m.Sum(nil))[:20]
}

func claimPK(c urlcanon.Canonical) string { return store.ClaimPK(urlcanon.Key(c.URL)) }

func idemKey(sub, key string) string {
	sum := sha256.Sum256([]byte(sub + "\x00" + key))
	return store.IdemPK(hex.EncodeToString(sum[:]))
}

// Submit records one report of an ad. The first report of a canonical URL
// opens a case (claim, case, report and first event in one transaction);
// later ones join it. With an idempotency key, a repeated request returns
// the first answer and writes nothing.
func (in Intake) Submit(ctx context.Context, who auth.Principal, s Submission, c urlcanon.Canonical, body []byte, key string) (Receipt, error) {
	return in.SubmitFrom(ctx, who, Origin{}, s, c, body, key)
}

// SubmitFrom is Submit for a report of the given origin: a trusted
// flagger's, or the public channel's, recorded on the report and on a case
// it opens.
func (in Intake) SubmitFrom(ctx context.Context, who auth.Principal, o Origin, s Submission, c urlcanon.Canonical, body []byte, key string) (Receipt, error) {
	now := in.now()
	var idem *idemItem
	if key != "" {
		bh := sha256.Sum256(body)
		idem = &idemItem{PK: idemKey(who.Subject, key), SK: store.SKIdem, BodyHash: hex.EncodeToString(bh[:]), ExpiresAt: now.Add(IdempotencyTTL).Unix()}
		if r, ok, err := in.replay(ctx, idem); err != nil || ok {
			return r, err
		}
	}
	platform := c.Platform
	if platform == "website" && s.Platform != "" {
		platform = s.Platform
	}
	caseID := in.newID("c_", now)
	reportID := in.newID("r_", now)
	rep := reportItem{
		PK: store.CasePK(caseID), SK: store.ReportSK(reportID), ReportID: reportID, CaseID: caseID,
		URL: s.URL, Platform: platform, Text: s.Text, Category: s.Category, Notes: s.Notes,
		ReporterSub: who.Subject, ObservedAt: s.ObservedAt, ReceivedAt: store.FormatTime(now), Pseudonym: Pseudonym(in.PseudonymKey, who.Subject),
		Trusted: o.Trusted, Source: o.Source,
	}
	if s.Reporter != nil {
		rep.Organization = s.Reporter.Organization
	}
	receipt := Receipt{CaseID: caseID, ReportID: reportID, Status: store.StatusReceived, Warnings: s.Warnings()}
	// Most reports of a known ad are duplicates: look for the case first.
	// Otherwise open one; two requests that collide while opening both
	// retry, and one opens while the other joins.
	for attempt := 0; ; attempt++ {
		// A remembered claim is tried first; a retry reads the table.
		caseID, err := in.claimedCase(ctx, c, attempt == 0)
		reopens := ""
		if o.Gate != nil && (err == nil || errors.Is(err, errNoClaim)) {
			trusted, gerr := o.Gate()
			if gerr != nil {
				return Receipt{}, gerr
			}
			if trusted {
				o.Trusted, rep.Trusted = true, true
			}
			o.Gate = nil
		}
		switch {
		case err == nil:
			r, err := in.join(ctx, now, caseID, s, rep, idem, receipt.Warnings)
			if !errors.Is(err, errRemoved) {
				return r, err
			}
			// The ad's case closed as removed and the ad is reported again:
			// a new case (and workflow run) for it, linked to the old one.
			// Verification checks whether it is live again.
			reopens = caseID
		case !errors.Is(err, errNoClaim):
			return Receipt{}, err
		}
		receipt.Reopens = reopens
		err = in.open(ctx, now, c, platform, s, rep, receipt, idem, o)
		switch {
		case err == nil:
			in.Claims.keep(claimOf, c.URL, receipt.CaseID)
			return receipt, nil
		case errors.Is(err, errIdemRace):
			return in.replayAfterRace(ctx, idem)
		case !errors.Is(err, errClaimed) && !errors.Is(err, errConflict):
			return Receipt{}, err
		}
		if attempt >= 100 {
			return Receipt{}, fmt.Errorf("open case for %s: too much contention", c.URL)
		}
		select {
		case <-ctx.Done():
			return Receipt{}, ctx.Err()
		case <-time.After(time.Duration(1+rand.IntN(5*(attempt+1))) * time.Millisecond):
		}
	}
}

var (
	errClaimed  = errors.New("url already claimed")
	errIdemRace = errors.New("idempotency key written concurrently")
	errConflict = errors.New("concurrent transaction on the same items")
	errNoClaim  = errors.New("url not claimed")
	errRemoved  = errors.New("the case closed as removed")
)

// removedStatuses close a case because the ad was taken down.
var removedStatuses = []string{store.StatusRemovedInTime, store.StatusRemovedLate}

func (in Intake) open(ctx context.Context, now time.Time, c urlcanon.Canonical, platform string, s Submission, rep reportItem, receipt Receipt, idem *idemItem, o Origin) error {
	caseID := receipt.CaseID
	ev, err := history.New(caseID, 1, history.Genesis, history.CaseOpened, "reporter:"+rep.Pseudonym, now, history.CaseOpenedData{
		ReportID: rep.ReportID, URL: s.URL, CanonicalURL: c.URL, Platform: platform, Reopens: receipt.Reopens,
	})
	if err != nil {
		return err
	}
	cs := store.Case{
		PK: store.CasePK(caseID), SK: store.SKMeta, ID: caseID, URL: s.URL, CanonicalURL: c.URL, Platform: platform,
		Status: store.StatusReceived, Category: s.Category, Text: s.Text, ReportCount: 1,
		CreatedAt: store.FormatTime(now), UpdatedAt: store.FormatTime(now), EventSeq: 1, LastHash: ev.Hash,
		GSI1PK: store.StatusKey(store.StatusReceived), GSI1SK: store.TimeKey(now, caseID),
		GSI2PK: store.PlatformKey(platform), GSI2SK: store.TimeKey(now, caseID), Reopens: receipt.Reopens,
		TrustedFlagger: o.Trusted, Source: o.Source, ExtraReview: o.ExtraReview,
		GSI4PK: store.StatusPlatformKey(store.StatusReceived, platform),
	}
	items := []types.TransactWriteItem{}
	for _, v := range []any{claimItem{PK: claimPK(c), SK: store.SKClaim, CaseID: caseID, URL: c.URL}, cs, rep} {
		p, err := in.put(v)
		if err != nil {
			return err
		}
		items = append(items, p)
	}
	if receipt.Reopens != "" {
		// Take the claim over from the removed case, unless another report
		// already did (then this one joins the new case).
		items[0].Put.ConditionExpression = aws.String("case_id = :old")
		items[0].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":old": &types.AttributeValueMemberS{Value: receipt.Reopens}}
	}
	evPut, err := history.Put(in.Table.Name, ev)
	if err != nil {
		return err
	}
	evPut.Put.Item[history.AttrStatusTo] = &types.AttributeValueMemberS{Value: store.StatusReceived}
	items = append(items, evPut)
	mine, err := in.reporterItems(rep, s, now)
	if err != nil {
		return err
	}
	items = append(items, mine...)
	items = append(items, store.FacetPut(in.Table.Name, caseID, store.FacetAll, "", now))
	if s.Category != "" {
		items = append(items, store.FacetPut(in.Table.Name, caseID, store.FacetCategory, s.Category, now))
	}
	if idem != nil {
		p, err := in.idemPut(idem, receipt)
		if err != nil {
			return err
		}
		items = append(items, p)
	}
	_, err = in.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	// Items: the claim, the case, the report, the event, the reporter's
	// items, the case's facets, the idempotency record (last).
	if cancel, ok := store.Cancelled(err); ok {
		switch {
		case cancel.ConditionFailed(0):
			return errClaimed
		case idem != nil && cancel.ConditionFailed(len(items)-1):
			return errIdemRace
		case cancel.Conflict():
			return errConflict
		}
	}
	return fmt.Errorf("open case for %s: %w", c.URL, err)
}

// join records a report of an ad that already has a case. It writes only
// items of its own (the report, its idempotency record) with a check that
// the case exists, so any number of concurrent reports of one ad never
// contend; the case's history and report count follow from the table's
// stream (package workflow, RecordReports), in order, without losing one.
func (in Intake) join(ctx context.Context, now time.Time, caseID string, s Submission, rep reportItem, idem *idemItem, warnings []Warning) (Receipt, error) {
	rep.PK, rep.CaseID, rep.Duplicate = store.CasePK(caseID), caseID, true
	receipt := Receipt{CaseID: caseID, ReportID: rep.ReportID, Duplicate: true, Warnings: warnings}
	type answer struct {
		status string
		err    error
	}
	// The receipt names the case's status: remembered for a second, or
	// read while the report is written.
	statusCh := make(chan answer, 1)
	if st, ok := in.Claims.recall(statusOf, caseID); ok {
		statusCh <- answer{st, nil}
	} else {
		go func() {
			st, err := in.status(ctx, caseID)
			if err == nil {
				in.Claims.keep(statusOf, caseID, st)
			}
			statusCh <- answer{st, err}
		}()
	}
	if idem != nil { // the stored answer must hold the status
		a := <-statusCh
		if a.err != nil {
			return Receipt{}, a.err
		}
		receipt.Status = a.status
	}
	repPut, err := in.put(rep)
	if err != nil {
		return Receipt{}, err
	}
	// The case must exist and not be closed as removed (then the ad is
	// reported again after its takedown: see Submit).
	items := []types.TransactWriteItem{repPut, {ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(in.Table.Name), Key: store.Key(store.CasePK(caseID), store.SKMeta),
		ConditionExpression:      aws.String("attribute_exists(PK) AND NOT (#s IN (:rit, :rl))"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rit": &types.AttributeValueMemberS{Value: removedStatuses[0]},
			":rl":  &types.AttributeValueMemberS{Value: removedStatuses[1]},
		},
	}}}
	if idem != nil {
		p, err := in.idemPut(idem, receipt)
		if err != nil {
			return Receipt{}, err
		}
		items = append(items, p)
	}
	mine, err := in.reporterItems(rep, s, now)
	if err != nil {
		return Receipt{}, err
	}
	items = append(items, mine...)
	// The case check meets the stream's and the workflow's appends to the
	// case: a conflict with one of them is retried (nothing was written).
	for attempt := 0; ; attempt++ {
		_, err = in.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		cancel, ok := store.Cancelled(err)
		if !ok || !cancel.Conflict() || cancel.ConditionFailedAfter(0) || attempt >= 20 {
			break
		}
		select {
		case <-ctx.Done():
			return Receipt{}, ctx.Err()
		case <-time.After(time.Duration(1+rand.IntN(5*(attempt+1))) * time.Millisecond):
		}
	}
	// Items: the report, the case check, the idempotency record, then the
	// reporter's items.
	if cancel, ok := store.Cancelled(err); ok && idem != nil && cancel.ConditionFailed(2) {
		return in.replayAfterRace(ctx, idem)
	}
	if cancel, ok := store.Cancelled(err); ok && cancel.ConditionFailed(1) {
		if st, serr := in.status(ctx, caseID); serr == nil && slices.Contains(removedStatuses, st) {
			return Receipt{}, errRemoved
		}
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("add report to case %s: %w", caseID, err)
	}
	if idem == nil {
		a := <-statusCh
		if a.err != nil {
			return Receipt{}, a.err
		}
		receipt.Status = a.status
	}
	return receipt, nil
}

// status reads a case's status alone.
func (in Intake) status(ctx context.Context, caseID string) (string, error) {
	out, err := in.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(in.Table.Name), Key: store.Key(store.CasePK(caseID), store.SKMeta),
		ProjectionExpression: aws.String("#s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
	})
	if err != nil {
		return "", fmt.Errorf("read status of case %s: %w", caseID, err)
	}
	if v, ok := out.Item["status"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return store.StatusReceived, nil
}

func (in Intake) claimedCase(ctx context.Context, c urlcanon.Canonical, remembered bool) (string, error) {
	if id, ok := in.Claims.recall(claimOf, c.URL); ok && remembered {
		return id, nil
	}
	out, err := in.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(in.Table.Name), Key: store.Key(claimPK(c), store.SKClaim), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("read claim of %s: %w", c.URL, err)
	}
	if out.Item == nil {
		return "", errNoClaim
	}
	var cl claimItem
	if err := attributevalue.UnmarshalMap(out.Item, &cl); err != nil {
		return "", fmt.Errorf("decode claim of %s: %w", c.URL, err)
	}
	in.Claims.keep(claimOf, c.URL, cl.CaseID)
	return cl.CaseID, nil
}

func (in Intake) put(v any) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode item: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(in.Table.Name), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, nil
}

func (in Intake) idemPut(idem *idemItem, r Receipt) (types.TransactWriteItem, error) {
	b, _ := json.Marshal(r)
	it := *idem
	it.Receipt = string(b)
	return in.put(it)
}

// replay returns the stored answer for an idempotency key, if any.
func (in Intake) replay(ctx context.Context, idem *idemItem) (Receipt, bool, error) {
	out, err := in.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(in.Table.Name), Key: store.Key(idem.PK, store.SKIdem), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Receipt{}, false, fmt.Errorf("read idempotency key: %w", err)
	}
	if out.Item == nil {
		return Receipt{}, false, nil
	}
	var stored idemItem
	if err := attributevalue.UnmarshalMap(out.Item, &stored); err != nil {
		return Receipt{}, false, fmt.Errorf("decode idempotency record: %w", err)
	}
	if stored.ExpiresAt < in.now().Unix() {
		return Receipt{}, false, nil
	}
	if stored.BodyHash != idem.BodyHash {
		return Receipt{}, false, api.Errorf(422, "idempotency_key_reused", "Idempotency-Key", "this Idempotency-Key was used for a different request")
	}
	var r Receipt
	if err := json.Unmarshal([]byte(stored.Receipt), &r); err != nil {
		return Receipt{}, false, fmt.Errorf("decode stored receipt: %w", err)
	}
	return r, true, nil
}

func (in Intake) replayAfterRace(ctx context.Context, idem *idemItem) (Receipt, error) {
	r, ok, err := in.replay(ctx, idem)
	if err != nil {
		return Receipt{}, err
	}
	if !ok {
		return Receipt{}, api.Errorf(409, "conflict", "Idempotency-Key", "a request with this Idempotency-Key is in progress; retry")
	}
	return r, nil
}
