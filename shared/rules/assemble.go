package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// RoleSource reads a role by the reference a task definition keeps for it:
// an ARN, or a name ECS kept as given. It returns the role (nil when it
// cannot be read), the facts of it that could not be read, and an error
// only for a failure that must be retried. The functions read IAM; the
// CLI reads an export.
type RoleSource interface {
	Role(ctx context.Context, ref string) (*Role, []FactError, error)
}

// ErrOtherAccount is why a role of another account than the task
// definition's is not read.
var ErrOtherAccount = errors.New("role in another account")

// OtherAccountRole reports whether roleARN is a role of another account
// than account, with the fact error that says so. IAM reads a role by name
// in the caller's account: a role ARN of another account would be answered
// with the local role of the same name, and judged in its place.
func OtherAccountRole(roleARN, account string) (FactError, bool) {
	p := strings.SplitN(roleARN, ":", 6)
	if len(p) < 6 || p[0] != "arn" || p[2] != "iam" || p[4] == "" || account == "" || p[4] == account {
		return FactError{}, false
	}
	return FactError{Subject: roleARN, Err: fmt.Errorf("%w: it is in account %s and cannot be read from account %s", ErrOtherAccount, p[4], account)}, true
}

// Assemble gathers the facts of one task definition: its task and
// execution roles, each read once from src. It is the one assembly the
// functions (from IAM), check (from an export) and scan use. Account and
// region are the task definition ARN's.
//
// ECS accepts a role's name where it asks for its ARN, and may keep it so.
// The rules compare ARNs, so each reference becomes the ARN of the role
// read (a role given by name is one of the task definition's own
// account), or failing that the ARN the name has in that account. A role
// of another account is never read: the report is incomplete, and says
// why.
func Assemble(ctx context.Context, td *TaskDefinition, src RoleSource) (Facts, error) {
	f := Facts{TaskDefinition: td, Roles: make(map[string]*Role, 2)}
	partition, region, account := arnParts(td.ARN)
	f.Account, f.Region = account, region
	partition = cmpOr(partition, "aws")
	byName := map[string]string{}
	for _, ref := range []*string{&td.TaskRoleARN, &td.ExecutionRoleARN} {
		if *ref == "" {
			continue
		}
		if fe, ok := OtherAccountRole(*ref, account); ok {
			f.Missing = append(f.Missing, fe)
			continue
		}
		name := (*ref)[strings.LastIndexByte(*ref, '/')+1:]
		if arn, ok := byName[strings.ToLower(name)]; ok {
			*ref = arn
			continue
		}
		role, missing, err := src.Role(ctx, *ref)
		if err != nil {
			return f, err
		}
		if role != nil && !strings.HasPrefix(*ref, "arn:") && account != "" && arnAccount(role.ARN) != account {
			// A name read where it names another account's role: the task
			// definition's is the one of its own account.
			*ref = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, name)
			if role, missing, err = src.Role(ctx, *ref); err != nil {
				return f, err
			}
		}
		if role != nil && strings.HasPrefix(*ref, "arn:") && role.ARN != *ref {
			// Keyed by the task definition's own reference, which may differ
			// in case or path from the ARN IAM returns.
			r := *role
			r.ARN = *ref
			role = &r
		}
		f.Missing = append(f.Missing, missing...)
		switch {
		case role != nil:
			*ref = role.ARN
			f.Roles[role.ARN] = role
		case !strings.HasPrefix(*ref, "arn:") && account != "":
			*ref = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, name)
		}
		byName[strings.ToLower(name)] = *ref
	}
	return f, nil
}

func arnAccount(arn string) string {
	_, _, account := arnParts(arn)
	return account
}
