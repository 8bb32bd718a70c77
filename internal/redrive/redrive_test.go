package redrive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/redrive"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/urlcanon"
	"github.com/tangkal/tangkal/internal/wiring"
)

// stepFunctions answers StartExecution as Step Functions does: a name
// used before is ExecutionAlreadyExists.
type stepFunctions struct {
	mu      sync.Mutex
	started map[string]int
}

func (s *stepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartExecution" {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException"}`)
		return
	}
	s.started[in.Name]++
	if s.started[in.Name] > 1 {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"ExecutionAlreadyExists","message":"Execution Already Exists"}`)
		return
	}
	fmt.Fprintf(w, `{"executionArn":"arn:aws:states:ap-southeast-3:000000000000:execution:tangkal-takedown:%s","startDate":1}`, in.Name)
}

// A case whose stream work was lost (no consumer ran: the records went to
// the dead-letter queue and expired) is replayed from the table: its
// workflow starts, its duplicate report is recorded, its events are
// anchored and counted; replaying it again changes nothing.
func TestRedriveReplaysMissedWorkOnceFromTheTable(t *testing.T) {
	ctx := context.Background()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "redrive")
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	sf := &stepFunctions{started: map[string]int{}}
	srv := httptest.NewServer(sf)
	defer srv.Close()
	anchors := anchor.Folder{Dir: t.TempDir()}
	d, err := wiring.Build(wiring.Settings{Table: name, StateMachineARN: "arn:aws:states:ap-southeast-3:000000000000:stateMachine:tangkal-takedown"},
		wiring.Secrets{AnchorKey: []byte(strings.Repeat("k", 32))},
		wiring.Services{DynamoDB: db, Anchor: anchors, SFN: sfn.NewFromConfig(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})})
	if err != nil {
		t.Fatal(err)
	}
	// Two reports of one ad, written with no stream consumer running.
	in := report.Intake{Table: d.Table}
	var caseID string
	for i, u := range []string{"https://m.facebook.com/groups/loker/posts/5550999/", "https://www.facebook.com/groups/loker/posts/5550999?utm_source=wa"} {
		c, err := urlcanon.Canonicalize(u)
		if err != nil {
			t.Fatal(err)
		}
		who := auth.Principal{Subject: fmt.Sprintf("ngo-%d", i), Roles: []string{auth.Reporter}}
		r, err := in.Submit(ctx, who, report.Submission{URL: u, Text: "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt"}, c, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		caseID = r.CaseID
	}

	tplPath, err := samtemplate.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(tplPath)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := redrive.FromTemplate(tpl, wiring.Handlers(d))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) < 4 {
		t.Fatalf("stream functions %d, want StartWorkflow, RecordReports, Anchor, Tally", len(fns))
	}
	r := redrive.Replayer{Table: d.Table, Functions: fns}

	state := func() (int, int, int) {
		c, err := d.Table.GetCase(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		names, err := anchors.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		sf.mu.Lock()
		defer sf.mu.Unlock()
		return c.ReportCount, len(names), len(sf.started)
	}
	for round := 1; round <= 2; round++ {
		res, err := r.Case(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			if x.Error != "" || x.Failed > 0 {
				t.Errorf("round %d: %+v", round, x)
			}
		}
		reports, anchored, started := state()
		if reports != 2 || started != 1 || anchored < 2 {
			t.Errorf("round %d: report_count %d (want 2), executions started %d (want 1), anchored records %d (want the case's events)", round, reports, started, anchored)
		}
		if sf.started[caseID] != round {
			t.Errorf("round %d: StartExecution for %s called %d times", round, caseID, sf.started[caseID])
		}
	}
	if _, err := r.Case(ctx, "c_nosuchcase"); err == nil {
		t.Error("an unknown case: no error")
	}
}
