package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// logLines captures the handler's log lines as decoded JSON.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// last is the last line logged.
func (l *logLines) last(t testing.TB) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(l.buf.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

// captureLog makes the handler log into the returned lines.
func (e *env) captureLog() *logLines {
	l := &logLines{}
	e.handler.Log = slog.New(slog.NewJSONHandler(l, nil))
	return l
}

// tagRevision tags a revision directly, as a call ecsguard does not see
// would.
func (e *env) tagRevision(family string, kv ...string) {
	e.t.Helper()
	_, err := ecs.NewFromConfig(e.cfg).TagResource(context.Background(), &ecs.TagResourceInput{
		ResourceArn: aws.String(e.sample.TaskDefinitions[family]), Tags: ecsTags(kv...),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// withTags is a registration event whose request carries tags, as
// RegisterTaskDefinition --tags records them.
func (e *env) withTags(file string, kv ...string) []byte {
	e.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(e.event(file), &ev); err != nil {
		e.t.Fatal(err)
	}
	var tags []any
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, map[string]any{"key": kv[i], "value": kv[i+1]})
	}
	ev["detail"].(map[string]any)["requestParameters"].(map[string]any)["tags"] = tags
	b, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// redelivered is an events-testdata event with a new id, which the event
// ledger takes for another event.
func (e *env) redelivered(file, id string) []byte {
	e.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(e.event(file), &ev); err != nil {
		e.t.Fatal(err)
	}
	ev["id"] = id
	ev["detail"].(map[string]any)["eventID"] = id
	b, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// finding returns the report's finding of a rule, failing when there is none.
func finding(t testing.TB, r rules.Report, rule string) rules.Finding {
	t.Helper()
	i := slices.IndexFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == rule })
	if i < 0 {
		t.Fatalf("no %s in %+v", rule, r.Findings)
	}
	return r.Findings[i]
}

func hasEvidence(f rules.Finding, detail string) bool {
	return slices.ContainsFunc(f.Evidence, func(e rules.Evidence) bool { return e.Detail == detail })
}

// ecsguard:exempt=* without a reason hides nothing: the CRITICAL finding is
// alerted and enforced, its evidence and the log saying why the exemption
// was ignored.
func TestExemptionWithoutReason(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeEnforce, false)
	log := e.captureLog()
	e.tagRevision("reports", "ecsguard:exempt", "*")
	out, err := e.handler.OnRegister(context.Background(), e.event("ecs-registertaskdefinition-admin-task-role.json"))
	if err != nil || !out.Alerted || out.Suppressed != 0 || out.Highest != "CRITICAL" || out.Action.Result.String() != "deregistered" {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	e.proxy.Reset()
	alerts := e.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	f := finding(t, alerts[0].report(t), "TD-008")
	if f.Suppressed || !hasEvidence(f, "exemption ignored: no ecsguard:exempt-reason tag") {
		t.Errorf("TD-008 %+v", f)
	}
	if alerts[0].MessageAttributes["severity"].Value != "CRITICAL" {
		t.Errorf("attributes %v", alerts[0].MessageAttributes)
	}
	if ignored, _ := log.last(t)["exemptionsIgnored"].([]any); len(ignored) != 1 || !strings.Contains(ignored[0].(string), "TD-008 CRITICAL") {
		t.Errorf("log exemptionsIgnored = %v", log.last(t)["exemptionsIgnored"])
	}
	if got := e.status("reports"); got != "INACTIVE" {
		t.Errorf("status %s, want the revision deregistered", got)
	}
}

// With EXEMPTION_APPROVERS, the tags the registering CI role set count for
// nothing; the same exemption set by an approver through TagResource
// suppresses the finding, which the alert and the log still count.
func TestExemptionApprovers(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeAlert, false)
	ctx := context.Background()
	acct := e.sample.Account
	platformAdmins := "arn:aws:iam::" + acct + ":role/platform-admins"
	e.handler.Config.ExemptionApprovers = []string{platformAdmins, "arn:aws:iam::" + acct + ":role/sec-*"}
	log := e.captureLog()
	// reports:1 also gets an open finding of its own, TD-006: the
	// execution role it shares with web-api loses the managed policy.
	e.apply(e.event("iam-detachrolepolicy-exec-policy-from-exec-role.json"))

	// 1. CI registers the revision with the exemption.
	const reason = "quarterly reporting job reads every bucket, accepted until 2026-06-30 in SEC-57"
	e.tagRevision("reports", "ecsguard:exempt", "TD-008", "ecsguard:exempt-reason", reason)
	out, err := e.handler.OnRegister(ctx, e.withTags("ecs-registertaskdefinition-admin-task-role.json",
		"ecsguard:exempt", "TD-008", "ecsguard:exempt-reason", reason))
	if err != nil || !out.Alerted || out.Suppressed != 0 || out.Highest != "CRITICAL" {
		t.Fatalf("registration by CI: %+v, %v", out, err)
	}
	alerts := e.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	ci := "arn:aws:iam::" + acct + ":role/ci-deploy"
	if f := finding(t, alerts[0].report(t), "TD-008"); f.Suppressed || !hasEvidence(f, "exemption ignored: set by "+ci+", not an exemption approver") {
		t.Errorf("TD-008 after the CI registration: %+v", f)
	}
	if got := log.last(t)["exemptionRecorded"]; got != "ecsguard:exempt and ecsguard:exempt-reason set on "+e.sample.TaskDefinitions["reports"]+" by "+ci {
		t.Errorf("log exemptionRecorded = %v", got)
	}

	// 2. An administrator of platform-admins sets it again.
	event := e.event("ecs-tagresource-exempt-task-definition.json")
	e.apply(event)
	out, err = e.handler.OnRegister(ctx, event)
	if err != nil || out.Result != guard.ResultEvaluated || !out.Alerted || out.Suppressed != 1 || out.Highest != "HIGH" ||
		!slices.Equal(out.Rules, []string{"TD-006"}) || out.EventName != "TagResource" {
		t.Fatalf("TagResource by an approver: %+v, %v", out, err)
	}
	alerts = e.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	r := alerts[0].report(t)
	f := finding(t, r, "TD-008")
	if !f.Suppressed || f.SuppressedReason != reason+" (set by "+platformAdmins+")" || slices.ContainsFunc(f.Evidence, func(e rules.Evidence) bool {
		return strings.HasPrefix(e.Detail, "exemption ignored")
	}) {
		t.Errorf("TD-008 after the approver's TagResource: %+v", f)
	}
	if r.Trigger.EventName != "TagResource" || r.Trigger.Actor != platformAdmins || finding(t, r, "TD-006").Suppressed {
		t.Errorf("report trigger %+v findings %+v", r.Trigger, r.Findings)
	}
	if a := alerts[0].MessageAttributes; a["severity"].Value != "HIGH" || strings.Contains(a["rules"].Value, "TD-008") {
		t.Errorf("attributes %v: the suppressed finding sets them", a)
	}
	line := log.last(t)
	sup, _ := line["suppressedFindings"].([]any)
	if line["suppressed"] != 1.0 || len(sup) != 1 || !strings.HasPrefix(sup[0].(string), "TD-008 CRITICAL on ") || !strings.Contains(sup[0].(string), platformAdmins) {
		t.Errorf("log line %v", line)
	}

	// 3. Someone changes the reason with a call ecsguard does not see: the
	// approval no longer matches, and a new registration of the revision
	// (a redelivery with a new id) finds who set it unknown.
	e.tagRevision("reports", "ecsguard:exempt-reason", "trust me")
	out, err = e.handler.OnRegister(ctx, e.redelivered("ecs-registertaskdefinition-admin-task-role.json", "5c0f2e4a-0000-4000-8000-000000000003"))
	if err != nil || out.Suppressed != 0 || out.Highest != "CRITICAL" {
		t.Fatalf("after an unseen change: %+v, %v", out, err)
	}
	if f := finding(t, e.alerts()[0].report(t), "TD-008"); f.Suppressed || !hasEvidence(f, "exemption ignored: who set it is not known") {
		t.Errorf("TD-008 after an unseen change: %+v", f)
	}
}

// An approver's TagRole exempts the role; a later change to the role keeps
// the exemption. The same tags set by a call ecsguard did not see do not
// hold.
func TestExemptionByTagRoleKeptOnRoleChange(t *testing.T) {
	t.Parallel()
	for _, seen := range []bool{true, false} {
		name := map[bool]string{true: "tagrole-seen", false: "tags-set-unseen"}[seen]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeAlert, false)
			ctx := context.Background()
			// Any session of the Identity Center administrator role.
			e.handler.Config.ExemptionApprovers = []string{"arn:aws:sts::" + e.sample.Account + ":assumed-role/AWSReservedSSO_AdministratorAccess_*/*"}
			e.sweep()
			tagRole := e.event("iam-tagrole-exempt-task-role.json")
			e.apply(tagRole)
			if seen {
				out, err := e.handler.OnRoleChange(ctx, tagRole)
				if err != nil || out.Alerted || out.Suppressed != 1 || len(out.Subjects) != 1 || !strings.HasSuffix(out.Subjects[0].ARN, "task-definition/reports:1") {
					t.Fatalf("TagRole: %+v, %v", out, err)
				}
			}
			// The role gets an inline policy: RunTask and PassRole on *,
			// which TD-008 (the role is an administrator) covers.
			change := e.onRole("iam-putrolepolicy-events-role-passrole.json", "reports-admin-task")
			e.apply(change)
			out, err := e.handler.OnRoleChange(ctx, change)
			if err != nil || len(out.Subjects) != 1 {
				t.Fatalf("role change: %+v, %v", out, err)
			}
			alerts := e.alerts()
			if seen {
				if out.Alerted || out.Suppressed != 1 || len(alerts) != 0 {
					t.Fatalf("role change after an approved TagRole: %+v, %d alerts", out, len(alerts))
				}
				return
			}
			if !out.Alerted || out.Suppressed != 0 || len(alerts) != 1 {
				t.Fatalf("role change with unseen tags: %+v, %d alerts", out, len(alerts))
			}
			f := finding(t, alerts[0].change(t).Reports[0], "TD-008")
			if f.Suppressed || !hasEvidence(f, "exemption ignored: who set it is not known") {
				t.Errorf("TD-008 %+v", f)
			}
		})
	}
}
