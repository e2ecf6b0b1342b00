package guard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
)

// copies registers n more families, copies of a family's revision 1, and
// returns their ARNs.
func (e *env) copies(family string, n int) []string {
	return e.register(family, n, func(i int) string { return fmt.Sprintf("%s-copy-%04d", family, i) })
}

// revisions registers n more revisions of a family, copies of its
// revision 1, and returns their ARNs.
func (e *env) revisions(family string, n int) []string {
	return e.register(family, n, func(int) string { return family })
}

func (e *env) register(family string, n int, name func(int) string) []string {
	e.t.Helper()
	ctx := context.Background()
	c := ecs.NewFromConfig(e.cfg)
	got, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(e.sample.TaskDefinitions[family])})
	if err != nil {
		e.t.Fatal(err)
	}
	td := got.TaskDefinition
	var out []string
	for i := 0; i < n; i++ {
		r, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(name(i)), TaskRoleArn: td.TaskRoleArn, ExecutionRoleArn: td.ExecutionRoleArn,
			NetworkMode: td.NetworkMode, RequiresCompatibilities: td.RequiresCompatibilities, Cpu: td.Cpu, Memory: td.Memory,
			ContainerDefinitions: td.ContainerDefinitions,
		})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, aws.ToString(r.TaskDefinition.TaskDefinitionArn))
	}
	return out
}

// subjects lists the subjects the alerts announce, with their action
// results, and fails on one announced twice.
func (e *env) subjects(alerts []snsEnvelope) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, a := range alerts {
		for _, r := range a.change(e.t).Reports {
			if _, dup := out[r.Subject.ARN]; dup {
				e.t.Errorf("%s announced twice", r.Subject.ARN)
			}
			out[r.Subject.ARN] = r.Action.Result.String()
		}
	}
	return out
}

// A duplicate delivery neither deregisters again nor alerts again.
func TestDuplicateDelivery(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeEnforce, false)
	event := e.event("ecs-registertaskdefinition-admin-task-role.json")
	first, err := e.handler.OnRegister(context.Background(), event)
	if err != nil || first.Action.Result.String() != "deregistered" || !first.Alerted {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	second, err := e.handler.OnRegister(context.Background(), event)
	if err != nil || second.Result != guard.ResultDuplicate || second.Alerted {
		t.Fatalf("second delivery: %+v, %v", second, err)
	}
	if n := e.proxy.Calls("DeregisterTaskDefinition"); n != 1 {
		t.Errorf("%d deregistrations, want 1", n)
	}
	if n := len(e.alerts()); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
}

// A retry after a partial failure completes what is missing and alerts
// about everything that was done, the revisions the failed attempt
// deregistered included.
func TestRetryAfterPartialFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fail func(p *emulator.FaultProxy)
	}{
		{"publish-fails", func(p *emulator.FaultProxy) { p.Fail("Publish", -1, emulator.Throttling) }},
		{"second-deregister-fails", func(p *emulator.FaultProxy) { p.FailAfter("DeregisterTaskDefinition", 1, -1, emulator.Throttling) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, guard.ModeEnforce, false)
			e.handler.Config.EnforceOnRoleChange = true
			extra := e.copies("web-api", 2)
			e.sweepAll()
			event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
			e.apply(event)
			tc.fail(e.proxy)
			if _, err := e.handler.OnRoleChange(context.Background(), event); err == nil {
				t.Fatal("the failing attempt succeeded")
			}
			e.proxy.Reset()
			out, err := e.handler.OnRoleChange(context.Background(), event)
			if err != nil || !out.Alerted {
				t.Fatalf("retry: %+v, %v", out, err)
			}
			got := e.subjects(e.alerts())
			for _, arn := range append(extra, e.sample.TaskDefinitions["web-api"]) {
				if got[arn] != "deregistered" {
					t.Errorf("%s: alert says %q, want deregistered (alerts %v)", arn, got[arn], got)
				}
			}
			if dup, err := e.handler.OnRoleChange(context.Background(), event); err != nil || dup.Result != guard.ResultDuplicate || len(e.alerts()) != 0 {
				t.Errorf("a third delivery: %+v, %v", dup, err)
			}
		})
	}
}

