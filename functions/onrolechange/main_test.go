package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "onrolechange", &moto)) }

// TestBootstrapUnderRIE drives the built bootstrap through the Lambda
// runtime API: a scheduled sweep fills the index, an IAM change to a task
// role is alerted, one to an unrelated role is not, a malformed event is
// dropped.
func TestBootstrapUnderRIE(t *testing.T) {
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
	bootstrap, err := emulator.BuildBootstrap(ctx, ".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env, err := emulator.FunctionEnv(ctx, moto.URL(), account, "ecsguard-onrolechange")
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "TOPIC_ARN="+sample.TopicARN, "INDEX_TABLE="+sample.IndexTable, "IDEMPOTENCY_TABLE="+sample.LedgerTable,
		"WATCHED_ACCOUNTS="+sample.Account, "ECSGUARD_ROLE_ARNS="+sample.Roles["ecsguard-onrolechange"])
	fn, err := emulator.StartRIE(ctx, emulator.DefaultRIE(), bootstrap, env)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		fn.Close()
		if t.Failed() {
			t.Log(fn.Logs())
		}
	}()

	resp, err := fn.Invoke(ctx, []byte(`{"version":"0","id":"s1","detail-type":"Scheduled Event","source":"aws.events","account":"`+account+`","region":"us-east-1","resources":[],"detail":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	var sweep guard.SweepOutcome
	if err := json.Unmarshal(resp, &sweep); err != nil || sweep.Result != "swept" || sweep.Recorded != len(sample.TaskDefinitions) {
		t.Fatalf("sweep: %s (%v)", resp, err)
	}

	tests := []struct {
		file, result string
		alerts       int
	}{
		{"malformed-truncated.json", guard.ResultDropped, 0},
		{"iam-attachrolepolicy-unrelated-role.json", guard.ResultEvaluated, 0},
		{"iam-attachrolepolicy-admin-on-task-role.json", guard.ResultEvaluated, 1},
	}
	q := sqs.NewFromConfig(cfg)
	for _, tc := range tests {
		b, err := fs.ReadFile(eventstestdata.FS, tc.file)
		if err != nil {
			t.Fatal(err)
		}
		event := []byte(strings.ReplaceAll(string(b), emulator.SampleAccount, account))
		if tc.result == guard.ResultEvaluated {
			if err := emulator.Apply(ctx, cfg, event); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := fn.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		var out guard.ChangeOutcome
		if err := json.Unmarshal(resp, &out); err != nil || out.Result != tc.result {
			t.Fatalf("%s: %s (%v), want result %s", tc.file, resp, err, tc.result)
		}
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(sample.QueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) != tc.alerts {
			t.Errorf("%s: %d alerts, want %d", tc.file, len(msgs.Messages), tc.alerts)
		}
	}
}
