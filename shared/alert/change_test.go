package alert_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/assess"
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
	topicARN       = "arn:aws:sns:us-east-1:111122223333:ecsguard-findings"
	// execSecretsAny is the new default version of web-api-exec-secrets:
	// every secret instead of the service's own.
	execSecretsAny = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	reportsSecret  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/reports/db-XyZ123"

	noEnforceOnChange = "role change (ENFORCE_ON_ROLE_CHANGE=false)"
)

// changeEvent is an IAM call by alice.
func changeEvent(name string) assess.Event {
	return assess.Event{
		Kind: assess.RoleChange, ID: "c41d7e0a-5f62-4b8e-9d13-7a2e6b0f9c55", Name: name,
		Actor: "arn:aws:iam::111122223333:user/alice", Account: account, Region: region,
	}
}

// withAction sets every verdict's action, as the guard does once it has
// decided (and done) it.
func withAction(a assess.Assessment, action rules.Action) assess.Assessment {
	for i := range a.Verdicts {
		a.Verdicts[i].Report.Action = action
	}
	return a
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

// attachAdmin is AttachRolePolicy AdministratorAccess on web-api-task, the
// task role of web-api and web-api-worker, assessed with the state before
// (the role without the policy), with action.
func attachAdmin(t testing.TB, action rules.Action) assess.Assessment {
	e := changeEvent("AttachRolePolicy")
	e.Role, e.Policy, e.Roles = "web-api-task", policyAdmin, []string{"web-api-task"}
	var subjects []assess.Subject
	for _, facts := range []func(testing.TB) rules.Facts{webAPI, worker} {
		before, after := facts(t), facts(t)
		addPolicy(t, &after, taskARN, policyAdmin+"|"+adminPolicy)
		subjects = append(subjects, assess.Subject{Facts: after, Before: &before})
	}
	return withAction(assess.Assess(e, subjects), action)
}

// putEventsPolicy is PutRolePolicy run-any-task on ecsEventsRole, with the
// state before.
func putEventsPolicy(t testing.TB) assess.Assessment {
	e := changeEvent("PutRolePolicy")
	e.Role, e.Policy, e.Roles = "ecsEventsRole", "run-any-task", []string{"ecsEventsRole"}
	before := rules.Facts{Account: account, Region: region, Role: role(t, eventsRoleARN, trustEvents)}
	after := rules.Facts{Account: account, Region: region, Role: role(t, eventsRoleARN, trustEvents, eventsPassAny)}
	after.Role.Policies[0].Name = "inline:run-any-task"
	a := assess.Assess(e, []assess.Subject{{Facts: after, Before: &before, UsedBy: []rules.Use{{Kind: rules.UseEventsTarget, Resource: nightlyRuleARN}}}})
	return withAction(a, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
}

type changeCase struct {
	name   string
	assess func(t testing.TB) assess.Assessment
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
		assess: func(t testing.TB) assess.Assessment {
			return attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions",
		newFindings: map[string][]string{tdARN: {"TD-008"}, workerARN: {"TD-008"}},
		email:       []string{"NEW [CRITICAL] TD-008", "New findings:    TD-008 (brought by the change)", "web-api-worker:7: TD-008 (new)"},
	},
	{
		name: "change-putrolepolicy-events-role", golden: true,
		assess:      putEventsPolicy,
		subject:     "[HIGH] ecsguard: PutRolePolicy on ecsEventsRole affects ecsEventsRole",
		newFindings: map[string][]string{eventsRoleARN: {"SR-001"}},
		email:       []string{"NEW [HIGH] SR-001", "NEW [LOW] SR-001", "FINDINGS (2, 2 new)", "Used by:         - EventBridge rule\n                   " + nightlyRuleARN},
	},
	// The same rule at a higher severity is new; at the same severity, on
	// the same resource with the same evidence, it is not.
	{
		name: "change-severity-raised",
		assess: func(t testing.TB) assess.Assessment {
			a := putEventsPolicy(t)
			v := &a.Verdicts[0]
			v.Before = slices.DeleteFunc(slices.Clone(v.Report.Findings), func(f rules.Finding) bool { return f.Rule != "SR-001" || f.Severity != rules.Low })
			if len(v.Before) != 1 {
				t.Fatalf("findings = %+v, want one SR-001 LOW", v.Report.Findings)
			}
			return a
		},
		newFindings: map[string][]string{eventsRoleARN: {"SR-001"}},
		email:       []string{"NEW [HIGH] SR-001", "\n[LOW] SR-001", "FINDINGS (2, 1 new)"},
	},
	{
		name: "change-createpolicyversion-two-roles", golden: true,
		assess: func(t testing.TB) assess.Assessment {
			e := changeEvent("CreatePolicyVersion")
			e.Policy, e.Roles = execSecretsARN, []string{"web-api-exec", "reports-exec"}
			var subjects []assess.Subject
			for _, f := range []rules.Facts{webAPI(t), reports(t)} {
				// The new default version replaces the old one: the state
				// before is not in the event.
				exec := f.Roles[f.TaskDefinition.ExecutionRoleARN]
				exec.Policies = slices.DeleteFunc(exec.Policies, func(p iampolicy.Policy) bool { return strings.HasPrefix(p.Name, "inline:") })
				addPolicy(t, &f, f.TaskDefinition.ExecutionRoleARN, execSecretsARN+"|"+execSecretsAny)
				subjects = append(subjects, assess.Subject{Facts: f})
			}
			return withAction(assess.Assess(e, subjects), rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
		},
		subject:     "[MEDIUM] ecsguard: CreatePolicyVersion on web-api-exec-secrets affects 2 task definitions",
		newFindings: map[string][]string{},
		email:       []string{"Policy:          " + execSecretsARN, "- reports-exec"},
	},
	{
		name: "change-enforce-deregistered", golden: true,
		assess: func(t testing.TB) assess.Assessment {
			return attachAdmin(t, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: enforceMin + " (ENFORCE_ON_ROLE_CHANGE=true)"})
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions, deregistered 2",
		newFindings: map[string][]string{tdARN: {"TD-008"}, workerARN: {"TD-008"}},
		email:       []string{"Action:          deregistered", "TD-008 (new); deregistered"},
	},
	{
		name: "change-incomplete", golden: true,
		assess: func(t testing.TB) assess.Assessment {
			e := changeEvent("PutRolePolicy")
			e.Role, e.Policy, e.Roles = "web-api-exec", "read-db-secret", []string{"web-api-exec"}
			f := webAPI(t)
			delete(f.Roles, execARN)
			f.Missing = []rules.FactError{{Subject: execARN, Err: errors.New("iam:GetRolePolicy: AccessDenied: not authorized to perform iam:GetRolePolicy")}}
			return withAction(assess.Assess(e, []assess.Subject{{Facts: f}}), rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"})
		},
		subject:     "[HIGH] ecsguard: PutRolePolicy on web-api-exec affects 1 task definition, 1 incomplete",
		newFindings: map[string][]string{},
		email:       []string{"Evaluation:      INCOMPLETE", "Errors:          - " + execARN},
	},
	// A subject with findings and one that could not be fully evaluated:
	// the severity leads, the count of incomplete ones follows.
	{
		name: "change-mixed-incomplete",
		assess: func(t testing.TB) assess.Assessment {
			a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
			v := &a.Verdicts[1]
			v.Report.Complete = false
			v.Report.Errors = []string{"arn:aws:iam::111122223333:policy/worker-extra: iam:GetPolicyVersion: AccessDenied"}
			v.Report.Findings = append(v.Report.Findings, rules.Finding{Rule: rules.IncompleteRule, Severity: rules.High, Title: "evaluation incomplete", Resource: workerARN, Evidence: []rules.Evidence{}})
			v.BeforeKnown, v.Before = false, nil
			return a
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions, 1 incomplete",
		newFindings: map[string][]string{tdARN: {"TD-008"}},
	},
	// Before known and nothing new: an empty list, not an absent subject,
	// and the texts say so.
	{
		name: "change-nothing-new",
		assess: func(t testing.TB) assess.Assessment {
			a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
			a.Verdicts = a.Verdicts[:1]
			a.Verdicts[0].Before = a.Verdicts[0].Open()
			return a
		},
		subject:     "[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 1 task definition, nothing new",
		newFindings: map[string][]string{tdARN: {}},
		email: []string{"New findings:    none: every finding was there before the change", "FINDINGS (1, 0 new)",
			"Nothing new: every open finding below was open before the event."},
	},
	{
		name: "change-task-definitions-and-roles",
		assess: func(t testing.TB) assess.Assessment {
			a := attachAdmin(t, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}})
			for _, name := range []string{"ecsEventsRole", "nightly-report-events"} {
				r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: role(t, "arn:aws:iam::111122223333:role/"+name, trustEvents, eventsPassAny)})
				a.Verdicts = append(a.Verdicts, assess.Verdict{Report: r})
			}
			a.Event.Role, a.Event.Roles = "", []string{"web-api-task", "ecsEventsRole", "nightly-report-events"}
			return a
		},
		subject: "[CRITICAL] ecsguard: AttachRolePolicy affects 2 task definitions and 2 roles, would deregister 2",
	},
	// Notes are in the document and the texts.
	{
		name: "change-notes",
		assess: func(t testing.TB) assess.Assessment {
			a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
			a.Notes = []string{"the role index was not updated: AccessDenied", "usage of web-api-task could not be listed"}
			return a
		},
		email: []string{"Notes:           - the role index was not updated: AccessDenied\n                 - usage of web-api-task could not be listed\n"},
	},
	// A registration of several subjects, if ever: a change document.
	{
		name: "registration-two-subjects",
		assess: func(t testing.TB) assess.Assessment {
			one, two := webAPI(t), webAPI(t)
			two.TaskDefinition.ARN = strings.Replace(tdARN, ":42", ":43", 1)
			one.TaskDefinition.TaskRoleARN, two.TaskDefinition.TaskRoleARN = execARN, execARN
			return withAction(assess.Assess(registerEvent, []assess.Subject{{Facts: one}, {Facts: two}}), alertMode)
		},
		subject:     "[HIGH] ecsguard: RegisterTaskDefinition affects 2 task definitions",
		newFindings: map[string][]string{},
		email:       []string{"AFFECTED (2)", "- [HIGH] task definition web-api:43: TD-001"},
	},
	{
		name: "change-long-names",
		assess: func(t testing.TB) assess.Assessment {
			name := strings.Repeat("r", 64)
			r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: role(t, "arn:aws:iam::111122223333:role/a/deep/path/"+name, trustEvents, eventsPassAny)})
			r.Action = rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: "AccessDenied"}}
			return assess.Assessment{
				Event: assess.Event{Kind: assess.RoleChange, Name: "DeleteRolePermissionsBoundaryWithAVeryLongEventName", Role: name,
					Policy: "arn:aws:iam::111122223333:policy/" + strings.Repeat("p", 128)},
				Verdicts: []assess.Verdict{{Report: r}},
			}
		},
		subject: "[HIGH] ecsguard: DeleteRolePermissions… on rrrrrrrrr… affects rrrrrrrrr…, deregister failed 1",
	},
	{
		name: "change-no-target-control-characters",
		assess: func(t testing.TB) assess.Assessment {
			a := attachAdmin(t, rules.Action{Type: rules.ActionNone})
			a.Event = assess.Event{Kind: assess.RoleChange, ID: a.Event.ID, Actor: a.Event.Actor}
			for i := range a.Verdicts {
				a.Verdicts[i].BeforeKnown, a.Verdicts[i].Before = false, nil
			}
			a.Verdicts[0].Report.Findings[0].Title = "line one\nline two\r\tand\x00 a \u2028 separator"
			return a
		},
		subject:     "[CRITICAL] ecsguard: IAM change affects 2 task definitions",
		newFindings: map[string][]string{},
	},
	// Without their statements the reports fit whole, with them they do not.
	{name: "change-huge-statements", shrunk: true, assess: func(t testing.TB) assess.Assessment { return hugeChange(12, 25, 2048) },
		email: []string{"AFFECTED (12)", "FINDINGS (21, 21 new)", "FINDINGS (21)\n", "Policy statements were left out of this message's reports"}},
	// The reports fit without statements, but not with the email listing
	// every finding of every subject.
	{name: "change-huge-findings", shrunk: true, assess: func(t testing.TB) assess.Assessment { return hugeChange(6, 90, 16) },
		email: []string{"AFFECTED (6)", "FINDINGS (77, 77 new)", "FINDINGS (77)\n", "… 27 more findings not listed"}},
	// Tampering reads as such: what was done to which of ecsguard's
	// resources, by whom.
	{
		name: "tampering", golden: true,
		assess: func(t testing.TB) assess.Assessment {
			e := assess.Event{Kind: assess.Tampering, ID: "9d0c3b2a-1e4f-4a6b-8c7d-5e9f0a1b2c3d", Name: "DeleteTopic",
				Actor: "arn:aws:iam::111122223333:role/intruder", Account: account, Region: region, Resource: topicARN}
			return assess.Assess(e, []assess.Subject{{Facts: rules.Facts{Account: account, Region: region,
				Tampered: &rules.Tampered{Resource: topicARN, Change: "DeleteTopic"}}}})
		},
		subject:     "[CRITICAL] ecsguard: tampering: DeleteTopic on ecsguard-findings by intruder",
		newFindings: map[string][]string{},
		email:       []string{"Changed:         " + topicARN, "Resource:        " + topicARN, "[CRITICAL] ECSG-002"},
	},
	{
		name: "tampering-long-names",
		assess: func(t testing.TB) assess.Assessment {
			res := "arn:aws:events:us-east-1:111122223333:rule/" + strings.Repeat("ecsguard-onregister-", 6)
			e := assess.Event{Kind: assess.Tampering, Name: "PutRuleWithAVeryLongNameIndeed", Resource: res,
				Actor: "arn:aws:sts::111122223333:assumed-role/" + strings.Repeat("admin", 10) + "/session"}
			return assess.Assess(e, []assess.Subject{{Facts: rules.Facts{Tampered: &rules.Tampered{Resource: res, Change: e.Name}}}})
		},
		subject: "[CRITICAL] ecsguard: tampering: PutRuleWithAV… on ecsguard-onregiste… by adminadminadminadmi…",
	},
}

