package emulator_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "emulator", &moto)) }

func need(t *testing.T) {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
}

// Accounts are separate: what one test seeds, another does not see.
func TestAccountsAreIsolated(t *testing.T) {
	t.Parallel()
	need(t)
	ctx := context.Background()
	a, b := emulator.NewAccount(), emulator.NewAccount()
	sample, err := emulator.Seed(ctx, moto.Config(ctx, a))
	if err != nil {
		t.Fatal(err)
	}
	if sample.Account != a || len(sample.Roles) == 0 || len(sample.TaskDefinitions) != 5 || sample.TopicARN == "" || sample.QueueURL == "" {
		t.Fatalf("sample = %+v", sample)
	}
	_, err = iam.NewFromConfig(moto.Config(ctx, b)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-api-task")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NoSuchEntity" {
		t.Fatalf("account %s sees account %s's role: %v", b, a, err)
	}
}

// The function environment's credentials reach the account by their key
// alone, as a Lambda function's do.
func TestFunctionEnvReachesTheAccount(t *testing.T) {
	t.Parallel()
	need(t)
	ctx := context.Background()
	account := emulator.NewAccount()
	env, err := emulator.FunctionEnv(ctx, moto.URL(), account, "ecsguard-onregister")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg := emulator.Config(vars["AWS_ENDPOINT_URL"], "")
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"], SessionToken: vars["AWS_SESSION_TOKEN"]}, nil
	})
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != account {
		t.Fatalf("the function's credentials reach account %s, want %s (%s)", aws.ToString(id.Account), account, aws.ToString(id.Arn))
	}
}

// Each fault reaches the SDK as the error AWS sends, and the SDK retries
// exactly the retryable ones.
func TestFaultProxy(t *testing.T) {
	t.Parallel()
	need(t)
	ctx := context.Background()
	account := emulator.NewAccount()
	if _, err := emulator.Seed(ctx, moto.Config(ctx, account)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, op  string
		n         int
		kind      emulator.Fault
		call      func(aws.Config) error
		wantCode  string // "" for success
		wantCalls int
	}{
		{"ecs-throttled-then-served", "DescribeTaskDefinition", 2, emulator.Throttling, describe, "", 3},
		{"ecs-throttled-beyond-retries", "DescribeTaskDefinition", -1, emulator.Throttling, describe, "ThrottlingException", 3},
		{"ecs-access-denied-not-retried", "DescribeTaskDefinition", -1, emulator.AccessDenied, describe, "AccessDeniedException", 1},
		{"ecs-server-error-retried", "DescribeTaskDefinition", -1, emulator.InternalError, describe, "ServerException", 3},
		{"iam-throttled", "GetRole", -1, emulator.Throttling, getRole, "Throttling", 3},
		{"iam-access-denied", "GetRole", -1, emulator.AccessDenied, getRole, "AccessDenied", 1},
		{"iam-server-error", "GetRole", 1, emulator.InternalError, getRole, "", 2},
		{"sns-authorization-error", "Publish", -1, emulator.AccessDenied, publish(account), "AuthorizationError", 1},
		{"other-operations-untouched", "GetRolePolicy", -1, emulator.AccessDenied, getRole, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := emulator.StartFaultProxy(moto.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			p.Fail(tc.op, tc.n, tc.kind)
			err = tc.call(emulator.Config(p.URL(), account))
			var api smithy.APIError
			switch {
			case tc.wantCode == "" && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tc.wantCode != "" && (!errors.As(err, &api) || api.ErrorCode() != tc.wantCode):
				t.Fatalf("err = %v, want API error %s", err, tc.wantCode)
			}
			op := tc.op
			if tc.name == "other-operations-untouched" {
				op = "GetRole"
			}
			if got := p.Calls(op); got != tc.wantCalls {
				t.Errorf("%s reached the proxy %d times, want %d", op, got, tc.wantCalls)
			}
		})
	}
}

func describe(cfg aws.Config) error {
	_, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web-api:1")})
	return err
}

func getRole(cfg aws.Config) error {
	_, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("web-api-task")})
	return err
}

func publish(account string) func(aws.Config) error {
	return func(cfg aws.Config) error {
		_, err := sns.NewFromConfig(cfg).Publish(context.Background(), &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:" + account + ":ecsguard-findings"), Message: aws.String("m"),
		})
		return err
	}
}
