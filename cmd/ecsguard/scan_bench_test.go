package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// The account of the scan benchmark: 1,000 ACTIVE revisions over 300
// families and 200 roles (199 task roles with an inline policy each, a
// customer managed policy shared by every tenth and an AWS managed one by
// every seventh; one execution role).
const benchRevisions, benchFamilies, benchRoles = 1000, 300, 200

func seedBenchAccount(b *testing.B) aws.Config {
	b.Helper()
	if moto == nil {
		b.Skip("the emulator is not installed: run make emulator-tools")
	}
	account := emulator.NewAccount()
	cfg := moto.Config(context.Background(), account)
	if err := seedBench(context.Background(), cfg, account, benchShape{benchRevisions, benchFamilies, benchRoles}); err != nil {
		b.Fatal(err)
	}
	return cfg
}

// benchShape is what a benchmark account holds: revisions over families,
// and roles (one of them the execution role).
type benchShape struct{ revisions, families, roles int }

// seedBench creates the task definitions and roles of shape in account,
// through cfg.
func seedBench(ctx context.Context, cfg aws.Config, account string, shape benchShape) error {
	im, ec := iam.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	shared, err := im.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("shared-queue"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`)})
	if err != nil {
		return err
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}]}`, account)
	role := func(i int) string { return fmt.Sprintf("app-%03d", i) }
	run := func(n int, do func(i int) error) error {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 8)
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := do(i); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	err = run(shape.roles, func(i int) error {
		name := role(i)
		if i == shape.roles-1 {
			name = "app-exec"
		}
		if _, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			return err
		}
		if name == "app-exec" {
			_, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name),
				PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")})
			return err
		}
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%03d/*"}]}`, i)
		if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("app"), PolicyDocument: aws.String(doc)}); err != nil {
			return err
		}
		if i%10 == 0 {
			if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: shared.Policy.Arn}); err != nil {
				return err
			}
		}
		if i%7 == 0 {
			if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Registered in order, so that each family's revisions are numbered.
	for i := range shape.revisions {
		_, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family:                  aws.String(fmt.Sprintf("family-%03d", i%shape.families)),
			TaskRoleArn:             aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", account, role(i%(shape.roles-1)))),
			ExecutionRoleArn:        aws.String(fmt.Sprintf("arn:aws:iam::%s:role/app-exec", account)),
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			NetworkMode:             ecstypes.NetworkModeAwsvpc,
			Cpu:                     aws.String("256"),
			Memory:                  aws.String("512"),
			ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("public.ecr.aws/docker/library/busybox:1.36")}},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkScan reads and judges the benchmark account three ways and
// reports the wall time (ns/op) and the AWS calls (awscalls/op) of each:
// scan (the latest revision of each family), scan --all-revisions, and the
// per-role path the functions take for one event, applied to every
// revision (describe it, read each role it names with the per-role IAM
// calls, once per role), then ListRoles and the per-role reads of the
// roles no revision names, to find the secondary ones. The emulator
// answers each list in one page where ECS pages by 100 and IAM by 100: the
// calls are counted as the emulator served them.
func BenchmarkScan(b *testing.B) {
	cfg := seedBenchAccount(b)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(cfg aws.Config) (subjects int, err error)
	}{
		{"scan", func(cfg aws.Config) (int, error) {
			res, err := scanAccount(ctx, cfg, scanOptions{workers: 8}, nil)
			return len(res.Reports), err
		}},
		{"scan-all-revisions", func(cfg aws.Config) (int, error) {
			res, err := scanAccount(ctx, cfg, scanOptions{workers: 8, allRevisions: true}, nil)
			return len(res.Reports), err
		}},
		{"per-role", func(cfg aws.Config) (int, error) { return perRolePath(ctx, cfg) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var calls int64
			var subjects int
			for b.Loop() {
				c := cfg.Copy()
				counter := &awsfacts.Calls{}
				counter.Count(&c)
				n, err := tc.run(c)
				if err != nil {
					b.Fatal(err)
				}
				subjects = n
				calls += counter.Total()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
			b.ReportMetric(float64(subjects), "subjects")
		})
	}
}

// perRolePath judges every ACTIVE revision as onregister judges one, with
// the roles read once, then reads the roles no revision names.
func perRolePath(ctx context.Context, cfg aws.Config) (int, error) {
	ec, im := ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	loader := awsfacts.New(ec, im)
	var arns []string
	pages := ecs.NewListTaskDefinitionsPaginator(ec, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		arns = append(arns, page.TaskDefinitionArns...)
	}
	known := awsfacts.Roles{}
	subjects := 0
	for _, arn := range arns {
		f, err := loader.TaskDefinitionFactsWith(ctx, arn, known)
		if err != nil {
			return 0, err
		}
		rules.Evaluate(f)
		subjects++
	}
	roles := iam.NewListRolesPaginator(im, &iam.ListRolesInput{})
	for roles.HasMorePages() {
		page, err := roles.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, r := range page.Roles {
			name := aws.ToString(r.RoleName)
			if _, ok := known[strings.ToLower(name)]; ok {
				continue
			}
			role, missing, err := loader.Role(ctx, name)
			if err != nil {
				return 0, err
			}
			if len(rules.SecondaryClasses(role)) > 0 {
				rules.Evaluate(rules.Facts{Role: role, Missing: missing})
				subjects++
			}
		}
	}
	return subjects, nil
}
