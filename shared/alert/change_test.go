package alert_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	workerARN      = "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api-worker:7"
	reportsARN     = "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:3"
	reportsExecARN = "arn:aws:iam::111122223333:role/reports-exec"
	eventsRoleARN  = "arn:aws:iam::111122223333:role/ecsEventsRole"
	nightlyRuleARN = "arn:aws:events:us-east-1:111122223333:rule/nightly-report"
	execSecretsARN = "arn:aws:iam::111122223333:policy/web-api-exec-secrets"
	// execSecretsAny is the new default version of web-api-exec-secrets:
	// every secret instead of the service's own.
	execSecretsAny = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	reportsSecret  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/reports/db-XyZ123"

	noEnforceOnChange = "role change (ENFORCE_ON_ROLE_CHANGE=false)"
)

func changeTrigger(name string) rules.Trigger {
	return rules.Trigger{EventID: "c41d7e0a-5f62-4b8e-9d13-7a2e6b0f9c55", EventName: name, Actor: "arn:aws:iam::111122223333:user/alice"}
}

// worker is a second family on web-api's task role: a Fargate worker with a
// public image and no execution role.
func worker(t testing.TB) rules.Facts {
	t.Helper()
	f := webAPI(t)
	f.TaskDefinition = &rules.TaskDefinition{
		ARN: workerARN, Family: "web-api-worker", Revision: 7,
		TaskRoleARN: taskARN, NetworkMode: "awsvpc", RequiresCompatibilities: []string{"FARGATE"},
		Containers: []rules.Container{{Name: "worker", Image: "public.ecr.aws/docker/library/busybox:1.36"}},
		Tags:       map[string]string{},
	}
	delete(f.Roles, execARN)
	return f
}

// reports is a second family whose execution role also has the
// web-api-exec-secrets policy attached.
func reports(t testing.TB) rules.Facts {
	t.Helper()
	f := webAPI(t)
	td := *f.TaskDefinition
	td.ARN, td.Family, td.Revision = reportsARN, "reports", 3
	td.TaskRoleARN, td.ExecutionRoleARN = "", reportsExecARN
	td.Containers = slices.Clone(td.Containers)
	td.Containers[0].Name = "reports"
	td.Containers[0].Image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/reports:1.4.2"
	td.Containers[0].Secrets = []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: reportsSecret}}
	td.Containers[0].LogConfiguration = &rules.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{
		"awslogs-group": "/ecs/reports", "awslogs-region": region, "awslogs-stream-prefix": "reports",
	}}
	f.TaskDefinition = &td
	f.Roles = map[string]*rules.Role{reportsExecARN: role(t, reportsExecARN, trustECS, policyExecRole+"|"+execManaged)}
	return f
}

// changed evaluates facts before and after change, as onrolechange does,
// and returns the report after, with trigger and action set, and the
// unsuppressed findings before.
func changed(t testing.TB, f rules.Facts, trigger rules.Trigger, action rules.Action, change func(f *rules.Facts)) (rules.Report, []rules.Finding) {
	t.Helper()
	var before []rules.Finding
	for _, fd := range rules.Evaluate(f).Findings {
		if !fd.Suppressed {
			before = append(before, fd)
		}
	}
	change(&f)
	f.Trigger = trigger
	r := rules.Evaluate(f)
	r.Action = action
	return r, before
}

// attachAdmin is AttachRolePolicy AdministratorAccess on web-api-task, the
// task role of web-api and web-api-worker, with action.
func attachAdmin(t testing.TB, action rules.Action) alert.Change {
	trigger := changeTrigger("AttachRolePolicy")
	c := alert.Change{
		EventID: trigger.EventID, EventName: trigger.EventName, Actor: trigger.Actor, Account: account, Region: region,
		Role: "web-api-task", Policy: policyAdmin, Roles: []string{"web-api-task"}, Before: map[string][]rules.Finding{},
	}
	for _, f := range []rules.Facts{webAPI(t), worker(t)} {
		r, before := changed(t, f, trigger, action, func(f *rules.Facts) { addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy) })
		c.Reports = append(c.Reports, r)
		c.Before[r.Subject.ARN] = before
	}
	return c
}

type changeCase struct {
	name   string
	change func(t testing.TB) alert.Change
	golden bool
	// subject is the subject line wanted, when set.
	subject string
	// newFindings is the document's newFindings wanted.
	newFindings map[string][]string
	// shrunk: the reports go out without their statements.
	shrunk bool
	// email holds substrings the email text must contain.
	email []string
}

