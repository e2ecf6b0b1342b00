package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// changeExpectations holds every IAM file of events-testdata and what
// onrolechange does with it on the sample account, after the change the
// event records has been made (emulator.Apply).
var changeExpectations = map[string]struct {
	result   string
	subjects []string // re-evaluated subjects, by the end of their ARN
	rules    []string // rules the alert must report; none: no alert
}{
	"iam-attachrolepolicy-admin-on-task-role.json":         {guard.ResultEvaluated, []string{"task-definition/web-api:1"}, []string{"TD-008"}},
	"iam-attachrolepolicy-unrelated-role.json":             {guard.ResultEvaluated, nil, nil},
	"iam-attachrolepolicy-errorcode.json":                  {guard.ResultDropped, nil, nil},
	"iam-createpolicyversion-broadens-exec-policy.json":    {guard.ResultEvaluated, []string{"task-definition/reports:1", "task-definition/web-api:1"}, []string{"TD-004"}},
	"iam-createrole-task-role-trusting-account.json":       {guard.ResultEvaluated, nil, nil},
	"iam-deleterolepermissionsboundary-task-role.json":     {guard.ResultEvaluated, []string{"task-definition/payments:1"}, []string{"TD-006"}},
	"iam-deleterolepolicy-task-role-inline.json":           {guard.ResultEvaluated, []string{"task-definition/web-api:1"}, nil},
	"iam-detachrolepolicy-exec-policy-from-exec-role.json": {guard.ResultEvaluated, []string{"task-definition/reports:1", "task-definition/web-api:1"}, []string{"TD-006"}},
	"iam-putrolepermissionsboundary-task-role.json":        {guard.ResultEvaluated, []string{"task-definition/payments:1"}, []string{"TD-006"}},
	"iam-putrolepolicy-events-role-passrole.json":          {guard.ResultEvaluated, []string{"role/ecsEventsRole"}, []string{"SR-001"}},
	// Nothing new, but reports:1 still has its administrator task role.
	"iam-setdefaultpolicyversion-exec-secrets.json": {guard.ResultEvaluated, []string{"task-definition/reports:1", "task-definition/web-api:1"}, []string{"TD-008"}},
	"iam-tagrole-exempt-task-role.json":             {guard.ResultEvaluated, []string{"task-definition/reports:1"}, nil},
	"iam-untagrole-task-role.json":                  {guard.ResultEvaluated, []string{"task-definition/reports:1"}, []string{"TD-008"}},
	"iam-updateassumerolepolicy-task-role.json":     {guard.ResultEvaluated, []string{"task-definition/web-api:1"}, []string{"TD-010"}},
}

// sweep fills the role index as the scheduled sweep does.
func (e *env) sweep() {
	e.t.Helper()
	out, err := e.handler.Sweep(context.Background())
	if err != nil || out.Recorded != len(e.sample.TaskDefinitions) {
		e.t.Fatalf("sweep: %+v, %v", out, err)
	}
}

// apply makes the change an event records, in the test's account.
func (e *env) apply(event []byte) {
	e.t.Helper()
	if err := emulator.Apply(context.Background(), e.cfg, event); err != nil {
		e.t.Fatal(err)
	}
}

func (s snsEnvelope) change(t testing.TB) alert.ChangeDocument {
	t.Helper()
	var d alert.ChangeDocument
	if err := json.Unmarshal([]byte(s.Message), &d); err != nil {
		t.Fatalf("alert body is not a change document: %v\n%s", err, s.Message)
	}
	return d
}

func TestOnRoleChangeEveryEvent(t *testing.T) {
	files, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, ok := changeExpectations[f]
		if !strings.HasPrefix(f, "iam-") {
			if ok {
				t.Errorf("%s is not an IAM event", f)
			}
			// onrolechange drops everything else: the changes to a topic,
			// key or rule are not to this deployment's (see TestTampering).
			want.result = guard.ResultDropped
		} else if !ok {
			t.Errorf("%s has no expectation", f)
			continue
		}
		t.Run(strings.TrimSuffix(f, ".json"), func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeAlert, false)
			event := e.event(f)
			if want.result == guard.ResultEvaluated {
				e.sweep()
				e.apply(event)
			}
			out, err := e.handler.OnRoleChange(context.Background(), event)
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != want.result {
				t.Fatalf("result = %s (%s), want %s", out.Result, out.Reason, want.result)
			}
			var subjects []string
			for _, s := range out.Subjects {
				subjects = append(subjects, strings.SplitN(s.ARN, ":", 6)[5]) // the resource
			}
			slices.Sort(subjects)
			if !slices.Equal(subjects, want.subjects) {
				t.Errorf("subjects = %v, want %v", subjects, want.subjects)
			}
			alerts := e.alerts()
			if len(want.rules) == 0 {
				if len(alerts) != 0 || out.Alerted {
					t.Fatalf("%d alerts, want none: %s", len(alerts), alerts[0].Subject)
				}
				return
			}
			if len(alerts) != 1 || !out.Alerted {
				t.Fatalf("%d alerts, want 1 for the change", len(alerts))
			}
			d := alerts[0].change(t)
			for _, r := range d.Reports {
				for _, rule := range want.rules {
					if !slices.ContainsFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == rule && !f.Suppressed }) {
						t.Errorf("%s: alert lacks %s: %+v", r.Subject.ARN, rule, r.Findings)
					}
				}
				if r.Trigger.EventName != out.EventName || r.Action.Type != rules.ActionNone {
					t.Errorf("%s: trigger %+v action %+v", r.Subject.ARN, r.Trigger, r.Action)
				}
			}
			if a := alerts[0].MessageAttributes; a["event"].Value != out.EventName || !strings.Contains(a["rules"].Value, want.rules[0]) {
				t.Errorf("attributes %v", a)
			}
		})
	}
}

