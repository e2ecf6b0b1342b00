package awsfacts_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	evtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// fill loads each role and fills its uses with one lookup.
func fill(t *testing.T, loader *awsfacts.Loader, lookup *awsfacts.UseLookup, names ...string) map[string]*rules.Role {
	t.Helper()
	ctx := context.Background()
	out := map[string]*rules.Role{}
	for _, name := range names {
		role, missing, err := loader.Role(ctx, name)
		if err != nil || len(missing) > 0 {
			t.Fatalf("role %s: %v %v", name, err, missing)
		}
		missing, err = lookup.Fill(ctx, role)
		if err != nil || len(missing) > 0 {
			t.Fatalf("uses of %s: %v %v", name, err, missing)
		}
		out[name] = role
	}
	return out
}

// TestUsesOfSecondaryRoles: each secondary role of the sample account is
// found where the account references it, and is classified by that use
// even when its name says nothing.
func TestUsesOfSecondaryRoles(t *testing.T) {
	t.Parallel()
	sample, loader, calls, cfg := account(t, nil)
	lookup := awsfacts.NewUseFinder(cfg).Begin()
	roles := fill(t, loader, lookup, "ecsEventsRole", "ecs-scheduler-runner", "ecsAutoscaleRole", "ecs-hosts")
	want := map[string]rules.Use{
		"ecsEventsRole":        {Kind: rules.UseEventsTarget, Resource: sample.EventRule},
		"ecs-scheduler-runner": {Kind: rules.UseSchedule, Resource: sample.Schedule},
		"ecsAutoscaleRole":     {Kind: rules.UseScalableTarget, Resource: sample.ScalableTarget},
		"ecs-hosts":            {Kind: rules.UseInstanceProfile, Resource: sample.InstanceProfile},
	}
	for name, w := range want {
		if got := roles[name].Uses; len(got) != 1 || got[0] != w {
			t.Errorf("%s uses = %v, want [%v]", name, got, w)
		}
	}
	if !strings.HasSuffix(sample.EventRule, ":rule/nightly-report") || !strings.HasSuffix(sample.Schedule, "/hourly-payouts") {
		t.Errorf("sample references = %q, %q", sample.EventRule, sample.Schedule)
	}

	// ecs-hosts is an instance role only because a profile holds it.
	hosts := roles["ecs-hosts"]
	if got := rules.SecondaryClasses(hosts); !slices.Equal(got, []rules.Class{rules.ClassInstance}) {
		t.Errorf("ecs-hosts classes = %v", got)
	}
	r := rules.Evaluate(rules.Facts{Account: sample.Account, Region: emulator.Region, Role: hosts})
	if !slices.ContainsFunc(r.Findings, func(f rules.Finding) bool { return f.Rule == "SR-004" && f.Severity == rules.High }) {
		t.Errorf("ecs-hosts findings = %+v, want SR-004 HIGH (s3:* on *)", r.Findings)
	}
	bare := *hosts
	bare.Uses = nil
	if got := rules.SecondaryClasses(&bare); len(got) != 0 {
		t.Errorf("ecs-hosts without its profile: classes = %v, want none", got)
	}

	// A task role trusts none of the services: no call at all.
	before := calls.Total()
	task, _, err := loader.Role(context.Background(), "web-api-task")
	if err != nil {
		t.Fatal(err)
	}
	afterRole := calls.Total()
	if _, err := lookup.Fill(context.Background(), task); err != nil || len(task.Uses) != 0 {
		t.Fatalf("web-api-task uses = %v, err %v", task.Uses, err)
	}
	if calls.Total() != afterRole || afterRole == before {
		t.Errorf("filling a task role cost %d calls", calls.Total()-afterRole)
	}
}

// TestUseListsReadOnce: the account-wide lists are read once per lookup,
// however many roles ask; a new lookup reads them again.
func TestUseListsReadOnce(t *testing.T) {
	t.Parallel()
	_, loader, calls, cfg := account(t, nil)
	finder := awsfacts.NewUseFinder(cfg)
	lookup := finder.Begin()
	fill(t, loader, lookup, "ecsEventsRole", "ecsEventsRole", "ecsEventsRole")
	ops := calls.ByOperation()
	if ops["ECS.ListClusters"] != 1 || ops["EventBridge.ListEventBuses"] != 1 || ops["EventBridge.ListRuleNamesByTarget"] != 1 || ops["EventBridge.ListTargetsByRule"] != 1 {
		t.Fatalf("calls for three roles = %v, want each list once", ops)
	}
	fill(t, loader, finder.Begin(), "ecsEventsRole")
	if n := calls.ByOperation()["ECS.ListClusters"]; n != 2 {
		t.Fatalf("a new lookup listed clusters %d times in all, want 2", n)
	}
}

