package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"quamina.net/go/quamina"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
)

// A synthesized app: each stack's template and the error annotations
// (cdk-nag findings among them) synthesis left on it.
type synthesized struct {
	settings  Settings
	dir       string
	templates map[string]template
	errors    map[string][]string
}

type template struct {
	Resources map[string]resource
	Outputs   map[string]any
}

type resource struct {
	Type       string
	Properties map[string]any
	DependsOn  any
}

// The two deployments under test, each synthesized once (synthesis takes
// seconds): the defaults, and everything switched on across three regions.
var (
	defaults = lazySynth(nil)
	full     = lazySynth(map[string]any{
		"ecsguard:mode": "enforce", "ecsguard:enforceOnRoleChange": true, "ecsguard:enforceMinSeverity": "CRITICAL",
		"ecsguard:emails":           []any{"security@example.com", "platform@example.com"},
		"ecsguard:slackWorkspaceId": "T012ABCDEF3", "ecsguard:slackChannelId": "C012ABCDEF3",
		"ecsguard:homeRegion": "eu-west-1", "ecsguard:regions": []any{"eu-west-1", "us-east-1", "ap-southeast-2"},
		"ecsguard:logRetentionDays": float64(90),
	})
	tempDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	jsii.Close()
	os.Exit(code)
}

func lazySynth(context map[string]any) func(t *testing.T) *synthesized {
	var once sync.Once
	var out *synthesized
	var err error
	return func(t *testing.T) *synthesized {
		t.Helper()
		once.Do(func() { out, err = synth(context) })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func synth(context map[string]any) (*synthesized, error) {
	s, err := ParseSettings(func(k string) any { return context[k] })
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ecsguard-infra-")
	if err != nil {
		return nil, err
	}
	tempDirs = append(tempDirs, dir)
	// Stand-ins for the bootstraps make build writes.
	s.AssetDir = filepath.Join(dir, "bin")
	for _, fn := range []string{"onregister", "onrolechange"} {
		if err := os.MkdirAll(filepath.Join(s.AssetDir, fn), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(s.AssetDir, fn, "bootstrap"), []byte("placeholder "+fn), 0o755); err != nil {
			return nil, err
		}
	}
	out := &synthesized{settings: s, dir: filepath.Join(dir, "cdk.out"), templates: map[string]template{}, errors: map[string][]string{}}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out.dir)})
	NewApp(app, s)
	asm := app.Synth(nil)
	for _, st := range *asm.Stacks() {
		name := *st.StackName()
		b, err := os.ReadFile(*st.TemplateFullPath())
		if err != nil {
			return nil, err
		}
		var tpl template
		if err := json.Unmarshal(b, &tpl); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out.templates[name] = tpl
		for _, m := range *st.Messages() {
			if m.Level == cxapi.SynthesisMessageLevel_ERROR {
				out.errors[name] = append(out.errors[name], fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
			}
		}
	}
	return out, nil
}

// of returns the resources of a type, by logical id.
func (tpl template) of(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range tpl.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// one returns the single resource of a type whose logical id starts with
// prefix.
func (tpl template) one(t *testing.T, typ, prefix string) resource {
	t.Helper()
	var found []resource
	for id, r := range tpl.of(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s resources named %s*, want 1", len(found), typ, prefix)
	}
	return found[0]
}

// has checks properties with the CDK's own matcher (assertions), which
// panics rather than failing the test.
func has(t *testing.T, tpl template, typ string, props any) {
	t.Helper()
	b, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", typ, r)
		}
	}()
	assertions.Template_FromString(jsii.String(string(b)), nil).HasResourceProperties(jsii.String(typ), props)
}

func TestNoNagOrSynthesisErrors(t *testing.T) {
	for _, app := range []*synthesized{defaults(t), full(t)} {
		if len(app.templates) == 0 {
			t.Fatal("no stack synthesized")
		}
		for name := range app.templates {
			if errs := app.errors[name]; len(errs) > 0 {
				t.Errorf("%s: %d errors:\n%s", name, len(errs), strings.Join(errs, "\n"))
			}
		}
	}
}

func TestStacksPerRegion(t *testing.T) {
	var names []string
	for name := range full(t).templates {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"Ecsguard", "Ecsguard-ap-southeast-2", "Ecsguard-us-east-1"}; !slices.Equal(names, want) {
		t.Fatalf("stacks = %v, want %v", names, want)
	}
	if n := len(defaults(t).templates); n != 1 {
		t.Fatalf("defaults: %d stacks, want the home stack alone", n)
	}
}

