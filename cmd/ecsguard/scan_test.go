package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	evtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "ecsguard", &moto)) }

// sampleWants is what scan reports on the sample account, by the end of
// each subject's ARN: the unsuppressed rules (none for a clean subject).
var sampleWants = map[string][]string{
	"task-definition/web-api:1":       nil,
	"task-definition/billing:1":       {"TD-001"},
	"task-definition/reports:1":       {"TD-008"},
	"task-definition/payments:1":      {"TD-006"},
	"task-definition/legacy-worker:1": {"TD-007"},
	"role/ecsEventsRole":              {"SR-001"},
	"role/ecs-hosts":                  {"SR-004"},
	"role/ecsAutoscaleRole":           {"SR-003"},
	"role/ecs-scheduler-runner":       nil,
}

// seeded is a fresh emulator account holding the sample account, and the
// environment the CLI needs to reach it through endpoint (moto, or a fault
// proxy in front of it): credentials that moto maps to that account, and no
// shared configuration of the machine's user.
func seeded(t *testing.T) (emulator.Sample, aws.Config, func(endpoint string)) {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	account := emulator.NewAccount()
	cfg := moto.Config(ctx, account)
	sample, err := emulator.Seed(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sample, cfg, func(endpoint string) {
		env, err := emulator.FunctionEnv(ctx, endpoint, account, "auditor")
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if k != "AWS_ENDPOINT_URL" && k != "AWS_LAMBDA_FUNCTION_NAME" {
				t.Setenv(k, v)
			}
		}
		t.Setenv("AWS_CONFIG_FILE", os.DevNull)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	}
}

// proxied is a fresh sample account reached through a fault proxy.
func proxied(t *testing.T) *emulator.FaultProxy {
	t.Helper()
	_, _, env := seeded(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	env(proxy.URL())
	return proxy
}

func runScan(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"scan"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeScan(t *testing.T, stdout string) scanResult {
	t.Helper()
	var res scanResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("scan --format json: %v\n%s", err, stdout)
	}
	return res
}

// byEnd maps each report to its subject's ARN resource part.
func byEnd(reports []rules.Report) map[string]rules.Report {
	out := map[string]rules.Report{}
	for _, r := range reports {
		out[strings.SplitN(r.Subject.ARN, ":", 6)[5]] = r
	}
	return out
}

// The CLI, as a user runs it, on the sample account: every subject with
// the rules expected, the summary, the exit code for --fail-on.
func TestScanSampleAccount(t *testing.T) {
	sample, _, env := seeded(t)
	env(moto.URL())
	code, stdout, stderr := runScan(t, "--endpoint-url", moto.URL(), "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (HIGH findings)\n%s", code, exitFindings, stderr)
	}
	res := decodeScan(t, stdout)
	got := byEnd(res.Reports)
	if len(got) != len(sampleWants) {
		t.Errorf("subjects %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(sampleWants)))
	}
	byRule := map[string]int{}
	for subject, want := range sampleWants {
		r, ok := got[subject]
		if !ok {
			t.Errorf("no report on %s", subject)
			continue
		}
		var rulesFound []string
		for _, f := range r.Findings {
			if !f.Suppressed && !slices.Contains(rulesFound, f.Rule) {
				rulesFound = append(rulesFound, f.Rule)
			}
			if !f.Suppressed {
				byRule[f.Rule]++
			}
		}
		if !slices.Equal(rulesFound, want) || !r.Complete || r.Account != sample.Account {
			t.Errorf("%s: rules %v complete %v account %s, want %v", subject, rulesFound, r.Complete, r.Account, want)
		}
	}
	s := res.Summary
	if s.Account != sample.Account || s.Region != emulator.Region || s.TaskDefinitions != 5 || s.Roles != 4 || s.Subjects != 9 || s.Incomplete != 0 {
		t.Errorf("summary %+v", s)
	}
	if !maps.Equal(s.ByRule, byRule) || s.BySeverity["HIGH"] == 0 || s.AWSCalls == 0 {
		t.Errorf("summary counts %+v, want by rule %v", s, byRule)
	}
	wantUses := map[string][]rules.Use{
		sample.Roles["ecsEventsRole"]:        {{Kind: rules.UseEventsTarget, Resource: sample.EventRule}},
		sample.Roles["ecs-scheduler-runner"]: {{Kind: rules.UseSchedule, Resource: sample.Schedule}},
		sample.Roles["ecsAutoscaleRole"]:     {{Kind: rules.UseScalableTarget, Resource: sample.ScalableTarget}},
		sample.Roles["ecs-hosts"]:            {{Kind: rules.UseInstanceProfile, Resource: sample.InstanceProfile}},
	}
	if !maps.EqualFunc(res.UsedBy, wantUses, slices.Equal) {
		t.Errorf("usedBy = %v, want %v", res.UsedBy, wantUses)
	}
	if !strings.Contains(stderr, "scanned 5 task definitions and 4 roles in us-east-1") {
		t.Errorf("stderr %q", stderr)
	}

	// Text, and a threshold above every finding.
	code, stdout, _ = runScan(t, "--endpoint-url", moto.URL(), "--fail-on", "CRITICAL")
	if code != exitFindings { // reports:1 has TD-008 CRITICAL (AdministratorAccess)
		t.Errorf("--fail-on CRITICAL: exit %d", code)
	}
	for _, want := range []string{"task definition arn:aws:ecs:us-east-1:" + sample.Account + ":task-definition/billing:1  complete", "findings by rule: ", "9 subjects judged: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
}

// Every ACTIVE revision with --all-revisions; the latest of each family
// without.
func TestScanAllRevisions(t *testing.T) {
	sample, cfg, env := seeded(t)
	env(moto.URL())
	// A second revision of web-api with the task role of reports: TD-008.
	_, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("web-api"),
		TaskRoleArn:          aws.String(sample.Roles["reports-admin-task"]),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("public.ecr.aws/docker/library/busybox:1.36"), Memory: aws.Int32(128)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, latest, _ := runScan(t, "--endpoint-url", moto.URL(), "--format", "json")
	_, all, _ := runScan(t, "--endpoint-url", moto.URL(), "--format", "json", "--all-revisions")
	l, a := byEnd(decodeScan(t, latest).Reports), byEnd(decodeScan(t, all).Reports)
	if _, ok := l["task-definition/web-api:1"]; ok || len(l) != len(sampleWants) {
		t.Errorf("latest revisions: %v", slices.Sorted(maps.Keys(l)))
	}
	if _, ok := a["task-definition/web-api:1"]; !ok || len(a) != len(sampleWants)+1 {
		t.Errorf("all revisions: %v", slices.Sorted(maps.Keys(a)))
	}
	if r := l["task-definition/web-api:2"]; !slices.ContainsFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == "TD-008" }) {
		t.Errorf("web-api:2 findings %+v", r.Findings)
	}
}

