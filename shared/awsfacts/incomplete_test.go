package awsfacts_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

func ruleIDs(r rules.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	return out
}

// register registers a task definition in the emulator account of cfg: a
// private ECR image logging with awslogs, which needs an execution role
// that can pull and log.
func register(t *testing.T, cfg aws.Config, in ecs.RegisterTaskDefinitionInput) string {
	t.Helper()
	in.ContainerDefinitions = []ecstypes.ContainerDefinition{{
		Name: aws.String("app"), Image: aws.String("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1"), Memory: aws.Int32(512),
		LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app",
		}},
	}}
	out, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(context.Background(), &in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// An executionRoleArn of another account names a role this account cannot
// read: GetRole by its name would return this account's web-api-exec,
// which must not be judged in its place. It is not read; the report is
// incomplete and says which account the role is in.
func TestRoleOfAnotherAccountNotRead(t *testing.T) {
	t.Parallel()
	sample, loader, calls, cfg := account(t, nil)
	foreign := "arn:aws:iam::999999999999:role/web-api-exec" // web-api-exec exists in this account
	arn := register(t, cfg, ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("foreign-exec"),
		TaskRoleArn:             aws.String(sample.Roles["web-api-task"]),
		ExecutionRoleArn:        aws.String(foreign),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
	})
	before := calls.ByOperation()["IAM.GetRole"]
	f, err := loader.TaskDefinitionFacts(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.ByOperation()["IAM.GetRole"] - before; n != 1 {
		t.Errorf("GetRole called %d times, want once (the task role only)", n)
	}
	if f.TaskDefinition.ExecutionRoleARN != foreign || f.Roles[foreign] != nil || len(f.Roles) != 1 {
		t.Errorf("executionRoleArn %s, roles %v: the foreign role was resolved or read", f.TaskDefinition.ExecutionRoleARN, slices.Collect(maps.Keys(f.Roles)))
	}
	want := fmt.Sprintf("%s: role in another account: it is in account 999999999999 and cannot be read from account %s", foreign, sample.Account)
	r := rules.Evaluate(f)
	if r.Complete || !slices.Contains(r.Errors, want) {
		t.Fatalf("complete = %v, errors = %q; want incomplete with %q", r.Complete, r.Errors, want)
	}
	for _, id := range ruleIDs(r) {
		if id == "TD-003" || id == "TD-004" || id == "TD-006" {
			t.Errorf("%s judged a role that was not read: %v", id, ruleIDs(r))
		}
	}
}

// A task definition that cannot be described (deregistered then deleted,
// or never registered) gives only its ARN: no rule judges the empty
// definition (it has no task role and would run on EC2: TD-007).
func TestUnreadableTaskDefinitionNotJudged(t *testing.T) {
	t.Parallel()
	sample, loader, _, cfg := account(t, nil)
	ctx := context.Background()
	client := ecs.NewFromConfig(cfg)
	// On EC2 without a task role: TD-007 while it exists.
	gone := register(t, cfg, ecs.RegisterTaskDefinitionInput{Family: aws.String("gone"), ExecutionRoleArn: aws.String(sample.Roles["web-api-exec"])})
	f, err := loader.TaskDefinitionFacts(ctx, gone)
	if err != nil {
		t.Fatal(err)
	}
	if ids := ruleIDs(rules.Evaluate(f)); !slices.Contains(ids, "TD-007") {
		t.Fatalf("registered: findings %v, want TD-007", ids)
	}
	if _, err := client.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	del, err := client.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{gone}})
	if err != nil || len(del.Failures) != 0 {
		t.Fatalf("delete: %v %+v", err, del)
	}

	for name, arn := range map[string]string{
		"deleted":      gone,
		"never-exists": fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/nope:1", sample.Account),
	} {
		t.Run(name, func(t *testing.T) {
			f, err := loader.TaskDefinitionFacts(ctx, arn)
			if err != nil {
				t.Fatalf("a missing task definition is permanent, got %v", err)
			}
			r := rules.Evaluate(f)
			if r.Complete || r.Subject.ARN != arn || len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0], arn+": ") || !strings.Contains(r.Errors[0], "ClientException") {
				t.Fatalf("complete = %v, subject %s, errors %q; want incomplete with the describe error", r.Complete, r.Subject.ARN, r.Errors)
			}
			if ids := ruleIDs(r); !slices.Equal(ids, []string{rules.IncompleteRule}) {
				t.Errorf("findings = %v, want %s alone", ids, rules.IncompleteRule)
			}
		})
	}
}

// Managed policies that cannot be read leave web-api's execution role
// without the grants of AmazonECSTaskExecutionRolePolicy: the role is
// incomplete, and TD-006 claims no lack of pull, logs or the secret.
func TestUnreadableManagedPolicyClaimsNoLack(t *testing.T) {
	t.Parallel()
	needMoto(t)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sample, loader, _, _ := account(t, proxy)
	proxy.Fail("GetPolicy", -1, emulator.AccessDenied)
	f, err := loader.TaskDefinitionFacts(context.Background(), sample.TaskDefinitions["web-api"])
	if err != nil {
		t.Fatalf("AccessDenied is permanent, got error %v", err)
	}
	exec := f.Roles[f.TaskDefinition.ExecutionRoleARN]
	if exec == nil || !exec.Incomplete() || !slices.ContainsFunc(exec.Missing, func(m rules.FactError) bool {
		return strings.HasSuffix(m.Subject, "AmazonECSTaskExecutionRolePolicy")
	}) {
		t.Fatalf("execution role = %+v, want it incomplete, missing AmazonECSTaskExecutionRolePolicy", exec)
	}
	r := rules.Evaluate(f)
	if r.Complete || len(r.Errors) != len(f.Missing) {
		t.Errorf("complete = %v, errors %q, want incomplete with the %d missing facts once each", r.Complete, r.Errors, len(f.Missing))
	}
	if ids := ruleIDs(r); slices.Contains(ids, "TD-006") {
		t.Errorf("findings %v: TD-006 on a role whose policies could not be read", ids)
	}
}
