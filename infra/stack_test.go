package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
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
		"ecsguard:logRetentionDays":   float64(90),
		"ecsguard:emailMinSeverity":   "high",
		"ecsguard:exemptionApprovers": []any{"arn:aws:iam::111122223333:role/platform-admins", "arn:aws:iam::111122223333:role/sec-*"},
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
	flags, err := featureFlags()
	if err != nil {
		return nil, err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out.dir), Context: flags})
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

// stem is a logical id without the hash the CDK appends to it (eight hex
// digits).
func stem(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:len(id)-8]
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
					"INDEX_TABLE":            map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^RoleIndex"))},
					"IDEMPOTENCY_TABLE":      map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Idempotency"))},
					"ECSGUARD_ROLE_ARNS":     assertions.Match_AnyValue(),
					"ALARM_TOPIC_ARN":        map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Alarms"))},
					"ECSGUARD_KEY_ARN":       map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^FindingsKey")), "Arn"}},
					"ECSGUARD_RULE_NAMES":    assertions.Match_AnyValue(),
					"WATCHED_ACCOUNTS":       map[string]any{"Ref": "AWS::AccountId"},
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
		for _, out := range []string{"TopicArn", "AlarmTopicArn", "OnRegisterFunction", "OnRoleChangeFunction", "RoleIndexTable", "IdempotencyTable"} {
			if _, ok := home.Outputs[out]; !ok {
				t.Errorf("no output %s", out)
			}
		}
	}
}

// env returns the environment of the home function described "ecsguard
// name".
func env(t *testing.T, tpl template, name string) map[string]any {
	t.Helper()
	for id, r := range tpl.of("AWS::Lambda::Function") {
		if r.Properties["Description"] == "ecsguard "+name {
			vars, ok := r.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			if !ok {
				t.Fatalf("%s: no environment", id)
			}
			return vars
		}
	}
	t.Fatalf("no function ecsguard %s", name)
	return nil
}

