package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "guard", &moto)) }

// eventsAccount is the account of the events-testdata files; each test
// rewrites it to its own emulator account.
const eventsAccount = "111122223333"

type env struct {
	t       testing.TB
	sample  emulator.Sample
	handler *guard.Handler
	cfg     aws.Config // straight to the emulator
	pcfg    aws.Config // through the fault proxy, calls counted
	proxy   *emulator.FaultProxy
}

// setup seeds a fresh account and builds the handler as main does, with
// clients through a fault proxy.
func setup(t testing.TB, mode string, dryRun bool) *env {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	cfg := moto.Config(ctx, emulator.NewAccount())
	sample, err := emulator.Seed(ctx, cfg)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	pcfg := cfg.Copy()
	pcfg.BaseEndpoint = aws.String(proxy.URL())
	h := guard.New(guard.Config{
		TopicARN: sample.TopicARN, Mode: mode, DryRun: dryRun, EnforceMinSeverity: rules.High,
		OwnRoleARNs: []string{fmt.Sprintf("arn:aws:iam::%s:role/ecsguard-onregister", sample.Account)},
		IndexTable:  sample.IndexTable, LedgerTable: sample.LedgerTable,
	}, pcfg, slog.New(slog.NewJSONHandler(testWriter{t}, nil)))
	return &env{t: t, sample: sample, handler: h, cfg: cfg, pcfg: pcfg, proxy: proxy}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// event reads an events-testdata file, moved into the test's account.
func (e *env) event(name string) json.RawMessage {
	e.t.Helper()
	b, err := fs.ReadFile(eventstestdata.FS, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return json.RawMessage(strings.ReplaceAll(string(b), eventsAccount, e.sample.Account))
}

// alerts drains the queue subscribed to the topic.
func (e *env) alerts() []snsEnvelope {
	e.t.Helper()
	q := sqs.NewFromConfig(e.cfg)
	var out []snsEnvelope
	for {
		got, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.sample.QueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		for _, m := range got.Messages {
			var env snsEnvelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				e.t.Fatalf("queue message is not an SNS envelope: %v", err)
			}
			out = append(out, env)
			q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(e.sample.QueueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

type snsEnvelope struct {
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

func (s snsEnvelope) report(t testing.TB) rules.Report {
	t.Helper()
	var r rules.Report
	if err := json.Unmarshal([]byte(s.Message), &r); err != nil {
		t.Fatalf("alert body is not a report: %v\n%s", err, s.Message)
	}
	return r
}

func (e *env) status(family string) string {
	e.t.Helper()
	out, err := ecs.NewFromConfig(e.cfg).DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(e.sample.TaskDefinitions[family])})
	if err != nil {
		e.t.Fatal(err)
	}
	return string(out.TaskDefinition.Status)
}

// expectations holds every events-testdata file and what onregister does
// with it in alert mode. The test fails if a file has no expectation.
var expectations = map[string]struct {
	result string
	rules  []string // unsuppressed rules that must be reported (alert sent)
}{
	"ecs-registertaskdefinition-fargate-compliant.json":      {guard.ResultEvaluated, nil},
	"ecs-registertaskdefinition-shared-role.json":            {guard.ResultEvaluated, []string{"TD-001"}},
	"ecs-registertaskdefinition-admin-task-role.json":        {guard.ResultEvaluated, []string{"TD-008"}},
	"ecs-registertaskdefinition-secrets-without-access.json": {guard.ResultEvaluated, []string{"TD-006"}},
	"ecs-registertaskdefinition-ec2-without-task-role.json":  {guard.ResultEvaluated, []string{"TD-007"}},
	"ecs-registertaskdefinition-errorcode.json":              {guard.ResultDropped, nil},
	"ecs-registertaskdefinition-by-ecsguard.json":            {guard.ResultIgnored, nil},
	"ecs-runtask-ignored.json":                               {guard.ResultDropped, nil},
	"malformed-truncated.json":                               {guard.ResultDropped, nil},
	"malformed-no-detail.json":                               {guard.ResultDropped, nil},
	"foreign-s3-putobject.json":                              {guard.ResultDropped, nil},
	"iam-attachrolepolicy-admin-on-task-role.json":           {guard.ResultDropped, nil},
	"iam-putrolepolicy-events-role-passrole.json":            {guard.ResultDropped, nil},
	"iam-createpolicyversion-broadens-exec-policy.json":      {guard.ResultDropped, nil},
	"iam-updateassumerolepolicy-task-role.json":              {guard.ResultDropped, nil},
	"iam-attachrolepolicy-unrelated-role.json":               {guard.ResultDropped, nil},
	"iam-detachrolepolicy-exec-policy-from-exec-role.json":   {guard.ResultDropped, nil},
	"iam-deleterolepolicy-task-role-inline.json":             {guard.ResultDropped, nil},
	"iam-setdefaultpolicyversion-exec-secrets.json":          {guard.ResultDropped, nil},
	"iam-putrolepermissionsboundary-task-role.json":          {guard.ResultDropped, nil},
	"iam-deleterolepermissionsboundary-task-role.json":       {guard.ResultDropped, nil},
	"iam-createrole-task-role-trusting-account.json":         {guard.ResultDropped, nil},
	"iam-tagrole-exempt-task-role.json":                      {guard.ResultDropped, nil},
	"iam-untagrole-task-role.json":                           {guard.ResultDropped, nil},
	"iam-attachrolepolicy-errorcode.json":                    {guard.ResultDropped, nil},
	"aws-sns-settopicattributes-ecsguard-topic.json":         {guard.ResultDropped, nil},
	"aws-kms-disablekey-ecsguard-key.json":                   {guard.ResultDropped, nil},
	"aws-events-disablerule-ecsguard-rule.json":              {guard.ResultDropped, nil},

	// An exemption set on a revision: the revision is judged again, and
	// without EXEMPTION_APPROVERS, the tags not being in the account,
	// TD-008 stays open.
	"ecs-tagresource-exempt-task-definition.json": {guard.ResultEvaluated, []string{"TD-008"}},
}

func TestOnRegisterEveryEvent(t *testing.T) {
	files, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events in events-testdata (%v)", err)
	}
	for _, f := range files {
		if _, ok := expectations[f]; !ok {
			t.Errorf("%s has no expectation", f)
		}
	}
	for name := range expectations {
		if !slices.Contains(files, name) {
			t.Errorf("expectation for %s, which is not in events-testdata", name)
		}
	}
	for _, name := range files {
		want, ok := expectations[name]
		if !ok {
			continue
		}
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeAlert, false)
			out, err := e.handler.OnRegister(context.Background(), e.event(name))
			if err != nil {
				t.Fatalf("OnRegister: %v", err)
			}
			if out.Result != want.result {
				t.Fatalf("result = %q (%s), want %q", out.Result, out.Reason, want.result)
			}
			alerts := e.alerts()
			if len(want.rules) == 0 {
				if out.Result != guard.ResultEvaluated && out.Calls != 0 {
					t.Errorf("%s made %d AWS calls", out.Result, out.Calls)
				}
				if len(alerts) != 0 {
					t.Fatalf("%d alerts, want none: %s", len(alerts), alerts[0].Subject)
				}
				return
			}
			if len(alerts) != 1 {
				t.Fatalf("%d alerts, want 1", len(alerts))
			}
			a := alerts[0]
			r := a.report(t)
			for _, rule := range want.rules {
				if !slices.ContainsFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == rule }) {
					t.Errorf("alert lacks %s: %+v", rule, r.Findings)
				}
				if !strings.Contains(a.MessageAttributes["rules"].Value, rule) {
					t.Errorf("rules attribute = %q, lacks %s", a.MessageAttributes["rules"].Value, rule)
				}
			}
			if a.Subject == "" || len(a.Subject) >= 100 || a.MessageAttributes["severity"].Value != r.Highest().String() ||
				a.MessageAttributes["account"].Value != e.sample.Account || r.Trigger.EventName == "" || r.Trigger.EventName != out.EventName {
				t.Errorf("envelope subject %q attributes %v trigger %+v", a.Subject, a.MessageAttributes, r.Trigger)
			}
			if r.Action.Type != rules.ActionNone || !out.Alerted {
				t.Errorf("alert mode acted: %+v / outcome %+v", r.Action, out)
			}
		})
	}
}

