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
	report func(t testing.TB) rules.Report
	golden bool
	// shrunk: the report is too large to go out whole, so the default body
	// holds it without its statements.
	shrunk bool
	// email holds substrings the email text must contain.
	email []string
}

// evaluate runs the rules on facts changed by mutate, then sets the action
// as the guard would.
func evaluate(mutate func(t testing.TB, f *rules.Facts), action rules.Action) func(t testing.TB) rules.Report {
	return func(t testing.TB) rules.Report {
		f := webAPI(t)
		mutate(t, &f)
		r := rules.Evaluate(f)
		r.Action = action
		return r
	}
}

var (
	alertMode  = rules.Action{Type: rules.ActionNone, Reason: "mode alert"}
	enforceMin = "CRITICAL finding at or above ENFORCE_MIN_SEVERITY HIGH"
)

var cases = []renderCase{
	{name: "task-definition-high", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		f.TaskDefinition.TaskRoleARN = execARN
		f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment,
			rules.KeyValue{Name: "STRIPE_API_KEY", Value: "sk_live_4eC39HqLyjWDarjtT1zdp7dc"})
	}, alertMode)},
	{name: "incomplete-errors", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		delete(f.Roles, execARN)
		f.Missing = []rules.FactError{
			{Subject: execARN, Err: errors.New("iam:GetRole: AccessDenied: not authorized to perform iam:GetRole")},
			{Subject: "arn:aws:iam::111122223333:policy/web-api-s3", Err: errors.New("iam:GetPolicyVersion: AccessDenied")},
		}
	}, rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"})},
	{name: "incomplete-with-findings", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Missing = []rules.FactError{{Subject: "arn:aws:iam::111122223333:policy/web-api-extra", Err: errors.New("iam:GetPolicyVersion: NoSuchEntity: policy does not exist")}}
	}, rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"})},
	{name: "enforce-deregistered", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: enforceMin})},
	{name: "dry-run", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Roles[taskARN].Trust = parse(t, trustNoSource)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}, Reason: "HIGH finding at or above ENFORCE_MIN_SEVERITY HIGH"})},
	{name: "deregister-failed", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, policyAdmin+"|"+adminPolicy)
	}, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: "operation error ECS: DeregisterTaskDefinition, AccessDeniedException"}, Reason: enforceMin})},
	{name: "role-subject", golden: true, report: func(t testing.TB) rules.Report {
		r := rules.Evaluate(rules.Facts{
			Account: account, Region: region,
			Trigger: rules.Trigger{EventID: "0b7e5d21-8c4f-4f7a-b0a3-5e9d1c2f6a77", EventName: "PutRolePolicy", Actor: "arn:aws:iam::111122223333:user/alice"},
			Role:    role(t, "arn:aws:iam::111122223333:role/nightly-report-events", trustEvents, eventsPassAny),
		})
		r.Action = rules.Action{Type: rules.ActionNone, Reason: "role change (ENFORCE_ON_ROLE_CHANGE=false)"}
		return r
	}},
	{name: "suppressed-findings", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.Roles[taskARN].Trust = parse(t, trustNoSource)
		f.TaskDefinition.Tags = map[string]string{rules.TagExempt: "TD-009", rules.TagExemptReason: "batch launcher, reviewed in SEC-142"}
	}, alertMode)},
	{name: "all-suppressed", golden: true, report: evaluate(func(t testing.TB, f *rules.Facts) {
		addPolicy(t, f, taskARN, passRoleAny)
		f.TaskDefinition.Tags = map[string]string{rules.TagExempt: "*"}
	}, alertMode)},
	{name: "offline-no-trigger", report: evaluate(func(t testing.TB, f *rules.Facts) {
		f.Trigger = rules.Trigger{}
		f.TaskDefinition.TaskRoleARN = execARN
	}, rules.Action{Type: rules.ActionNone})},
	// A statement that is not JSON cannot be marshalled: the alert goes out
	// without statements rather than not at all.
	{name: "invalid-statement", shrunk: true, report: func(t testing.TB) rules.Report {
		r := evaluate(func(t testing.TB, f *rules.Facts) { addPolicy(t, f, taskARN, passRoleAny) }, alertMode)(t)
		r.Findings[0].Evidence[0].Statement = json.RawMessage(`{"Effect":`)
		return r
	}, email: []string{"Policy statements were left out"}},
	{name: "no-subject", report: func(t testing.TB) rules.Report { return rules.Evaluate(rules.Facts{}) }},
	{name: "zero-report", report: func(t testing.TB) rules.Report { return rules.Report{} }},
	{name: "long-family-and-title", report: func(t testing.TB) rules.Report {
		r := evaluate(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN },
			rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}})(t)
		r.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/" + strings.Repeat("very-long-family-name-", 11) + "end:1234567"
		r.Findings[0].Title = strings.Repeat("a title that goes on and on ", 12)
		r.Findings = append(r.Findings, r.Findings[0], r.Findings[0])
		return r
	}},
	{name: "long-multibyte-title", report: func(t testing.TB) rules.Report {
		r := evaluate(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, alertMode)(t)
		r.Findings[0].Title = strings.Repeat("rôle partagé 役割 ", 20)
		return r
	}},
	{name: "control-characters", report: func(t testing.TB) rules.Report {
		r := evaluate(func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, alertMode)(t)
		r.Findings[0].Title = "line one\nline two\r\tand\x00 a \u2028 separator"
		r.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/web\n-api:42"
		return r
	}},
	{name: "long-role-name", report: func(t testing.TB) rules.Report {
		name := strings.Repeat("r", 64)
		r := rules.Evaluate(rules.Facts{Account: account, Region: region,
			Role: role(t, "arn:aws:iam::111122223333:role/a/deep/path/"+name, trustEvents, eventsPassAny)})
		return r
	}},
	// Without its statements the report fits whole, with them it does not.
	{name: "huge-statements", shrunk: true, report: func(t testing.TB) rules.Report { return huge(300, 2048) },
		email: []string{"FINDINGS (257)", "Policy statements were left out"}},
	// The report without statements fits, but not with the email listing
	// every finding as well.
	{name: "huge-many-findings", shrunk: true, report: func(t testing.TB) rules.Report { return huge(700, 16) },
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

func TestRenderTooLarge(t *testing.T) {
	t.Parallel()
	// Without its statements the report alone is about 800 KB.
	_, err := alert.Render(huge(3000, 16))
	if !errors.Is(err, alert.ErrTooLarge) {
		t.Fatalf("Render(3000 findings) error = %v, want ErrTooLarge", err)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.report(t)
			msg, err := alert.Render(in)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			t.Logf("subject %q, body %d bytes", msg.Subject, len(msg.Body))
			parts := checkMessage(t, msg)
			checkDefault(t, parts.Default, in, tc.shrunk)
			for _, want := range tc.email {
				if !strings.Contains(parts.Email, want) {
					t.Errorf("email lacks %q", want)
				}
			}
			if tc.golden {
				checkGolden(t, tc.name, msg, parts)
			}
		})
	}
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
	if n := len(msg.Body); n >= 256<<10 {
		t.Errorf("body is %d bytes, want under 256 KiB", n)
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
	if err := json.Unmarshal([]byte(def), &got); err != nil {
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
		{"no-subject", "[INCOMPLETE] ecsguard: unknown subject could not be fully evaluated"},
		{"offline-no-trigger", "[HIGH] ecsguard: web-api:42 task role and execution role are the same role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, err := alert.Render(caseReport(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Subject != tc.want {
				t.Errorf("Subject = %q, want %q", msg.Subject, tc.want)
			}
		})
	}
}