var changeCases = []changeCase{
	{
		name: "change-attach-admin-two-families", golden: true,
		change: func(t testing.TB) alert.Change {
			return attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions",
		newFindings: map[string][]string{tdARN: {"TD-008"}, workerARN: {"TD-008"}},
		email:       []string{"NEW [CRITICAL] TD-008", "New findings:    TD-008 (brought by the change)", "web-api-worker:7: TD-008 (new)"},
	},
	{
		name: "change-putrolepolicy-events-role", golden: true,
		change: func(t testing.TB) alert.Change {
			trigger := changeTrigger("PutRolePolicy")
			f := rules.Facts{Account: account, Region: region, Role: role(t, eventsRoleARN, trustEvents)}
			r, before := changed(t, f, trigger, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange}, func(f *rules.Facts) {
				f.Role.Policies = append(f.Role.Policies, role(t, eventsRoleARN, trustEvents, eventsPassAny).Policies[0])
				f.Role.Policies[0].Name = "inline:run-any-task"
			})
			return alert.Change{
				EventID: trigger.EventID, EventName: trigger.EventName, Actor: trigger.Actor, Account: account, Region: region,
				Role: "ecsEventsRole", Policy: "run-any-task", Roles: []string{"ecsEventsRole"},
				Reports: []rules.Report{r}, Before: map[string][]rules.Finding{r.Subject.ARN: before},
				UsedBy: map[string][]rules.Use{r.Subject.ARN: {{Kind: rules.UseEventsTarget, Resource: nightlyRuleARN}}},
			}
		},
		subject:     "[HIGH] ecsguard: PutRolePolicy on ecsEventsRole affects ecsEventsRole",
		newFindings: map[string][]string{eventsRoleARN: {"SR-001"}},
		email:       []string{"NEW [HIGH] SR-001", "NEW [LOW] SR-001", "FINDINGS (2, 2 new)", "Used by:         - EventBridge rule\n                   " + nightlyRuleARN},
	},
	// The same rule at a higher severity is new; at the same severity it
	// is not.
	{
		name: "change-severity-raised",
		change: func(t testing.TB) alert.Change {
			trigger := changeTrigger("PutRolePolicy")
			f := rules.Facts{Account: account, Region: region, Role: role(t, eventsRoleARN, trustEvents)}
			r, _ := changed(t, f, trigger, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange}, func(f *rules.Facts) {
				f.Role.Policies = append(f.Role.Policies, role(t, eventsRoleARN, trustEvents, eventsPassAny).Policies[0])
			})
			var before []rules.Finding
			for _, f := range r.Findings {
				if f.Rule == "SR-001" && f.Severity == rules.Low {
					before = append(before, f)
				}
			}
			if len(before) != 1 {
				t.Fatalf("findings = %+v, want one SR-001 LOW", r.Findings)
			}
			return alert.Change{
				EventID: trigger.EventID, EventName: trigger.EventName, Actor: trigger.Actor, Account: account, Region: region,
				Role: "ecsEventsRole", Policy: "run-any-task", Roles: []string{"ecsEventsRole"},
				Reports: []rules.Report{r}, Before: map[string][]rules.Finding{r.Subject.ARN: before},
			}
		},
		newFindings: map[string][]string{eventsRoleARN: {"SR-001"}},
		email:       []string{"NEW [HIGH] SR-001", "\n[LOW] SR-001", "FINDINGS (2, 1 new)"},
	},
	{
		name: "change-createpolicyversion-two-roles", golden: true,
		change: func(t testing.TB) alert.Change {
			trigger := changeTrigger("CreatePolicyVersion")
			c := alert.Change{
				EventID: trigger.EventID, EventName: trigger.EventName, Actor: trigger.Actor, Account: account, Region: region,
				Policy: execSecretsARN, Roles: []string{"web-api-exec", "reports-exec"},
			}
			for _, f := range []rules.Facts{webAPI(t), reports(t)} {
				// The new default version replaces the old one: the
				// state before is not in the event.
				r, _ := changed(t, f, trigger, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange}, func(f *rules.Facts) {
					exec := f.Roles[f.TaskDefinition.ExecutionRoleARN]
					exec.Policies = slices.DeleteFunc(exec.Policies, func(p iampolicy.Policy) bool { return strings.HasPrefix(p.Name, "inline:") })
					addPolicy(t, f, f.TaskDefinition.ExecutionRoleARN, execSecretsARN+"|"+execSecretsAny)
				})
				c.Reports = append(c.Reports, r)
			}
			return c
		},
		subject:     "[MEDIUM] ecsguard: CreatePolicyVersion on web-api-exec-secrets affects 2 task definitions",
		newFindings: map[string][]string{},
		email:       []string{"Policy:          " + execSecretsARN, "- reports-exec"},
	},
	{
		name: "change-enforce-deregistered", golden: true,
		change: func(t testing.TB) alert.Change {
			return attachAdmin(t, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: enforceMin + " (ENFORCE_ON_ROLE_CHANGE=true)"})
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions, deregistered 2",
		newFindings: map[string][]string{tdARN: {"TD-008"}, workerARN: {"TD-008"}},
		email:       []string{"Action:          deregistered", "TD-008 (new); deregistered"},
	},
	{
		name: "change-incomplete", golden: true,
		change: func(t testing.TB) alert.Change {
			trigger := changeTrigger("PutRolePolicy")
			f := webAPI(t)
			f.Trigger = trigger
			delete(f.Roles, execARN)
			f.Missing = []rules.FactError{{Subject: execARN, Err: errors.New("iam:GetRolePolicy: AccessDenied: not authorized to perform iam:GetRolePolicy")}}
			r := rules.Evaluate(f)
			r.Action = rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"}
			return alert.Change{
				EventID: trigger.EventID, EventName: trigger.EventName, Actor: trigger.Actor, Account: account, Region: region,
				Role: "web-api-exec", Policy: "read-db-secret", Roles: []string{"web-api-exec"}, Reports: []rules.Report{r},
			}
		},
		subject:     "[INCOMPLETE] ecsguard: PutRolePolicy on web-api-exec affects 1 task definition, 1 incomplete",
		newFindings: map[string][]string{},
		email:       []string{"Evaluation:      INCOMPLETE", "- [INCOMPLETE] task definition web-api:42: no unsuppressed findings;\n  evaluation INCOMPLETE"},
	},
	// A subject with findings and one that could not be fully evaluated:
	// the severity leads, the count of incomplete ones follows.
	{
		name: "change-mixed-incomplete",
		change: func(t testing.TB) alert.Change {
			c := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
			c.Reports[1].Complete = false
			c.Reports[1].Errors = []string{"arn:aws:iam::111122223333:policy/worker-extra: iam:GetPolicyVersion: AccessDenied"}
			c.Reports[1].Findings = append(c.Reports[1].Findings, rules.Finding{Rule: rules.IncompleteRule, Severity: rules.High, Title: "evaluation incomplete", Resource: workerARN, Evidence: []rules.Evidence{}})
			delete(c.Before, workerARN)
			return c
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions, 1 incomplete",
		newFindings: map[string][]string{tdARN: {"TD-008"}},
	},
	// Before known and nothing new: an empty list, not an absent subject.
	{
		name: "change-nothing-new",
		change: func(t testing.TB) alert.Change {
			c := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
			c.Reports = c.Reports[:1]
			c.Before = map[string][]rules.Finding{tdARN: c.Reports[0].Findings}
			return c
		},
		newFindings: map[string][]string{tdARN: {}},
		email:       []string{"New findings:    none: every finding was there before the change", "FINDINGS (1, 0 new)"},
	},
	{
		name: "change-task-definitions-and-roles",
		change: func(t testing.TB) alert.Change {
			c := attachAdmin(t, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}})
			for _, name := range []string{"ecsEventsRole", "nightly-report-events"} {
				r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: role(t, "arn:aws:iam::111122223333:role/"+name, trustEvents, eventsPassAny)})
				c.Reports = append(c.Reports, r)
			}
			c.Role, c.Policy, c.Roles = "", policyAdmin, []string{"web-api-task", "ecsEventsRole", "nightly-report-events"}
			return c
		},
		subject: "[CRITICAL] ecsguard: AttachRolePolicy affects 2 task definitions and 2 roles, would deregister 2",
	},
	{
		name: "change-long-names",
		change: func(t testing.TB) alert.Change {
			name := strings.Repeat("r", 64)
			r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: role(t, "arn:aws:iam::111122223333:role/a/deep/path/"+name, trustEvents, eventsPassAny)})
			r.Action = rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: "AccessDenied"}}
			return alert.Change{
				EventName: "DeleteRolePermissionsBoundaryWithAVeryLongEventName", Role: name,
				Policy: "arn:aws:iam::111122223333:policy/" + strings.Repeat("p", 128), Reports: []rules.Report{r},
			}
		},
		subject: "[HIGH] ecsguard: DeleteRolePermissions… on rrrrrrrrr… affects rrrrrrrrr…, deregister failed 1",
	},
	{
		name: "change-no-target-control-characters",
		change: func(t testing.TB) alert.Change {
			c := attachAdmin(t, rules.Action{Type: rules.ActionNone})
			c.EventName, c.Role, c.Policy, c.Roles, c.Before, c.Account, c.Region = "", "", "", nil, nil, "", ""
			c.Reports[0].Findings[0].Title = "line one\nline two\r\tand\x00 a \u2028 separator"
			return c
		},
		subject:     "[CRITICAL] ecsguard: IAM change affects 2 task definitions",
		newFindings: map[string][]string{},
	},
	// Without their statements the reports fit whole, with them they do not.
	{name: "change-huge-statements", shrunk: true, change: func(t testing.TB) alert.Change { return hugeChange(12, 25, 2048) },
		email: []string{"AFFECTED (12)", "FINDINGS (21, 21 new)", "FINDINGS (21)\n", "Policy statements were left out of this message's reports"}},
	// The reports fit without statements, but not with the email listing
	// every finding of every subject.
	{name: "change-huge-findings", shrunk: true, change: func(t testing.TB) alert.Change { return hugeChange(6, 90, 16) },
		email: []string{"AFFECTED (6)", "FINDINGS (77, 77 new)", "FINDINGS (77)\n", "… 27 more findings not listed"}},
	// Even with no finding listed the sections are too many: fewer
	// subjects are listed.
	{name: "change-huge-subjects", shrunk: true, change: func(t testing.TB) alert.Change { return hugeChange(150, 2, 16) },
		email: []string{"AFFECTED (150)", "… 50 more subjects not listed"}},
}