func TestEnforce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, family string
		dryRun              bool
		mutate              func(e *env)
		wantStatus          string
		wantAction          string
	}{
		{"deregisters-admin-task-role", "ecs-registertaskdefinition-admin-task-role.json", "reports", false, nil, "INACTIVE", "deregistered"},
		{"dry-run-keeps-it", "ecs-registertaskdefinition-admin-task-role.json", "reports", true, nil, "ACTIVE", "would deregister (dry run)"},
		{"compliant-untouched", "ecs-registertaskdefinition-fargate-compliant.json", "web-api", false, nil, "ACTIVE", ""},
		{"below-threshold-untouched", "ecs-registertaskdefinition-ec2-without-task-role.json", "legacy-worker", false, nil, "ACTIVE", ""},
		{"incomplete-never-deregisters", "ecs-registertaskdefinition-admin-task-role.json", "reports", false, func(e *env) {
			e.proxy.Fail("GetRole", -1, emulator.AccessDenied)
		}, "ACTIVE", ""},
		// An exemption with a reason holds when no approvers are set.
		{"exempt-tag-untouched", "ecs-registertaskdefinition-shared-role.json", "billing", false, func(e *env) {
			e.tagRevision("billing", "ecsguard:exempt", "TD-001,TD-002", "ecsguard:exempt-reason", "migration, ticket OPS-7")
		}, "ACTIVE", ""},
		// Without a reason it does not.
		{"exempt-tag-without-reason-deregistered", "ecs-registertaskdefinition-shared-role.json", "billing", false, func(e *env) {
			e.tagRevision("billing", "ecsguard:exempt", "TD-001,TD-002")
		}, "INACTIVE", "deregistered"},
		// With approvers, nor does one whose setter ecsguard never saw.
		{"exempt-tag-setter-unknown-deregistered", "ecs-registertaskdefinition-shared-role.json", "billing", false, func(e *env) {
			e.handler.Config.ExemptionApprovers = []string{"arn:aws:iam::" + e.sample.Account + ":role/platform-admins"}
			e.tagRevision("billing", "ecsguard:exempt", "TD-001,TD-002", "ecsguard:exempt-reason", "migration, ticket OPS-7")
		}, "INACTIVE", "deregistered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeEnforce, tc.dryRun)
			if tc.mutate != nil {
				tc.mutate(e)
			}
			out, err := e.handler.OnRegister(context.Background(), e.event(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			e.proxy.Reset()
			if got := e.status(tc.family); got != tc.wantStatus {
				t.Errorf("status = %s, want %s (outcome %+v)", got, tc.wantStatus, out)
			}
			if out.Action.Result.String() != tc.wantAction {
				t.Errorf("action = %+v, want result %q", out.Action, tc.wantAction)
			}
			if tc.wantAction != "" {
				alerts := e.alerts()
				if len(alerts) != 1 || alerts[0].report(t).Action.Result.String() != tc.wantAction {
					t.Errorf("the alert does not say what was done: %+v", alerts)
				}
			}
		})
	}
}