// hugeChange is a synthetic change of n subjects, each a report of
// findings findings with statements of about size bytes; the first half
// have a known state before the change, with nothing.
func hugeChange(n, findings, size int) assess.Assessment {
	a := assess.Assessment{Event: changeEvent("CreatePolicyVersion")}
	a.Event.Policy = "arn:aws:iam::111122223333:policy/shared-everything"
	for i := range n {
		r := huge(findings, size)
		r.Subject.ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task-definition/family-%03d:%d", i, 1+i%9)
		r.Trigger = a.Event.Trigger()
		a.Verdicts = append(a.Verdicts, assess.Verdict{Report: r, BeforeKnown: i < (n+1)/2})
		a.Event.Roles = append(a.Event.Roles, fmt.Sprintf("role-%03d", i))
	}
	return a
}

func TestRenderChange(t *testing.T) {
	t.Parallel()
	for _, tc := range changeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := tc.assess(t)
			keep := cloneAssessment(t, a)
			msgs, err := alert.Render(a)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(msgs) != 1 {
				t.Fatalf("Render gave %d messages, want 1", len(msgs))
			}
			msg := msgs[0]
			t.Logf("subject %q, body %d bytes", msg.Subject, len(msg.Body))
			if !reflect.DeepEqual(a, keep) {
				t.Error("Render changed its input")
			}
			parts := checkMessage(t, msg, "event")
			checkChangeAttributes(t, msg, a, a.Alerting())
			doc := checkChangeDocument(t, parts.Default, a, a.Alerting(), tc.shrunk)
			if doc.Part != 1 || doc.Parts != 1 {
				t.Errorf("part %d of %d, want 1 of 1", doc.Part, doc.Parts)
			}
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
			checkDeterministic(t, a, msgs)
			if tc.golden {
				checkGolden(t, tc.name, msg, parts)
			}
		})
	}
}

