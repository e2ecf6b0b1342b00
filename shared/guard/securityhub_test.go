package guard_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
)

// setupHub is setup with SECURITY_HUB=true.
func setupHub(t *testing.T, mode string) *env {
	t.Helper()
	e := setup(t, mode, false)
	c := e.handler.Config
	c.SecurityHub = true
	e.handler = guard.New(c, e.pcfg, slog.New(slog.NewJSONHandler(testWriter{t}, nil)))
	e.proxy.Record("BatchImportFindings")
	return e
}

// hubFindings reads every finding the emulator holds whose Id starts with
// prefix (its GetFindings ignores filters, so they are applied here).
func (e *env) hubFindings(prefix string) map[string]shtypes.AwsSecurityFinding {
	e.t.Helper()
	out := map[string]shtypes.AwsSecurityFinding{}
	var token *string
	for {
		got, err := securityhub.NewFromConfig(e.cfg).GetFindings(context.Background(), &securityhub.GetFindingsInput{NextToken: token})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, f := range got.Findings {
			if strings.HasPrefix(aws.ToString(f.Id), prefix) {
				out[aws.ToString(f.Id)] = f
			}
		}
		if token = got.NextToken; aws.ToString(token) == "" {
			return out
		}
	}
}

// withID is an event under another id: a later delivery of the same call.
func withID(event json.RawMessage, id string) json.RawMessage {
	var m map[string]any
	json.Unmarshal(event, &m)
	old := m["id"].(string)
	return json.RawMessage(strings.ReplaceAll(string(event), old, id))
}

// A registration imports its findings; once the role is fixed, the next
// evaluation of the revision resolves them.
func TestSecurityHubRegistrationThenFix(t *testing.T) {
	t.Parallel()
	e := setupHub(t, guard.ModeAlert)
	ctx := context.Background()
	td := e.sample.TaskDefinitions["reports"]
	event := e.event("ecs-registertaskdefinition-admin-task-role.json")
	if out, err := e.handler.OnRegister(ctx, event); err != nil || out.Result != guard.ResultEvaluated {
		t.Fatalf("register: %+v, %v", out, err)
	}
	id := td + "/TD-008/" + e.sample.Roles["reports-admin-task"]
	got := e.hubFindings(td + "/")
	f, ok := got[id]
	if !ok || f.RecordState != shtypes.RecordStateActive || f.Workflow.Status != shtypes.WorkflowStatusNew || f.Severity.Label != shtypes.SeverityLabelCritical {
		t.Fatalf("finding %s after the registration: %+v (all: %v)", id, f, keys(got))
	}
	if _, err := iam.NewFromConfig(e.cfg).DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
		RoleName: aws.String("reports-admin-task"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.handler.OnRegister(ctx, withID(event, "0c0ffee0-0000-4000-8000-000000000001")); err != nil || out.Result != guard.ResultEvaluated {
		t.Fatalf("re-evaluation: %+v, %v", out, err)
	}
	f = e.hubFindings(td + "/")[id]
	if f.RecordState != shtypes.RecordStateArchived || f.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("after the fix: record state %s, workflow %s; want ARCHIVED, RESOLVED", f.RecordState, f.Workflow.Status)
	}
}

// In enforce mode a deregistered revision's findings are resolved at once.
func TestSecurityHubDeregistrationResolves(t *testing.T) {
	t.Parallel()
	e := setupHub(t, guard.ModeEnforce)
	td := e.sample.TaskDefinitions["reports"]
	out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
	if err != nil || out.Result != guard.ResultEvaluated || e.status("reports") != "INACTIVE" {
		t.Fatalf("register: %+v, %v, status %s", out, err, e.status("reports"))
	}
	got := e.hubFindings(td + "/")
	if len(got) == 0 {
		t.Fatal("no finding imported for the deregistered revision")
	}
	for id, f := range got {
		if f.RecordState != shtypes.RecordStateArchived || f.Workflow.Status != shtypes.WorkflowStatusResolved {
			t.Errorf("%s: record state %s, workflow %s; want ARCHIVED, RESOLVED", id, f.RecordState, f.Workflow.Status)
		}
	}
}

