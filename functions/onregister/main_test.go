package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "onregister")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	buildOnce = sync.OnceValues(func() (string, error) { return emulator.BuildBootstrap(context.Background(), ".", dir) })
	return emulator.RunTests(m, "onregister", &moto)
}

// buildOnce builds the bootstrap under test, once for all tests.
var buildOnce func() (string, error)

// function is the real bootstrap running under the Runtime Interface
// Emulator against a freshly seeded account.
type function struct {
	t         testing.TB
	rie       *emulator.RIE
	sample    emulator.Sample
	cfg       aws.Config
	bootstrap string
	env       []string // the function's environment
}

func start(t testing.TB, extraEnv ...string) *function {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	account := emulator.NewAccount()
	cfg := moto.Config(ctx, account)
	sample, err := emulator.Seed(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	env, err := emulator.FunctionEnv(ctx, moto.URL(), account, "ecsguard-onregister")
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "TOPIC_ARN="+sample.TopicARN, "IDEMPOTENCY_TABLE="+sample.LedgerTable, "WATCHED_ACCOUNTS="+sample.Account,
		"ECSGUARD_ROLE_ARNS="+sample.Roles["ecsguard-onregister"])
	env = append(env, extraEnv...)
	rie, err := emulator.StartRIE(ctx, emulator.DefaultRIE(), bootstrap, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rie.Close()
		if t.Failed() {
			t.Log(rie.Logs())
		}
	})
	return &function{t: t, rie: rie, sample: sample, cfg: cfg, bootstrap: bootstrap, env: env}
}

// eventBytes reads an events-testdata file, moved into the test's account.
func (f *function) eventBytes(file string) []byte {
	f.t.Helper()
	b, err := fs.ReadFile(eventstestdata.FS, file)
	if err != nil {
		f.t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), emulator.SampleAccount, f.sample.Account))
}

func (f *function) invoke(file string) (guard.Outcome, error) {
	f.t.Helper()
	resp, err := f.rie.Invoke(context.Background(), f.eventBytes(file))
	if err != nil {
		return guard.Outcome{}, err
	}
	var out guard.Outcome
	if err := json.Unmarshal(resp, &out); err != nil {
		f.t.Fatalf("response %s: %v", resp, err)
	}
	return out, nil
}

func (f *function) status(family string) string {
	f.t.Helper()
	out, err := ecs.NewFromConfig(f.cfg).DescribeTaskDefinition(context.Background(),
		&ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(f.sample.TaskDefinitions[family])})
	if err != nil {
		f.t.Fatal(err)
	}
	return string(out.TaskDefinition.Status)
}

func (f *function) alerts() int {
	f.t.Helper()
	out, err := sqs.NewFromConfig(f.cfg).ReceiveMessage(context.Background(),
		&sqs.ReceiveMessageInput{QueueUrl: aws.String(f.sample.QueueURL), MaxNumberOfMessages: 10})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(out.Messages)
}

// TestBootstrapEnforces drives the built bootstrap through the Lambda
// runtime API: drops, the loop guard, a clean revision, and a bad one
// deregistered, with its alert read back from the subscribed queue.
func TestBootstrapEnforces(t *testing.T) {
	t.Parallel()
	f := start(t, "MODE=enforce")
	tests := []struct {
		file, result, family, status, action string
		alerts                               int
	}{
		{"malformed-truncated.json", guard.ResultDropped, "", "", "", 0},
		{"ecs-runtask-ignored.json", guard.ResultDropped, "", "", "", 0},
		{"ecs-registertaskdefinition-by-ecsguard.json", guard.ResultIgnored, "", "", "", 0},
		{"ecs-registertaskdefinition-fargate-compliant.json", guard.ResultEvaluated, "web-api", "ACTIVE", "", 0},
		{"ecs-registertaskdefinition-admin-task-role.json", guard.ResultEvaluated, "reports", "INACTIVE", "deregistered", 1},
	}
	for _, tc := range tests {
		out, err := f.invoke(tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if out.Result != tc.result || out.Action.Result.String() != tc.action {
			t.Errorf("%s: outcome %+v, want result %s action %q", tc.file, out, tc.result, tc.action)
		}
		if tc.family != "" {
			if got := f.status(tc.family); got != tc.status {
				t.Errorf("%s: %s is %s, want %s", tc.file, tc.family, got, tc.status)
			}
		}
		if got := f.alerts(); got != tc.alerts {
			t.Errorf("%s: %d alerts, want %d", tc.file, got, tc.alerts)
		}
	}
	if logs := f.rie.Logs(); !strings.Contains(logs, `"awsCalls"`) || !strings.Contains(logs, `"function":"onregister"`) {
		t.Errorf("the function's log lines lack the outcome and its AWS calls:\n%s", logs)
	}
}

// TestBootstrapFailsWhenAlertCannotBeSent: a publish that fails fails the
// invocation, so EventBridge retries it and its dead-letter queue keeps it.
func TestBootstrapFailsWhenAlertCannotBeSent(t *testing.T) {
	t.Parallel()
	proxy, err := emulator.StartFaultProxy(mustMoto(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxy.Fail("Publish", -1, emulator.AccessDenied)
	f := start(t, "MODE=alert", "AWS_ENDPOINT_URL_SNS="+proxy.URL())
	_, err = f.invoke("ecs-registertaskdefinition-shared-role.json")
	var fe *emulator.FunctionError
	if !errors.As(err, &fe) || fe.Type != "RetryableError" || !strings.Contains(fe.Message, "publish alert") {
		t.Fatalf("err = %v, want the invocation to fail with RetryableError", err)
	}
	if proxy.Calls("Publish") == 0 {
		t.Error("the function never tried to publish")
	}
}

func mustMoto(t testing.TB) *emulator.Moto {
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	return moto
}