// checkChangeAttributes checks a message's attributes against the
// verdicts it announces.
func checkChangeAttributes(t *testing.T, msg alert.Message, a assess.Assessment, vs []assess.Verdict, extra ...string) {
	t.Helper()
	var ids []string
	for _, v := range vs {
		for _, f := range v.Open() {
			ids = append(ids, f.Rule)
		}
	}
	slices.Sort(ids)
	rulesJSON, _ := json.Marshal(slices.Compact(ids))
	want := map[string]string{"rules": string(rulesJSON), "account": a.Event.Account, "region": a.Event.Region, "event": a.Event.Name}
	if len(ids) == 0 {
		want["rules"] = ""
	}
	if h := (assess.Assessment{Verdicts: vs}).Headline(); h > 0 {
		want["severity"] = h.String()
	}
	if a.Event.Account == "" {
		want["account"] = vs[0].Report.Account
	}
	if a.Event.Region == "" {
		want["region"] = vs[0].Report.Region
	}
	for i := 0; i+1 < len(extra); i += 2 {
		want[extra[i]] = extra[i+1]
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

// decodeDocument decodes a default body into a ChangeDocument, strictly.
func decodeDocument(t *testing.T, def string) alert.ChangeDocument {
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
	for _, k := range []string{"schemaVersion", "part", "parts", "change", "notes", "reports", "newFindings", "usedBy", "summaries"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("default lacks %q", k)
		}
	}
	if doc.SchemaVersion != alert.ChangeSchemaVersion {
		t.Errorf("schemaVersion = %q", doc.SchemaVersion)
	}
	return doc
}

// checkChangeDocument checks the document holds the event, the notes and
// the reports of vs (without statements when shrunk).
func checkChangeDocument(t *testing.T, def string, a assess.Assessment, vs []assess.Verdict, shrunk bool) alert.ChangeDocument {
	t.Helper()
	doc := decodeDocument(t, def)
	e := a.Event
	roles := e.Roles
	if roles == nil {
		roles = []string{}
	}
	want := alert.ChangeEvent{Kind: e.Kind.String(), EventID: e.ID, EventName: e.Name, Actor: e.Actor, Account: e.Account, Region: e.Region,
		Role: e.Role, Policy: e.Policy, Resource: e.Resource, Roles: roles}
	if want.Account == "" {
		want.Account = vs[0].Report.Account
	}
	if want.Region == "" {
		want.Region = vs[0].Report.Region
	}
	if !reflect.DeepEqual(doc.Change, want) {
		t.Errorf("change = %+v, want %+v", doc.Change, want)
	}
	notes := a.Notes
	if notes == nil {
		notes = []string{}
	}
	if !reflect.DeepEqual(doc.Notes, notes) {
		t.Errorf("notes = %q, want %q", doc.Notes, notes)
	}
	if len(doc.Reports) != len(vs) {
		t.Fatalf("%d reports, want %d", len(doc.Reports), len(vs))
	}
	known := map[string]bool{}
	for i, v := range vs {
		r := v.Report
		if shrunk {
			r = withoutStatements(r)
		}
		if !reflect.DeepEqual(doc.Reports[i], r) {
			t.Errorf("report %d differs:\ngot  %+v\nwant %+v", i, doc.Reports[i], r)
		}
		known[r.Subject.ARN] = known[r.Subject.ARN] || v.BeforeKnown
	}
	for arn := range doc.NewFindings {
		if !known[arn] {
			t.Errorf("newFindings names %s, whose state before is unknown", arn)
		}
	}
	return doc
}

// One renderer: a subject reads the same in a registration's alert and in
// a role change's, from its fields to the footer.
func TestOneRenderer(t *testing.T) {
	t.Parallel()
	reg := registration(func(t testing.TB, f *rules.Facts) { addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy) },
		rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})(t)
	change := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
	change.Verdicts = change.Verdicts[:1]
	change.Verdicts[0].BeforeKnown, change.Verdicts[0].Before = false, nil
	change.Verdicts[0].Report.Trigger = reg.Verdicts[0].Report.Trigger
	var emails []string
	for _, a := range []assess.Assessment{reg, change} {
		msgs, err := alert.Render(a)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Render = %d messages, %v", len(msgs), err)
		}
		p := checkMessage(t, msgs[0], "event")
		emails = append(emails, p.Email[strings.Index(p.Email, "Task definition:"):strings.Index(p.Email, "\n-- \n")])
	}
	if emails[0] != emails[1] {
		t.Errorf("the subject reads differently:\nregistration:\n%s\nchange:\n%s", emails[0], emails[1])
	}
}