func TestFunctions(t *testing.T) {
	for _, app := range []*synthesized{defaults(t), full(t)} {
		home := app.templates["Ecsguard"]
		s := app.settings
		for _, id := range []string{"OnRegister", "OnRoleChange"} {
			has(t, home, "AWS::Lambda::Function", map[string]any{
				"Description":   "ecsguard " + strings.ToLower(id),
				"Runtime":       "provided.al2023",
				"Architectures": []string{"arm64"},
				"Handler":       "bootstrap",
				"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
					"MODE":                   s.Mode,
					"ENFORCE_MIN_SEVERITY":   s.EnforceMinSeverity,
					"DRY_RUN":                fmt.Sprint(s.DryRun),
					"ENFORCE_ON_ROLE_CHANGE": fmt.Sprint(s.EnforceOnRoleChange),
					"TOPIC_ARN":              assertions.Match_AnyValue(),
					"INDEX_TABLE":            assertions.Match_AnyValue(),
					"ECSGUARD_ROLE_ARNS":     assertions.Match_AnyValue(),
				})},
				"DeadLetterConfig": map[string]any{"TargetArn": assertions.Match_AnyValue()},
			})
		}
		has(t, home, "AWS::Lambda::Function", map[string]any{
			"Description": "ecsguard onrolechange",
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"REGIONS": strings.Join(s.Regions, ",")})},
		})
		// A failed invocation is retried twice, then kept in the DLQ.
		for id, r := range home.of("AWS::Lambda::EventInvokeConfig") {
			if r.Properties["MaximumRetryAttempts"] != 2.0 {
				t.Errorf("%s: retry attempts %v", id, r.Properties["MaximumRetryAttempts"])
			}
		}
		if n := len(home.of("AWS::Lambda::EventInvokeConfig")); n != 2 {
			t.Errorf("%d event invoke configs, want one per function", n)
		}
		for id, r := range home.of("AWS::Logs::LogGroup") {
			if r.Properties["RetentionInDays"] != float64(s.LogRetentionDays) {
				t.Errorf("%s: retention %v, want %d", id, r.Properties["RetentionInDays"], s.LogRetentionDays)
			}
		}
		for _, out := range []string{"TopicArn", "OnRegisterFunction", "OnRoleChangeFunction"} {
			if _, ok := home.Outputs[out]; !ok {
				t.Errorf("no output %s", out)
			}
		}
	}
}

// statements collects the Allow statements of a function's role: its own
// policy and the role's default policy.
func statements(t *testing.T, tpl template, fn string) map[string][]string {
	t.Helper()
	actions := map[string][]string{} // action → resources, as JSON
	for id, p := range tpl.of("AWS::IAM::Policy") {
		if !strings.HasPrefix(id, fn+"Policy") && !strings.HasPrefix(id, fn+"RoleDefaultPolicy") {
			continue
		}
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				t.Errorf("%s: %v", id, st)
			}
			res, _ := json.Marshal(st["Resource"])
			var list []any
			switch a := st["Action"].(type) {
			case string:
				list = []any{a}
			case []any:
				list = a
			}
			for _, a := range list {
				actions[a.(string)] = append(actions[a.(string)], string(res))
			}
		}
	}
	return actions
}

// The functions' roles grant the calls the code makes and nothing else;
// deregistration only where enforcement can deregister.
func TestLeastPrivilege(t *testing.T) {
	read := []string{
		"ecs:DescribeTaskDefinition",
		"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
		"iam:GetPolicy", "iam:GetPolicyVersion",
		"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt",
		"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage",
	}
	want := map[string][]string{
		"OnRegister": append(slices.Clone(read), "dynamodb:PutItem"),
		"OnRoleChange": append(slices.Clone(read), "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query",
			"ecs:ListTaskDefinitions", "ecs:ListClusters", "iam:ListEntitiesForPolicy", "iam:ListInstanceProfilesForRole",
			"events:ListEventBuses", "events:ListRuleNamesByTarget", "events:ListTargetsByRule",
			"scheduler:ListSchedules", "scheduler:GetSchedule", "application-autoscaling:DescribeScalableTargets"),
	}
	for _, tc := range []struct {
		app        *synthesized
		deregister map[string]bool
	}{
		{defaults(t), map[string]bool{}},
		{full(t), map[string]bool{"OnRegister": true, "OnRoleChange": true}},
	} {
		for fn, actions := range want {
			got := statements(t, tc.app.templates["Ecsguard"], fn)
			w := slices.Clone(actions)
			if tc.deregister[fn] {
				w = append(w, "ecs:DeregisterTaskDefinition")
			}
			var names []string
			for a, res := range got {
				names = append(names, a)
				if strings.HasSuffix(a, "*") || strings.Contains(a, ":*") {
					t.Errorf("%s: wildcard action %s", fn, a)
				}
				for _, r := range res {
					if r == `"*"` && !strings.HasPrefix(a, "ecs:") && !slices.Contains([]string{"events:ListEventBuses", "events:ListRuleNamesByTarget", "scheduler:ListSchedules", "application-autoscaling:DescribeScalableTargets"}, a) {
						t.Errorf("%s: %s on * where IAM takes a resource", fn, a)
					}
				}
			}
			slices.Sort(names)
			slices.Sort(w)
			if !slices.Equal(names, w) {
				t.Errorf("%s (mode %s) may call\n%v\nwant\n%v", fn, tc.app.settings.Mode, names, w)
			}
		}
	}
}