// Every AWS call of both functions, failed for good (throttled past the
// SDK's retries), then the event delivered again: in the end every effect
// happened once, as in a run without faults.
func TestFaultOnEveryCall(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name     string
		register bool
		event    string
	}{
		{"onregister-enforce", true, "ecs-registertaskdefinition-admin-task-role.json"},
		{"onrolechange-enforce", false, "iam-attachrolepolicy-admin-on-task-role.json"},
		{"onrolechange-policy-version", false, "iam-createpolicyversion-broadens-exec-policy.json"},
		{"onrolechange-events-role", false, "iam-putrolepolicy-events-role-passrole.json"},
	}
	type result struct {
		alerts   map[string]string // subject → action result
		messages int
		inactive []string
	}
	deliver := func(e *env, register bool, event []byte) error {
		if register {
			_, err := e.handler.OnRegister(context.Background(), event)
			return err
		}
		_, err := e.handler.OnRoleChange(context.Background(), event)
		return err
	}
	prepare := func(t *testing.T, register bool, name string) (*env, []byte) {
		e := setup(t, guard.ModeEnforce, false)
		e.handler.Config.EnforceOnRoleChange = true
		event := e.event(name)
		if !register {
			e.sweepAll()
			e.apply(event)
		}
		return e, event
	}
	outcome := func(e *env) result {
		alerts := e.alerts()
		r := result{messages: len(alerts), alerts: map[string]string{}}
		// Each run has its own account: compare ARNs without it.
		key := func(arn string) string { return strings.ReplaceAll(arn, e.sample.Account, "ACCOUNT") }
		for _, a := range alerts {
			if strings.Contains(a.Message, `"change":{`) {
				for k, v := range e.subjects([]snsEnvelope{a}) {
					r.alerts[key(k)] = v
				}
			} else {
				rep := a.report(e.t)
				r.alerts[key(rep.Subject.ARN)] = rep.Action.Result.String()
			}
		}
		for fam := range e.sample.TaskDefinitions {
			if e.status(fam) == "INACTIVE" {
				r.inactive = append(r.inactive, fam)
			}
		}
		slices.Sort(r.inactive)
		return r
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			clean, event := prepare(t, sc.register, sc.event)
			if err := deliver(clean, sc.register, event); err != nil {
				t.Fatal(err)
			}
			ops := clean.proxy.Ops()
			want := outcome(clean)
			if len(ops) < 3 {
				t.Fatalf("only %v called", ops)
			}
			for i, op := range ops {
				// The call at position i of the clean run fails for good,
				// and so does every later call of the same operation.
				nth := 0
				for _, o := range ops[:i] {
					if o == op {
						nth++
					}
				}
				t.Run(fmt.Sprintf("%02d-%s", i+1, op), func(t *testing.T) {
					t.Parallel()
					e, event := prepare(t, sc.register, sc.event)
					e.handler.Ledger.Lease = 50 * time.Millisecond // the release may fail too
					e.proxy.FailAfter(op, nth, -1, emulator.Throttling)
					err := deliver(e, sc.register, event)
					var re *guard.RetryableError
					if err != nil && !errors.As(err, &re) {
						t.Fatalf("%s failing: %v, not a RetryableError", op, err)
					}
					e.proxy.Reset()
					time.Sleep(100 * time.Millisecond)
					if err := deliver(e, sc.register, event); err != nil {
						t.Fatalf("retry after %s failed: %v", op, err)
					}
					got := outcome(e)
					// The one repeat allowed: the record of a message SNS
					// accepted could not be written, so the retry sends it
					// again.
					messages := want.messages
					if op == "UpdateItem" && i > 0 && ops[i-1] == "Publish" {
						messages++
					}
					if got.messages != messages || fmt.Sprint(got.alerts) != fmt.Sprint(want.alerts) || fmt.Sprint(got.inactive) != fmt.Sprint(want.inactive) {
						t.Errorf("with call %d (%s) failing first:\n got %+v\nwant %+v, %d messages", i+1, op, got, want, messages)
					}
					if n := e.proxy.Calls("DeregisterTaskDefinition"); n > 0 && len(want.inactive) == 0 {
						t.Errorf("%d deregistrations, want none", n)
					}
				})
			}
		})
	}
}

