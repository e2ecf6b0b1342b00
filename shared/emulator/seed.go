package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	evtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/roleuse"
)

// Sample is the account the events-testdata corpus describes, as [Seed]
// created it.
type Sample struct {
	Account  string
	TopicARN string // ecsguard-findings
	QueueURL string // ecsguard-findings-inbox, subscribed to the topic
	// TaskDefinitions maps each family to the ARN of its revision 1.
	TaskDefinitions map[string]string
	Roles           map[string]string // name → ARN
	Policies        map[string]string // customer managed policy name → ARN
	// IndexTable is the DynamoDB table for the role index, created empty:
	// a sweep (onrolechange on a scheduled event) fills it.
	IndexTable string
	// LedgerTable is the DynamoDB table of event records, created empty.
	LedgerTable string

	// What references the secondary roles besides task definitions.
	Cluster         string // the ECS cluster "prod"
	EventRule       string // rule nightly-report: runs reports on prod as ecsEventsRole
	Schedule        string // schedule hourly-payouts: runs payments on prod as ecs-scheduler-runner
	ScalableTarget  string // service/prod/web-api, registered with ecsAutoscaleRole
	InstanceProfile string // ecs-hosts, holding the role ecs-hosts
}

// Trust policies. ACCOUNT is replaced by the account seeded.
const (
	trustTasks     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"ACCOUNT"}}}]}`
	trustEvents    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustLambda    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustEC2       = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustScheduler = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"ACCOUNT"}}}]}`
	trustAutoscale = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"application-autoscaling.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustNotes     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

const (
	awsExecution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	awsEvents    = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole"
	awsAdmin     = "arn:aws:iam::aws:policy/AdministratorAccess"
	awsS3Read    = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	awsForEC2    = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
	awsAutoscale = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole"
)

