package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/redrive"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/wiring"
)

func init() {
	register("redrive", "replay the stream work cases missed: `redrive --dlq URL [--delete]` or `redrive --cases c_1,c_2`", redriveCmd)
}

func redriveCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	cases := fs.String("cases", "", "case ids, comma-separated, or - to read one a line from standard input")
	dlq := fs.String("dlq", "", "URL of the stream dead-letter queue (StreamDLQ): its messages name the cases")
	maxMsgs := fs.Int("max", 100, "at most this many dead-letter messages")
	del := fs.Bool("delete", false, "delete each dead-letter message once its cases are replayed")
	only := fs.String("functions", "", "replay only these stream functions (logical ids, comma-separated; default: all, or the one a message names)")
	table := fs.String("table", envDefault("TANGKAL_TABLE", "tangkal"), "DynamoDB table")
	endpoint := fs.String("endpoint", "", "DynamoDB endpoint (the local stack: http://127.0.0.1:8000); default the AWS SDK's resolution")
	sfnEndpoint := fs.String("sfn-endpoint", "", "Step Functions endpoint (the local stack: http://127.0.0.1:8083); default the AWS SDK's resolution")
	smARN := fs.String("state-machine-arn", os.Getenv("TANGKAL_STATE_MACHINE_ARN"), "the takedown state machine (StateMachineArn output)")
	anchorBucket := fs.String("anchor-bucket", os.Getenv("TANGKAL_ANCHOR_BUCKET"), "the history's external copy (AnchorBucket)")
	anchorKey := fs.String("anchor-key-id", os.Getenv("TANGKAL_ANCHOR_KEY_ID"), "its KMS HMAC key (AnchorKey)")
	data := fs.String("data", "", "the local stack's data folder: its external copy and MAC key instead of S3 and KMS")
	tplPath := fs.String("template", "", "template.yaml (default: found upwards)")
	sender := fs.String("sender", os.Getenv("TANGKAL_SENDER"), "From address of reporters' feedback e-mails (SenderEmail; sent with SES); without it ReporterFeedbackFunction is left out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*cases == "") == (*dlq == "") {
		return errors.New("redrive: give --cases or --dlq (one of them)")
	}
	path := *tplPath
	if path == "" {
		var err error
		if path, err = samtemplate.Find("."); err != nil {
			return err
		}
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		return err
	}
	db, err := dynamoClient(ctx, *endpoint)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = db.Options().Region
	}
	if *sfnEndpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	st := wiring.Settings{Table: *table, StateMachineARN: *smARN, AnchorBucket: *anchorBucket, AnchorKeyID: *anchorKey, Sender: *sender}
	svc := wiring.Services{
		DynamoDB: db, SFN: sfn.NewFromConfig(cfg, func(o *sfn.Options) {
			if *sfnEndpoint != "" {
				o.BaseEndpoint = aws.String(*sfnEndpoint)
			}
		}),
		S3: s3.NewFromConfig(cfg), KMS: kms.NewFromConfig(cfg),
	}
	if *sender != "" {
		svc.Mailer = outbox.NewSES(sesv2.NewFromConfig(cfg))
	}
	var sec wiring.Secrets
	if *data != "" {
		svc.Anchor = anchor.Folder{Dir: filepath.Join(*data, "anchor")}
		if sec.AnchorKey, err = auth.LoadOrCreateKey(filepath.Join(*data, "auth", "anchor.key")); err != nil {
			return err
		}
	}
	d, err := wiring.Build(st, sec, svc)
	if err != nil {
		return err
	}
	fns, err := redrive.FromTemplate(tpl, wiring.Handlers(d))
	if err != nil {
		return err
	}
	if *sender == "" {
		// Without a mailer the feedback e-mails would be marked sent
		// and never go out.
		fns = slices.DeleteFunc(fns, func(f redrive.Function) bool { return f.ID == "ReporterFeedbackFunction" })
		fmt.Fprintln(os.Stderr, "tangkal redrive: no --sender: ReporterFeedbackFunction left out")
	}
	for i := range fns {
		if fns[i].ID == "TallyFunction" {
			// A counted event's marker expires: older events are not
			// counted again (they would be counted twice).
			fns[i].Since = time.Now().Add(-stats.MarkerTTL + time.Hour)
		}
	}
	r := redrive.Replayer{Table: d.Table, Functions: fns}
	out := json.NewEncoder(os.Stdout)
	failed := 0
	replay := func(caseID string, functions []string) bool {
		res, err := r.Case(ctx, caseID, functions...)
		if err != nil {
			out.Encode(map[string]string{"case_id": caseID, "error": err.Error()})
			failed++
			return false
		}
		ok := true
		for _, x := range res {
			out.Encode(x)
			ok = ok && x.Error == ""
		}
		if !ok {
			failed++
		}
		return ok
	}
	if *cases != "" {
		ids, err := caseList(*cases, os.Stdin)
		if err != nil {
			return err
		}
		for _, id := range ids {
			replay(id, splitComma(*only))
		}
	} else {
		q := redrive.Queue{SQS: sqs.NewFromConfig(cfg), URL: *dlq, Streams: dynamodbstreams.NewFromConfig(cfg)}
		ptrs, err := q.Receive(ctx, *maxMsgs)
		if err != nil {
			return err
		}
		ids := make([]string, len(fns))
		for i, f := range fns {
			ids[i] = f.ID
		}
		for _, p := range ptrs {
			out.Encode(p)
			if p.Error != "" {
				failed++
				continue
			}
			functions := splitComma(*only)
			if id := redrive.FunctionID(p.FunctionARN, ids); len(functions) == 0 && id != "" {
				functions = []string{id}
			}
			ok := true
			for _, c := range p.CaseIDs {
				ok = replay(c, functions) && ok
			}
			if ok && *del {
				if err := q.Delete(ctx, p); err != nil {
					return err
				}
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("redrive: %d cases or messages not replayed (see above); running it again is safe", failed)
	}
	return nil
}

// caseList reads "c_1,c_2", or one id a line from in for "-".
func caseList(s string, in io.Reader) ([]string, error) {
	if s != "-" {
		return splitComma(s), nil
	}
	var ids []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" && !strings.HasPrefix(id, "#") {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

func splitComma(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
