package rules_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// Incomplete facts never produce a verdict that depends on them: the report
// is incomplete with the error, listed once, and no rule judges what could
// not be read.
func TestIncompleteFactsGiveNoVerdict(t *testing.T) {
	t.Parallel()
	errPolicy := errors.New("policy ARN not found in IAM export")
	// dropManaged leaves AmazonECSTaskExecutionRolePolicy attached to the
	// execution role but without its document, as an export that lacks it
	// gives the role.
	dropManaged := func(f *rules.Facts) rules.FactError {
		r := f.Roles[execARN]
		r.Policies = slices.DeleteFunc(r.Policies, func(p iampolicy.Policy) bool { return p.Name == policyTaskExecution })
		fe := rules.FactError{Subject: policyTaskExecution, Err: errPolicy}
		r.Missing = append(r.Missing, fe)
		return fe
	}
	tests := []struct {
		name    string
		mutate  func(t testing.TB, f *rules.Facts)
		subject string   // the report's subject ARN, when not the task definition's
		errs    []string // each must be in the report's errors exactly once
		absent  []string // rules that must not fire
		present []string // rules that must still fire
		only    bool     // the incomplete finding is the only finding
	}{
		{
			// (a) The managed policy that grants pull and logs is attached
			// but absent: without it the role seems to lack them.
			name: "managed-policy-absent-role-and-facts",
			mutate: func(t testing.TB, f *rules.Facts) {
				fe := dropManaged(f)
				f.Missing = append(f.Missing, fe) // as check and the loader also return it
			},
			errs:   []string{policyTaskExecution + ": policy ARN not found in IAM export"},
			absent: []string{"TD-006"},
		},
		{
			name:   "managed-policy-absent-role-only",
			mutate: func(t testing.TB, f *rules.Facts) { dropManaged(f) },
			errs:   []string{policyTaskExecution + ": policy ARN not found in IAM export"},
			absent: []string{"TD-006"},
		},
		{
			// A lack of a secret the task names would fire on complete
			// facts (td006-lacks-secret); with a policy missing it does not.
			name: "secret-lack-not-claimed",
			mutate: func(t testing.TB, f *rules.Facts) {
				f.TaskDefinition.Containers[0].Secrets = append(f.TaskDefinition.Containers[0].Secrets, rules.Secret{Name: "API_KEY", ValueFrom: "arn:aws:secretsmanager:us-east-1:111122223333:secret:other/api-XyZ123"})
				r := f.Roles[execARN]
				r.Missing = append(r.Missing, rules.FactError{Subject: execARN, Err: errors.New("inline policy extra: AccessDenied")})
			},
			errs:   []string{execARN + ": inline policy extra: AccessDenied"},
			absent: []string{"TD-006"},
		},
		{
			// Needing an execution role and having none does not depend on
			// any role's facts: still HIGH.
			name: "no-execution-role-still-judged",
			mutate: func(t testing.TB, f *rules.Facts) {
				f.TaskDefinition.ExecutionRoleARN = ""
				r := f.Roles[taskARN]
				r.Missing = append(r.Missing, rules.FactError{Subject: taskARN, Err: errors.New("trust policy: not valid JSON")})
			},
			errs:    []string{taskARN + ": trust policy: not valid JSON"},
			present: []string{"TD-006"},
		},
		{
			// (b) DescribeTaskDefinition failed for good: the loader gives
			// the ARN alone. An empty definition has no task role and runs
			// on EC2, yet TD-007 must not fire.
			name: "task-definition-unreadable",
			mutate: func(t testing.TB, f *rules.Facts) {
				f.TaskDefinition = &rules.TaskDefinition{ARN: tdARN}
				f.Roles = map[string]*rules.Role{}
				f.Families = map[string][]string{"": {"a", "b"}}
				f.Missing = []rules.FactError{{Subject: tdARN, Err: errors.New("ClientException: Unable to describe task definition.")}}
			},
			errs: []string{tdARN + ": ClientException: Unable to describe task definition."},
			only: true,
		},
		{
			// Even with content left over (a caller that kept a stale copy),
			// nothing is judged on a definition reported unreadable.
			name: "task-definition-unreadable-with-content",
			mutate: func(t testing.TB, f *rules.Facts) {
				f.TaskDefinition.TaskRoleARN = ""
				f.TaskDefinition.RequiresCompatibilities = nil
				f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment, rules.KeyValue{Name: "DB_PASSWORD", Value: "hunter2hunter2"})
				f.Missing = []rules.FactError{{Subject: tdARN, Err: errors.New("AccessDeniedException")}}
			},
			errs: []string{tdARN + ": AccessDeniedException"},
			only: true,
		},
		{
			// (c) A role of another account, not read: no role facts.
			name: "execution-role-of-another-account",
			mutate: func(t testing.TB, f *rules.Facts) {
				other := "arn:aws:iam::999999999999:role/web-exec"
				f.TaskDefinition.ExecutionRoleARN = other
				f.Missing = append(f.Missing, rules.FactError{Subject: other, Err: errors.New("role in another account: it is in account 999999999999 and cannot be read from account 111122223333")})
			},
			errs:   []string{"arn:aws:iam::999999999999:role/web-exec: role in another account: it is in account 999999999999"},
			absent: []string{"TD-006", "TD-003", "TD-004"},
		},
		{
			name: "secondary-role-missing-uses",
			mutate: func(t testing.TB, f *rules.Facts) {
				events := role(t, "arn:aws:iam::111122223333:role/ecsEventsRole", `{"Statement":{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
				events.Missing = []rules.FactError{{Subject: events.ARN, Err: errors.New("EventBridge targets: AccessDenied")}}
				*f = rules.Facts{Account: account, Region: region, Role: events}
			},
			subject: "arn:aws:iam::111122223333:role/ecsEventsRole",
			errs:    []string{"arn:aws:iam::111122223333:role/ecsEventsRole: EventBridge targets: AccessDenied"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := baseline(t)
			tc.mutate(t, &f)
			r := rules.Evaluate(f)
			if want := cmpOr(tc.subject, tdARN); r.Subject.ARN != want {
				t.Errorf("subject = %s, want %s", r.Subject.ARN, want)
			}
			if r.Complete || r.ShouldDeregister(rules.Low) {
				t.Fatalf("complete=%v, want an incomplete report that never enforces", r.Complete)
			}
			for _, want := range tc.errs {
				n := 0
				for _, e := range r.Errors {
					if strings.HasPrefix(e, want) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("errors %q hold %q %d times, want once", r.Errors, want, n)
				}
			}
			var got []string
			for _, fd := range r.Findings {
				got = append(got, fd.Rule)
			}
			if !slices.Contains(got, rules.IncompleteRule) {
				t.Errorf("findings %v lack %s", got, rules.IncompleteRule)
			}
			if tc.only && !slices.Equal(got, []string{rules.IncompleteRule}) {
				t.Errorf("findings = %v, want %s alone", got, rules.IncompleteRule)
			}
			for _, id := range tc.absent {
				if slices.Contains(got, id) {
					t.Errorf("%s fired on incomplete facts: %+v", id, r.Findings)
				}
			}
			for _, id := range tc.present {
				if !slices.Contains(got, id) {
					t.Errorf("%s did not fire: %v", id, got)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
