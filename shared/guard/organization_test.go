package guard_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// The organization tests run one at a time, before the parallel ones:
// each seeds three accounts, and together with the parallel tests they
// would crowd the one emulator process past its clients' timeouts.

// orgEnv is a deployment in the management account of an organization of
// three accounts: the management account and two members, team-a and
// team-b, each seeded with the sample account's roles and task
// definitions. The member role is not checked by the emulator (moto lets
// any role be assumed); a role that cannot be assumed is a fault.
type orgEnv struct {
	*env
	org     emulator.Organization
	members map[string]emulator.Sample // by account name
}

func setupOrg(t *testing.T, mode string) *orgEnv {
	t.Helper()
	e := setup(t, mode, false)
	ctx := context.Background()
	org, err := emulator.NewOrganization(ctx, moto.URL(), e.sample.Account, "team-a", "team-b")
	if err != nil {
		t.Fatal(err)
	}
	o := &orgEnv{env: e, org: org, members: map[string]emulator.Sample{}}
	c := e.handler.Config
	c.MemberRoleName, c.Organization = "ecsguard-member", org.ID
	c.OwnRoleARNs = []string{"arn:aws:iam::" + org.Management + ":role/ecsguard-onregister", "arn:aws:iam::" + org.Management + ":role/ecsguard-onrolechange"}
	for _, m := range org.Members {
		s, err := emulator.Seed(ctx, moto.Config(ctx, m.ID))
		if err != nil {
			t.Fatalf("seed %s: %v", m.Name, err)
		}
		o.members[m.Name] = s
		if err := emulator.NewMemberRole(ctx, moto.URL(), m.ID, c.MemberRoleName, org.ID, c.OwnRoleARNs...); err != nil {
			t.Fatal(err)
		}
	}
	e.handler = guard.New(c, e.pcfg, slog.New(slog.NewJSONHandler(testWriter{t}, nil)))
	return o
}

// eventIn is an events-testdata file as it comes from account.
func (o *orgEnv) eventIn(name, account string) []byte {
	o.t.Helper()
	b, err := fs.ReadFile(eventstestdata.FS, name)
	if err != nil {
		o.t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), eventsAccount, account))
}

func (o *orgEnv) statusIn(s emulator.Sample, family string) string {
	o.t.Helper()
	out, err := ecs.NewFromConfig(moto.Config(context.Background(), s.Account)).DescribeTaskDefinition(context.Background(),
		&ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(s.TaskDefinitions[family])})
	if err != nil {
		o.t.Fatal(err)
	}
	return string(out.TaskDefinition.Status)
}

// A registration in a member account is judged with that account's roles,
// read through its member role, and deregistered there; the alert names
// the account, by name and id.
func TestOrganizationRegistrationInMember(t *testing.T) {
	o := setupOrg(t, guard.ModeEnforce)
	a := o.members["team-a"]
	out, err := o.handler.OnRegister(context.Background(), o.eventIn("ecs-registertaskdefinition-admin-task-role.json", a.Account))
	if err != nil || out.Result != guard.ResultEvaluated || !out.Complete || out.Action.Result.Kind != rules.Deregistered {
		t.Fatalf("outcome: %+v, %v", out, err)
	}
	if !strings.Contains(out.Subject, ":"+a.Account+":") {
		t.Errorf("subject %s is not team-a's revision", out.Subject)
	}
	if got := o.statusIn(a, "reports"); got != "INACTIVE" {
		t.Errorf("team-a's reports:1 is %s, want INACTIVE", got)
	}
	if got := o.status("reports"); got != "ACTIVE" {
		t.Errorf("the management account's reports:1 is %s: enforcement acted in the wrong account", got)
	}
	alerts := o.alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	al := alerts[0]
	if al.MessageAttributes["account"].Value != a.Account || al.MessageAttributes["accountName"].Value != "team-a" ||
		!strings.Contains(al.Subject, "team-a: ") {
		t.Errorf("alert does not name the account: subject %q, attributes %v", al.Subject, al.MessageAttributes)
	}
	if n := o.proxy.Calls("AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1", n)
	}
}

// A member account whose role cannot be assumed (its member stack not yet
// deployed, or the role removed) gives an incomplete alert naming the
// account, and nothing is deregistered.
func TestOrganizationMemberRoleMissing(t *testing.T) {
	o := setupOrg(t, guard.ModeEnforce)
	b := o.members["team-b"]
	o.proxy.FailMatching("AssumeRole", b.Account, -1, emulator.AccessDenied)
	out, err := o.handler.OnRegister(context.Background(), o.eventIn("ecs-registertaskdefinition-admin-task-role.json", b.Account))
	if err != nil || out.Result != guard.ResultEvaluated || out.Complete || !out.Alerted {
		t.Fatalf("outcome: %+v, %v", out, err)
	}
	if out.Action.Result.Kind == rules.Deregistered || o.statusIn(b, "reports") != "ACTIVE" {
		t.Errorf("deregistered on no evidence: %+v", out.Action)
	}
	r := o.alerts()[0].report(t)
	if r.Complete || len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "account "+b.Account+": cannot assume arn:aws:iam::"+b.Account+":role/ecsguard-member") {
		t.Errorf("report does not say which account could not be entered: %+v", r.Errors)
	}
	// The role change of that account is alerted the same way.
	ch, err := o.handler.OnRoleChange(context.Background(), o.eventIn("iam-attachrolepolicy-admin-on-task-role.json", b.Account))
	if err != nil || !ch.Alerted || len(ch.Subjects) != 1 || ch.Subjects[0].Complete ||
		ch.Subjects[0].ARN != "arn:aws:iam::"+b.Account+":role/web-api-task" {
		t.Errorf("role change: %+v, %v", ch, err)
	}
}

// Events of an account outside the organization, or of a member that is
// suspended or being closed, are dropped with a reason; nothing is read
// in the account.
func TestOrganizationAccountsNotGuarded(t *testing.T) {
	o := setupOrg(t, guard.ModeEnforce)
	ctx := context.Background()
	outside := emulator.NewAccount()
	out, err := o.handler.OnRegister(ctx, o.eventIn("ecs-registertaskdefinition-admin-task-role.json", outside))
	if err != nil || out.Result != guard.ResultDropped || !strings.Contains(out.Reason, "not a member of the organization") {
		t.Errorf("outside account: %+v, %v", out, err)
	}
	b := o.members["team-b"]
	org := organizations.NewFromConfig(moto.Config(ctx, o.org.Management))
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(b.Account)}); err != nil {
		t.Fatal(err)
	}
	out, err = o.handler.OnRegister(ctx, o.eventIn("ecs-registertaskdefinition-admin-task-role.json", b.Account))
	if err != nil || out.Result != guard.ResultDropped || !strings.Contains(out.Reason, "(team-b) is SUSPENDED") {
		t.Errorf("closed account: %+v, %v", out, err)
	}
	// IAM may deny DescribeAccount on an account outside the organization
	// the policy names; the organization's list decides then.
	o.proxy.Fail("DescribeAccount", -1, emulator.AccessDenied)
	out, err = o.handler.OnRegister(ctx, o.eventIn("ecs-registertaskdefinition-admin-task-role.json", emulator.NewAccount()))
	if err != nil || out.Result != guard.ResultDropped || !strings.Contains(out.Reason, "not listed by organizations:ListAccounts") {
		t.Errorf("outside account, DescribeAccount denied: %+v, %v", out, err)
	}
	o.proxy.Reset()
	if n := o.proxy.Calls("AssumeRole") + o.proxy.Calls("DescribeTaskDefinition"); n != 0 {
		t.Errorf("%d calls into accounts not guarded", n)
	}
	if len(o.alerts()) != 0 {
		t.Error("an event not guarded was alerted")
	}
}

