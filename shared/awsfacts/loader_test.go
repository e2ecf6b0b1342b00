package awsfacts_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "awsfacts", &moto)) }

func needMoto(t *testing.T) {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
}

// account seeds the sample account into a fresh emulator account and
// returns a loader over clients built from cfg (through the fault proxy
// when one is given), with their calls counted.
func account(t *testing.T, proxy *emulator.FaultProxy) (emulator.Sample, *awsfacts.Loader, *awsfacts.Calls, aws.Config) {
	t.Helper()
	needMoto(t)
	ctx := context.Background()
	cfg := moto.Config(ctx, emulator.NewAccount())
	sample, err := emulator.Seed(ctx, cfg)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if proxy != nil {
		cfg.BaseEndpoint = aws.String(proxy.URL())
	}
	calls := &awsfacts.Calls{}
	calls.Count(&cfg)
	return sample, awsfacts.New(ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)), calls, cfg
}

func TestCompliantTaskDefinitionIsClean(t *testing.T) {
	t.Parallel()
	sample, loader, _, _ := account(t, nil)
	f, err := loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Missing) != 0 {
		t.Fatalf("missing facts: %v", f.Missing)
	}
	td := f.TaskDefinition
	exec := f.Roles[td.ExecutionRoleARN]
	if exec == nil || exec.Trust == nil || !slices.Contains(exec.Attached, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy") {
		t.Fatalf("execution role facts = %+v", exec)
	}
	if len(exec.Policies) < 2 {
		t.Fatalf("execution role policies = %d, want the managed one and the inline one", len(exec.Policies))
	}
	for _, p := range exec.Policies {
		if p.Document == nil || len(p.Document.Statements) == 0 {
			t.Errorf("policy %s has no parsed document", p.Name)
		}
	}
	if f.Account != sample.Account || f.Region != "us-east-1" {
		t.Errorf("account/region = %s/%s", f.Account, f.Region)
	}
	r := rules.Evaluate(f)
	if !r.Complete || len(r.Findings) != 0 {
		t.Fatalf("web-api report: complete=%v findings=%+v", r.Complete, r.Findings)
	}
}

func TestSharedRoleFound(t *testing.T) {
	t.Parallel()
	sample, loader, _, _ := account(t, nil)
	f, err := loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["billing"])
	if err != nil {
		t.Fatal(err)
	}
	r := rules.Evaluate(f)
	if !slices.ContainsFunc(r.Findings, func(fd rules.Finding) bool { return fd.Rule == "TD-001" }) {
		t.Fatalf("no TD-001 for billing: %+v", r.Findings)
	}
}

func TestDeletedRoleMakesReportIncomplete(t *testing.T) {
	t.Parallel()
	sample, loader, _, cfg := account(t, nil)
	ctx := context.Background()
	client := iam.NewFromConfig(cfg)
	// payments-task has only an inline policy: delete it, then the role.
	names, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("payments-task")})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names.PolicyNames {
		if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("payments-task"), PolicyName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("payments-task")}); err != nil {
		t.Fatal(err)
	}
	f, err := loader.TaskDefinitionFacts(ctx, sample.TaskDefinitions["payments"])
	if err != nil {
		t.Fatalf("a deleted role is permanent, got error %v", err)
	}
	if len(f.Missing) != 1 || !strings.Contains(f.Missing[0].Error(), "payments-task") {
		t.Fatalf("missing = %v", f.Missing)
	}
	r := rules.Evaluate(f)
	if r.Complete || r.ShouldDeregister(rules.Low) {
		t.Fatalf("report complete=%v", r.Complete)
	}
}

func TestAccessDeniedIsMissingFact(t *testing.T) {
	t.Parallel()
	needMoto(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sample, loader, _, _ := account(t, proxy)
	proxy.Fail("GetRolePolicy", -1, emulator.AccessDenied)
	f, err := loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"])
	if err != nil {
		t.Fatalf("AccessDenied is permanent, got error %v", err)
	}
	if len(f.Missing) == 0 || !strings.Contains(f.Missing[0].Error(), "inline policy") {
		t.Fatalf("missing = %v", f.Missing)
	}
	if r := rules.Evaluate(f); r.Complete {
		t.Fatal("report complete despite AccessDenied")
	}
}

func TestThrottlingBeyondRetriesFails(t *testing.T) {
	t.Parallel()
	needMoto(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sample, loader, _, _ := account(t, proxy)

	proxy.Fail("DescribeTaskDefinition", 2, emulator.Throttling) // within the retries
	if _, err := loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"]); err != nil {
		t.Fatalf("two throttles then success: %v", err)
	}
	proxy.Fail("GetRole", -1, emulator.Throttling)
	_, err = loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"])
	if err == nil || awsfacts.Permanent(err) {
		t.Fatalf("throttled beyond retries: err=%v permanent=%v", err, awsfacts.Permanent(err))
	}
	proxy.Reset()
	proxy.Fail("DescribeTaskDefinition", -1, emulator.InternalError)
	if _, err = loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"]); err == nil || awsfacts.Permanent(err) {
		t.Fatalf("5xx beyond retries: err=%v", err)
	}
}

