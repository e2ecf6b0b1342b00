package rules_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

func TestRoleDrift(t *testing.T) {
	t.Parallel()
	const (
		onregister   = "arn:aws:iam::111122223333:role/ecsguard-onregister"
		onrolechange = "arn:aws:iam::111122223333:role/ecsguard-onrolechange"
	)
	trust := func(principals string) *iampolicy.Document {
		d, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":` + principals + `},
			"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}`)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	policy := func(actions string) iampolicy.Policy {
		d, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"*"}]}`)
		if err != nil {
			t.Fatal(err)
		}
		return iampolicy.Policy{Name: "inline:ecsguard-reads", Document: d}
	}
	reads := policy(`["ecs:DescribeTaskDefinition","iam:GetRole"]`)
	admin := iampolicy.Policy{Name: "arn:aws:iam::aws:policy/AdministratorAccess", Document: policy(`"*"`).Document}
	needs := []iampolicy.Request{
		{Action: "ecs:DescribeTaskDefinition", Resource: "arn:aws:ecs:eu-west-1:444455556666:task-definition/any:1"},
		{Action: "iam:GetRole", Resource: "arn:aws:iam::444455556666:role/any"},
	}
	deployed := func() *rules.Role {
		return &rules.Role{ARN: "arn:aws:iam::444455556666:role/ecsguard-member", Name: "ecsguard-member",
			Trust: trust(`["` + onregister + `","` + onrolechange + `"]`), Policies: []iampolicy.Policy{reads}}
	}
	for _, tc := range []struct {
		name   string
		change func(r *rules.Role) *rules.Role
		want   string // a substring of each difference, in order, |-separated; "" for none
	}{
		{"as deployed", func(r *rules.Role) *rules.Role { return r }, ""},
		{"another principal trusted", func(r *rules.Role) *rules.Role {
			r.Trust = trust(`["` + onregister + `","arn:aws:iam::999988887777:root"]`)
			return r
		}, "trust admits AWS principal arn:aws:iam::999988887777:root"},
		{"everyone trusted", func(r *rules.Role) *rules.Role { r.Trust = trust(`"*"`); return r }, `trust admits "*"`},
		{"a managed policy attached", func(r *rules.Role) *rules.Role {
			r.Policies = append(r.Policies, admin)
			r.Attached = []string{admin.Name}
			return r
		}, "policy arn:aws:iam::aws:policy/AdministratorAccess is not ecsguard's"},
		{"its policy removed", func(r *rules.Role) *rules.Role { r.Policies = nil; return r },
			"inline policy ecsguard-reads is missing|no longer allows ecs:DescribeTaskDefinition|no longer allows iam:GetRole"},
		{"a read removed from its policy", func(r *rules.Role) *rules.Role {
			r.Policies = []iampolicy.Policy{policy(`"ecs:DescribeTaskDefinition"`)}
			return r
		}, "no longer allows iam:GetRole on arn:aws:iam::444455556666:role/any"},
		{"a read denied in its policy", func(r *rules.Role) *rules.Role {
			d, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)
			if err != nil {
				t.Fatal(err)
			}
			r.Policies = []iampolicy.Policy{{Name: "inline:ecsguard-reads", Document: d}}
			return r
		}, "no longer allows iam:GetRole"},
		{"a read unknown while a policy is unreadable", func(r *rules.Role) *rules.Role {
			r.Policies = nil
			r.Missing = []rules.FactError{{Subject: r.ARN, Err: errors.New("AccessDenied")}}
			return r
		}, "inline policy ecsguard-reads is missing"},
		{"a boundary set", func(r *rules.Role) *rules.Role { r.Boundary = &admin; return r }, "permissions boundary"},
		{"the role deleted", func(*rules.Role) *rules.Role { return nil }, "the role is missing"},
	} {
		got := rules.RoleDrift(tc.change(deployed()), rules.Deployed{Trusted: []string{onregister, onrolechange}, Inline: []string{"ecsguard-reads"}, Needs: needs})
		var want []string
		if tc.want != "" {
			want = strings.Split(tc.want, "|")
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(want); i++ {
			ok = strings.Contains(got[i], want[i])
		}
		if !ok {
			t.Errorf("%s: %q, want %q", tc.name, got, want)
		}
	}
}