func TestTopicQueuesAndAlarms(t *testing.T) {
	for _, app := range []*synthesized{defaults(t), full(t)} {
		for name, tpl := range app.templates {
			for id, q := range tpl.of("AWS::SQS::Queue") {
				if q.Properties["SqsManagedSseEnabled"] != true {
					t.Errorf("%s/%s: queue not encrypted: %v", name, id, q.Properties)
				}
			}
			for id, topic := range tpl.of("AWS::SNS::Topic") {
				if topic.Properties["KmsMasterKeyId"] == nil {
					t.Errorf("%s/%s: topic not encrypted", name, id)
				}
			}
			for id, k := range tpl.of("AWS::KMS::Key") {
				if k.Properties["EnableKeyRotation"] != true {
					t.Errorf("%s/%s: key rotation off", name, id)
				}
			}
			if n := len(tpl.of("AWS::SNS::Subscription")); n < len(app.settings.Emails) {
				t.Errorf("%s: %d subscriptions for %d emails", name, n, len(app.settings.Emails))
			}
			// Every alarm notifies a topic of its stack.
			alarms := tpl.of("AWS::CloudWatch::Alarm")
			for id, a := range alarms {
				if acts, _ := a.Properties["AlarmActions"].([]any); len(acts) != 1 {
					t.Errorf("%s/%s: alarm actions %v", name, id, a.Properties["AlarmActions"])
				}
			}
			want := 1 // the forwarding DLQ
			if name == "Ecsguard" {
				want = 4 // errors and DLQ of each function
			}
			if len(alarms) != want {
				t.Errorf("%s: %d alarms, want %d", name, len(alarms), want)
			}
		}
	}
	home := full(t).templates["Ecsguard"]
	has(t, home, "AWS::Chatbot::SlackChannelConfiguration", map[string]any{
		"SlackWorkspaceId": "T012ABCDEF3", "SlackChannelId": "C012ABCDEF3",
		"SnsTopicArns": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Findings"))}},
	})
	// The channel only receives: its guardrail denies every action.
	slack, _ := json.Marshal(home.one(t, "AWS::Chatbot::SlackChannelConfiguration", "Slack").Properties["GuardrailPolicies"])
	if !strings.Contains(string(slack), ":iam::aws:policy/AWSDenyAll") || strings.Count(string(slack), ":policy/") != 1 {
		t.Errorf("Slack guardrails %s, want AWSDenyAll alone", slack)
	}
	if n := len(defaults(t).templates["Ecsguard"].of("AWS::Chatbot::SlackChannelConfiguration")); n != 0 {
		t.Errorf("defaults: %d Slack configurations", n)
	}
	has(t, home, "AWS::DynamoDB::Table", map[string]any{
		"KeySchema": []any{
			map[string]any{"AttributeName": "role", "KeyType": "HASH"},
			map[string]any{"AttributeName": "taskDefinition", "KeyType": "RANGE"},
		},
		"BillingMode": "PAY_PER_REQUEST",
	})
}

// rules returns the event pattern of each rule of a template that has one,
// by logical id, and checks each target's retry policy and DLQ.
func rules(t *testing.T, tpl template) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id, r := range tpl.of("AWS::Events::Rule") {
		for _, target := range r.Properties["Targets"].([]any) {
			tg := target.(map[string]any)
			if tg["DeadLetterConfig"] == nil {
				t.Errorf("rule %s: target without a DLQ", id)
			}
			if p, ok := tg["RetryPolicy"].(map[string]any); ok && (p["MaximumRetryAttempts"] != 185.0 || p["MaximumEventAgeInSeconds"] != 86400.0) {
				t.Errorf("rule %s: retry policy %v", id, p)
			}
		}
		if p := r.Properties["EventPattern"]; p != nil {
			b, _ := json.Marshal(p)
			out[id] = string(b)
		}
	}
	return out
}

