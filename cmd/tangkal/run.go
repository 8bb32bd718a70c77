package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/samtemplate"
)

func init() {
	register("run", "start the local stack in the foreground (Ctrl-C stops it)", run)
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscanf(os.Getenv(name), "%d", &v); err == nil {
		return v
	}
	return def
}

// platformFlag collects --platform facebook=late:10h (repeatable).
type platformFlag map[string]platformsim.Behavior

func (f platformFlag) String() string {
	var out []string
	for id, b := range f {
		out = append(out, fmt.Sprintf("%s=%s", id, b.Mode))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (f platformFlag) Set(v string) error {
	id, b, err := platformsim.ParsePlatformBehavior(v)
	if err != nil {
		return err
	}
	f[id] = b
	return nil
}

// paramFlag collects --param Name=Value (repeatable) template parameter
// overrides.
type paramFlag map[string]string

func (f paramFlag) String() string {
	var out []string
	for k, v := range f {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (f paramFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if k = strings.TrimSpace(k); !ok || k == "" {
		return fmt.Errorf("param %q: want Name=Value, e.g. EvidenceLinkDays=7", v)
	}
	f[k] = val
	return nil
}

// setFromEnv feeds a flag the space-separated values of an environment
// variable (flags given on the command line are applied after, and win).
func setFromEnv(f flag.Value, name string) error {
	for _, v := range strings.Fields(os.Getenv(name)) {
		if err := f.Set(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfg := localstack.Config{}
	fs.StringVar(&cfg.DataDir, "data", envOr("TANGKAL_DATA", ".local"), "folder for DynamoDB data, the signing key, the outbox, evidence and the platform simulator's state")
	fs.IntVar(&cfg.APIPort, "api-port", envInt("TANGKAL_API_PORT", 3000), "HTTP API port")
	fs.IntVar(&cfg.DynamoDBPort, "dynamodb-port", envInt("TANGKAL_DYNAMODB_PORT", 8000), "DynamoDB Local port")
	fs.IntVar(&cfg.SFNPort, "sfn-port", envInt("TANGKAL_SFN_PORT", 8083), "Step Functions endpoint port")
	fs.IntVar(&cfg.OutboxPort, "outbox-port", envInt("TANGKAL_OUTBOX_PORT", 8025), "outbox (e-mail and Slack) viewer port")
	fs.IntVar(&cfg.PlatformPort, "platform-port", envInt("TANGKAL_PLATFORM_PORT", 8084), "simulated platforms port")
	fs.StringVar(&cfg.Table, "table", envOr("TANGKAL_TABLE", "tangkal"), "DynamoDB table name")
	platforms, params := platformFlag{}, paramFlag{}
	// TANGKAL_PLATFORMS was once the functions' platform configuration
	// (now TANGKAL_CONFIG_SOURCE); the simulator's behaviour has a name of
	// its own.
	if err := setFromEnv(platforms, simBehaviorEnv); err != nil {
		return err
	}
	if v := strings.TrimSpace(os.Getenv("TANGKAL_PLATFORMS")); v != "" && !strings.HasPrefix(v, "{") && os.Getenv(simBehaviorEnv) == "" {
		fmt.Fprintf(os.Stderr, "tangkal run: TANGKAL_PLATFORMS (%s) ignored: set the simulator's behaviour with %s (the functions' platform configuration comes from TANGKAL_CONFIG_SOURCE)\n", v, simBehaviorEnv)
	}
	if err := setFromEnv(params, "TANGKAL_PARAMS"); err != nil {
		return err
	}
	fs.Var(platforms, "platform", "simulated platform behaviour, repeatable: facebook=prompt|never|down|late:10h|flaky:2, or answering through the platform API: confirm|acknowledge[:10h]|ask|object|false_confirm (env "+simBehaviorEnv+", space-separated)")
	fs.Var(params, "param", "template parameter override, repeatable: EvidenceLinkDays=7 (env TANGKAL_PARAMS, space-separated)")
	verbose := fs.Bool("v", false, "log every request and step as JSON on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(params) > 0 {
		if err := checkParams(params); err != nil {
			return err
		}
		cfg.Parameters = params
	}
	if len(platforms) > 0 {
		cfg.Platforms = platforms
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(cfg.Log) // the handlers log through the default logger, as in Lambda
	st, err := localstack.Start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil { // interrupted while starting: not a failure
			fmt.Fprintln(os.Stderr, "stopped")
			return nil
		}
		return err
	}
	st.PrintReady(os.Stdout, cfg.DataDir)
	<-ctx.Done()
	// Ctrl-C (SIGINT) or SIGTERM: close every service, then say so and exit
	// 0. A second Ctrl-C while closing ends the process at once.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	fmt.Fprintln(os.Stderr, "stopping…")
	st.Close()
	fmt.Fprintln(os.Stderr, "stopped")
	return nil
}

// simBehaviorEnv holds the simulated platforms' behaviour for run, like
// --platform: space-separated platform=mode entries.
const simBehaviorEnv = "TANGKAL_SIM_BEHAVIOR"

// checkParams refuses overrides of parameters template.yaml does not have.
func checkParams(params map[string]string) error {
	path, err := samtemplate.Find(".")
	if err != nil {
		return err
	}
	t, err := samtemplate.Load(path)
	if err != nil {
		return err
	}
	for k := range params {
		if _, ok := t.Parameters[k]; !ok {
			var known []string
			for name := range t.Parameters {
				known = append(known, name)
			}
			sort.Strings(known)
			return fmt.Errorf("param %s: template.yaml has no such parameter (it has %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
