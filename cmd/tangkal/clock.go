package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func init() {
	register("clock", "show or advance the local Step Functions clock: clock now | clock advance 24h [--endpoint URL]", clockCmd)
}

func clockCmd(ctx context.Context, args []string) error {
	usage := errors.New("usage: tangkal clock now|advance DURATION [--endpoint http://127.0.0.1:8083]")
	if len(args) == 0 {
		return usage
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("clock", flag.ContinueOnError)
	endpoint := fs.String("endpoint", envOr("TANGKAL_SFN_ENDPOINT", "http://127.0.0.1:8083"), "local Step Functions endpoint")
	// Accept flags before or after the duration.
	var pos []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
	}
	var advance string
	switch sub {
	case "now":
		if len(pos) != 0 {
			return usage
		}
	case "advance":
		if len(pos) != 1 {
			return usage
		}
		if d, perr := time.ParseDuration(pos[0]); perr != nil || d < 0 {
			return fmt.Errorf("advance: %q is not a non-negative duration such as 90m or 24h", pos[0])
		}
		advance = pos[0]
	default:
		return usage
	}
	out, err := localClock(ctx, *endpoint, advance)
	if err != nil {
		return fmt.Errorf("clock %s: %w", sub, err)
	}
	fmt.Fprintf(os.Stdout, "%s (offset %s)\n", out.Now, out.Offset)
	return nil
}

// clockReading is the local Step Functions clock as /_local/clock reports it.
type clockReading struct {
	Now    string `json:"now"`
	Offset string `json:"offset"`
}

// localClock reads the local Step Functions clock at endpoint, or, when
// advance is a duration such as "24h", moves it forward first.
func localClock(ctx context.Context, endpoint, advance string) (clockReading, error) {
	url := strings.TrimRight(endpoint, "/") + "/_local/clock"
	var req *http.Request
	var err error
	if advance == "" {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	} else {
		body, _ := json.Marshal(map[string]string{"advance": advance})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	}
	if err != nil {
		return clockReading{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return clockReading{}, fmt.Errorf("is the local stack running at %s? %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		clockReading
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode != http.StatusOK {
		if out.Error.Message != "" {
			return clockReading{}, errors.New(out.Error.Message)
		}
		return clockReading{}, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return out.clockReading, nil
}