// hugeChange is a synthetic change of n subjects, each a report of
// findings findings with statements of about size bytes; the first half
// have a known state before the change, with nothing.
func hugeChange(n, findings, size int) alert.Change {
	c := alert.Change{
		EventID: "c41d7e0a-5f62-4b8e-9d13-7a2e6b0f9c55", EventName: "CreatePolicyVersion", Actor: "arn:aws:iam::111122223333:user/alice",
		Account: account, Region: region, Policy: "arn:aws:iam::111122223333:policy/shared-everything", Before: map[string][]rules.Finding{},
	}
	for i := range n {
		r := huge(findings, size)
		r.Subject.ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task-definition/family-%03d:%d", i, 1+i%9)
		r.Trigger = rules.Trigger{EventID: c.EventID, EventName: c.EventName, Actor: c.Actor}
		c.Reports = append(c.Reports, r)
		c.Roles = append(c.Roles, fmt.Sprintf("role-%03d", i))
		if i < (n+1)/2 {
			c.Before[r.Subject.ARN] = nil
		}
	}
	return c
}

func TestRenderChange(t *testing.T) {
	t.Parallel()
	for _, tc := range changeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.change(t)
			keep := cloneChange(t, in)
			msg, err := alert.RenderChange(in)
			if err != nil {
				t.Fatalf("RenderChange: %v", err)
			}
			t.Logf("subject %q, body %d bytes", msg.Subject, len(msg.Body))
			if !reflect.DeepEqual(in, keep) {
				t.Error("RenderChange changed its input")
			}
			parts := checkMessage(t, msg, "event")
			checkChangeAttributes(t, msg, in)
			doc := checkChangeDefault(t, parts.Default, in, tc.shrunk)
			if tc.newFindings != nil && !reflect.DeepEqual(doc.NewFindings, tc.newFindings) {
				t.Errorf("newFindings = %v, want %v", doc.NewFindings, tc.newFindings)
			}
			if tc.subject != "" && msg.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", msg.Subject, tc.subject)
			}
			for _, want := range tc.email {
				if !strings.Contains(parts.Email, want) {
					t.Errorf("email lacks %q", want)
				}
			}
			if again, err := alert.RenderChange(in); err != nil || !reflect.DeepEqual(again, msg) {
				t.Errorf("a second RenderChange differs (err %v)", err)
			}
			if tc.golden {
				checkGolden(t, tc.name, msg, parts)
			}
		})
	}
}