// sweepAll fills the role index with every ACTIVE revision.
func (e *env) sweepAll() {
	e.t.Helper()
	if _, err := e.handler.Sweep(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// A role change that reaches 1,000 revisions in enforce mode: every one is
// deregistered and announced, in as many messages as SNS's limits need,
// none too large and none left out.
func TestLargeRoleChange(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("registers 1,000 revisions")
	}
	e := setup(t, guard.ModeEnforce, false)
	e.handler.Config.EnforceOnRoleChange = true
	want := append(e.copies("web-api", 999), e.sample.TaskDefinitions["web-api"])
	e.sweepAll()
	event := e.event("iam-attachrolepolicy-admin-on-task-role.json")
	e.apply(event)
	out, err := e.handler.OnRoleChange(context.Background(), event)
	if err != nil || !out.Alerted {
		t.Fatalf("outcome: %v (%s)", err, out.Reason)
	}
	alerts := e.alerts()
	if len(alerts) < 2 || out.Messages != len(alerts) {
		t.Errorf("%d messages (outcome says %d): 1,000 reports do not fit in one", len(alerts), out.Messages)
	}
	for _, a := range alerts {
		if len(a.Subject) >= 100 || strings.ContainsAny(a.Subject, "\r\n") || len(a.Message) > 256<<10 {
			t.Errorf("message too large or subject bad: %d bytes, subject %q", len(a.Message), a.Subject)
		}
		if a.MessageAttributes["part"].Value == "" {
			t.Errorf("part attribute missing: %v", a.MessageAttributes)
		}
	}
	got := e.subjects(alerts)
	for _, arn := range want {
		if got[arn] != "deregistered" {
			t.Fatalf("%s: %q in the alerts, want deregistered (%d subjects announced)", arn, got[arn], len(got))
		}
	}
}

// The one repeat the ledger allows: when the write that finishes the
// event's record fails after SNS accepted the alert, the retry publishes
// that alert again, once, and does nothing else again.
func TestFinishFailsAfterPublish(t *testing.T) {
	t.Parallel()
	e := setup(t, guard.ModeEnforce, false)
	e.handler.Ledger.Lease = 50 * time.Millisecond
	event := e.event("ecs-registertaskdefinition-admin-task-role.json")
	// UpdateItem: the claim, the deregistration, then the finish.
	e.proxy.FailAfter("UpdateItem", 2, -1, emulator.Throttling)
	var re *guard.RetryableError
	if _, err := e.handler.OnRegister(context.Background(), event); !errors.As(err, &re) || re.Stage != "finish event" {
		t.Fatalf("first delivery: %v, want a failure to finish", err)
	}
	e.proxy.Reset()
	time.Sleep(100 * time.Millisecond) // the release failed too: the lease runs out
	out, err := e.handler.OnRegister(context.Background(), event)
	if err != nil || out.Action.Result.String() != "deregistered" {
		t.Fatalf("retry: %+v, %v", out, err)
	}
	alerts := e.alerts()
	if len(alerts) != 2 || alerts[0].Message != alerts[1].Message {
		t.Fatalf("%d alerts, want the same alert twice: %+v", len(alerts), alerts)
	}
	if n := e.proxy.Calls("DeregisterTaskDefinition"); n != 1 {
		t.Errorf("%d deregistrations, want 1", n)
	}
	if dup, err := e.handler.OnRegister(context.Background(), event); err != nil || dup.Result != guard.ResultDuplicate || len(e.alerts()) != 0 {
		t.Errorf("a third delivery: %+v, %v", dup, err)
	}
}
