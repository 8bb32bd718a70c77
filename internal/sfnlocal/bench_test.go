package sfnlocal

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// BenchmarkExecutions runs a 10-state workflow (8 Lambda tasks, a Choice
// and a Pass) through the API, persisted in DynamoDB Local, with several
// executions in flight, and reports executions per second and the cost of
// one state transition.
func BenchmarkExecutions(b *testing.B) {
	s := newStack(b)
	s.reg.Register("inc", handler(func(ctx context.Context, in struct{ N int }) (map[string]int, error) {
		return map[string]int{"N": in.N + 1}, nil
	}))
	var states []string
	for i := 0; i < 8; i++ {
		next := fmt.Sprintf(`"Next":"T%d"`, i+1)
		if i == 7 {
			next = `"Next":"C"`
		}
		states = append(states, fmt.Sprintf(`"T%d":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"inc","Payload.$":"$"},"OutputPath":"$.Payload",%s}`, i, next))
	}
	states = append(states, `"C":{"Type":"Choice","Choices":[{"Variable":"$.N","NumericEquals":8,"Next":"Done"}],"Default":"Done"}`,
		`"Done":{"Type":"Pass","End":true}`)
	smArn := s.create("bench", `{"StartAt":"T0","States":{`+strings.Join(states, ",")+`}}`)
	const transitions = 10
	const inFlight = 16
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, inFlight)
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if _, err := s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Input: aws.String(`{"N":0}`)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	s.idle()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	list, err := s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn), StatusFilter: sfntypes.ExecutionStatusSucceeded, MaxResults: 1000})
	if err != nil {
		b.Fatal(err)
	}
	if b.N <= 1000 && len(list.Executions) != b.N {
		b.Fatalf("%d executions succeeded, want %d", len(list.Executions), b.N)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "executions/s")
	b.ReportMetric(secs*1e6/float64(b.N*transitions), "µs/transition")
}

// countingLoop is a machine whose successful execution has exactly
// 4*iterations+4 history events: ExecutionStarted, then per iteration a
// Pass (entered, exited) and a Choice (entered, exited), then the final
// Pass (entered, exited) and ExecutionSucceeded.
func countingLoop(iterations int) string {
	return fmt.Sprintf(`{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":%d,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Pass","End":true}}}`, iterations)
}

// BenchmarkExecutionHistory reads a finished execution's whole history
// through the API (GetExecutionHistory pages of 1,000, as the SDK's
// paginator asks for them), forwards and in reverse, at 1k, 10k and 25k
// events (25k: AWS's limit, reached by an execution that succeeds with
// its 25,000th event). A linear read costs the same per event at every
// size.
func BenchmarkExecutionHistory(b *testing.B) {
	s := newStack(b)
	ctx := context.Background()
	for _, events := range []int{1000, 10000, 25000} {
		smArn := s.create(fmt.Sprintf("hist%d", events), countingLoop((events-4)/4))
		arn := s.startExec(smArn, "", `{"n":0}`)
		s.idle()
		if d := s.describe(arn); d.Status != sfntypes.ExecutionStatusSucceeded {
			b.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		for _, reverse := range []bool{false, true} {
			name := fmt.Sprintf("events=%d/forward", events)
			if reverse {
				name = fmt.Sprintf("events=%d/reverse", events)
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					n := 0
					p := sfn.NewGetExecutionHistoryPaginator(s.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: reverse, MaxResults: 1000})
					for p.HasMorePages() {
						out, err := p.NextPage(ctx)
						if err != nil {
							b.Fatal(err)
						}
						n += len(out.Events)
					}
					if n != events {
						b.Fatalf("read %d events, want %d", n, events)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/read")
			})
		}
	}
}