// A finding is new by its evidence: the same rule on another statement is
// new, the same finding as before is not.
func TestNewnessByEvidence(t *testing.T) {
	t.Parallel()
	a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
	a.Verdicts = a.Verdicts[:1]
	v := &a.Verdicts[0]
	passRole := func(policy string) rules.Finding {
		return rules.Finding{Rule: "TD-009", Severity: rules.High, Title: "task role allows privilege escalation", Resource: taskARN,
			Evidence: []rules.Evidence{{Detail: "iam:PassRole on *", Policy: policy, Action: "iam:PassRole"}}, Remediation: "Scope iam:PassRole."}
	}
	old := v.Report.Findings[0] // TD-008, there before too
	v.Report.Findings = []rules.Finding{old, passRole("inline:b")}
	v.Before = []rules.Finding{old, passRole("inline:a")}
	msgs, err := alert.Render(a)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Render = %d messages, %v", len(msgs), err)
	}
	p := checkMessage(t, msgs[0], "event")
	doc := decodeDocument(t, p.Default)
	if got := doc.NewFindings[tdARN]; !slices.Equal(got, []string{"TD-009"}) {
		t.Errorf("newFindings = %v, want [TD-009]", got)
	}
	if !strings.Contains(p.Email, "NEW [HIGH] TD-009") || strings.Contains(p.Email, "NEW [CRITICAL] TD-008") || !strings.Contains(p.Email, "\n[CRITICAL] TD-008") {
		t.Errorf("email marks the wrong findings new:\n%s", p.Email)
	}
	if strings.Count(p.HTTPS, "_(new)_") != 1 {
		t.Errorf("chat marks %d findings new, want 1", strings.Count(p.HTTPS, "_(new)_"))
	}
	// The headline is what the event brought: HIGH, not the old CRITICAL.
	if !strings.HasPrefix(msgs[0].Subject, "[HIGH] ") || msgs[0].Attributes["severity"] != "HIGH" {
		t.Errorf("subject %q, severity %q: want HIGH", msgs[0].Subject, msgs[0].Attributes["severity"])
	}
}