func TestUnknownTaskDefinitionIsIncomplete(t *testing.T) {
	t.Parallel()
	sample, loader, _, _ := account(t, nil)
	arn := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/nope:1", sample.Account)
	f, err := loader.TaskDefinitionFacts(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.Evaluate(f)
	if r.Complete || r.Subject.ARN != arn {
		t.Fatalf("report = %+v", r)
	}
}

// TestManagedPoliciesCached: the second load of the same task definition
// asks IAM for the roles and their customer policies again, but not for the
// AWS-managed policy (cached default version and document).
func TestManagedPoliciesCached(t *testing.T) {
	t.Parallel()
	sample, loader, calls, _ := account(t, nil)
	ctx := context.Background()
	arn := sample.TaskDefinitions["web-api"]
	if _, err := loader.TaskDefinitionFacts(ctx, arn); err != nil {
		t.Fatal(err)
	}
	cold := calls.ByOperation()
	if _, err := loader.TaskDefinitionFacts(ctx, arn); err != nil {
		t.Fatal(err)
	}
	warm := calls.ByOperation()
	for op, n := range warm {
		warm[op] = n - cold[op]
	}
	if warm["IAM.GetPolicyVersion"] >= cold["IAM.GetPolicyVersion"] || warm["IAM.GetPolicy"] >= cold["IAM.GetPolicy"] {
		t.Fatalf("policy calls cold %v, warm %v: nothing cached", cold, warm)
	}
	if warm["ECS.DescribeTaskDefinition"] != 1 || warm["IAM.GetRole"] != 2 {
		t.Fatalf("warm calls = %v", warm)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	sample, loader, calls, cfg := account(t, nil)
	ctx := context.Background()
	for _, arn := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"} {
		if _, err := iam.NewFromConfig(cfg).AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web-api-exec"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	loader.PageSize = 1
	f, err := loader.TaskDefinitionFacts(ctx, sample.TaskDefinitions["web-api"])
	if err != nil {
		t.Fatal(err)
	}
	exec := f.Roles[f.TaskDefinition.ExecutionRoleARN]
	if len(exec.Attached) < 3 {
		t.Fatalf("attached = %v, want at least 3 across pages", exec.Attached)
	}
	if n := calls.ByOperation()["IAM.ListAttachedRolePolicies"]; n < 3 {
		t.Fatalf("ListAttachedRolePolicies called %d times with page size 1", n)
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	if awsfacts.Permanent(errors.New("plain")) || awsfacts.Permanent(context.DeadlineExceeded) {
		t.Fatal("a non-API error is permanent")
	}
}

// A revision of another region, whose event reached this region's bus, is
// read in its own region.
func TestTaskDefinitionOfAnotherRegion(t *testing.T) {
	t.Parallel()
	sample, loader, _, cfg := account(t, nil)
	ctx := context.Background()
	other := cfg.Copy()
	other.Region = "eu-west-1"
	out, err := ecs.NewFromConfig(other).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("eu-api"),
		TaskRoleArn:          aws.String(sample.Roles["web-api-task"]),
		ExecutionRoleArn:     aws.String(sample.Roles["web-api-exec"]),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("public.ecr.aws/docker/library/busybox:1.36"), Memory: aws.Int32(128)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	if !strings.Contains(arn, ":eu-west-1:") {
		t.Fatalf("arn = %s", arn)
	}
	f, err := loader.TaskDefinitionFacts(ctx, arn)
	if err != nil || len(f.Missing) != 0 || f.TaskDefinition.Family != "eu-api" || f.Region != "eu-west-1" {
		t.Fatalf("facts of %s: %+v, missing %v, err %v", arn, f.TaskDefinition, f.Missing, err)
	}
}