// The event patterns, taken from the synthesized templates, against every
// file of events-testdata with EventBridge's matching semantics (quamina):
// the registrations and the IAM changes reach their rule, nothing else
// does, failed calls included.
func TestEventPatternsAgainstTestdata(t *testing.T) {
	home := full(t).templates["Ecsguard"]
	patterns := rules(t, home)
	var ecsRule, iamRule string
	for id := range patterns {
		switch {
		case strings.HasPrefix(id, "RegisterTaskDefinitionRule"):
			ecsRule = id
		case strings.HasPrefix(id, "RoleChangeRule"):
			iamRule = id
		}
	}
	if ecsRule == "" || iamRule == "" || len(patterns) != 2 {
		t.Fatalf("rules with patterns: %v", patterns)
	}
	// The patterns are SPEC §1's, exactly.
	spec := map[string]string{
		ecsRule: `{"detail":{"errorCode":[{"exists":false}],"eventName":["RegisterTaskDefinition"],"eventSource":["ecs.amazonaws.com"]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.ecs"]}`,
		iamRule: `{"detail":{"errorCode":[{"exists":false}],"eventName":["AttachRolePolicy","DetachRolePolicy","PutRolePolicy","DeleteRolePolicy","UpdateAssumeRolePolicy","CreatePolicyVersion","SetDefaultPolicyVersion","PutRolePermissionsBoundary","DeleteRolePermissionsBoundary","CreateRole","TagRole","UntagRole"],"eventSource":["iam.amazonaws.com"]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.iam"]}`,
	}
	for id, want := range spec {
		if patterns[id] != want {
			t.Errorf("%s pattern\n%s\nwant\n%s", id, patterns[id], want)
		}
	}
	sweep := home.one(t, "AWS::Events::Rule", "SweepRule")
	if sweep.Properties["ScheduleExpression"] != "rate(1 day)" {
		t.Errorf("sweep schedule %v", sweep.Properties["ScheduleExpression"])
	}
	// The forwarders use the same patterns.
	for name, tpl := range full(t).templates {
		if name == "Ecsguard" {
			continue
		}
		for id, p := range rules(t, tpl) {
			if p != patterns[ecsRule] && p != patterns[iamRule] {
				t.Errorf("%s/%s: pattern %s is neither rule's", name, id, p)
			}
			if strings.Contains(id, "RoleChanges") && name != "Ecsguard-us-east-1" {
				t.Errorf("%s forwards IAM events, which arrive only in us-east-1", name)
			}
		}
	}

	q, err := quamina.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ecsRule, iamRule} {
		if err := q.AddPattern(id, patterns[id]); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	files, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("events-testdata: %v files, %v", len(files), err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(eventstestdata.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []quamina.X
		switch {
		case strings.HasSuffix(f, "-errorcode.json"):
		case strings.HasPrefix(f, "ecs-registertaskdefinition-"):
			want = []quamina.X{ecsRule}
		case strings.HasPrefix(f, "iam-"):
			want = []quamina.X{iamRule}
		}
		got, err := q.MatchesForEvent(b)
		if err != nil {
			if !strings.HasPrefix(f, "malformed-") {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s matches %v, want %v", f, got, want)
		}
	}
}

// cfn-lint, from the venv make emulator-tools fills, on every template.
// W3005 is left out: the CDK makes each function depend on its role both by
// reference and by DependsOn, which is redundant and harmless.
func TestCfnLint(t *testing.T) {
	lint := filepath.Join(emulator.DefaultVenv(), "bin", "cfn-lint")
	if _, err := os.Stat(lint); err != nil {
		if os.Getenv("ECSGUARD_REQUIRE_EMULATOR") == "1" {
			t.Fatalf("cfn-lint is not installed: %v", err)
		}
		t.Skip("cfn-lint is not installed: run make emulator-tools")
	}
	for _, app := range []*synthesized{defaults(t), full(t)} {
		files, err := filepath.Glob(filepath.Join(app.dir, "*.template.json"))
		if err != nil || len(files) != len(app.templates) {
			t.Fatalf("templates %v: %v", files, err)
		}
		out, err := exec.Command(lint, append([]string{"--ignore-checks", "W3005", "--"}, files...)...).CombinedOutput()
		if err != nil {
			t.Errorf("cfn-lint: %v\n%s", err, out)
		}
	}
}

// A forwarding stack may only put events on the home region's default bus.
func TestForwardersOnlyPutOnTheHomeBus(t *testing.T) {
	app := full(t)
	for name, tpl := range app.templates {
		if name == "Ecsguard" {
			continue
		}
		policies := tpl.of("AWS::IAM::Policy")
		if len(policies) == 0 {
			t.Errorf("%s: no policy for the forwarding target", name)
		}
		for id, p := range policies {
			b, _ := json.Marshal(p.Properties["PolicyDocument"])
			doc := string(b)
			if strings.Count(doc, `"Action"`) != 1 || !strings.Contains(doc, `"Action":"events:PutEvents"`) ||
				!strings.Contains(doc, ":events:"+app.settings.HomeRegion+":") || !strings.Contains(doc, ":event-bus/default") {
				t.Errorf("%s/%s: %s", name, id, doc)
			}
		}
	}
}