// customerPolicies are the account's own managed policies.
var customerPolicies = []struct{ name, doc string }{
	// What web-api's execution role needs beyond the AWS managed policy: its
	// own secrets, by name prefix.
	// The boundary platform teams put on task roles (attached by the
	// PutRolePermissionsBoundary event of the corpus).
	{"ecs-task-boundary", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","sqs:SendMessage","dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query"],"Resource":"*"}]}`},
	{"web-api-exec-secrets", `{"Version":"2012-10-17","Statement":[{"Sid":"ReadAppSecrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:ACCOUNT:secret:prod/web-api/*"}]}`},
}

type sampleRole struct {
	name, trust string
	managed     []string          // AWS managed policy ARNs, or customer policy names
	inline      map[string]string // name → document
}

var sampleRoles = []sampleRole{
	{name: "web-api-task", trust: trustTasks, inline: map[string]string{
		"uploads": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::web-api-uploads-ACCOUNT/*"}]}`,
	}},
	{name: "web-api-exec", trust: trustTasks, managed: []string{awsExecution, "web-api-exec-secrets"}},
	// One role for both jobs: TD-001.
	{name: "billing-app", trust: trustTasks, managed: []string{awsExecution}, inline: map[string]string{
		"invoices": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:ACCOUNT:table/invoices"}]}`,
	}},
	// Administrator as a task role: TD-008.
	{name: "reports-admin-task", trust: trustTasks, managed: []string{awsAdmin}},
	{name: "payments-task", trust: trustTasks, inline: map[string]string{
		"payouts": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"arn:aws:sqs:us-east-1:ACCOUNT:payouts"}]}`,
	}},
	// Pulls and logs, but cannot read the secret the task names: TD-006.
	{name: "payments-exec", trust: trustTasks, managed: []string{awsExecution}},
	{name: "ecsEventsRole", trust: trustEvents, managed: []string{awsEvents}},
	{name: "data-science-notebook", trust: trustNotes},
	// Secondary roles known by what references them (Seed wires the
	// references): container hosts whose role also reads every bucket
	// (SR-004), a scheduler role scoped to one family, the legacy
	// autoscaling role.
	{name: "ecs-hosts", trust: trustEC2, managed: []string{awsForEC2}, inline: map[string]string{
		"artifacts": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
	}},
	{name: "ecs-scheduler-runner", trust: trustScheduler, inline: map[string]string{
		"run-payments": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:ACCOUNT:task-definition/payments:*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":["arn:aws:iam::ACCOUNT:role/payments-task","arn:aws:iam::ACCOUNT:role/payments-exec"],"Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}`,
	}},
	{name: "ecsAutoscaleRole", trust: trustAutoscale, managed: []string{awsAutoscale}},
	{name: "ecsguard-onrolechange", trust: trustLambda, inline: map[string]string{
		"guard": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeTaskDefinition","ecs:ListTaskDefinitions","ecs:DeregisterTaskDefinition","iam:GetRole","iam:GetRolePolicy","iam:ListRolePolicies","iam:ListAttachedRolePolicies","iam:GetPolicy","iam:GetPolicyVersion","iam:ListEntitiesForPolicy","iam:ListInstanceProfilesForRole","ecs:ListClusters","events:ListEventBuses","events:ListRuleNamesByTarget","events:ListTargetsByRule","scheduler:ListSchedules","scheduler:GetSchedule","application-autoscaling:DescribeScalableTargets"],"Resource":"*"},{"Effect":"Allow","Action":["dynamodb:Query","dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:us-east-1:ACCOUNT:table/ecsguard-role-index"},{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:ACCOUNT:ecsguard-findings"}]}`,
	}},
	{name: "ecsguard-onregister", trust: trustLambda, inline: map[string]string{
		"guard": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeTaskDefinition","ecs:DeregisterTaskDefinition","iam:GetRole","iam:GetRolePolicy","iam:ListRolePolicies","iam:ListAttachedRolePolicies","iam:GetPolicy","iam:GetPolicyVersion"],"Resource":"*"},{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:us-east-1:ACCOUNT:table/ecsguard-role-index"},{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:ACCOUNT:ecsguard-findings"}]}`,
	}},
}

// sampleTaskDefinitions are registered from the requests of these
// events-testdata files, so each event's revision ARN exists.
var sampleTaskDefinitions = []string{
	"ecs-registertaskdefinition-fargate-compliant.json",      // web-api
	"ecs-registertaskdefinition-shared-role.json",            // billing
	"ecs-registertaskdefinition-admin-task-role.json",        // reports
	"ecs-registertaskdefinition-secrets-without-access.json", // payments
	"ecs-registertaskdefinition-ec2-without-task-role.json",  // legacy-worker
}

// Seed creates the sample account in cfg's account: the roles and policies
// above, the task definitions of the events-testdata RegisterTaskDefinition
// events, and the findings topic with a queue subscribed to it (raw delivery
// off, so the queue receives the SNS envelope, subject and attributes
// included).
func Seed(ctx context.Context, cfg aws.Config) (Sample, error) {
	account, err := accountOf(ctx, cfg)
	if err != nil {
		return Sample{}, err
	}
	s := Sample{Account: account, TaskDefinitions: map[string]string{}, Roles: map[string]string{}, Policies: map[string]string{}}
	sub := func(doc string) string { return strings.ReplaceAll(doc, "ACCOUNT", account) }

	im := iam.NewFromConfig(cfg)
	for _, p := range customerPolicies {
		out, err := im.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(p.name), PolicyDocument: aws.String(sub(p.doc))})
		if err != nil {
			return s, fmt.Errorf("seed policy %s: %w", p.name, err)
		}
		s.Policies[p.name] = aws.ToString(out.Policy.Arn)
	}
	for _, r := range sampleRoles {
		out, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), AssumeRolePolicyDocument: aws.String(sub(r.trust)),
			Tags: []iamtypes.Tag{{Key: aws.String("app"), Value: aws.String("ecsguard-sample")}}})
		if err != nil {
			return s, fmt.Errorf("seed role %s: %w", r.name, err)
		}
		s.Roles[r.name] = aws.ToString(out.Role.Arn)
		for _, m := range r.managed {
			arn := m
			if !strings.HasPrefix(m, "arn:") {
				arn = s.Policies[m]
			}
			if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(r.name), PolicyArn: aws.String(arn)}); err != nil {
				return s, fmt.Errorf("seed role %s: attach %s (are AWS managed policies loaded?): %w", r.name, arn, err)
			}
		}
		for name, doc := range r.inline {
			if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String(name), PolicyDocument: aws.String(sub(doc))}); err != nil {
				return s, fmt.Errorf("seed role %s: inline %s: %w", r.name, name, err)
			}
		}
	}

	ec := ecs.NewFromConfig(cfg)
	for _, file := range sampleTaskDefinitions {
		in, err := registration(file, account)
		if err != nil {
			return s, err
		}
		out, err := ec.RegisterTaskDefinition(ctx, in)
		if err != nil {
			return s, fmt.Errorf("seed task definition from %s: %w", file, err)
		}
		s.TaskDefinitions[aws.ToString(out.TaskDefinition.Family)] = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}

	if err := seedUsage(ctx, cfg, &s); err != nil {
		return s, err
	}

	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ecsguard-findings")})
	if err != nil {
		return s, fmt.Errorf("seed topic: %w", err)
	}
	s.TopicARN = aws.ToString(topic.TopicArn)
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ecsguard-findings-inbox")})
	if err != nil {
		return s, fmt.Errorf("seed queue: %w", err)
	}
	s.QueueURL = aws.ToString(queue.QueueUrl)
	queueARN := fmt.Sprintf("arn:aws:sqs:%s:%s:ecsguard-findings-inbox", cfg.Region, account)
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)}); err != nil {
		return s, fmt.Errorf("seed subscription: %w", err)
	}
	s.IndexTable = "ecsguard-role-index"
	if err := roleuse.CreateTable(ctx, dynamodb.NewFromConfig(cfg), s.IndexTable); err != nil {
		return s, fmt.Errorf("seed: %w", err)
	}
	s.LedgerTable = "ecsguard-events"
	if err := ledger.CreateTable(ctx, dynamodb.NewFromConfig(cfg), s.LedgerTable); err != nil {
		return s, fmt.Errorf("seed: %w", err)
	}
	return s, nil
}

// seedUsage creates what references the secondary roles: a cluster, an
// EventBridge rule and a Scheduler schedule that run tasks on it, an
// autoscaled service, an instance profile.
func seedUsage(ctx context.Context, cfg aws.Config, s *Sample) error {
	ec := ecs.NewFromConfig(cfg)
	cluster, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
	if err != nil {
		return fmt.Errorf("seed cluster: %w", err)
	}
	s.Cluster = aws.ToString(cluster.Cluster.ClusterArn)

	ev := eventbridge.NewFromConfig(cfg)
	rule, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("nightly-report"), ScheduleExpression: aws.String("cron(0 2 * * ? *)")})
	if err != nil {
		return fmt.Errorf("seed rule: %w", err)
	}
	s.EventRule = aws.ToString(rule.RuleArn)
	if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("nightly-report"), Targets: []evtypes.Target{{
		Id: aws.String("reports"), Arn: aws.String(s.Cluster), RoleArn: aws.String(s.Roles["ecsEventsRole"]),
		EcsParameters: &evtypes.EcsParameters{TaskDefinitionArn: aws.String(s.TaskDefinitions["reports"]), TaskCount: aws.Int32(1)},
	}}}); err != nil {
		return fmt.Errorf("seed rule target: %w", err)
	}

	sched, err := scheduler.NewFromConfig(cfg).CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: aws.String("hourly-payouts"), ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{
			Arn: aws.String(s.Cluster), RoleArn: aws.String(s.Roles["ecs-scheduler-runner"]),
			EcsParameters: &schedtypes.EcsParameters{TaskDefinitionArn: aws.String(s.TaskDefinitions["payments"])},
		},
	})
	if err != nil {
		return fmt.Errorf("seed schedule: %w", err)
	}
	s.Schedule = aws.ToString(sched.ScheduleArn)

	if _, err := ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web-api"),
		TaskDefinition: aws.String(s.TaskDefinitions["web-api"]), DesiredCount: aws.Int32(2)}); err != nil {
		return fmt.Errorf("seed service: %w", err)
	}
	s.ScalableTarget = "service/prod/web-api"
	if _, err := applicationautoscaling.NewFromConfig(cfg).RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(s.ScalableTarget),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(6),
		RoleARN: aws.String(s.Roles["ecsAutoscaleRole"]),
	}); err != nil {
		return fmt.Errorf("seed scalable target: %w", err)
	}

	im := iam.NewFromConfig(cfg)
	profile, err := im.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ecs-hosts")})
	if err != nil {
		return fmt.Errorf("seed instance profile: %w", err)
	}
	s.InstanceProfile = aws.ToString(profile.InstanceProfile.Arn)
	if _, err := im.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ecs-hosts"), RoleName: aws.String("ecs-hosts")}); err != nil {
		return fmt.Errorf("seed instance profile role: %w", err)
	}
	return nil
}

// registration reads the request of a RegisterTaskDefinition event, moved
// into account. The SDK's input type decodes it: encoding/json matches the
// API's camelCase names to its fields case-insensitively.
func registration(file, account string) (*ecs.RegisterTaskDefinitionInput, error) {
	b, err := fs.ReadFile(eventstestdata.FS, file)
	if err != nil {
		return nil, err
	}
	var e struct {
		Detail struct {
			RequestParameters json.RawMessage `json:"requestParameters"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var in ecs.RegisterTaskDefinitionInput
	req := strings.ReplaceAll(string(e.Detail.RequestParameters), SampleAccount, account)
	if err := json.Unmarshal([]byte(req), &in); err != nil {
		return nil, fmt.Errorf("%s: requestParameters: %w", file, err)
	}
	return &in, nil
}

// accountOf is the account cfg's requests go to.
func accountOf(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("emulator: who am I: %w", err)
	}
	return aws.ToString(out.Account), nil
}