// TestUsePagination: references beyond the first page of every list are
// found; targets that run no ECS task, or run one with another role, are
// not uses.
func TestUsePagination(t *testing.T) {
	t.Parallel()
	sample, loader, _, cfg := account(t, nil)
	ctx := context.Background()
	ev := eventbridge.NewFromConfig(cfg)
	ec := ecs.NewFromConfig(cfg)
	if _, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("batch")}); err != nil {
		t.Fatal(err)
	}
	batch := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:cluster/batch", sample.Account)
	var want []rules.Use
	for i := range 3 {
		name := fmt.Sprintf("batch-%d", i)
		rule, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String("rate(1 day)")})
		if err != nil {
			t.Fatal(err)
		}
		targets := []evtypes.Target{
			{Id: aws.String("ecs"), Arn: aws.String(batch), RoleArn: aws.String(sample.Roles["ecsEventsRole"]),
				EcsParameters: &evtypes.EcsParameters{TaskDefinitionArn: aws.String(sample.TaskDefinitions["reports"])}},
			// Target ARNs differ within a rule: the emulator pages targets by
			// ARN and would hand back the same token for two on one cluster.
			{Id: aws.String("other-role"), Arn: aws.String(sample.Cluster), RoleArn: aws.String(sample.Roles["ecs-scheduler-runner"]),
				EcsParameters: &evtypes.EcsParameters{TaskDefinitionArn: aws.String(sample.TaskDefinitions["payments"])}},
			{Id: aws.String("queue"), Arn: aws.String(fmt.Sprintf("arn:aws:sqs:us-east-1:%s:ecsguard-findings-inbox", sample.Account)), RoleArn: aws.String(sample.Roles["ecsEventsRole"])},
		}
		if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: targets}); err != nil {
			t.Fatal(err)
		}
		want = append(want, rules.Use{Kind: rules.UseEventsTarget, Resource: aws.ToString(rule.RuleArn)})
	}
	want = append(want, rules.Use{Kind: rules.UseEventsTarget, Resource: sample.EventRule})

	finder := awsfacts.NewUseFinder(cfg)
	finder.PageSize = 1
	got := fill(t, loader, finder.Begin(), "ecsEventsRole")["ecsEventsRole"].Uses
	key := func(u rules.Use) string { return u.Resource }
	slices.SortFunc(got, func(a, b rules.Use) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(want, func(a, b rules.Use) int { return strings.Compare(key(a), key(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("uses with page size 1 =\n%v\nwant\n%v", got, want)
	}
}

// TestUseLookupFailures: a reference that cannot be read for lack of
// permission is a missing fact of the role (its verdict is incomplete),
// read once; one that stays throttled fails the lookup, to be retried.
func TestUseLookupFailures(t *testing.T) {
	t.Parallel()
	needMoto(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sample, loader, _, cfg := account(t, proxy)
	ctx := context.Background()
	finder := awsfacts.NewUseFinder(cfg)

	proxy.Fail("ListRuleNamesByTarget", -1, emulator.AccessDenied)
	proxy.Fail("ListInstanceProfilesForRole", -1, emulator.AccessDenied)
	lookup := finder.Begin()
	for _, name := range []string{"ecsEventsRole", "ecsEventsRole", "ecs-hosts"} {
		role, _, err := loader.Role(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		missing, err := lookup.Fill(ctx, role)
		if err != nil {
			t.Fatalf("%s: AccessDenied is permanent, got %v", name, err)
		}
		if len(missing) != 1 || missing[0].Subject != sample.Roles[name] || !strings.Contains(missing[0].Error(), "AccessDenied") {
			t.Fatalf("%s: missing = %v", name, missing)
		}
		r := rules.Evaluate(rules.Facts{Account: sample.Account, Region: emulator.Region, Role: role, Missing: missing})
		if r.Complete {
			t.Errorf("%s: report complete without its references", name)
		}
	}
	if n := proxy.Calls("ListRuleNamesByTarget"); n != 1 {
		t.Errorf("denied list asked %d times, want once per lookup", n)
	}

	proxy.Reset()
	proxy.Fail("ListEventBuses", -1, emulator.Throttling)
	role, _, err := loader.Role(ctx, "ecsEventsRole")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finder.Begin().Fill(ctx, role); err == nil || awsfacts.Permanent(err) {
		t.Fatalf("throttled beyond retries: err = %v", err)
	}
}