// An old CRITICAL finding on one subject does not set the headline of a
// change that brought a MEDIUM one on another.
func TestHeadlineFromNewFindings(t *testing.T) {
	t.Parallel()
	a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
	a.Verdicts[0].Before = a.Verdicts[0].Open() // TD-008 on web-api: old
	medium := rules.Finding{Rule: "TD-002", Severity: rules.Medium, Title: "task role carries execution-plane permissions", Resource: taskARN,
		Evidence: []rules.Evidence{{Detail: "ecr:BatchGetImage"}}}
	a.Verdicts[1].Report.Findings = []rules.Finding{medium}
	a.Verdicts[1].Before = nil
	msgs, err := alert.Render(a)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Render = %d messages, %v", len(msgs), err)
	}
	m := msgs[0]
	p := checkMessage(t, m, "event")
	if want := "[MEDIUM] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if m.Attributes["severity"] != "MEDIUM" || !strings.HasPrefix(p.Email, "[MEDIUM] ") {
		t.Errorf("severity %q, email headline %q", m.Attributes["severity"], p.Email[:strings.IndexByte(p.Email, '\n')])
	}
	// Each subject still shows its own severity.
	for _, want := range []string{"- [CRITICAL] task definition web-api:42: TD-008\n", "- [MEDIUM] task definition web-api-worker:7: TD-002 (new)\n"} {
		if !strings.Contains(p.Email, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	if strings.Contains(p.Email, "Nothing new") {
		t.Error("the email says nothing new was brought")
	}
}

// The suppressed findings are counted, with their reasons, in the email
// and the chat.
func TestSuppressedCounts(t *testing.T) {
	t.Parallel()
	r := reportOf(t, caseAssessmentFunc(t, "task-definition-high"))
	sup := func(rule string, sev rules.Severity, reason string) rules.Finding {
		return rules.Finding{Rule: rule, Severity: sev, Title: rule + " title", Resource: taskARN, Evidence: []rules.Evidence{}, Suppressed: true, SuppressedReason: reason}
	}
	r.Findings = append(r.Findings, sup("TD-009", rules.High, "batch launcher, SEC-142"), sup("TD-010", rules.Medium, "batch launcher, SEC-142"), sup("TD-011", rules.Low, "accepted risk"))
	msgs, err := alert.Render(registered(r))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Render = %d messages, %v", len(msgs), err)
	}
	p := checkMessage(t, msgs[0])
	want := "3 findings suppressed by exemptions: TD-009, TD-010 (batch launcher, SEC-142); TD-011 (accepted risk)"
	if !strings.Contains(flat(p.Email), "Suppressed: "+want) || !strings.Contains(p.HTTPS, "_"+want+"_") {
		t.Errorf("email or chat lacks %q:\n%s\n%s", want, p.Email, p.HTTPS)
	}
	if !strings.Contains(p.Email, "SUPPRESSED (3, exempted by tag, not alerted)") {
		t.Error("email lacks the suppressed findings")
	}
}

func caseAssessmentFunc(tb testing.TB, name string) func(testing.TB) assess.Assessment {
	tb.Helper()
	for _, tc := range cases {
		if tc.name == name {
			return tc.assess
		}
	}
	tb.Fatalf("no case %q", name)
	return nil
}

// flat joins the words of s with single spaces, so that a check does not
// depend on where the text wraps.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }
