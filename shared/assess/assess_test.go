package assess_test

import (
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	account = "111122223333"
	trust   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}`
	admin   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	exec    = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}}`
)

func doc(t *testing.T, s string) *iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func role(t *testing.T, name string, policies ...string) *rules.Role {
	r := &rules.Role{ARN: "arn:aws:iam::" + account + ":role/" + name, Name: name, Path: "/", Trust: doc(t, trust), Tags: map[string]string{}}
	for i, p := range policies {
		r.Policies = append(r.Policies, iampolicy.Policy{Name: "inline:p" + string(rune('0'+i)), Document: doc(t, p)})
	}
	return r
}

// facts is a Fargate task definition with a task and an execution role.
func facts(t *testing.T, family string, task, exe *rules.Role) rules.Facts {
	td := &rules.TaskDefinition{
		ARN: "arn:aws:ecs:us-east-1:" + account + ":task-definition/" + family + ":1", Family: family, Revision: 1,
		TaskRoleARN: task.ARN, ExecutionRoleARN: exe.ARN, RequiresCompatibilities: []string{"FARGATE"}, NetworkMode: "awsvpc",
		Containers: []rules.Container{{Name: "app", Image: account + ".dkr.ecr.us-east-1.amazonaws.com/app:1",
			LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/app"}}}},
		Status: "ACTIVE", Tags: map[string]string{},
	}
	return rules.Facts{Account: account, Region: "us-east-1", TaskDefinition: td, Roles: map[string]*rules.Role{task.ARN: task, exe.ARN: exe}}
}

func TestNewness(t *testing.T) {
	t.Parallel()
	exe := role(t, "exec", exec)
	clean, broad := role(t, "task"), role(t, "task", admin)
	other := role(t, "other-task", admin)
	before := facts(t, "web", clean, exe)
	after := facts(t, "web", broad, exe)
	a := assess.Assess(assess.Event{Kind: assess.RoleChange, ID: "e", Name: "AttachRolePolicy"}, []assess.Subject{
		{Facts: after, Before: &before},
		// Another family whose task role was broad before and still is.
		{Facts: facts(t, "old", other, exe), Before: ptr(facts(t, "old", other, exe))},
	})
	if n := len(a.Verdicts[0].New()); n != 1 || a.Verdicts[0].New()[0].Rule != "TD-008" {
		t.Errorf("new on web = %+v", a.Verdicts[0].New())
	}
	if n := len(a.Verdicts[1].New()); n != 0 {
		t.Errorf("an unchanged finding counts as new: %+v", a.Verdicts[1].New())
	}
	if a.Headline() != rules.Critical || !a.Brought() {
		t.Errorf("headline %v brought %v", a.Headline(), a.Brought())
	}
	// The state before unknown: every open finding is new.
	u := assess.Assess(assess.Event{Kind: assess.RoleChange}, []assess.Subject{{Facts: after}})
	if len(u.Verdicts[0].New()) != len(u.Verdicts[0].Open()) || len(u.Verdicts[0].Open()) == 0 {
		t.Errorf("unknown before: new %d open %d", len(u.Verdicts[0].New()), len(u.Verdicts[0].Open()))
	}
}

// An old finding on another subject does not set the headline of a change
// that brought only a MEDIUM one.
func TestHeadlineIsWhatTheEventBrought(t *testing.T) {
	t.Parallel()
	exe := role(t, "exec", exec)
	admin := role(t, "admin-task", admin)
	medium := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}}`
	task := role(t, "task", medium)
	task.Policies = append(task.Policies, iampolicy.Policy{Name: "inline:token", Document: doc(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}}`)})
	b := facts(t, "web", role(t, "task", medium), exe)
	a := assess.Assess(assess.Event{Kind: assess.RoleChange}, []assess.Subject{
		{Facts: facts(t, "web", task, exe), Before: &b},
		{Facts: facts(t, "old", admin, exe), Before: ptr(facts(t, "old", admin, exe))},
	})
	if a.Headline() != rules.Medium {
		t.Errorf("headline = %v, want MEDIUM (TD-002 brought; TD-008 on the other role was there before)", a.Headline())
	}
}

func TestNeedsAlertAndEnforce(t *testing.T) {
	t.Parallel()
	exe := role(t, "exec", exec)
	a := assess.Assess(assess.Event{Kind: assess.Registration}, []assess.Subject{
		{Facts: facts(t, "clean", role(t, "task"), exe)},
		{Facts: facts(t, "admin", role(t, "task", admin), exe)},
		{Facts: facts(t, "done", role(t, "task", admin), exe), Action: rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}}},
	})
	if a.Verdicts[0].NeedsAlert() || !a.Verdicts[1].NeedsAlert() || !a.Verdicts[2].NeedsAlert() {
		t.Errorf("needs alert: %v %v %v", a.Verdicts[0].NeedsAlert(), a.Verdicts[1].NeedsAlert(), a.Verdicts[2].NeedsAlert())
	}
	if a.Verdicts[0].Enforceable(rules.High) || !a.Verdicts[1].Enforceable(rules.High) || a.Verdicts[2].Enforceable(rules.High) {
		t.Error("enforceable: want only the admin revision not yet deregistered")
	}
	if r := a.Verdicts[2].Report.Action.Result; r.Kind != rules.Deregistered {
		t.Errorf("an earlier attempt's action is not kept: %+v", r)
	}
	if c := a.Count(); c.Subjects != 3 || c.Open != 2 {
		t.Errorf("counts = %+v", c)
	}
}

func TestTamperingVerdict(t *testing.T) {
	t.Parallel()
	a := assess.Assess(assess.Event{Kind: assess.Tampering, ID: "e-9", Name: "DeleteTopic", Actor: "arn:aws:iam::111122223333:role/intruder"}, []assess.Subject{
		{Facts: rules.Facts{Account: account, Tampered: &rules.Tampered{Resource: "arn:aws:sns:us-east-1:111122223333:ecsguard-findings", Change: "DeleteTopic"}}},
	})
	v := a.Verdicts[0]
	if !v.NeedsAlert() || a.Headline() != rules.Critical || !strings.Contains(v.Report.Findings[0].Evidence[0].Detail, "intruder") {
		t.Errorf("tampering verdict = %+v", v.Report)
	}
}

func TestKeyTellsEvidenceApart(t *testing.T) {
	t.Parallel()
	f := rules.Finding{Rule: "TD-009", Severity: rules.High, Resource: "r", Evidence: []rules.Evidence{{Detail: "iam:PassRole on *"}}}
	g := f
	g.Evidence = []rules.Evidence{{Detail: "iam:CreateAccessKey on *"}}
	h := f
	h.Severity = rules.Critical
	if assess.Key(f) == assess.Key(g) || assess.Key(f) == assess.Key(h) || assess.Key(f) != assess.Key(f) {
		t.Error("Key does not tell findings apart by evidence and severity")
	}
}

func ptr[T any](v T) *T { return &v }