// The sweep walks every active account of the organization, each with its
// own clients, and keys the index by account: a role change in a member
// reaches that member's revisions through the index, not another
// account's revisions of the same role name.
func TestOrganizationRoleChange(t *testing.T) {
	o := setupOrg(t, guard.ModeAlert)
	ctx := context.Background()
	sw, err := o.handler.Sweep(ctx)
	want := len(o.sample.TaskDefinitions) * 3
	if err != nil || sw.Accounts != 3 || sw.Recorded != want {
		t.Fatalf("sweep: %+v, %v (want 3 accounts, %d revisions)", sw, err, want)
	}
	a := o.members["team-a"]
	event := o.eventIn("iam-attachrolepolicy-admin-on-task-role.json", a.Account)
	if err := emulator.Apply(ctx, moto.Config(ctx, a.Account), event); err != nil {
		t.Fatal(err)
	}
	out, err := o.handler.OnRoleChange(ctx, event)
	// No note: the index answered (the scan would say why it ran).
	if err != nil || out.Result != guard.ResultEvaluated || len(out.Notes) != 0 {
		t.Fatalf("outcome: %+v, %v", out, err)
	}
	if len(out.Subjects) != 1 || out.Subjects[0].ARN != a.TaskDefinitions["web-api"] || fmt.Sprint(out.Subjects[0].New) != "[TD-008]" {
		t.Errorf("subjects %+v, want team-a's web-api:1 with TD-008 new", out.Subjects)
	}
}

// A change to the member role in any account is tampering with ecsguard.
func TestOrganizationMemberRoleTampered(t *testing.T) {
	o := setupOrg(t, guard.ModeAlert)
	a := o.members["team-a"]
	event := strings.ReplaceAll(string(o.eventIn("iam-updateassumerolepolicy-task-role.json", a.Account)), `"web-api-task"`, `"ecsguard-member"`)
	out, err := o.handler.OnRoleChange(context.Background(), []byte(event))
	if err != nil || out.Kind != "tampering" || !out.Alerted {
		t.Fatalf("outcome: %+v, %v", out, err)
	}
	al := o.alerts()
	if len(al) != 1 || al[0].MessageAttributes["severity"].Value != "CRITICAL" || !strings.Contains(al[0].MessageAttributes["rules"].Value, rules.TamperingRule) {
		t.Errorf("alerts: %+v", al)
	}
}

// An account no sweep has walked yet (it joined since) is looked up by
// the scan, with a note, so its older revisions are not missed.
func TestOrganizationAccountNotSwept(t *testing.T) {
	o := setupOrg(t, guard.ModeAlert)
	ctx := context.Background()
	a := o.members["team-a"]
	event := o.eventIn("iam-attachrolepolicy-admin-on-task-role.json", a.Account)
	if err := emulator.Apply(ctx, moto.Config(ctx, a.Account), event); err != nil {
		t.Fatal(err)
	}
	out, err := o.handler.OnRoleChange(ctx, event)
	if err != nil || len(out.Subjects) != 1 || out.Subjects[0].ARN != a.TaskDefinitions["web-api"] {
		t.Fatalf("outcome: %+v, %v", out, err)
	}
	if len(out.Notes) != 1 || !strings.Contains(out.Notes[0], "has not been built for this account yet") {
		t.Errorf("notes %q", out.Notes)
	}
}

// What ecsguard does in a member account, through its member role, is
// ignored like what its own roles do.
func TestOrganizationLoopGuard(t *testing.T) {
	o := setupOrg(t, guard.ModeEnforce)
	a := o.members["team-a"]
	event := strings.ReplaceAll(string(o.eventIn("ecs-registertaskdefinition-admin-task-role.json", a.Account)), "ci-deploy", "ecsguard-member")
	if !strings.Contains(event, "assumed-role/ecsguard-member/") {
		t.Fatal("the event's actor was not rewritten")
	}
	out, err := o.handler.OnRegister(context.Background(), []byte(event))
	if err != nil || out.Result != guard.ResultIgnored {
		t.Errorf("outcome: %+v, %v", out, err)
	}
}

// A sweep reports the members it cannot enter and sweeps the others; one
// too close to its deadline starts no account, leaving them to the next.
func TestOrganizationSweep(t *testing.T) {
	o := setupOrg(t, guard.ModeAlert)
	b := o.members["team-b"]
	o.proxy.FailMatching("AssumeRole", b.Account, -1, emulator.AccessDenied)
	out, err := o.handler.Sweep(context.Background())
	if err != nil || out.Result != "swept" || out.Accounts != 2 || len(out.Unreachable) != 1 || !strings.Contains(out.Unreachable[0], b.Account) {
		t.Errorf("sweep with team-b unreachable: %+v, %v", out, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o.handler.SweepReserve = 2 * time.Minute
	out, err = o.handler.Sweep(ctx)
	if err != nil || out.Result != "swept" || out.Accounts != 0 || out.Left != 3 {
		t.Errorf("sweep within its reserve of the deadline: %+v, %v", out, err)
	}
	o.handler.SweepReserve = 0 // a third of the minute left: every account is started
	out, err = o.handler.Sweep(ctx)
	if err != nil || out.Accounts != 2 || out.Left != 0 {
		t.Errorf("sweep with the default reserve: %+v, %v", out, err)
	}
}

// The sweep compares each member role with what the member stack
// deployed: a trust widened or a policy added without an event ecsguard
// saw is alerted as tampering, once.
func TestOrganizationMemberRoleDrift(t *testing.T) {
	o := setupOrg(t, guard.ModeAlert)
	ctx := context.Background()
	if out, err := o.handler.Sweep(ctx); err != nil || out.Accounts != 3 || len(o.alerts()) != 0 {
		t.Fatalf("sweep of member roles as deployed: %+v, %v", out, err)
	}
	b := o.members["team-b"]
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::999988887777:root"}}]}`
	if _, err := iam.NewFromConfig(moto.Config(ctx, b.Account)).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName: aws.String("ecsguard-member"), PolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if out, err := o.handler.Sweep(ctx); err != nil || out.Accounts != 3 {
			t.Fatalf("sweep: %+v, %v", out, err)
		}
	}
	al := o.alerts()
	if len(al) != 1 {
		t.Fatalf("%d alerts, want 1 (the second sweep finds the same drift)", len(al))
	}
	d := al[0].change(t)
	if al[0].MessageAttributes["severity"].Value != "CRITICAL" || d.Change.Kind != "tampering" || d.Change.Account != b.Account ||
		!strings.Contains(d.Reports[0].Findings[0].Evidence[0].Detail, "trust admits AWS principal arn:aws:iam::999988887777:root") {
		t.Errorf("alert %q: %+v", al[0].Subject, d)
	}

	// A member role whose policy lost a read: ecsguard's verdicts there
	// would be incomplete, so the sweep reports it.
	a := o.members["team-a"]
	narrowed := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeTaskDefinition","ecs:ListTaskDefinitions","ecs:ListClusters","iam:Get*","iam:List*"],"Resource":"*"}]}`
	if _, err := iam.NewFromConfig(moto.Config(ctx, a.Account)).PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("ecsguard-member"), PolicyName: aws.String(emulator.MemberRolePolicy), PolicyDocument: aws.String(narrowed)}); err != nil {
		t.Fatal(err)
	}
	if out, err := o.handler.Sweep(ctx); err != nil || out.Accounts != 3 {
		t.Fatalf("sweep: %+v, %v", out, err)
	}
	al = o.alerts()
	if len(al) != 1 {
		t.Fatalf("%d alerts, want 1 (team-a's narrowed member role)", len(al))
	}
	d = al[0].change(t)
	detail := d.Reports[0].Findings[0].Evidence[0].Detail
	if d.Change.Kind != "tampering" || d.Change.Account != a.Account || !strings.Contains(detail, "no longer allows events:ListEventBuses") ||
		!strings.Contains(detail, "no longer allows scheduler:GetSchedule") || strings.Contains(detail, "ecs:DescribeTaskDefinition") {
		t.Errorf("alert %q: %s", al[0].Subject, detail)
	}
}
