package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// mapRoles is a RoleSource over roles by ARN and by name, as an export
// reads them.
type mapRoles map[string]*rules.Role

func (m mapRoles) Role(_ context.Context, ref string) (*rules.Role, []rules.FactError, error) {
	if r := m[ref]; r != nil {
		return r, nil, nil
	}
	for _, r := range m {
		if r.Name == ref {
			return r, nil, nil
		}
	}
	return nil, []rules.FactError{{Subject: ref, Err: errors.New("not found")}}, nil
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	task := role(t, taskARN, trustECS, s3TaskPolicy)
	exec := role(t, execARN, trustECS, execManaged)
	other := role(t, "arn:aws:iam::999999999999:role/web-task", trustECS)
	src := mapRoles{taskARN: task, execARN: exec, other.ARN: other}
	for _, tc := range []struct {
		name             string
		taskRef, execRef string
		wantTask         string
		missing          string // a substring of the one missing fact, "" for none
	}{
		{"arns", taskARN, execARN, taskARN, ""},
		{"names", "web-task", "web-exec", taskARN, ""},
		{"same-role-twice", "web-exec", execARN, execARN, ""},
		{"other-account-arn-never-read", "arn:aws:iam::999999999999:role/web-task", execARN, "arn:aws:iam::999999999999:role/web-task", "999999999999"},
		{"missing-role", "arn:aws:iam::111122223333:role/gone", execARN, "arn:aws:iam::111122223333:role/gone", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			td := &rules.TaskDefinition{ARN: tdARN, Family: "web", TaskRoleARN: tc.taskRef, ExecutionRoleARN: tc.execRef}
			f, err := rules.Assemble(context.Background(), td, src)
			if err != nil {
				t.Fatal(err)
			}
			if f.Account != account || f.Region != region || td.TaskRoleARN != tc.wantTask {
				t.Errorf("account %q region %q task role %q, want %q", f.Account, f.Region, td.TaskRoleARN, tc.wantTask)
			}
			switch {
			case tc.missing == "" && len(f.Missing) > 0:
				t.Errorf("missing %v", f.Missing)
			case tc.missing != "" && (len(f.Missing) != 1 || !strings.Contains(f.Missing[0].Error(), tc.missing)):
				t.Errorf("missing %v, want one naming %q", f.Missing, tc.missing)
			}
			if r := f.Roles[td.TaskRoleARN]; tc.missing == "" && (r == nil || r.Name != roleNameOf(tc.wantTask)) {
				t.Errorf("roles %v", f.Roles)
			}
		})
	}
}

func roleNameOf(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
