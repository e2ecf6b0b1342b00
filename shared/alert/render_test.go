package alert_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	account = "111122223333"
	region  = "us-east-1"
	taskARN = "arn:aws:iam::111122223333:role/web-api-task"
	execARN = "arn:aws:iam::111122223333:role/web-api-exec"
	tdARN   = "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:42"
	image   = "111122223333.dkr.ecr.us-east-1.amazonaws.com/web-api:3.1.0"
	secret  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web-api/db-AbCdEf"

	trustECS       = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`
	trustNoSource  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustEvents    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	s3TaskPolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::web-assets","arn:aws:s3:::web-assets/*"]}]}`
	execManaged    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
	execSecrets    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web-api/*"}]}`
	adminPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	passRoleAny    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`
	eventsPassAny  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:RunTask","iam:PassRole"],"Resource":"*"}]}`
	policyExecRole = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	policyAdmin    = "arn:aws:iam::aws:policy/AdministratorAccess"
)

var registerTrigger = rules.Trigger{
	EventID:   "6f1c2a9e-3b7d-4c1e-9a55-0d2b8e7f4a10",
	EventName: "RegisterTaskDefinition",
	Actor:     "arn:aws:sts::111122223333:assumed-role/deploy-pipeline/codebuild-1234",
}

// registerEvent is the RegisterTaskDefinition call of registerTrigger.
var registerEvent = assess.Event{
	Kind: assess.Registration, ID: registerTrigger.EventID, Name: registerTrigger.EventName, Actor: registerTrigger.Actor,
	Account: account, Region: region,
}

// maxBody is the package's limit on a body: 256 KiB less 1 KiB for the
// subject and the attributes.
const maxBody = 256<<10 - 1<<10

func parse(t testing.TB, doc string) *iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", doc, err)
	}
	return d
}

// role builds a role; a policy given as "arn|document" is an attached
// managed policy, any other an inline one.
func role(t testing.TB, arn, trust string, policies ...string) *rules.Role {
	t.Helper()
	r := &rules.Role{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:], Path: "/", Trust: parse(t, trust), Tags: map[string]string{}}
	for i, p := range policies {
		if name, doc, ok := strings.Cut(p, "|"); ok {
			r.Policies = append(r.Policies, iampolicy.Policy{Name: name, Document: parse(t, doc)})
			r.Attached = append(r.Attached, name)
			continue
		}
		r.Policies = append(r.Policies, iampolicy.Policy{Name: fmt.Sprintf("inline:policy-%d", i), Document: parse(t, p)})
	}
	return r
}

// webAPI is a compliant Fargate service: private ECR image, awslogs, one
// secret, separate task and execution roles.
func webAPI(t testing.TB) rules.Facts {
	t.Helper()
	td := &rules.TaskDefinition{
		ARN: tdARN, Family: "web-api", Revision: 42,
		TaskRoleARN: taskARN, ExecutionRoleARN: execARN,
		NetworkMode: "awsvpc", RequiresCompatibilities: []string{"FARGATE"},
		Containers: []rules.Container{{
			Name: "web-api", Image: image,
			Environment: []rules.KeyValue{{Name: "LOG_LEVEL", Value: "info"}},
			Secrets:     []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: secret}},
			LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{
				"awslogs-group": "/ecs/web-api", "awslogs-region": region, "awslogs-stream-prefix": "web-api",
			}},
		}},
		Tags: map[string]string{},
	}
	return rules.Facts{
		Account: account, Region: region, Trigger: registerTrigger, TaskDefinition: td,
		Roles: map[string]*rules.Role{
			taskARN: role(t, taskARN, trustECS, s3TaskPolicy),
			execARN: role(t, execARN, trustECS, policyExecRole+"|"+execManaged, execSecrets),
		},
	}
}

func addPolicy(t testing.TB, f *rules.Facts, arn, policy string) {
	t.Helper()
	extra := role(t, arn, trustECS, policy)
	r := f.Roles[arn]
	r.Policies = append(r.Policies, extra.Policies...)
	r.Attached = append(r.Attached, extra.Attached...)
}

type renderCase struct {
	name   string
	assess func(t testing.TB) assess.Assessment
	golden bool
	// shrunk: the report is too large to go out whole, so the default body
	// holds it without its statements.
	shrunk bool
	// email holds substrings the email text must contain.
	email []string
}

// registration assesses the registration of web-api:42 with its facts
// changed by mutate, then sets the action as the guard would.
func registration(mutate func(t testing.TB, f *rules.Facts), action rules.Action) func(t testing.TB) assess.Assessment {
	return func(t testing.TB) assess.Assessment {
		f := webAPI(t)
		mutate(t, &f)
		a := assess.Assess(registerEvent, []assess.Subject{{Facts: f}})
		a.Verdicts[0].Report.Action = action
		return a
	}
}

// registered is a registration whose verdict is the report r as it is.
func registered(r rules.Report) assess.Assessment {
	return assess.Assessment{Event: registerEvent, Verdicts: []assess.Verdict{{Report: r}}}
}

// reportOf is the one report of a registration case.
func reportOf(tb testing.TB, f func(t testing.TB) assess.Assessment) rules.Report {
	tb.Helper()
	return f(tb).Verdicts[0].Report
}

var (
	alertMode  = rules.Action{Type: rules.ActionNone, Reason: "mode alert"}
	enforceMin = "CRITICAL finding at or above ENFORCE_MIN_SEVERITY HIGH"
)

var cases = []renderCase{
	{name: "task-definition-high", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		f.TaskDefinition.TaskRoleARN = execARN
		f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment,
			rules.KeyValue{Name: "STRIPE_API_KEY", Value: "sk_live_4eC39HqLyjWDarjtT1zdp7dc"})
	}, alertMode)},
	{name: "incomplete-errors", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		delete(f.Roles, execARN)
		f.Missing = []rules.FactError{
			{Subject: execARN, Err: errors.New("iam:GetRole: AccessDenied: not authorized to perform iam:GetRole")},
			{Subject: "arn:aws:iam::111122223333:policy/web-api-s3", Err: errors.New("iam:GetPolicyVersion: AccessDenied")},
		}
	}, rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"})},
	{name: "incomplete-with-findings", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Missing = []rules.FactError{{Subject: "arn:aws:iam::111122223333:policy/web-api-extra", Err: errors.New("iam:GetPolicyVersion: NoSuchEntity: policy does not exist")}}
	}, rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"})},
	{name: "enforce-deregistered", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: enforceMin})},
	{name: "dry-run", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Roles[taskARN].Trust = parse(t, trustNoSource)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}, Reason: "HIGH finding at or above ENFORCE_MIN_SEVERITY HIGH"})},
	{name: "deregister-failed", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: "operation error ECS: DeregisterTaskDefinition, AccessDeniedException"}, Reason: enforceMin}),
		email: []string{"Action: deregister failed: operation error ECS: DeregisterTaskDefinition, AccessDeniedException"}},
	{name: "suppressed-findings", golden: true, assess: registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Roles[taskARN].Trust = parse(t, trustNoSource)
		f.TaskDefinition.Tags = map[string]string{rules.TagExempt: "TD-009", rules.TagExemptReason: "batch launcher, reviewed in SEC-142"}
	}, alertMode), email: []string{"Suppressed:      1 finding suppressed by exemptions: TD-009 (batch launcher,\n                 reviewed in SEC-142)"}},
	// A secondary role reached by a role change, the state before unknown.
	{name: "role-subject", golden: true, assess: func(t testing.TB) assess.Assessment {
		e := assess.Event{Kind: assess.RoleChange, ID: "0b7e5d21-8c4f-4f7a-b0a3-5e9d1c2f6a77", Name: "PutRolePolicy", Actor: "arn:aws:iam::111122223333:user/alice",
			Account: account, Region: region, Role: "nightly-report-events", Policy: "run-tasks", Roles: []string{"nightly-report-events"}}
		a := assess.Assess(e, []assess.Subject{{Facts: rules.Facts{Account: account, Region: region,
			Role: role(t, "arn:aws:iam::111122223333:role/nightly-report-events", trustEvents, eventsPassAny)}}})
		return withAction(a, rules.Action{Type: rules.ActionNone, Reason: "role change (ENFORCE_ON_ROLE_CHANGE=false)"})
	}},
	// The registration's notes are in the texts (the report has no room
	// for them: its schema is SPEC §4's).
	{name: "notes", assess: func(t testing.TB) assess.Assessment {
		a := registration(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, alertMode)(t)
		a.Notes = []string{"the role index was not updated: ThrottlingException", "second\nnote"}
		return a
	}, email: []string{"Notes:           - the role index was not updated: ThrottlingException\n                 - second note\n"}},
	{name: "offline-no-trigger", assess: func(t testing.TB) assess.Assessment {
		f := webAPI(t)
		f.TaskDefinition.TaskRoleARN = execARN
		return assess.Assess(assess.Event{Kind: assess.Registration}, []assess.Subject{{Facts: f}})
	}, email: []string{"Event:           none (evaluated without an event)"}},
	// A statement that is not JSON cannot be marshalled: the alert goes out
	// without statements rather than not at all.
	{name: "invalid-statement", shrunk: true, assess: func(t testing.TB) assess.Assessment {
		r := reportOf(t, registration(func(t testing.TB, f *rules.Facts) { addPolicy(t, f, taskARN, passRoleAny) }, alertMode))
		r.Findings[0].Evidence[0].Statement = json.RawMessage(`{"Effect":`)
		return registered(r)
	}, email: []string{"Policy statements were left out"}},
	{name: "no-subject", assess: func(t testing.TB) assess.Assessment { return registered(rules.Evaluate(rules.Facts{})) }},
	{name: "zero-report", assess: func(t testing.TB) assess.Assessment { return registered(rules.Report{}) }},
	{name: "long-family-and-title", assess: func(t testing.TB) assess.Assessment {
		r := reportOf(t, registration(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN },
			rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}}))
		r.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/" + strings.Repeat("very-long-family-name-", 11) + "end:1234567"
		r.Findings[0].Title = strings.Repeat("a title that goes on and on ", 12)
		r.Findings = append(r.Findings, r.Findings[0], r.Findings[0])
		return registered(r)
	}},
	{name: "long-multibyte-title", assess: func(t testing.TB) assess.Assessment {
		r := reportOf(t, registration(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, alertMode))
		r.Findings[0].Title = strings.Repeat("rôle partagé 役割 ", 20)
		return registered(r)
	}},
	{name: "control-characters", assess: func(t testing.TB) assess.Assessment {
		r := reportOf(t, registration(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, alertMode))
		r.Findings[0].Title = "line one\nline two\r\tand\x00 a \u2028 separator"
		r.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/web\n-api:42"
		return registered(r)
	}},
	{name: "long-role-name", assess: func(t testing.TB) assess.Assessment {
		name := strings.Repeat("r", 64)
		return registered(rules.Evaluate(rules.Facts{Account: account, Region: region,
			Role: role(t, "arn:aws:iam::111122223333:role/a/deep/path/"+name, trustEvents, eventsPassAny)}))
	}},
	// Without its statements the report fits whole, with them it does not.
	{name: "huge-statements", shrunk: true, assess: func(t testing.TB) assess.Assessment { return registered(huge(300, 2048)) },
		email: []string{"FINDINGS (257)", "Policy statements were left out"}},
	// The report without statements fits, but not with the email listing
	// every finding as well.
	{name: "huge-many-findings", shrunk: true, assess: func(t testing.TB) assess.Assessment { return registered(huge(700, 16)) },
		email: []string{"FINDINGS (600)", "… 500 more findings not listed", "Policy statements were left out"}},
}

// huge is a synthetic report of n findings, each with a statement of
// about size bytes: far more than fits in one SNS message.
func huge(n, size int) rules.Report {
	stmt := json.RawMessage(`{"Effect":"Allow","Action":["` + strings.Repeat("s3:GetObject\",\"", size/16) + `s3:PutObject"],"Resource":"*"}`)
	r := rules.Report{
		SchemaVersion: rules.SchemaVersion, Account: account, Region: region, Trigger: registerTrigger,
		Subject: rules.Subject{Type: rules.SubjectTaskDefinition, ARN: tdARN},
		Action:  rules.Action{Type: rules.ActionNone, Reason: "mode alert"}, Complete: true, Errors: []string{},
		Findings: []rules.Finding{},
	}
	for i := range n {
		r.Findings = append(r.Findings, rules.Finding{
			Rule: fmt.Sprintf("TD-%03d", 100+i%50), Severity: rules.Severity(1 + i%5), Title: "synthetic finding",
			Resource:    fmt.Sprintf("arn:aws:iam::111122223333:role/r-%d", i),
			Evidence:    []rules.Evidence{{Detail: "allows many actions", Policy: "inline:big", Action: "s3:PutObject", Statement: stmt}},
			Remediation: "Scope it down.", Suppressed: i%7 == 0, SuppressedReason: map[bool]string{true: "synthetic"}[i%7 == 0],
		})
	}
	return r
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, tc := range cases {
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
			if !reflect.DeepEqual(a, keep) {
				t.Error("Render changed its input")
			}
			msg := msgs[0]
			t.Logf("subject %q, body %d bytes", msg.Subject, len(msg.Body))
			var parts bodyParts
			if a.Event.Kind == assess.Registration {
				parts = checkMessage(t, msg)
				want := a.Verdicts[0].Report
				want.Notes = a.Notes // a registration's report carries the event's notes
				checkDefault(t, parts.Default, want, tc.shrunk)
			} else {
				parts = checkMessage(t, msg, "event")
				checkChangeDocument(t, parts.Default, a, a.Alerting(), tc.shrunk)
			}
			for _, want := range tc.email {
				if !strings.Contains(parts.Email, want) && !strings.Contains(flat(parts.Email), want) {
					t.Errorf("email lacks %q", want)
				}
			}
			for _, note := range a.Notes {
				if !strings.Contains(parts.HTTPS, strings.ReplaceAll(note, "\n", " ")) {
					t.Errorf("chat notification lacks the note %q", note)
				}
			}
			checkDeterministic(t, a, msgs)
			if tc.golden {
				checkGolden(t, tc.name, msg, parts)
			}
		})
	}
}

// checkDeterministic renders a again and wants the same messages, byte for
// byte.
func checkDeterministic(t *testing.T, a assess.Assessment, msgs []alert.Message) {
	t.Helper()
	again, err := alert.Render(a)
	if err != nil || !reflect.DeepEqual(again, msgs) {
		t.Errorf("a second Render differs (err %v)", err)
	}
}

// cloneAssessment deep-copies a through JSON, statements included.
func cloneAssessment(t testing.TB, a assess.Assessment) assess.Assessment {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		// A statement that is not JSON: copy by value, which is enough
		// for a test that changes no statement.
		return a
	}
	var out assess.Assessment
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Nothing to say, nothing rendered: every finding suppressed, or no
// verdict at all.
func TestRenderNothingToAlert(t *testing.T) {
	t.Parallel()
	suppressed := registration(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.TaskDefinition.Tags = map[string]string{rules.TagExempt: "*", rules.TagExemptReason: "accepted in SEC-142"}
	}, alertMode)(t)
	for name, a := range map[string]assess.Assessment{"all-suppressed": suppressed, "no-verdict": {Event: registerEvent}} {
		msgs, err := alert.Render(a)
		if msgs != nil || err != nil {
			t.Errorf("%s: Render = %d messages, %v; want nil, nil", name, len(msgs), err)
		}
	}
}

// A report too large for a message even without its statements is still
// announced: its document lists the first findings and counts them all.
func TestRenderSummarisesTooLargeReport(t *testing.T) {
	t.Parallel()
	r := huge(3000, 16) // about 800 KB without statements
	a := registered(r)
	msgs, err := alert.Render(a)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Render(3000 findings) = %d messages, %v; want 1", len(msgs), err)
	}
	p := checkMessage(t, msgs[0])
	doc := decodeDocument(t, p.Default)
	if len(doc.Reports) != 1 || doc.Reports[0].Subject != r.Subject || doc.Part != 1 || doc.Parts != 1 {
		t.Fatalf("document = %d reports, part %d/%d", len(doc.Reports), doc.Part, doc.Parts)
	}
	sum, ok := doc.Summaries[tdARN]
	if !ok {
		t.Fatalf("no summary for %s: %v", tdARN, doc.Summaries)
	}
	open := 0
	for _, n := range sum.Open {
		open += n
	}
	if sum.Findings != 3000 || sum.Suppressed != 429 || open != 3000-429 || sum.ListedFindings != len(doc.Reports[0].Findings) ||
		sum.ListedFindings == 0 || sum.ListedFindings == 3000 {
		t.Errorf("summary = %+v, report lists %d findings", sum, len(doc.Reports[0].Findings))
	}
	if !reflect.DeepEqual(doc.Reports[0].Findings, withoutStatements(r).Findings[:sum.ListedFindings]) {
		t.Error("the summarised report does not list the report's first findings")
	}
	for _, want := range []string{"Report:          too large for one SNS message", "FINDINGS (2571)", "more findings not listed: the report is too large"} {
		if !strings.Contains(p.Email, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	checkDeterministic(t, a, msgs)
}

// withoutStatements copies r without its policy statements.
func withoutStatements(r rules.Report) rules.Report {
	r.Findings = slices.Clone(r.Findings)
	for i := range r.Findings {
		ev := slices.Clone(r.Findings[i].Evidence)
		for j := range ev {
			ev[j].Statement = nil
		}
		r.Findings[i].Evidence = ev
	}
	return r
}

type bodyParts struct{ Default, Email, HTTPS string }

// checkMessage checks what SNS and its subscribers require of any message;
// extra are attribute keys allowed besides severity, rules, account and
// region.
func checkMessage(t *testing.T, msg alert.Message, extra ...string) bodyParts {
	t.Helper()
	if n := len(msg.Subject); n == 0 || n >= 100 || utf8.RuneCountInString(msg.Subject) >= 100 {
		t.Errorf("subject is %d bytes, want 1 to 99: %q", n, msg.Subject)
	}
	if !utf8.ValidString(msg.Subject) || strings.ContainsFunc(msg.Subject, func(r rune) bool { return unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') }) {
		t.Errorf("subject has invalid UTF-8, a line break or a control character: %q", msg.Subject)
	}
	for k, v := range msg.Attributes {
		if !slices.Contains(append([]string{"severity", "rules", "account", "region"}, extra...), k) {
			t.Errorf("unexpected attribute %q", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("attribute %q is empty", k)
		}
	}
	if n := len(msg.Body); n >= maxBody {
		t.Errorf("body is %d bytes, want under 255 KiB", n)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(msg.Body), &raw); err != nil {
		t.Fatalf("body is not a JSON object: %v", err)
	}
	if keys := slices.Sorted(maps.Keys(raw)); !slices.Equal(keys, []string{"default", "email", "https"}) {
		t.Errorf("body keys = %v, want [default email https]", keys)
	}
	var p bodyParts
	for k, dst := range map[string]*string{"default": &p.Default, "email": &p.Email, "https": &p.HTTPS} {
		if err := json.Unmarshal(raw[k], dst); err != nil {
			t.Errorf("body %q is not a string: %v", k, err)
		}
	}
	var n struct {
		Version string `json:"version"`
		Source  string `json:"source"`
		Content struct {
			TextType    string `json:"textType"`
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(p.HTTPS), &n); err != nil {
		t.Fatalf("https is not JSON: %v\n%s", err, p.HTTPS)
	}
	if n.Version != "1.0" || n.Source != "custom" || n.Content.TextType != "client-markdown" || n.Content.Title == "" || n.Content.Description == "" {
		t.Errorf("https is not a Chatbot custom notification: %+v", n)
	}
	if p.Email == "" {
		t.Error("email is empty")
	}
	return p
}

// checkDefault checks that the default body is the report, or, when shrunk,
// the report without its statements.
func checkDefault(t *testing.T, def string, in rules.Report, shrunk bool) {
	t.Helper()
	var got rules.Report
	dec := json.NewDecoder(strings.NewReader(def))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("default is not a report: %v", err)
	}
	want := in
	if shrunk {
		want.Findings = slices.Clone(in.Findings)
		for i := range want.Findings {
			ev := slices.Clone(want.Findings[i].Evidence)
			for j := range ev {
				ev[j].Statement = nil
			}
			want.Findings[i].Evidence = ev
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default body differs from the report:\ngot  %+v\nwant %+v", got, want)
	}
}

// checkGolden compares the rendered message with testdata/<name>.golden, a
// readable dump: JSON indented, the chat description as text.
func checkGolden(t *testing.T, name string, msg alert.Message, p bodyParts) {
	t.Helper()
	var b bytes.Buffer
	section := func(title, text string) {
		fmt.Fprintf(&b, "-- %s --\n%s\n", title, strings.TrimSuffix(text, "\n"))
	}
	indent := func(s string) string {
		var out bytes.Buffer
		if err := json.Indent(&out, []byte(s), "", "  "); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	section("subject", msg.Subject)
	var attrs []string
	for _, k := range slices.Sorted(maps.Keys(msg.Attributes)) {
		attrs = append(attrs, k+"="+msg.Attributes[k])
	}
	section("attributes", strings.Join(attrs, "\n"))
	section("email", p.Email)
	var n struct {
		Content struct {
			Description string `json:"description"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(p.HTTPS), &n)
	section("https description", n.Content.Description)
	section("https", indent(p.HTTPS))
	section("default", indent(p.Default))

	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./shared/alert -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("Render differs from %s (run go test ./shared/alert -update to accept):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, wl, gl)
		}
	}
	return "(equal lines)"
}

// TestRenderSubject pins the subject lines that the goldens do not show:
// what is kept when a long family name or title must be shortened.
func TestRenderSubject(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"long-family-and-title", "[HIGH] ecsguard: very-long-fam…:1234567 would be deregistered: a title that goes on… (+2 more)"},
		{"long-multibyte-title", "[HIGH] ecsguard: web-api:42 rôle partagé 役割 rôle partagé 役割 rôle partagé 役割 r…"},
		{"long-role-name", "[HIGH] ecsguard: rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr… events role can pass any role or… (+1 more)"},
		{"control-characters", "[HIGH] ecsguard: web -api:42 line one line two and a separator"},
		// The incomplete-evaluation finding is HIGH: the headline says so.
		{"no-subject", "[HIGH] ecsguard: unknown subject could not be fully evaluated"},
		{"offline-no-trigger", "[HIGH] ecsguard: web-api:42 task role and execution role are the same role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msgs, err := alert.Render(caseAssessment(t, tc.name))
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Render = %d messages, %v", len(msgs), err)
			}
			if msgs[0].Subject != tc.want {
				t.Errorf("Subject = %q, want %q", msgs[0].Subject, tc.want)
			}
		})
	}
}

func caseAssessment(tb testing.TB, name string) assess.Assessment {
	tb.Helper()
	for _, tc := range cases {
		if tc.name == name {
			return tc.assess(tb)
		}
	}
	tb.Fatalf("no case %q", name)
	return assess.Assessment{}
}