func TestFailureSemantics(t *testing.T) {
	t.Parallel()
	t.Run("throttled-describe-fails-invocation", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeEnforce, false)
		e.proxy.Fail("DescribeTaskDefinition", -1, emulator.Throttling)
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
		var re *guard.RetryableError
		if !errors.As(err, &re) || re.Stage != "load facts" || out.Result != guard.ResultFailed {
			t.Fatalf("err = %v, outcome %+v", err, out)
		}
		if len(e.alerts()) != 0 {
			t.Error("alerted on a failed invocation")
		}
	})
	t.Run("server-error-on-iam-fails-invocation", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.proxy.Fail("GetPolicyVersion", -1, emulator.InternalError)
		_, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-shared-role.json"))
		var re *guard.RetryableError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("access-denied-alerts-incomplete", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.proxy.Fail("GetRole", -1, emulator.AccessDenied)
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-fargate-compliant.json"))
		if err != nil {
			t.Fatal(err)
		}
		e.proxy.Reset()
		alerts := e.alerts()
		if out.Complete || len(alerts) != 1 || alerts[0].report(t).Complete {
			t.Fatalf("outcome %+v, %d alerts", out, len(alerts))
		}
	})
	t.Run("deregister-denied-is-alerted", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeEnforce, false)
		e.proxy.Fail("DeregisterTaskDefinition", -1, emulator.AccessDenied)
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
		if err != nil {
			t.Fatal(err)
		}
		e.proxy.Reset()
		alerts := e.alerts()
		if len(alerts) != 1 || !strings.HasPrefix(alerts[0].report(t).Action.Result.String(), "failed: ") || !strings.Contains(alerts[0].report(t).Action.Result.String(), "AccessDeniedException") {
			t.Fatalf("outcome %+v, alerts %+v", out, alerts)
		}
		if got := e.status("reports"); got != "ACTIVE" {
			t.Errorf("status = %s", got)
		}
	})
	t.Run("deregister-throttled-fails-invocation", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeEnforce, false)
		e.proxy.Fail("DeregisterTaskDefinition", -1, emulator.Throttling)
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
		var re *guard.RetryableError
		if !errors.As(err, &re) || re.Stage != "deregister" || out.Result != guard.ResultFailed {
			t.Fatalf("err = %v, outcome %+v", err, out)
		}
		if n := len(e.alerts()); n != 0 {
			t.Errorf("%d alerts before the retry", n)
		}
	})
	t.Run("publish-failure-fails-invocation", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.proxy.Fail("Publish", -1, emulator.AccessDenied)
		_, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-shared-role.json"))
		var re *guard.RetryableError
		if !errors.As(err, &re) || re.Stage != "publish alert" {
			t.Fatalf("err = %v", err)
		}
	})
}

