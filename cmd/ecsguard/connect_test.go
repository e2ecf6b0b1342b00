package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// credentialEnv is every variable the SDK's credential chain reads.
var credentialEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
}

// isolate unsets the credential chain's environment for the test and
// points the shared files at empty ones: the machine's own configuration
// never takes part.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range credentialEnv {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	for k, name := range map[string]string{"AWS_CONFIG_FILE": "config", "AWS_SHARED_CREDENTIALS_FILE": "credentials"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(k, path)
	}
}

// refusedURL is the URL of a local port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// closingListener accepts connections and closes them at once, counting
// them: a server that is there but does not answer.
func closingListener(t *testing.T) (url string, accepted *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return "http://" + l.Addr().String(), accepted
}

// countAttempts counts every attempt of every call made through cfg,
// retries included: it sits after the SDK's retry middleware.
func countAttempts(cfg *aws.Config) *atomic.Int64 {
	n := &atomic.Int64{}
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("CountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	})
	return n
}

// A connection that cannot be opened (refused, a host that does not
// resolve) fails the scan at its first attempt, with a message naming
// where it tried to connect; a server that accepts and drops connections
// is still retried up to the CLI's 10 attempts.
func TestScanUnreachableEndpoint(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAUNREACHABLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "unreachable")
	refused := refusedURL(t)

	code, stdout, stderr := runScan(t, "--endpoint-url", refused, "--region", "us-east-1")
	want := "ecsguard: scan: cannot connect to " + refused + " (IAM GetAccountAuthorizationDetails): "
	if code != exitAWS || stdout != "" || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "connection refused") || strings.Contains(stderr, "attempts") {
		t.Errorf("exit %d, stdout %q, stderr %q, want exit %d and %q... connection refused", code, stdout, stderr, exitAWS, want)
	}

	closing, accepted := closingListener(t)
	for _, tc := range []struct {
		endpoint     string
		wantAttempts int64
		wantErr      string
	}{
		{refused, 1, "connection refused"},
		{"http://ecsguard-unreachable.invalid", 1, "cannot connect to http://ecsguard-unreachable.invalid"},
		{closing, 10, "exceeded maximum number of attempts, 10"},
	} {
		opts, err := parseScanFlags([]string{"--endpoint-url", tc.endpoint, "--region", "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := awsConfig(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		retryer := cfg.Retryer // its classification, with the backoff capped so that 10 attempts take a moment
		cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(retryer(), 10*time.Millisecond) }
		attempts := countAttempts(&cfg)
		_, err = scanAccount(context.Background(), cfg, opts, nil)
		if err == nil || !strings.Contains(explainAWSError(err).Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want %q", tc.endpoint, err, tc.wantErr)
		}
		if n := attempts.Load(); n != tc.wantAttempts {
			t.Errorf("%s: %d attempts, want %d", tc.endpoint, n, tc.wantAttempts)
		}
	}
	if n := accepted.Load(); n != 10 {
		t.Errorf("the closing listener accepted %d connections, want 10", n)
	}
}

// With no credentials anywhere, scan says so and how to provide them,
// without the instance metadata's errors and without calling AWS: with
// instance metadata disabled, and with it enabled but unreachable, as on
// a machine outside EC2.
func TestScanNoCredentials(t *testing.T) {
	for _, imds := range []string{"disabled", "unreachable"} {
		t.Run(imds, func(t *testing.T) {
			isolate(t)
			if imds == "disabled" {
				t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			} else {
				t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
				t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", refusedURL(t))
			}
			endpoint, accepted := closingListener(t)
			code, stdout, stderr := runScan(t, "--endpoint-url", endpoint, "--region", "us-east-1")
			if code != exitAWS || stdout != "" || !strings.HasPrefix(stderr, "ecsguard: scan: no AWS credentials found: set AWS_ACCESS_KEY_ID") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			for _, want := range []string{"--profile", "aws sso login"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q: %q", want, stderr)
				}
			}
			for _, noise := range []string{"IMDS", "ec2imds", "SDK ", "refresh cached credentials"} {
				if strings.Contains(stderr, noise) {
					t.Errorf("stderr has %q: %q", noise, stderr)
				}
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			if n := accepted.Load(); n != 0 {
				t.Errorf("%d connections to the endpoint, want none", n)
			}
		})
	}
}
