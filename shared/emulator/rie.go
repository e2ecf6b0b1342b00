package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// RIE is a function's bootstrap running under the Lambda Runtime Interface
// Emulator: the Lambda runtime API and the invoke API on 127.0.0.1, as the
// Lambda service runs a provided.al2023 function.
type RIE struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	logs lockedBuffer
}

// DefaultRIE is the emulator binary make emulator-tools extracts:
// $ECSGUARD_RIE, else .tools/rie/aws-lambda-rie at the repository root.
func DefaultRIE() string {
	if v := os.Getenv("ECSGUARD_RIE"); v != "" {
		return v
	}
	return filepath.Join(RepoRoot(), ".tools", "rie", "aws-lambda-rie")
}

// StartRIE runs bootstrap under the emulator binary rie with env (KEY=VALUE)
// as the function's environment, and returns once
// the invoke API accepts connections. The emulator starts the bootstrap on
// the first invocation, so that one pays the function's init.
func StartRIE(ctx context.Context, rie, bootstrap string, env []string) (*RIE, error) {
	for _, f := range []string{rie, bootstrap} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("runtime interface emulator: %w (run make emulator-tools)", err)
		}
	}
	// Two free ports: the invoke API, and the runtime API the bootstrap
	// polls (9001 by default, so two emulators at once would collide).
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r := &RIE{url: "http://" + addr, done: make(chan struct{})}
	r.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, bootstrap)
	// Only what Lambda would set: nothing of this machine's AWS settings
	// (profiles, keys, endpoints) leaks into the function.
	r.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TZ=UTC", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_TIMEOUT=60"}, env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.logs, &r.logs
	setProcAttr(r.cmd)
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start runtime interface emulator: %w", err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return r, nil
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("runtime interface emulator exited: %s", r.Logs())
		case <-ctx.Done():
			r.Close()
			return nil, fmt.Errorf("runtime interface emulator did not start: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// FunctionError is an invocation the function failed: Lambda's error
// payload. EventBridge retries such an invocation.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke sends one event to the function and returns its response. A
// function error is a [*FunctionError].
func (r *RIE) Invoke(ctx context.Context, event []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" {
		return nil, &fe
	}
	return body, nil
}

// Logs is what the emulator and the function wrote so far.
func (r *RIE) Logs() string { return r.logs.String() }

// Close stops the emulator and the function.
func (r *RIE) Close() error {
	select {
	case <-r.done:
		return nil
	default:
	}
	stopProcess(r.cmd)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
