package guard_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// AccessDenied on any lookup gives an incomplete alert, never a silent drop.
func TestLookupDeniedIsAlerted(t *testing.T) {
	t.Parallel()
	t.Run("roles-of-a-policy", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.sweep()
		event := e.event("iam-createpolicyversion-broadens-exec-policy.json")
		e.apply(event)
		e.proxy.Fail("ListEntitiesForPolicy", -1, emulator.AccessDenied)
		out, err := e.handler.OnRoleChange(context.Background(), event)
		if err != nil || !out.Alerted || len(out.Subjects) != 1 || out.Subjects[0].Complete || out.Subjects[0].Type != rules.SubjectPolicy {
			t.Fatalf("outcome %+v, %v", out, err)
		}
		e.proxy.Reset()
		alerts := e.alerts()
		if len(alerts) != 1 || !strings.Contains(alerts[0].Message, "ListEntitiesForPolicy") {
			t.Fatalf("%d alerts: %v", len(alerts), alerts)
		}
	})
	t.Run("instance-profiles-of-a-role", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		event := e.onRole("iam-attachrolepolicy-admin-on-task-role.json", "ecs-hosts")
		e.apply(event)
		e.proxy.Fail("ListInstanceProfilesForRole", -1, emulator.AccessDenied)
		out, err := e.handler.OnRoleChange(context.Background(), event)
		if err != nil || !out.Alerted || len(out.Subjects) != 1 || out.Subjects[0].Complete {
			t.Fatalf("outcome %+v, %v", out, err)
		}
	})
}

// A missing or denied role index never holds a registration alert back:
// the alert says the index was not updated. A role change then falls back
// to the scan.
func TestIndexUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("registration", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeEnforce, false)
		e.proxy.Fail("BatchWriteItem", -1, emulator.AccessDenied)
		e.proxy.Fail("Query", -1, emulator.AccessDenied)
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
		if err != nil || !out.Alerted || out.Action.Result.String() != "deregistered" || len(out.Notes) == 0 {
			t.Fatalf("outcome %+v, %v", out, err)
		}
		e.proxy.Reset()
		alerts := e.alerts()
		if len(alerts) != 1 || !strings.Contains(alerts[0].Message, "role index was not updated") {
			t.Fatalf("alerts %+v", alerts)
		}
	})
	t.Run("missing-table", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.handler.Index.Table = "no-such-table"
		out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-shared-role.json"))
		if err != nil || !out.Alerted || len(out.Notes) == 0 {
			t.Fatalf("outcome %+v, %v", out, err)
		}
	})
	t.Run("role-change-scans", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
		e.apply(event)
		e.proxy.Fail("Query", -1, emulator.AccessDenied)
		out, err := e.handler.OnRoleChange(context.Background(), event)
		if err != nil || !out.Alerted || len(out.Subjects) != 1 || !strings.HasSuffix(out.Subjects[0].ARN, "web-api:1") || len(out.Notes) == 0 {
			t.Fatalf("outcome %+v, %v", out, err)
		}
	})
}

// Changes to ecsguard's own roles, topic, key or rules are alerted as
// CRITICAL tampering; the same calls on resources of others are not.
func TestTampering(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, e *env, out guard.ChangeOutcome, err error) {
		t.Helper()
		if err != nil || out.Kind != "tampering" || !out.Alerted || len(out.Subjects) != 1 || out.Subjects[0].Highest != "CRITICAL" ||
			!slices.Contains(out.Subjects[0].Rules, rules.TamperingRule) {
			t.Fatalf("outcome %+v, %v", out, err)
		}
		alerts := e.alerts()
		if len(alerts) != 1 || alerts[0].MessageAttributes["severity"].Value != "CRITICAL" {
			t.Fatalf("alerts %+v", alerts)
		}
	}
	t.Run("own-role", func(t *testing.T) {
		t.Parallel()
		e := setup(t, guard.ModeAlert, false)
		e.handler.Config.OwnRoleARNs = append(e.handler.Config.OwnRoleARNs, e.sample.Roles["ecsEventsRole"])
		out, err := e.handler.OnRoleChange(context.Background(), e.event("iam-putrolepolicy-events-role-passrole.json"))
		check(t, e, out, err)
	})
	for _, tc := range []struct{ file, resource string }{
		{"aws-sns-settopicattributes-ecsguard-topic.json", "topic"},
		{"aws-kms-disablekey-ecsguard-key.json", "key"},
		{"aws-events-disablerule-ecsguard-rule.json", "rule"},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeAlert, false)
			acct := e.sample.Account
			cfg := &e.handler.Config
			cfg.KeyARN = "arn:aws:kms:us-east-1:" + acct + ":key/5c1d8e2a-7b4f-4a93-9e06-3f2b8c7d1a64"
			cfg.RuleNames = []string{"Ecsguard-RoleChange"}
			cfg.AlarmTopicARN = "arn:aws:sns:us-east-1:" + acct + ":Ecsguard-Findings172CF60E-9XK2QW7RZ4LM"
			out, err := e.handler.OnRoleChange(context.Background(), e.event(tc.file))
			check(t, e, out, err)
		})
	}
}

// An event of an account the deployment does not watch is dropped.
func TestAccountNotWatched(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeEnforce, false)
	e.handler.Config.WatchedAccounts = []string{"999999999999"}
	out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
	if err != nil || out.Result != guard.ResultDropped || !strings.Contains(out.Reason, "not watched") || out.Calls != 0 {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	if len(e.alerts()) != 0 || e.status("reports") != "ACTIVE" {
		t.Error("acted on an event of another account")
	}
}
