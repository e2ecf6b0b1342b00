package awsexport_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// withoutPolicy is the export of file with the managed policy arn removed
// from Policies, still attached to its roles: what an export filtered by
// hand, or cut short, gives.
func withoutPolicy(t *testing.T, file, arn string) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(readFile(t, file), &d); err != nil {
		t.Fatal(err)
	}
	ps := d["Policies"].([]any)
	n := len(ps)
	ps = slices.DeleteFunc(ps, func(p any) bool { return p.(map[string]any)["Arn"] == arn })
	if len(ps) != n-1 {
		t.Fatalf("%s holds no policy %s", file, arn)
	}
	d["Policies"] = ps
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// evaluate judges the task definition with its roles from the export, as
// `ecsguard check` does.
func evaluate(t *testing.T, iam []byte) (rules.Report, *awsexport.Account) {
	t.Helper()
	td, err := awsexport.DecodeTaskDefinition(readFile(t, "taskdef.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := awsexport.DecodeAuthorizationDetails(iam)
	if err != nil {
		t.Fatal(err)
	}
	f := rules.Facts{Account: "111122223333", Region: "us-east-1", TaskDefinition: td, Roles: map[string]*rules.Role{}}
	for _, arn := range []string{td.TaskRoleARN, td.ExecutionRoleARN} {
		role, missing := a.Role(arn)
		if role != nil {
			f.Roles[arn] = role
		}
		f.Missing = append(f.Missing, missing...)
	}
	return rules.Evaluate(f), a
}

// The execution role has AmazonECSTaskExecutionRolePolicy attached, but the
// export lacks the policy: the role seems unable to pull or log, which is
// not known. The report is incomplete, names the policy once, and claims
// no lack (TD-006).
func TestMissingManagedPolicyClaimsNoLack(t *testing.T) {
	t.Parallel()
	if r, _ := evaluate(t, readFile(t, "account.json")); !r.Complete || slices.ContainsFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == "TD-006" }) {
		t.Fatalf("with the whole export: complete=%v findings=%+v, want complete and no TD-006", r.Complete, r.Findings)
	}

	r, a := evaluate(t, withoutPolicy(t, "account.json", execPolicy))
	exec, _ := a.Role(acct + "role/web-api-exec")
	want := execPolicy + ": attached to role web-api-exec: policy ARN not found in IAM export"
	if len(exec.Missing) != 1 || exec.Missing[0].Error() != want || !errors.Is(exec.Missing[0].Err, awsexport.ErrPolicyNotFound) {
		t.Errorf("role Missing = %v, want [%s]", exec.Missing, want)
	}
	if r.Complete || r.ShouldDeregister(rules.Low) {
		t.Fatalf("complete = %v, want incomplete", r.Complete)
	}
	if n := slices.Index(r.Errors, want); n < 0 || slices.Index(r.Errors[n+1:], want) >= 0 {
		t.Errorf("errors = %q, want %q once", r.Errors, want)
	}
	for _, f := range r.Findings {
		if f.Rule == "TD-006" {
			t.Errorf("TD-006 on incomplete facts: %+v", f)
		}
	}
}

func TestOtherAccountRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role, account string
		want          string // "" when the role is not of another account
	}{
		{"arn:aws:iam::999999999999:role/web-api-exec", "111122223333", "arn:aws:iam::999999999999:role/web-api-exec: role in another account: it is in account 999999999999 and cannot be read from account 111122223333"},
		{"arn:aws:iam::999999999999:role/team/a/web-api-exec", "111122223333", "arn:aws:iam::999999999999:role/team/a/web-api-exec: role in another account: it is in account 999999999999 and cannot be read from account 111122223333"},
		{"arn:aws:iam::111122223333:role/web-api-exec", "111122223333", ""},
		{"web-api-exec", "111122223333", ""},
		{"arn:aws:iam::999999999999:role/web-api-exec", "", ""},
		{"not:an:arn", "111122223333", ""},
	}
	for _, tc := range tests {
		fe, ok := awsexport.OtherAccountRole(tc.role, tc.account)
		switch {
		case tc.want == "" && ok:
			t.Errorf("OtherAccountRole(%q, %q) = %v, want none", tc.role, tc.account, fe)
		case tc.want != "" && (!ok || fe.Error() != tc.want || fe.Subject != tc.role || !errors.Is(fe.Err, awsexport.ErrOtherAccount)):
			t.Errorf("OtherAccountRole(%q, %q) = %v, %v, want %q", tc.role, tc.account, fe, ok, tc.want)
		}
	}
}