// One change to a task role shared by two families: one alert naming both,
// with the findings the change brought marked new.
func TestRoleChangeSharedTaskRole(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	ctx := context.Background()
	_, err := ecs.NewFromConfig(e.cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("web-api-worker"),
		TaskRoleArn:             aws.String(e.sample.Roles["web-api-task"]),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		Cpu:                     aws.String("256"),
		Memory:                  aws.String("512"),
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("worker"), Image: aws.String("public.ecr.aws/docker/library/busybox:1.36")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.handler.Sweep(ctx); err != nil || out.Recorded != 6 {
		t.Fatalf("sweep: %+v %v", out, err)
	}
	event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
	e.apply(event)
	out, err := e.handler.OnRoleChange(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	alerts := e.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want one for the change", len(alerts))
	}
	d := alerts[0].change(t)
	var families []string
	for _, r := range d.Reports {
		families = append(families, r.Subject.ARN[strings.LastIndexByte(r.Subject.ARN, '/')+1:])
		if !slices.Contains(d.NewFindings[r.Subject.ARN], "TD-008") {
			t.Errorf("%s: TD-008 not marked new: %v", r.Subject.ARN, d.NewFindings)
		}
	}
	slices.Sort(families)
	if !slices.Equal(families, []string{"web-api-worker:1", "web-api:1"}) {
		t.Errorf("alert names %v", families)
	}
	if !strings.Contains(alerts[0].Subject, "2 task definitions") {
		t.Errorf("subject %q", alerts[0].Subject)
	}
	for _, s := range out.Subjects {
		if !slices.Contains(s.New, "TD-008") {
			t.Errorf("outcome %+v", s)
		}
	}
}

// Enforcement on a role change needs ENFORCE_ON_ROLE_CHANGE as well as
// enforce mode.
func TestRoleChangeEnforcement(t *testing.T) {
	t.Parallel()
	for _, onChange := range []bool{false, true} {
		e := setup(t, guard.ModeEnforce, false)
		e.handler.Config.EnforceOnRoleChange = onChange
		e.sweep()
		event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
		e.apply(event)
		if _, err := e.handler.OnRoleChange(context.Background(), event); err != nil {
			t.Fatal(err)
		}
		want, action := "ACTIVE", "none"
		if onChange {
			want, action = "INACTIVE", "deregister"
		}
		if got := e.status("web-api"); got != want {
			t.Errorf("ENFORCE_ON_ROLE_CHANGE=%v: web-api:1 is %s, want %s", onChange, got, want)
		}
		alerts := e.alerts()
		if len(alerts) != 1 || alerts[0].change(t).Reports[0].Action.Type.String() != action {
			t.Errorf("ENFORCE_ON_ROLE_CHANGE=%v: alerts %+v", onChange, alerts)
		}
	}
}

// The index finds what the scan finds, describing only the revisions
// affected rather than every revision of the account.
func TestIndexAgreesWithScan(t *testing.T) {
	t.Parallel()
	event := "iam-createpolicyversion-broadens-exec-policy.json"
	var subjects [2][]string
	var lookups [2]int // DescribeTaskDefinition calls
	for i, indexed := range []bool{true, false} {
		e := setup(t, guard.ModeAlert, false)
		e.sweep()
		if !indexed {
			e.handler.Index = nil
		}
		b := e.event(event)
		e.apply(b)
		before := e.proxy.Calls("DescribeTaskDefinition")
		out, err := e.handler.OnRoleChange(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Subjects {
			subjects[i] = append(subjects[i], s.ARN[strings.LastIndexByte(s.ARN, '/')+1:])
		}
		slices.Sort(subjects[i])
		lookups[i] = e.proxy.Calls("DescribeTaskDefinition") - before
	}
	if !slices.Equal(subjects[0], subjects[1]) || len(subjects[0]) != 2 {
		t.Fatalf("index found %v, scan found %v", subjects[0], subjects[1])
	}
	// Indexed: a describe per affected revision. Scanned: one per revision
	// of the account (5), then the affected ones again for their facts.
	if lookups[0] != 2 || lookups[1] != 5+2 {
		t.Errorf("DescribeTaskDefinition calls: %d indexed, %d scanned; want 2 and 7", lookups[0], lookups[1])
	}
}

// A role index that cannot be read falls back to the scan, and says so; an
// alert that cannot be published fails the invocation.
func TestRoleChangeFailures(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	e.sweep()
	b := e.event("iam-attachrolepolicy-admin-on-task-role.json")
	e.apply(b)
	e.proxy.Fail("Query", -1, emulator.Throttling)
	out, err := e.handler.OnRoleChange(context.Background(), b)
	if err != nil || len(out.Subjects) != 1 || len(out.Notes) != 1 || !strings.Contains(out.Notes[0], "scanned") || !out.Alerted {
		t.Fatalf("index throttled: %+v, %v", out, err)
	}
	e.alerts()
	e.proxy.Reset()
	e.proxy.Fail("Publish", -1, emulator.AccessDenied)
	var re *guard.RetryableError
	if _, err := e.handler.OnRoleChange(context.Background(), e.onRole("iam-attachrolepolicy-admin-on-task-role.json", "web-api-task")); err != nil {
		t.Fatalf("a duplicate was not recognised: %v", err)
	}
	e.handler.Ledger = nil // the same event again, as if new
	if _, err := e.handler.OnRoleChange(context.Background(), b); !errors.As(err, &re) || re.Stage != "publish alert" {
		t.Fatalf("publish denied: err = %v", err)
	}
}

// onRole is the corpus event file with its role name replaced.
func (e *env) onRole(file, role string) []byte {
	e.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(e.event(file), &ev); err != nil {
		e.t.Fatal(err)
	}
	ev["detail"].(map[string]any)["requestParameters"].(map[string]any)["roleName"] = role
	b, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// A change to a secondary role names what uses it, in the outcome and in
// the alert.
func TestRoleChangeNamesWhatUsesTheRole(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	event := e.event("iam-putrolepolicy-events-role-passrole.json")
	e.apply(event)
	out, err := e.handler.OnRoleChange(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.Use{{Kind: rules.UseEventsTarget, Resource: e.sample.EventRule}}
	if len(out.Subjects) != 1 || !slices.Equal(out.Subjects[0].UsedBy, want) {
		t.Fatalf("subjects = %+v, want ecsEventsRole used by %v", out.Subjects, want)
	}
	alerts := e.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	d := alerts[0].change(t)
	if got := d.UsedBy[e.sample.Roles["ecsEventsRole"]]; !slices.Equal(got, want) {
		t.Errorf("alert usedBy = %v, want %v", d.UsedBy, want)
	}
}

// ecs-hosts is an ECS instance role only because an instance profile holds
// it: without the lookup of uses, a change to it touches nothing of ECS;
// with it, the change is judged by SR-004 and the alert names the profile.
func TestRoleChangeInstanceRoleKnownByProfile(t *testing.T) {
	t.Parallel()
	for _, lookup := range []bool{false, true} {
		e := setup(t, guard.ModeAlert, false)
		if !lookup {
			e.handler.Uses = nil
		}
		event := e.onRole("iam-attachrolepolicy-admin-on-task-role.json", "ecs-hosts")
		e.apply(event)
		out, err := e.handler.OnRoleChange(context.Background(), event)
		if err != nil {
			t.Fatal(err)
		}
		alerts := e.alerts()
		if !lookup {
			if len(out.Subjects) != 0 || len(alerts) != 0 {
				t.Errorf("without the lookup: subjects %+v, %d alerts", out.Subjects, len(alerts))
			}
			continue
		}
		if len(out.Subjects) != 1 || out.Subjects[0].Highest != "HIGH" || !slices.Contains(out.Subjects[0].Rules, "SR-004") {
			t.Fatalf("subjects = %+v, want ecs-hosts with SR-004 HIGH", out.Subjects)
		}
		if len(alerts) != 1 {
			t.Fatalf("%d alerts", len(alerts))
		}
		want := []rules.Use{{Kind: rules.UseInstanceProfile, Resource: e.sample.InstanceProfile}}
		if got := alerts[0].change(t).UsedBy[e.sample.Roles["ecs-hosts"]]; !slices.Equal(got, want) {
			t.Errorf("alert usedBy = %v, want %v", got, want)
		}
	}
}

// A use that cannot be read for lack of permission leaves the verdict on
// the role incomplete, and alerted; one that stays throttled fails the
// invocation, to be retried.
func TestRoleChangeUseLookupFailures(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	event := e.event("iam-putrolepolicy-events-role-passrole.json")
	e.apply(event)
	e.proxy.Fail("ListRuleNamesByTarget", -1, emulator.AccessDenied)
	out, err := e.handler.OnRoleChange(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subjects) != 1 || out.Subjects[0].Complete || !out.Alerted {
		t.Fatalf("outcome = %+v, want ecsEventsRole incomplete and alerted", out)
	}
	r := e.alerts()[0].change(t).Reports[0]
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "EventBridge targets") || !strings.Contains(r.Errors[0], "AccessDenied") {
		t.Errorf("report errors = %v", r.Errors)
	}

	e.proxy.Reset()
	e.proxy.Fail("ListEventBuses", -1, emulator.Throttling)
	e.handler.Ledger = nil // the same event again, as if new
	_, err = e.handler.OnRoleChange(context.Background(), event)
	var re *guard.RetryableError
	if !errors.As(err, &re) || re.Stage != "load facts" {
		t.Fatalf("throttled: err = %v", err)
	}
}