// cloneChange deep-copies c through JSON, statements included.
func cloneChange(t *testing.T, c alert.Change) alert.Change {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out alert.Change
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkChangeAttributes checks the attributes against the reports.
func checkChangeAttributes(t *testing.T, msg alert.Message, c alert.Change) {
	t.Helper()
	var highest rules.Severity
	var ids []string
	for _, r := range c.Reports {
		highest = max(highest, r.Highest())
		for _, f := range r.Findings {
			if !f.Suppressed {
				ids = append(ids, f.Rule)
			}
		}
	}
	slices.Sort(ids)
	rulesJSON, _ := json.Marshal(slices.Compact(ids))
	want := map[string]string{"rules": string(rulesJSON), "account": c.Account, "region": c.Region, "event": c.EventName}
	if len(ids) == 0 {
		want["rules"] = ""
	}
	if highest > 0 {
		want["severity"] = highest.String()
	}
	if c.Account == "" {
		want["account"] = c.Reports[0].Account
	}
	if c.Region == "" {
		want["region"] = c.Reports[0].Region
	}
	for k, v := range want {
		if v == "" {
			delete(want, k)
		}
	}
	if len(msg.Attributes) == 0 || !reflect.DeepEqual(msg.Attributes, want) {
		t.Errorf("attributes = %v, want %v", msg.Attributes, want)
	}
}

// checkChangeDefault decodes the default body into a ChangeDocument, strictly,
// and checks it holds the change and its reports (without statements when
// shrunk).
func checkChangeDefault(t *testing.T, def string, in alert.Change, shrunk bool) alert.ChangeDocument {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(def))
	dec.DisallowUnknownFields()
	var doc alert.ChangeDocument
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("default is not a change document: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(def), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schemaVersion", "change", "reports", "newFindings"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("default lacks %q", k)
		}
	}
	if doc.SchemaVersion != alert.ChangeSchemaVersion {
		t.Errorf("schemaVersion = %q", doc.SchemaVersion)
	}
	roles := in.Roles
	if roles == nil {
		roles = []string{}
	}
	want := alert.ChangeEvent{EventID: in.EventID, EventName: in.EventName, Actor: in.Actor, Account: in.Account, Region: in.Region, Role: in.Role, Policy: in.Policy, Roles: roles}
	if !reflect.DeepEqual(doc.Change, want) {
		t.Errorf("change = %+v, want %+v", doc.Change, want)
	}
	if len(doc.Reports) != len(in.Reports) {
		t.Fatalf("%d reports, want %d", len(doc.Reports), len(in.Reports))
	}
	for i, r := range in.Reports {
		if shrunk {
			r.Findings = slices.Clone(r.Findings)
			for j := range r.Findings {
				ev := slices.Clone(r.Findings[j].Evidence)
				for k := range ev {
					ev[k].Statement = nil
				}
				r.Findings[j].Evidence = ev
			}
		}
		if !reflect.DeepEqual(doc.Reports[i], r) {
			t.Errorf("report %d differs:\ngot  %+v\nwant %+v", i, doc.Reports[i], r)
		}
	}
	for arn := range doc.NewFindings {
		if _, ok := in.Before[arn]; !ok {
			t.Errorf("newFindings names %s, whose state before is unknown", arn)
		}
	}
	return doc
}

