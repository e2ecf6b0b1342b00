package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Region is the region of the sample account and of every client built here.
const Region = "us-east-1"

// SampleAccount is the account of the events-testdata corpus.
const SampleAccount = "111122223333"

// Moto is a running moto server on 127.0.0.1.
type Moto struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	tail []string // the last lines of its log, for errors
}

var running = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// StartMoto starts venv/bin/moto_server on a free port of 127.0.0.1, with
// the AWS managed policies loaded, and returns once it serves. env adds
// KEY=VALUE settings to the server's environment (MOTO_ACCOUNT_ID pins
// every request to one account, for clients that cannot send the account
// header, such as a Lambda function under the Runtime Interface Emulator).
func StartMoto(ctx context.Context, venv string, env ...string) (*Moto, error) {
	bin := filepath.Join(venv, "bin", "moto_server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("moto server not installed (%w): run make emulator-tools", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=true", "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, env...)
	setProcAttr(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto server: %w", err)
	}
	m := &Moto{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		// Keep reading: the server logs every request to stderr.
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if u := running.FindStringSubmatch(line); u != nil {
				select {
				case found <- u[1]:
				default:
				}
			}
			m.mu.Lock()
			m.tail = append(m.tail, line)
			if len(m.tail) > 20 {
				m.tail = m.tail[1:]
			}
			m.mu.Unlock()
		}
	}()
	go func() { cmd.Wait(); close(m.done) }()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	select {
	case m.url = <-found:
	case <-m.done:
		return nil, fmt.Errorf("moto server exited: %s", m.lastLines())
	case <-ctx.Done():
		m.Close()
		return nil, fmt.Errorf("moto server did not start: %w: %s", ctx.Err(), m.lastLines())
	}
	if err := m.ready(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// ready waits until the server answers HTTP.
func (m *Moto) ready(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.url+"/moto-api/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moto server at %s does not answer: %w", m.url, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (m *Moto) lastLines() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.tail, "\n")
}

// URL is the server's endpoint, e.g. http://127.0.0.1:43175.
func (m *Moto) URL() string { return m.url }

// Close stops the server.
func (m *Moto) Close() error {
	if m == nil || m.cmd.Process == nil {
		return nil
	}
	select {
	case <-m.done:
		return nil
	default:
	}
	stopProcess(m.cmd)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		return errors.New("moto server did not stop")
	}
	return nil
}

// Config returns an SDK configuration for the given account on this
// server: static credentials, the sample region, and a retryer with the
// SDK's standard classification and attempts but millisecond backoff and
// no retry quota, so tests of throttling stay fast and independent.
//
// A request that failed in transit is not retried, and none times out:
// the server may have applied it, and a create sent again creates twice
// (a RegisterTaskDefinition retried after a timeout registers a second
// revision, which then is the family's latest). The server is local, so a
// slow answer is load, never a fault: moto imports a service's modules at
// its first request, and under load the first RegisterTaskDefinition of a
// server took longer than the 30 s client timeout this once had. Faults
// come from a [FaultProxy], as answers, and those are retried.
func (m *Moto) Config(ctx context.Context, account string) aws.Config {
	return Config(m.url, account)
}

// Config is [Moto.Config] for any endpoint, such as a [FaultProxy] in front
// of the server. An empty account leaves the choice to the server.
func Config(endpoint, account string) aws.Config {
	cfg := aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(accessKey, "emulator", "")),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				o.Retryables = append([]retry.IsErrorRetryable{notInTransit}, o.Retryables...)
			})
		},
	}
	if account != "" {
		cfg.APIOptions = append(cfg.APIOptions, accountHeader(account))
	}
	return cfg
}

// notInTransit keeps a request that may have reached the server from
// being sent again: a transport error other than a failed dial (the
// server not listening: nothing was sent) is final.
var notInTransit = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	var send *smithyhttp.RequestSendError
	var op *net.OpError
	if errors.As(err, &send) && !(errors.As(err, &op) && op.Op == "dial") {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})

// accessKey is the emulator's static access key. Requests signed with it
// go to the account Config names; requests signed with credentials moto
// issued (sts:AssumeRole into another account) go to that account, as
// on AWS.
const accessKey = "AKIAEMULATOR"

// accountHeader sends every request signed with the emulator's key to
// moto's account: moto takes the x-moto-account-id header before the
// access key, so the header is set only where the key is ours. It runs
// after signing, which moto does not verify.
func accountHeader(account string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("EmulatorAccount",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok && strings.Contains(req.Header.Get("Authorization"), "Credential="+accessKey+"/") {
					req.Header.Set("x-moto-account-id", account)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// NewAccount returns a random 12-digit account id, never the sample
// account or moto's default.
func NewAccount() string {
	for {
		a := fmt.Sprintf("%012d", rand.Int64N(9e11)+1e11)
		if a != SampleAccount && a != "123456789012" {
			return a
		}
	}
}

// RepoRoot is the directory of the repository's go.mod, found from the
// working directory up.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/ecsguard/ecsguard\n") {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// DefaultVenv is the venv make emulator-tools creates: $ECSGUARD_VENV, else
// .venv at the repository root.
func DefaultVenv() string {
	if v := os.Getenv("ECSGUARD_VENV"); v != "" {
		return v
	}
	return filepath.Join(RepoRoot(), ".venv")
}
