package awsfacts_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// The bulk read of the account gives each role as the per-role reads give
// it: trust, inline and managed policies at their default version
// (customer and AWS managed), boundary, tags.
func TestAccountAgreesWithRoleReads(t *testing.T) {
	t.Parallel()
	sample, loader, calls, _ := account(t, nil)
	ctx := context.Background()
	acct, err := loader.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.ByOperation()["IAM.GetAccountAuthorizationDetails"]; n != 1 {
		t.Errorf("GetAccountAuthorizationDetails called %d times", n)
	}
	if len(acct.Roles) != len(sample.Roles) || acct.Truncated || len(acct.Notes) != 0 {
		t.Fatalf("account: %d roles (want %d), truncated %v, notes %v", len(acct.Roles), len(sample.Roles), acct.Truncated, acct.Notes)
	}
	for name, arn := range sample.Roles {
		bulk, missing := acct.Role(arn)
		if len(missing) != 0 {
			t.Errorf("%s: missing %v", name, missing)
			continue
		}
		one, _, err := loader.Role(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if summary(bulk) != summary(one) {
			t.Errorf("%s: bulk read\n%s\nper-role read\n%s", name, summary(bulk), summary(one))
		}
	}
}

// summary is what the rules read of a role, comparable.
func summary(r *rules.Role) string {
	s := r.ARN + " " + r.Name
	doc := func(d *iampolicy.Document) string {
		if d == nil {
			return "<nil>"
		}
		out := ""
		for _, st := range d.Statements {
			out += fmt.Sprintf("{%s %s %v %v %v %v %v}", st.Effect, st.Sid, st.Principal, st.Action, st.NotAction, st.Resource, st.Condition)
		}
		return out
	}
	s += "\ntrust " + doc(r.Trust)
	names := []string{}
	for _, p := range r.Policies {
		names = append(names, p.Name+" "+doc(p.Document))
	}
	slices.Sort(names)
	for _, n := range names {
		s += "\npolicy " + n
	}
	attached := slices.Sorted(slices.Values(r.Attached))
	s += "\nattached " + strings.Join(attached, ",")
	if r.Boundary != nil {
		s += "\nboundary " + r.Boundary.Name + " " + doc(r.Boundary.Document)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		s += "\ntag " + k + "=" + r.Tags[k]
	}
	return s
}

// A page size of one item gives the same account and task definitions.
func TestAccountAndTaskDefinitionPagination(t *testing.T) {
	t.Parallel()
	_, loader, calls, _ := account(t, nil)
	ctx := context.Background()
	whole, err := loader.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tds, missing, err := loader.TaskDefinitions(ctx, awsfacts.ScanOptions{})
	if err != nil || len(missing) != 0 || len(tds) != 5 {
		t.Fatalf("task definitions: %d, missing %v, err %v", len(tds), missing, err)
	}
	before := calls.ByOperation()
	loader.PageSize = 1
	paged, err := loader.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pagedTDs, _, err := loader.TaskDefinitions(ctx, awsfacts.ScanOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The emulator answers both lists in one page whatever the page size
	// asked, so the pages are counted only as at least one each; following
	// the markers is the SDK paginators' job.
	after := calls.ByOperation()
	for _, op := range []string{"IAM.GetAccountAuthorizationDetails", "ECS.ListTaskDefinitionFamilies"} {
		if after[op] <= before[op] {
			t.Errorf("%s not called with the page size set", op)
		}
	}
	if len(paged.Roles) != len(whole.Roles) {
		t.Errorf("roles: %d paged, %d whole", len(paged.Roles), len(whole.Roles))
	}
	for arn, r := range whole.Roles {
		if p := paged.Roles[arn]; p == nil || summary(p) != summary(r) {
			t.Errorf("%s differs when paged", arn)
		}
	}
	var a, b []string
	for i := range tds {
		a = append(a, tds[i].ARN)
	}
	for i := range pagedTDs {
		b = append(b, pagedTDs[i].ARN)
	}
	if !slices.Equal(a, b) {
		t.Errorf("task definitions: %v whole, %v paged", a, b)
	}
}
