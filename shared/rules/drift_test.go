package rules_test

import (
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
	reads := iampolicy.Policy{Name: "inline:ecsguard-reads", Document: trust(`"*"`)}
	admin := iampolicy.Policy{Name: "arn:aws:iam::aws:policy/AdministratorAccess", Document: trust(`"*"`)}
	deployed := func() *rules.Role {
		return &rules.Role{ARN: "arn:aws:iam::444455556666:role/ecsguard-member", Name: "ecsguard-member",
			Trust: trust(`["` + onregister + `","` + onrolechange + `"]`), Policies: []iampolicy.Policy{reads}}
	}
	for _, tc := range []struct {
		name   string
		change func(r *rules.Role) *rules.Role
		want   string // a substring of the one difference; "" for none
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
		{"its policy removed", func(r *rules.Role) *rules.Role { r.Policies = nil; return r }, "inline policy ecsguard-reads is missing"},
		{"a boundary set", func(r *rules.Role) *rules.Role { r.Boundary = &admin; return r }, "permissions boundary"},
		{"the role deleted", func(*rules.Role) *rules.Role { return nil }, "the role is missing"},
	} {
		got := rules.RoleDrift(tc.change(deployed()), []string{onregister, onrolechange}, []string{"ecsguard-reads"})
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: %q, want none", tc.name, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s: %q, want one with %q", tc.name, got, tc.want)
		}
	}
}
