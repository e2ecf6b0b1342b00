package guard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ecsguard/ecsguard/shared/guard"
)

// delivery is the event as a new delivery: a new event id, so that the
// event ledger does not take it for a duplicate, and when arn is set, a
// registration of that revision.
func (e *env) delivery(event []byte, n int, arn string) []byte {
	e.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		e.t.Fatal(err)
	}
	id := fmt.Sprintf("bench-%08d-0000-0000-0000-000000000000", n)
	ev["id"] = id
	detail := ev["detail"].(map[string]any)
	detail["eventID"] = id
	if arn != "" {
		detail["responseElements"].(map[string]any)["taskDefinition"].(map[string]any)["taskDefinitionArn"] = arn
	}
	b, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// BenchmarkOnRegister measures one invocation against the emulator and
// reports the AWS calls it makes (awscalls/op), ledger and index included:
// cold is a new process (empty managed-policy cache), warm a process that
// has seen the same roles. Each iteration is a new event registering a new
// revision, as in an account. The time is mostly the emulator's (about
// 10 ms per call); the call counts are what carries over to AWS.
func BenchmarkOnRegister(b *testing.B) {
	for _, tc := range []struct{ name, file, family string }{
		{"compliant", "ecs-registertaskdefinition-fargate-compliant.json", "web-api"},
		{"admin-task-role", "ecs-registertaskdefinition-admin-task-role.json", "reports"},
	} {
		for _, warm := range []bool{false, true} {
			name := tc.name + "/cold"
			if warm {
				name = tc.name + "/warm"
			}
			b.Run(name, func(b *testing.B) {
				e := setup(b, guard.ModeAlert, false)
				e.handler.Log = nil
				event := e.event(tc.file)
				ctx := context.Background()
				if warm {
					if _, err := e.handler.OnRegister(ctx, event); err != nil {
						b.Fatal(err)
					}
				}
				var calls int64
				n := 0
				for b.Loop() {
					b.StopTimer()
					n++
					next := e.delivery(event, n, e.revisions(tc.family, 1)[0])
					if !warm {
						e.handler = guard.New(e.handler.Config, e.pcfg, nil)
					}
					b.StartTimer()
					out, err := e.handler.OnRegister(ctx, next)
					if err != nil {
						b.Fatal(err)
					}
					if out.Result != guard.ResultEvaluated {
						b.Fatalf("result %s: %s", out.Result, out.Reason)
					}
					calls += out.Calls
				}
				b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
			})
		}
	}
}

// BenchmarkOnRoleChange is onrolechange on a task role change
// (AdministratorAccess attached to web-api-task), on a policy change
// reaching two revisions (CreatePolicyVersion) and on an events role used
// by one EventBridge rule, warm, with the role index.
func BenchmarkOnRoleChange(b *testing.B) {
	for _, tc := range []struct{ name, file string }{
		{"attach-to-task-role", "iam-attachrolepolicy-admin-on-task-role.json"},
		{"policy-version", "iam-createpolicyversion-broadens-exec-policy.json"},
		{"events-role", "iam-putrolepolicy-events-role-passrole.json"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := setup(b, guard.ModeAlert, false)
			e.handler.Log = nil
			e.sweep()
			event := e.event(tc.file)
			e.apply(event)
			ctx := context.Background()
			if _, err := e.handler.OnRoleChange(ctx, event); err != nil {
				b.Fatal(err)
			}
			var calls int64
			n := 0
			for b.Loop() {
				n++
				out, err := e.handler.OnRoleChange(ctx, e.delivery(event, n, ""))
				if err != nil {
					b.Fatal(err)
				}
				if out.Result != guard.ResultEvaluated {
					b.Fatalf("result %s: %s", out.Result, out.Reason)
				}
				calls += out.Calls
			}
			b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
		})
	}
}
