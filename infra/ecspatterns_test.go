package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/ecsguard/ecsguard/shared/cfntemplate"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	ecsrules "github.com/ecsguard/ecsguard/shared/rules"
)

// TestCDKECSPatternsPassCheck synthesizes what the CDK's ECS constructs
// make by default and judges the template as `ecsguard check --template`
// does: AWS's and the CDK's recommended setups must be complete and trip
// no rule above LOW.
//   - a FargateTaskDefinition with its default roles, an awslogs container;
//   - a container secret from Secrets Manager (Secret_FromSecretsManager,
//     https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_ecs.Secret.html),
//     an image from an ECR repository of the stack;
//   - a FargateService with ECS Exec (EnableExecuteCommand), for which the
//     CDK grants the task role the ssmmessages actions ECS Exec needs
//     (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
func TestCDKECSPatternsPassCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	stack := awscdk.NewStack(app, jsii.String("EcsPatterns"), nil)

	plain := awsecs.NewFargateTaskDefinition(stack, jsii.String("Plain"), nil)
	plain.AddContainer(jsii.String("web"), &awsecs.ContainerDefinitionOptions{
		Image:   awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/nginx/nginx:1.27"), nil),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("web")}),
	})

	secret := awssecretsmanager.NewSecret(stack, jsii.String("Db"), nil)
	repo := awsecr.NewRepository(stack, jsii.String("Repo"), nil)
	execTD := awsecs.NewFargateTaskDefinition(stack, jsii.String("Exec"), nil)
	execTD.AddContainer(jsii.String("app"), &awsecs.ContainerDefinitionOptions{
		Image:   awsecs.ContainerImage_FromEcrRepository(repo, jsii.String("1.0")),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("app")}),
		Secrets: &map[string]awsecs.Secret{
			"DB_PASSWORD": awsecs.Secret_FromSecretsManager(secret, jsii.String("password")),
		},
	})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), nil)
	awsecs.NewFargateService(stack, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster: cluster, TaskDefinition: execTD, EnableExecuteCommand: jsii.Bool(true),
	})

	asm := app.Synth(nil)
	path := *asm.GetStackByName(jsii.String("EcsPatterns")).TemplateFullPath()
	if filepath.Base(path) != "EcsPatterns.template.json" {
		t.Fatalf("template at %s, want cdk.out/EcsPatterns.template.json", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := cfntemplate.Parse(b, cfntemplate.Options{StackName: "EcsPatterns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.TaskDefinitions) != 2 {
		t.Fatalf("%d task definitions, want 2", len(tpl.TaskDefinitions))
	}
	for _, td := range tpl.TaskDefinitions {
		f, err := tpl.Facts(context.Background(), td, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := ecsrules.Evaluate(f)
		if !r.Complete {
			t.Errorf("%s: incomplete: %q", td.ARN, r.Errors)
		}
		for _, fd := range r.Findings {
			if fd.Severity <= ecsrules.Low {
				continue
			}
			t.Errorf("%s: %s %s %s: %+v", td.ARN, fd.Severity, fd.Rule, fd.Title, fd.Evidence)
		}
		if td.TaskRoleARN == "" || td.ExecutionRoleARN == "" || td.TaskRoleARN == td.ExecutionRoleARN {
			t.Errorf("%s: task role %q, execution role %q: want two distinct roles of the template", td.ARN, td.TaskRoleARN, td.ExecutionRoleARN)
		}
		if len(td.Containers) != 1 || td.Containers[0].LogConfiguration == nil || td.Containers[0].LogConfiguration.Options["awslogs-group"] == "" {
			t.Errorf("%s: containers %+v: want one with awslogs to the stack's log group", td.ARN, td.Containers)
		}
	}

	// The Exec task definition: the secret resolved to the stack's secret,
	// its execution role allowed to read it, its task role allowed ECS Exec.
	var exec *ecsrules.TaskDefinition
	for _, td := range tpl.TaskDefinitions {
		if len(td.Containers) == 1 && td.Containers[0].Name == "app" {
			exec = td
		}
	}
	if exec == nil || len(exec.Containers[0].Secrets) != 1 {
		t.Fatalf("no task definition with the app container and its secret: %+v", tpl.TaskDefinitions)
	}
	secretARN := exec.Containers[0].Secrets[0].ValueFrom
	needs := ecsrules.ExecutionNeeds(exec, "", "")
	execRole := tpl.Roles[exec.ExecutionRoleARN]
	taskRole := tpl.Roles[exec.TaskRoleARN]
	if execRole == nil || taskRole == nil {
		t.Fatalf("roles %s, %s not in the template", exec.ExecutionRoleARN, exec.TaskRoleARN)
	}
	var secretNeed bool
	for _, n := range needs {
		if n.Action == "secretsmanager:GetSecretValue" {
			secretNeed = true
			if d := execRole.Permissions().Evaluate(n.Action, n.Resource).Decision; d != iampolicy.Allowed {
				t.Errorf("execution role: %s on %s = %v, want Allowed (secret %s)", n.Action, n.Resource, d, secretARN)
			}
		}
	}
	if !secretNeed {
		t.Errorf("no secretsmanager:GetSecretValue need for secret %s", secretARN)
	}
	for _, a := range []string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"} {
		if d := taskRole.Permissions().Evaluate(a, "*").Decision; d != iampolicy.Allowed {
			t.Errorf("task role %s: %s = %v, want Allowed (ECS Exec)", taskRole.ARN, a, d)
		}
	}
}
