package accounts_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "accounts", &moto)) }

type env struct {
	org   emulator.Organization
	proxy *emulator.FaultProxy
	dir   *accounts.Directory
	now   time.Time
}

// setup is an organization of a management account, where ecsguard runs,
// and two members, seen through a fault proxy.
func setup(t *testing.T) *env {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	org, err := emulator.NewOrganization(ctx, moto.URL(), emulator.NewAccount(), "team-a", "team-b")
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	e := &env{org: org, proxy: proxy, now: time.Unix(1_800_000_000, 0)}
	e.dir = &accounts.Directory{
		Base: emulator.Config(proxy.URL(), org.Management), RoleName: "ecsguard-member",
		Organization: org.ID, Now: func() time.Time { return e.now },
	}
	return e
}

func (e *env) caller(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Arn)
}

// Each member account is acted in with its member role; the own account
// with the own credentials; the role is assumed once per account.
func TestConfigPerAccount(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	a := e.org.Members[0].ID
	if _, err := iam.NewFromConfig(moto.Config(ctx, a)).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("only-in-team-a"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		cfg, err := e.dir.Config(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.caller(t, cfg); !strings.HasPrefix(got, "arn:aws:sts::"+a+":assumed-role/ecsguard-member/") {
			t.Errorf("caller in team-a: %s", got)
		}
		if _, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("only-in-team-a")}); err != nil {
			t.Errorf("team-a's role through its member role: %v", err)
		}
	}
	if n := e.proxy.Calls("AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1 (credentials cached)", n)
	}
	own, err := e.dir.Config(ctx, e.org.Management)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.caller(t, own); strings.Contains(got, "assumed-role") || !strings.Contains(got, e.org.Management) {
		t.Errorf("caller in the own account: %s", got)
	}
	// Without a member role, every account is the own.
	single := &accounts.Directory{Base: e.dir.Base}
	cfg, err := single.Config(ctx, a)
	if err != nil || strings.Contains(e.caller(t, cfg), "assumed-role") {
		t.Errorf("single-account directory assumed a role: %v", err)
	}
}

// A member role that cannot be assumed is an AssumeError naming the
// account and the role, permanent (access denied), and not cached.
func TestAssumeDenied(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	b := e.org.Members[1].ID
	e.proxy.FailMatching("AssumeRole", b, -1, emulator.AccessDenied)
	_, err := e.dir.Config(ctx, b)
	var ae *accounts.AssumeError
	if !errors.As(err, &ae) || ae.Account != b || ae.Role != "arn:aws:iam::"+b+":role/ecsguard-member" {
		t.Fatalf("err = %v, want an AssumeError for %s", err, b)
	}
	if !awsfacts.Permanent(err) {
		t.Errorf("access denied on AssumeRole is not permanent: %v", err)
	}
	if _, err := e.dir.Config(ctx, e.org.Members[0].ID); err != nil {
		t.Errorf("another account: %v", err)
	}
	e.proxy.Reset()
	if _, err := e.dir.Config(ctx, b); err != nil {
		t.Errorf("once the role can be assumed: %v", err)
	}
}

// Membership comes from Organizations, cached for a while: a member has
// its name and state; an account outside the organization, or outside
// the allow-list, is not a member; an account that leaves or is closed is
// noticed once the cache expires.
func TestMember(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	a, b := e.org.Members[0], e.org.Members[1]
	got, err := e.dir.Member(ctx, a.ID)
	if err != nil || got.Name != "team-a" || !got.Active() {
		t.Fatalf("team-a: %+v, %v", got, err)
	}
	if _, err := e.dir.Member(ctx, a.ID); err != nil || e.proxy.Calls("DescribeAccount") != 1 {
		t.Errorf("cached: %v, %d calls", err, e.proxy.Calls("DescribeAccount"))
	}
	if _, err := e.dir.Member(ctx, emulator.NewAccount()); !errors.Is(err, accounts.ErrNotMember) {
		t.Errorf("an outside account: %v, want ErrNotMember", err)
	}
	org := organizations.NewFromConfig(moto.Config(ctx, e.org.Management))
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(b.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(a.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.Member(ctx, a.ID); err != nil {
		t.Errorf("within the cache's time, team-a is still a member: %v", err)
	}
	e.now = e.now.Add(time.Hour)
	if _, err := e.dir.Member(ctx, a.ID); !errors.Is(err, accounts.ErrNotMember) {
		t.Errorf("team-a left: %v, want ErrNotMember", err)
	}
	if got, err := e.dir.Member(ctx, b.ID); err != nil || got.Active() || got.Status != "SUSPENDED" {
		t.Errorf("team-b closed: %+v, %v", got, err)
	}
	allow := &accounts.Directory{Base: e.dir.Base, RoleName: "ecsguard-member", Organization: e.org.ID, Allowed: []string{b.ID}}
	if _, err := allow.Member(ctx, e.org.Management); !errors.Is(err, accounts.ErrNotMember) {
		t.Errorf("outside the allow-list: %v, want ErrNotMember", err)
	}
}

// DescribeAccount denied, as IAM may deny it for an account whose ARN is
// outside the organization the policy names: the organization's list
// decides, a listed account is a member, another is dropped, and the
// answer is cached like DescribeAccount's.
func TestMemberDescribeDenied(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.proxy.Fail("DescribeAccount", -1, emulator.AccessDenied)
	outside := emulator.NewAccount()
	if _, err := e.dir.Member(ctx, outside); !errors.Is(err, accounts.ErrNotMember) || !strings.Contains(err.Error(), "not listed by organizations:ListAccounts") {
		t.Errorf("an outside account, DescribeAccount denied: %v, want ErrNotMember", err)
	}
	if got, err := e.dir.Member(ctx, e.org.Members[1].ID); err != nil || got.Name != "team-b" || !got.Active() {
		t.Errorf("a member, DescribeAccount denied: %+v, %v", got, err)
	}
	lists := e.proxy.Calls("ListAccounts")
	if _, err := e.dir.Member(ctx, outside); !errors.Is(err, accounts.ErrNotMember) || e.proxy.Calls("ListAccounts") != lists {
		t.Errorf("the outside account again: %v, %d more lists, want the cached answer", err, e.proxy.Calls("ListAccounts")-lists)
	}
	// Neither answer when the list is denied too: an error, which the
	// functions return so that the event is retried, never a drop.
	e.proxy.Fail("ListAccounts", -1, emulator.AccessDenied)
	if _, err := e.dir.Member(ctx, emulator.NewAccount()); err == nil || errors.Is(err, accounts.ErrNotMember) {
		t.Errorf("both denied: %v, want an error that is not ErrNotMember", err)
	}
}

// List is every account of the organization, the allow-list applied.
func TestList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	all, err := e.dir.List(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("list: %+v, %v", all, err)
	}
	e.dir.Allowed = []string{e.org.Members[1].ID}
	some, err := e.dir.List(ctx)
	if err != nil || len(some) != 1 || some[0].Name != "team-b" {
		t.Errorf("allow-list: %+v, %v", some, err)
	}
}