// A role change that reaches more than 100 revisions imports their
// findings in several calls of at most 100.
func TestSecurityHubBatches(t *testing.T) {
	t.Parallel()
	e := setupHub(t, guard.ModeAlert)
	e.copies("web-api", 110)
	event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
	e.apply(event)
	if out, err := e.handler.OnRoleChange(context.Background(), event); err != nil || out.Result != guard.ResultEvaluated {
		t.Fatalf("role change: %+v, %v", out, err)
	}
	bodies := e.proxy.Recorded("BatchImportFindings")
	sent := 0
	for _, b := range bodies {
		var in struct{ Findings []json.RawMessage }
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if len(in.Findings) > 100 {
			t.Errorf("a call sent %d findings, over BatchImportFindings' 100", len(in.Findings))
		}
		sent += len(in.Findings)
	}
	prefix := "arn:aws:ecs:us-east-1:" + e.sample.Account + ":task-definition/web-api"
	stored := e.hubFindings(prefix)
	if n := e.proxy.Calls("BatchImportFindings"); n < 2 || sent < 111 || len(stored) != sent {
		t.Errorf("%d calls sent %d findings, %d stored; want 2 or more calls for the 111 revisions' findings, all stored", n, sent, len(stored))
	}
}

// A failed import fails the invocation before the alert; the retry
// imports and alerts once, and a duplicate after it does nothing.
func TestSecurityHubImportFailureRetried(t *testing.T) {
	t.Parallel()
	e := setupHub(t, guard.ModeAlert)
	ctx := context.Background()
	event := e.event("ecs-registertaskdefinition-admin-task-role.json")
	e.proxy.Fail("BatchImportFindings", -1, emulator.InternalError)
	out, err := e.handler.OnRegister(ctx, event)
	if err == nil || out.Result != guard.ResultFailed || !strings.Contains(out.Reason, "BatchImportFindings") {
		t.Fatalf("with Security Hub failing: %+v, %v; want a failed invocation", out, err)
	}
	if a := e.alerts(); len(a) != 0 {
		t.Fatalf("%d alerts published before the import succeeded", len(a))
	}
	e.proxy.Reset()
	if out, err := e.handler.OnRegister(ctx, event); err != nil || out.Result != guard.ResultEvaluated {
		t.Fatalf("retry: %+v, %v", out, err)
	}
	if out, err := e.handler.OnRegister(ctx, event); err != nil || out.Result != guard.ResultDuplicate {
		t.Fatalf("duplicate: %+v, %v", out, err)
	}
	if a := e.alerts(); len(a) != 1 {
		t.Errorf("%d alerts, want one", len(a))
	}
	if got := e.hubFindings(e.sample.TaskDefinitions["reports"] + "/"); len(got) == 0 {
		t.Error("the retry imported nothing")
	}
}

// Security Hub refusing for good (access denied, not enabled) would refuse
// every retry: the alert is published with a note, not left in the DLQ.
func TestSecurityHubRefusedStillAlerts(t *testing.T) {
	t.Parallel()
	e := setupHub(t, guard.ModeAlert)
	e.proxy.Fail("BatchImportFindings", -1, emulator.AccessDenied)
	out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
	if err != nil || out.Result != guard.ResultEvaluated || !out.Alerted {
		t.Fatalf("with Security Hub refusing: %+v, %v; want evaluated and alerted", out, err)
	}
	a := e.alerts()
	if len(a) != 1 {
		t.Fatalf("%d alerts, want 1", len(a))
	}
	if r := a[0].report(t); !slices.ContainsFunc(r.Notes, func(n string) bool {
		return strings.HasPrefix(n, "Security Hub: the findings were not imported") && strings.Contains(n, "AccessDenied")
	}) {
		t.Errorf("notes %q: want the refused import", r.Notes)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