// The settings the functions read besides the mode: who may approve an
// exemption (only when set), which rules are ecsguard's own (every rule of
// the home stack, by the name it is deployed under), which account is
// watched.
func TestFunctionSettings(t *testing.T) {
	for _, tc := range []struct {
		app       *synthesized
		approvers any
	}{
		{defaults(t), nil},
		{full(t), "arn:aws:iam::111122223333:role/platform-admins,arn:aws:iam::111122223333:role/sec-*"},
	} {
		home := tc.app.templates["Ecsguard"]
		var names []string
		for id, r := range home.of("AWS::Events::Rule") {
			name, ok := r.Properties["Name"].(string)
			if !ok || !strings.HasPrefix(name, "Ecsguard-") {
				t.Errorf("rule %s: name %v, want Ecsguard-...", id, r.Properties["Name"])
			}
			names = append(names, name)
		}
		slices.Sort(names)
		if want := []string{"Ecsguard-RegisterTaskDefinition", "Ecsguard-RoleChange", "Ecsguard-Sweep", "Ecsguard-Tamper"}; !slices.Equal(names, want) {
			t.Errorf("rule names %v, want %v", names, want)
		}
		for _, fn := range []string{"onregister", "onrolechange"} {
			vars := env(t, home, fn)
			if got := vars["EXEMPTION_APPROVERS"]; got != tc.approvers {
				t.Errorf("%s: EXEMPTION_APPROVERS = %v, want %v", fn, got, tc.approvers)
			}
			got, _ := vars["ECSGUARD_RULE_NAMES"].(string)
			list := strings.Split(got, ",")
			slices.Sort(list)
			if !slices.Equal(list, names) {
				t.Errorf("%s: ECSGUARD_RULE_NAMES = %q, want the stack's rules %v", fn, got, names)
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
		"OnRegister": append(slices.Clone(read), "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"),
		"OnRoleChange": append(slices.Clone(read), "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:Query",
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
			// Every alarm notifies the topics of its stack: at home, the
			// findings topic and the alarm topic.
			alarms := tpl.of("AWS::CloudWatch::Alarm")
			wantActions := `[{"Ref":"Alarms*"}]`
			if name == "Ecsguard" {
				wantActions = `[{"Ref":"Findings*"},{"Ref":"Alarms*"}]`
			}
			for id, a := range alarms {
				acts, _ := a.Properties["AlarmActions"].([]any)
				var refs []string
				for _, act := range acts {
					ref, _ := act.(map[string]any)["Ref"].(string)
					refs = append(refs, fmt.Sprintf(`{"Ref":"%s*"}`, stem(ref)))
				}
				if got := "[" + strings.Join(refs, ",") + "]"; got != wantActions {
					t.Errorf("%s/%s: alarm actions %v, want %s", name, id, a.Properties["AlarmActions"], wantActions)
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
		"BillingMode":                      "PAY_PER_REQUEST",
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
	// The idempotency records: one string key, expired by DynamoDB,
	// encrypted and recoverable as the role index is.
	has(t, home, "AWS::DynamoDB::Table", map[string]any{
		"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"AttributeDefinitions":             []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "expiresAt", "Enabled": true},
		"BillingMode":                      "PAY_PER_REQUEST",
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
	if n := len(home.of("AWS::DynamoDB::Table")); n != 2 {
		t.Errorf("%d tables, want the role index and the idempotency table", n)
	}
}

// Each function's DynamoDB actions, table by table: conditional writes of
// the idempotency records and the exemption approvals, the approvals read
// in batches (no Scan, no Delete), and the role index calls the code makes.
func TestTableGrants(t *testing.T) {
	want := map[string]map[string][]string{
		"OnRegister": {
			"Idempotency": {"dynamodb:BatchGetItem", "dynamodb:UpdateItem"},
			"RoleIndex":   {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query"},
		},
		"OnRoleChange": {
			"Idempotency": {"dynamodb:BatchGetItem", "dynamodb:UpdateItem"},
			"RoleIndex":   {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
		},
	}
	for _, app := range []*synthesized{defaults(t), full(t)} {
		home := app.templates["Ecsguard"]
		for fn, tables := range want {
			got := map[string][]string{}
			for action, resources := range statements(t, home, fn) {
				if !strings.HasPrefix(action, "dynamodb:") {
					continue
				}
				for _, r := range resources {
					if strings.HasPrefix(r, "{") {
						r = "[" + r + "]" // one resource, not in a list (@aws-cdk/aws-iam:minimizePolicies)
					}
					var res []map[string][]string
					if err := json.Unmarshal([]byte(r), &res); err != nil || len(res) != 1 || len(res[0]["Fn::GetAtt"]) != 2 {
						t.Errorf("%s: %s on %s, want one table's ARN", fn, action, r)
						continue
					}
					table := stem(res[0]["Fn::GetAtt"][0])
					got[table] = append(got[table], action)
				}
			}
			for table := range got {
				slices.Sort(got[table])
			}
			if fmt.Sprint(got) != fmt.Sprint(tables) {
				t.Errorf("%s: DynamoDB grants %v, want %v", fn, got, tables)
			}
		}
	}
}

// The stack's own alarms reach every subscriber. (a) Each topic's policy
// lets this account's CloudWatch alarms publish, beside the TLS-only
// Deny. (b) With ecsguard:emailMinSeverity, the email subscriptions of the
// findings topic filter on severity, and the same addresses get the alarm
// topic unfiltered: an alarm notification has no message attributes, so
// no filter policy lets it through.
func TestAlarmsReachSubscribers(t *testing.T) {
	for _, app := range []*synthesized{defaults(t), full(t)} {
		for name, tpl := range app.templates {
			policies := map[string]bool{}
			for id, p := range tpl.of("AWS::SNS::TopicPolicy") {
				topics, _ := p.Properties["Topics"].([]any)
				if len(topics) != 1 {
					t.Fatalf("%s/%s: topics %v", name, id, topics)
				}
				ref := topics[0].(map[string]any)["Ref"].(string)
				policies[ref] = true
				doc, _ := json.Marshal(p.Properties["PolicyDocument"])
				cloudwatch := fmt.Sprintf(`{"Action":"sns:Publish","Condition":{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}},"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Resource":{"Ref":%q},"Sid":"CloudWatchAlarmsPublish"}`, ref)
				if !strings.Contains(string(doc), cloudwatch) || !strings.Contains(string(doc), `"aws:SecureTransport":"false"`) {
					t.Errorf("%s/%s: topic policy %s lacks\n%s\nor the TLS Deny", name, id, doc, cloudwatch)
				}
			}
			for id := range tpl.of("AWS::SNS::Topic") {
				if !policies[id] {
					t.Errorf("%s/%s: topic without a policy", name, id)
				}
			}
		}
	}

	// subscriptions returns, by topic (logical id without its hash), the
	// email endpoints and their filter policies as JSON.
	subscriptions := func(tpl template) map[string]map[string]string {
		out := map[string]map[string]string{}
		for id, sub := range tpl.of("AWS::SNS::Subscription") {
			if sub.Properties["Protocol"] != "email" {
				t.Errorf("%s: protocol %v", id, sub.Properties["Protocol"])
			}
			ref, _ := sub.Properties["TopicArn"].(map[string]any)["Ref"].(string)
			topic := stem(ref)
			filter := ""
			if f, ok := sub.Properties["FilterPolicy"]; ok {
				b, _ := json.Marshal(f)
				filter = string(b)
			}
			if out[topic] == nil {
				out[topic] = map[string]string{}
			}
			out[topic][sub.Properties["Endpoint"].(string)] = filter
		}
		return out
	}
	app := full(t)
	filter := `{"severity":["CRITICAL","HIGH",{"exists":false}]}`
	want := map[string]map[string]string{
		"Findings": {"security@example.com": filter, "platform@example.com": filter},
		"Alarms":   {"security@example.com": "", "platform@example.com": ""},
	}
	if got := subscriptions(app.templates["Ecsguard"]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("home subscriptions %v, want %v", got, want)
	}
	// A forwarding stack's topic only carries its alarm: never filtered.
	for name, tpl := range app.templates {
		if name == "Ecsguard" {
			continue
		}
		if got, want := subscriptions(tpl), map[string]map[string]string{"Alarms": want["Alarms"]}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s subscriptions %v, want %v", name, got, want)
		}
	}
	if n := len(defaults(t).templates["Ecsguard"].of("AWS::SNS::Subscription")); n != 0 {
		t.Errorf("defaults: %d subscriptions, want none", n)
	}
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

// The sample account's ecsguard, as events-testdata shows it: the topics
// CloudFormation named after the stack and the logical ids, and the key.
const (
	sampleTopic      = "arn:aws:sns:us-east-1:111122223333:Ecsguard-Findings172CF60E-9XK2QW7RZ4LM"
	sampleAlarmTopic = "arn:aws:sns:us-east-1:111122223333:Ecsguard-Alarms04B5A0BF-5TQ8MN3VX1PD"
	sampleKey        = "arn:aws:kms:us-east-1:111122223333:key/5c1d8e2a-7b4f-4a93-9e06-3f2b8c7d1a64"
)

// resolve replaces the CloudFormation references of a pattern (Ref,
// Fn::GetAtt ... Arn, Fn::Join) with values, by logical id.
func resolve(t *testing.T, v any, values map[string]string) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			if x, ok := values[ref]; ok {
				return x
			}
			t.Fatalf("no value for Ref %s", ref)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
			if x, ok := values[att[0].(string)]; ok && att[1] == "Arn" {
				return x
			}
			t.Fatalf("no value for Fn::GetAtt %v", att)
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(v) == 1 {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, resolve(t, p, values).(string))
			}
			return strings.Join(parts, join[0].(string))
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolve(t, x, values)
		}
		return out
	case []any:
		var out []any
		for _, x := range v {
			out = append(out, resolve(t, x, values))
		}
		return out
	}
	return v
}

// expandOr turns a pattern with "$or" into the patterns it is the union
// of, which is what EventBridge matches; quamina has no "$or".
func expandOr(t *testing.T, p map[string]any) []map[string]any {
	t.Helper()
	out := []map[string]any{{}}
	for k, v := range p {
		var next []map[string]any
		switch {
		case k == "$or":
			for _, o := range out {
				for _, branch := range v.([]any) {
					for _, b := range expandOr(t, branch.(map[string]any)) {
						m := maps.Clone(o)
						for bk, bv := range b {
							if _, dup := m[bk]; dup {
								t.Fatalf("$or branch repeats %s", bk)
							}
							m[bk] = bv
						}
						next = append(next, m)
					}
				}
			}
		default:
			sub, isObject := v.(map[string]any)
			for _, o := range out {
				if !isObject {
					m := maps.Clone(o)
					m[k] = v
					next = append(next, m)
					continue
				}
				for _, e := range expandOr(t, sub) {
					m := maps.Clone(o)
					m[k] = e
					next = append(next, m)
				}
			}
		}
		out = next
	}
	return out
}

// The event patterns, taken from the synthesized templates, against every
// file of events-testdata with EventBridge's matching semantics (quamina):
// the registrations, the IAM changes and the changes to ecsguard's own
// resources reach their rule, nothing else does, failed calls included.
func TestEventPatternsAgainstTestdata(t *testing.T) {
	home := full(t).templates["Ecsguard"]
	patterns := rules(t, home)
	var ecsRule, iamRule, tamperRule string
	for id := range patterns {
		switch {
		case strings.HasPrefix(id, "RegisterTaskDefinitionRule"):
			ecsRule = id
		case strings.HasPrefix(id, "RoleChangeRule"):
			iamRule = id
		case strings.HasPrefix(id, "TamperRule"):
			tamperRule = id
		}
	}
	if ecsRule == "" || iamRule == "" || tamperRule == "" || len(patterns) != 3 {
		t.Fatalf("rules with patterns: %v", patterns)
	}
	// The patterns are SPEC §1's, exactly, the ECS rule's with the
	// TagResource calls that exempt a task definition revision.
	spec := map[string]string{
		ecsRule: `{"detail":{"$or":[{"eventName":["RegisterTaskDefinition"]},` +
			`{"eventName":["TagResource"],"requestParameters":{"resourceArn":[{"wildcard":"arn:aws*:ecs:*:task-definition/*"}],"tags":{"key":["ecsguard:exempt","ecsguard:exempt-reason"]}}}],` +
			`"errorCode":[{"exists":false}],"eventSource":["ecs.amazonaws.com"]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.ecs"]}`,
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
	// The tamper rule goes to onrolechange, with the IAM rule's retries
	// and DLQ.
	target := func(id string) string {
		b, _ := json.Marshal(home.Resources[id].Properties["Targets"])
		return strings.ReplaceAll(string(b), id, "RULE")
	}
	if iam, tamper := target(iamRule), target(tamperRule); tamper != iam || !strings.Contains(tamper, "OnRoleChange") {
		t.Errorf("tamper rule targets\n%s\nwant the IAM rule's\n%s", tamper, iam)
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

	// The tamper pattern names the stack's topics, key and rules: resolved
	// to the sample account's, it is exactly this.
	values := map[string]string{}
	for id := range home.of("AWS::SNS::Topic") {
		values[id] = map[string]string{"Findings": sampleTopic, "Alarms": sampleAlarmTopic}[stem(id)]
		if !strings.Contains(values[id], ":Ecsguard-"+id+"-") {
			t.Errorf("topic %s: the sample ARN %q is not shaped like the stack's", id, values[id])
		}
	}
	values[home.keyID(t)] = sampleKey
	var tamper map[string]any
	if err := json.Unmarshal([]byte(patterns[tamperRule]), &tamper); err != nil {
		t.Fatal(err)
	}
	tamper = resolve(t, tamper, values).(map[string]any)
	resolved, _ := json.Marshal(tamper)
	ruleNames := `["Ecsguard-RegisterTaskDefinition","Ecsguard-RoleChange","Ecsguard-Sweep","Ecsguard-Tamper"]`
	topics := `["` + sampleTopic + `","` + sampleAlarmTopic + `"]`
	wantTamper := `{"detail":{"$or":[` +
		`{"eventName":["SetTopicAttributes","DeleteTopic","AddPermission","RemovePermission","Subscribe"],"eventSource":["sns.amazonaws.com"],"requestParameters":{"topicArn":` + topics + `}},` +
		`{"eventName":["PutDataProtectionPolicy"],"eventSource":["sns.amazonaws.com"],"requestParameters":{"resourceArn":` + topics + `}},` +
		`{"eventName":["Unsubscribe","SetSubscriptionAttributes"],"eventSource":["sns.amazonaws.com"],"requestParameters":{"subscriptionArn":[{"prefix":"` + sampleTopic + `:"},{"prefix":"` + sampleAlarmTopic + `:"}]}},` +
		`{"eventName":["DisableKey","ScheduleKeyDeletion","PutKeyPolicy","DisableKeyRotation","CreateGrant","RevokeGrant"],"eventSource":["kms.amazonaws.com"],"resources":{"ARN":["` + sampleKey + `"]}},` +
		`{"eventName":["DisableRule","DeleteRule","PutRule"],"eventSource":["events.amazonaws.com"],"requestParameters":{"name":` + ruleNames + `}},` +
		`{"eventName":["RemoveTargets","PutTargets"],"eventSource":["events.amazonaws.com"],"requestParameters":{"rule":` + ruleNames + `}}` +
		`],"errorCode":[{"exists":false}]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.sns","aws.kms","aws.events"]}`
	if string(resolved) != wantTamper {
		t.Errorf("tamper pattern\n%s\nwant\n%s", resolved, wantTamper)
	}

	q, err := quamina.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.AddPattern(iamRule, patterns[iamRule]); err != nil {
		t.Fatalf("%s: %v", iamRule, err)
	}
	var ecs map[string]any
	if err := json.Unmarshal([]byte(patterns[ecsRule]), &ecs); err != nil {
		t.Fatal(err)
	}
	for _, p := range expandOr(t, ecs) {
		b, _ := json.Marshal(p)
		if err := q.AddPattern(ecsRule, string(b)); err != nil {
			t.Fatalf("%s: %v: %s", ecsRule, err, b)
		}
	}
	for _, p := range expandOr(t, tamper) {
		b, _ := json.Marshal(p)
		if err := q.AddPattern(tamperRule, string(b)); err != nil {
			t.Fatalf("%s: %v: %s", tamperRule, err, b)
		}
	}
	match := func(event []byte) ([]quamina.X, error) {
		got, err := q.MatchesForEvent(event)
		slices.SortFunc(got, func(a, b quamina.X) int { return strings.Compare(a.(string), b.(string)) })
		return slices.Compact(got), err
	}
	files, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("events-testdata: %v files, %v", len(files), err)
	}
	var tamperFiles int
	for _, f := range files {
		b, err := fs.ReadFile(eventstestdata.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []quamina.X
		switch {
		case strings.HasSuffix(f, "-errorcode.json"):
		case strings.HasPrefix(f, "ecs-registertaskdefinition-"), strings.HasPrefix(f, "ecs-tagresource-"):
			want = []quamina.X{ecsRule}
		case strings.HasPrefix(f, "iam-"):
			want = []quamina.X{iamRule}
		case strings.HasPrefix(f, "aws-"):
			want = []quamina.X{tamperRule}
			tamperFiles++
		}
		got, err := match(b)
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
	if tamperFiles != 3 {
		t.Errorf("%d aws-* files, want the SNS, KMS and EventBridge samples", tamperFiles)
	}

	// Variations of the samples: the other calls the rule watches, the
	// alarm topic, and what it must let pass (another topic, key or rule;
	// a topic whose name only starts with ours; a failed call).
	variant := func(file string, change func(detail map[string]any)) []byte {
		t.Helper()
		b, err := fs.ReadFile(eventstestdata.FS, file)
		if err != nil {
			t.Fatal(err)
		}
		var event map[string]any
		if err := json.Unmarshal(b, &event); err != nil {
			t.Fatal(err)
		}
		change(event["detail"].(map[string]any))
		out, _ := json.Marshal(event)
		return out
	}
	call := func(file, name string, params map[string]any) []byte {
		return variant(file, func(d map[string]any) {
			d["eventName"] = name
			d["requestParameters"] = params
		})
	}
	// The ECS rule: a TagResource reaches it only on a task definition
	// revision and with an exemption tag.
	const tagResource = "ecs-tagresource-exempt-task-definition.json"
	tags := func(kv ...string) []any {
		var out []any
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, map[string]any{"key": kv[i], "value": kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		event []byte
		match bool
	}{
		{"ecs-tagresource-reason-only", call(tagResource, "TagResource", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:3", "tags": tags("team", "billing", "ecsguard:exempt-reason", "SEC-57"),
		}), true},
		{"ecs-tagresource-govcloud", call(tagResource, "TagResource", map[string]any{
			"resourceArn": "arn:aws-us-gov:ecs:us-gov-west-1:111122223333:task-definition/billing:3", "tags": tags("ecsguard:exempt", "*"),
		}), true},
		{"ecs-tagresource-other-tags", call(tagResource, "TagResource", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1", "tags": tags("team", "reports"),
		}), false},
		{"ecs-tagresource-cluster", call(tagResource, "TagResource", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:cluster/prod", "tags": tags("ecsguard:exempt", "*"),
		}), false},
		{"ecs-tagresource-service", call(tagResource, "TagResource", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:service/prod/reports", "tags": tags("ecsguard:exempt", "*"),
		}), false},
		{"ecs-untagresource", call(tagResource, "UntagResource", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1", "tagKeys": []any{"ecsguard:exempt"},
		}), false},
		{"ecs-tagresource-errorcode", variant(tagResource, func(d map[string]any) { d["errorCode"] = "AccessDeniedException" }), false},
	} {
		got, err := match(tc.event)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if want := tc.match; slices.Equal(got, []quamina.X{ecsRule}) != want || (!want && len(got) != 0) {
			t.Errorf("%s matches %v, want the ECS rule: %v", tc.name, got, want)
		}
	}

	const sns, kms, events = "aws-sns-settopicattributes-ecsguard-topic.json", "aws-kms-disablekey-ecsguard-key.json", "aws-events-disablerule-ecsguard-rule.json"
	otherTopic := "arn:aws:sns:us-east-1:111122223333:billing-alerts"
	for _, tc := range []struct {
		name  string
		event []byte
		match bool
	}{
		{"sns-deletetopic-alarm-topic", call(sns, "DeleteTopic", map[string]any{"topicArn": sampleAlarmTopic}), true},
		{"sns-subscribe", call(sns, "Subscribe", map[string]any{"topicArn": sampleTopic, "protocol": "https", "endpoint": "https://example.net/x"}), true},
		{"sns-putdataprotectionpolicy", call(sns, "PutDataProtectionPolicy", map[string]any{"resourceArn": sampleTopic, "dataProtectionPolicy": "{}"}), true},
		{"sns-unsubscribe", call(sns, "Unsubscribe", map[string]any{"subscriptionArn": sampleTopic + ":0b410f3c-ee5e-49d8-b59b-3b4aa6d8fcf5"}), true},
		{"sns-setsubscriptionattributes", call(sns, "SetSubscriptionAttributes", map[string]any{"subscriptionArn": sampleAlarmTopic + ":0b410f3c-ee5e-49d8-b59b-3b4aa6d8fcf5", "attributeName": "FilterPolicy"}), true},
		{"sns-unsubscribe-lookalike-topic", call(sns, "Unsubscribe", map[string]any{"subscriptionArn": sampleTopic + "-copy:0b410f3c-ee5e-49d8-b59b-3b4aa6d8fcf5"}), false},
		{"sns-other-topic", call(sns, "SetTopicAttributes", map[string]any{"topicArn": otherTopic, "attributeName": "Policy"}), false},
		{"sns-publish", call(sns, "Publish", map[string]any{"topicArn": sampleTopic}), false},
		{"sns-errorcode", variant(sns, func(d map[string]any) { d["errorCode"] = "AuthorizationError" }), false},
		{"kms-schedulekeydeletion", variant(kms, func(d map[string]any) { d["eventName"] = "ScheduleKeyDeletion" }), true},
		{"kms-other-key", variant(kms, func(d map[string]any) {
			d["resources"] = []any{map[string]any{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:111122223333:key/00000000-1111-2222-3333-444444444444"}}
		}), false},
		{"kms-decrypt", variant(kms, func(d map[string]any) { d["eventName"] = "Decrypt" }), false},
		{"events-puttargets", call(events, "PutTargets", map[string]any{"rule": "Ecsguard-Tamper", "targets": []any{map[string]any{"id": "x", "arn": "arn:aws:sqs:us-east-1:111122223333:sink"}}}), true},
		{"events-removetargets", call(events, "RemoveTargets", map[string]any{"rule": "Ecsguard-RegisterTaskDefinition", "ids": []any{"Target0"}}), true},
		{"events-deleterule-sweep", call(events, "DeleteRule", map[string]any{"name": "Ecsguard-Sweep"}), true},
		{"events-other-rule", call(events, "DisableRule", map[string]any{"name": "nightly-report"}), false},
		{"events-puttargets-other-rule", call(events, "PutTargets", map[string]any{"rule": "nightly-report"}), false},
	} {
		got, err := match(tc.event)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if want := tc.match; slices.Equal(got, []quamina.X{tamperRule}) != want || (!want && len(got) != 0) {
			t.Errorf("%s matches %v, want the tamper rule: %v", tc.name, got, want)
		}
	}
}

// keyID is the logical id of the home stack's key.
func (tpl template) keyID(t *testing.T) string {
	t.Helper()
	keys := tpl.of("AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("%d keys, want the topics' key alone", len(keys))
	}
	for id := range keys {
		return id
	}
	return ""
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
