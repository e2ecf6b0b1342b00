package guard_test

import (
	"context"
	"testing"

	"github.com/ecsguard/ecsguard/shared/guard"
)

// BenchmarkOnRegister measures one invocation against the emulator and
// reports the AWS calls it makes (awscalls/op): cold is a new process (empty
// managed-policy cache), warm a process that has seen the same roles. The
// time is mostly the emulator's (about 10 ms per call); the call counts are
// what carries over to AWS.
func BenchmarkOnRegister(b *testing.B) {
	for _, tc := range []struct{ name, file string }{
		{"compliant", "ecs-registertaskdefinition-fargate-compliant.json"},
		{"admin-task-role", "ecs-registertaskdefinition-admin-task-role.json"},
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
				b.ResetTimer()
				for b.Loop() {
					if !warm {
						e.handler = guard.New(e.handler.Config, e.pcfg, nil)
					}
					out, err := e.handler.OnRegister(ctx, event)
					if err != nil {
						b.Fatal(err)
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
			for b.Loop() {
				out, err := e.handler.OnRoleChange(ctx, event)
				if err != nil {
					b.Fatal(err)
				}
				calls += out.Calls
			}
			b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
		})
	}
}