// The rules attribute is a String.Array: a subscription whose filter
// policy names a rule receives the alerts with a finding of that rule, and
// only those.
func TestFilterPolicyOnRules(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	ctx := context.Background()
	q := sqs.NewFromConfig(e.cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("admin-roles-only")})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := fmt.Sprintf("arn:aws:sqs:%s:%s:admin-roles-only", emulator.Region, e.sample.Account)
	if _, err := sns.NewFromConfig(e.cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(e.sample.TopicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN),
		Attributes: map[string]string{"FilterPolicy": `{"rules": ["TD-008"]}`, "RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ecs-registertaskdefinition-admin-task-role.json", "ecs-registertaskdefinition-shared-role.json"} {
		if out, err := e.handler.OnRegister(ctx, e.event(f)); err != nil || !out.Alerted {
			t.Fatalf("%s: %+v, %v", f, out, err)
		}
	}
	if n := len(e.alerts()); n != 2 {
		t.Errorf("unfiltered queue: %d alerts, want 2", n)
	}
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("filtered queue: %d alerts, want the TD-008 one", len(got.Messages))
	}
	var r rules.Report
	if err := json.Unmarshal([]byte(aws.ToString(got.Messages[0].Body)), &r); err != nil || !strings.HasSuffix(r.Subject.ARN, "task-definition/reports:1") {
		t.Errorf("filtered alert: %v %s", err, aws.ToString(got.Messages[0].Body))
	}
}