// Throttled calls are retried by the adaptive retryer the CLI configures
// (its backoff capped here, so that the test takes a moment rather than
// minutes), and the scan completes with the same verdict; a scan whose
// calls stay throttled fails.
func TestScanSurvivesThrottling(t *testing.T) {
	proxy := proxied(t)
	opts, err := parseScanFlags([]string{"--endpoint-url", proxy.URL(), "--workers", "4"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awsConfig(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	adaptive := cfg.Retryer
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(adaptive(), 10*time.Millisecond) }

	proxy.Fail("DescribeTaskDefinition", 4, emulator.Throttling)
	proxy.Fail("GetAccountAuthorizationDetails", 1, emulator.Throttling)
	res, err := scanAccount(context.Background(), cfg, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := byEnd(res.Reports); len(got) != len(sampleWants) {
		t.Errorf("subjects after throttling: %v", slices.Sorted(maps.Keys(got)))
	}
	if n := proxy.Calls("DescribeTaskDefinition"); n != 5+4 {
		t.Errorf("DescribeTaskDefinition reached the proxy %d times, want 5 and 4 retries", n)
	}

	proxy.Reset()
	before := proxy.Calls("ListTaskDefinitionFamilies")
	proxy.Fail("ListTaskDefinitionFamilies", -1, emulator.Throttling)
	_, err = scanAccount(context.Background(), cfg, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "list task definition families") || !strings.Contains(err.Error(), "Throttling") {
		t.Errorf("throttled for good: err = %v", err)
	}
	if n := proxy.Calls("ListTaskDefinitionFamilies") - before; n != 10 {
		t.Errorf("ListTaskDefinitionFamilies tried %d times, want 10", n)
	}
}

func TestScanFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "yaml"}, `unknown format "yaml"`},
		{[]string{"--fail-on", "SEVERE"}, "--fail-on"},
		{[]string{"--workers", "0"}, "--workers: 0"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, _, stderr := runScan(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("scan %v: exit %d, %q", tc.args, code, stderr)
		}
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	bar := progressBar(&b)
	bar(1, 4)
	bar(4, 4)
	want := "\rdescribing task definitions [=======>                      ] 1/4" +
		"\rdescribing task definitions [==============================] 4/4\n"
	if b.String() != want {
		t.Errorf("progress bar:\n%q\nwant\n%q", b.String(), want)
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}

// A reference to a secondary role that scan may not read leaves that role
// incomplete, never compliant; the other subjects are unaffected.
func TestScanUseLookupDenied(t *testing.T) {
	proxy := proxied(t)
	proxy.Fail("ListRuleNamesByTarget", -1, emulator.AccessDenied)
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decodeScan(t, stdout)
	for subject, r := range byEnd(res.Reports) {
		wantComplete := subject != "role/ecsEventsRole"
		if r.Complete != wantComplete {
			t.Errorf("%s: complete %v, errors %v", subject, r.Complete, r.Errors)
		}
		if !wantComplete && (len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "EventBridge targets") || !strings.Contains(r.Errors[0], "AccessDenied")) {
			t.Errorf("%s: errors %v", subject, r.Errors)
		}
	}
	if res.Summary.Incomplete != 1 {
		t.Errorf("summary %+v", res.Summary)
	}
}

// Several regions: ECS and the references to roles are read in each, IAM
// once; a role used by an EventBridge rule in each region lists both.
func TestScanRegions(t *testing.T) {
	sample, cfg, env := seeded(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	env(proxy.URL())
	ctx := context.Background()
	west := cfg.Copy()
	west.Region = "us-west-2"
	td, err := ecs.NewFromConfig(west).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("west-batch"), TaskRoleArn: aws.String(sample.Roles["billing-app"]), ExecutionRoleArn: aws.String(sample.Roles["billing-app"]),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("batch"), Image: aws.String("public.ecr.aws/docker/library/busybox:1.36"), Essential: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := ecs.NewFromConfig(west).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("west")})
	if err != nil {
		t.Fatal(err)
	}
	ev := eventbridge.NewFromConfig(west)
	rule, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("west-nightly"), ScheduleExpression: aws.String("cron(0 3 * * ? *)")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("west-nightly"), Targets: []evtypes.Target{{
		Id: aws.String("batch"), Arn: cluster.Cluster.ClusterArn, RoleArn: aws.String(sample.Roles["ecsEventsRole"]),
		EcsParameters: &evtypes.EcsParameters{TaskDefinitionArn: td.TaskDefinition.TaskDefinitionArn, TaskCount: aws.Int32(1)},
	}}}); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--region", "us-east-1,US-WEST-2", "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decodeScan(t, stdout)
	got := byEnd(res.Reports)
	westTD := got["task-definition/west-batch:1"]
	if len(got) != len(sampleWants)+1 || len(westTD.Findings) == 0 || westTD.Findings[0].Rule != "TD-001" || westTD.Region != "us-west-2" {
		t.Errorf("subjects %v; west-batch:1 %+v", slices.Sorted(maps.Keys(got)), westTD)
	}
	if s := res.Summary; s.Region != "us-east-1,us-west-2" || s.TaskDefinitions != 6 || s.Roles != 4 {
		t.Errorf("summary %+v", s)
	}
	wantEvents := []rules.Use{{Kind: rules.UseEventsTarget, Resource: sample.EventRule}, {Kind: rules.UseEventsTarget, Resource: aws.ToString(rule.RuleArn)}}
	if uses := res.UsedBy[sample.Roles["ecsEventsRole"]]; !slices.Equal(uses, wantEvents) {
		t.Errorf("ecsEventsRole used by %v, want %v", uses, wantEvents)
	}
	// IAM is global: its pages are read once, whatever the regions.
	if n, f := proxy.Calls("GetAccountAuthorizationDetails"), proxy.Calls("ListTaskDefinitionFamilies"); n != 1 || f != 2 {
		t.Errorf("GetAccountAuthorizationDetails %d, ListTaskDefinitionFamilies %d: want 1 and 2 (one per region)", n, f)
	}
	if code, _, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--region", "us-east-1,mars"); code != exitUsage || !strings.Contains(stderr, `"mars" is not a region name`) {
		t.Errorf("a bad region: exit %d, %q", code, stderr)
	}
}