func TestRenderChangeNoReports(t *testing.T) {
	t.Parallel()
	_, err := alert.RenderChange(alert.Change{EventName: "AttachRolePolicy", Role: "unrelated"})
	if !errors.Is(err, alert.ErrNoReports) {
		t.Fatalf("RenderChange(no reports) error = %v, want ErrNoReports", err)
	}
}

func TestRenderChangeTooLarge(t *testing.T) {
	t.Parallel()
	// Without their statements the reports alone are about 400 KB.
	_, err := alert.RenderChange(hugeChange(20, 60, 16))
	if !errors.Is(err, alert.ErrTooLarge) {
		t.Fatalf("RenderChange(20×60 findings) error = %v, want ErrTooLarge", err)
	}
}

// A single-subject change tells the same story as Render: the email's
// section of the subject is Render's email between headline and footer,
// less the account, region and trigger the change gives once.
func TestRenderChangeReusesSubjectText(t *testing.T) {
	t.Parallel()
	c := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
	c.Reports, c.Before = c.Reports[:1], nil
	single, err := alert.Render(c.Reports[0])
	if err != nil {
		t.Fatal(err)
	}
	msg, err := alert.RenderChange(c)
	if err != nil {
		t.Fatal(err)
	}
	var sp, cp bodyParts
	sp = checkMessage(t, single)
	cp = checkMessage(t, msg, "event")
	findings := sp.Email[strings.Index(sp.Email, "\nFINDINGS"):strings.Index(sp.Email, "\n-- \n")]
	if !strings.Contains(cp.Email, findings) {
		t.Errorf("change email lacks Render's findings text:\n%s", findings)
	}
	if !bytes.Contains([]byte(cp.Email), []byte("Action reason:   "+noEnforceOnChange)) {
		t.Error("change email lacks the subject's action")
	}
}
