package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/smithy-go"
)

// noDialRetry makes a connection that cannot be opened (refused, an
// unknown or unresolvable host, a dial timeout, a proxy that cannot be
// reached) final. The SDK's standard classification retries such errors
// ("net.OpErr types that are dialing errors",
// https://pkg.go.dev/github.com/aws/aws-sdk-go-v2/aws/retry), which with
// the CLI's 10 attempts and backoff of up to 20 s
// (https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/retries-timeouts)
// keeps a user with a wrong --endpoint-url or no network waiting for
// minutes. A connection that was opened and then failed (reset, closed)
// is still retried, as are throttling and 5xx. Only the CLI uses it: the
// Lambda functions keep the SDK's classification.
var noDialRetry = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	if dialError(err) != nil {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})

// dialError is the failure to open a connection within err, or nil.
func dialError(err error) *net.OpError {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return op
	}
	return nil
}

// explainAWSError turns a connection that could not be opened into a
// message naming where the CLI tried to connect; other errors are
// returned as they are.
func explainAWSError(err error) error {
	op := dialError(err)
	if op == nil {
		return err
	}
	where := "AWS"
	var u *url.Error
	if errors.As(err, &u) {
		if p, perr := url.Parse(u.URL); perr == nil {
			where = p.Scheme + "://" + p.Host
		}
	}
	var call *smithy.OperationError
	if errors.As(err, &call) {
		where += " (" + call.ServiceID + " " + call.OperationName + ")"
	}
	return fmt.Errorf("cannot connect to %s: %w; check --endpoint-url, the network and any proxy (HTTPS_PROXY)", where, op)
}

// checkCredentials resolves the credentials once, before any call, so
// that a machine without any says so plainly instead of failing each
// call with the last provider's error. When nothing but the EC2 instance
// role was left to try, the SDK found no credentials anywhere
// (https://docs.aws.amazon.com/sdk-for-go/v2/developer-guide/configure-gosdk.html):
// the instance metadata error says nothing useful to a user who is not
// on EC2. A configured source that fails (an expired SSO session, a role
// that cannot be assumed) keeps its own error. The credentials are
// cached in cfg, so the calls that follow do not fetch them again.
func checkCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return errors.New(noCredentials)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if cache, ok := cfg.Credentials.(*aws.CredentialsCache); ok && cache.IsCredentialsProvider(&ec2rolecreds.Provider{}) {
			return errors.New(noCredentials)
		}
		return fmt.Errorf("AWS credentials: %w", err)
	}
	return nil
}

const noCredentials = "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
	"(and AWS_SESSION_TOKEN for temporary ones), give --profile NAME (or AWS_PROFILE) with a profile of " +
	"~/.aws/config or ~/.aws/credentials, or for IAM Identity Center run `aws sso login --profile NAME` first"
