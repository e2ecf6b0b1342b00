//go:build ignore

// gen_simulate writes testdata/simulate/corpus.jsonl, the request corpus of
// the differential test against @cloud-copilot/iam-simulate
// (simulate_test.go). The corpus is deterministic: a fixed seed and a PCG
// source, so regenerating it without changing this file gives the same bytes.
// The format is described in testdata/simulate/README.md.
//
// Run from this directory: go run gen_simulate.go
// then produce the reference answers: node tools/node/simulate.mjs
// (make simulate does both).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
)

const (
	outPath  = "testdata/simulate/corpus.jsonl"
	seedHi   = 0x65637367_75617264 // "ecsguard"
	seedLo   = 0x73696d75_6c617465 // "simulate"
	numSets  = 700
	perSet   = 30
	account  = "111122223333"
	region   = "us-east-1"
	region2  = "eu-west-1"
	encodedP = 0.06 // share of generated policies stored URL-encoded
)

func regional(svc, reg, rest string) string {
	return "arn:aws:" + svc + ":" + reg + ":" + account + ":" + rest
}

// ---------------------------------------------------------------------------
// Requests: real actions with resource ARNs valid for the action's resource
// type (iam-simulate validates both). Every resource is owned by the account
// of the simulated principal.

type target struct {
	service  string
	action   string
	resource string
}

type group struct {
	actions   []string
	resources []string
}

var (
	s3Objects = []string{
		"arn:aws:s3:::app-config/prod/settings.json",
		"arn:aws:s3:::app-config/dev/settings.json",
		"arn:aws:s3:::app-config/prod/Settings.JSON",
		"arn:aws:s3:::app-config-old/prod/settings.json",
		"arn:aws:s3:::App-Config/prod/settings.json",
		"arn:aws:s3:::artifacts/builds/app-1.2.3.tar.gz",
		"arn:aws:s3:::artifacts/builds/app:latest",
		"arn:aws:s3:::logs-111122223333/ecs/2024/01/app.log",
		"arn:aws:s3:::home/alice/notes.txt",
		"arn:aws:s3:::home/bob/notes.txt",
		"arn:aws:s3:::home/shared/notes.txt",
		"arn:aws:s3:::home/111122223333/notes.txt",
		"arn:aws:s3:::home/${aws:username}/notes.txt",
		"arn:aws:s3:::app-config/prod:v2/settings.json",
		"arn:aws:s3:::a1/k",
		"arn:aws:s3:::ab/k",
	}
	s3Buckets = []string{
		"arn:aws:s3:::app-config",
		"arn:aws:s3:::app-config-old",
		"arn:aws:s3:::App-Config",
		"arn:aws:s3:::artifacts",
		"arn:aws:s3:::a1",
		"arn:aws:s3:::home",
	}
	secrets = []string{
		regional("secretsmanager", region, "secret:prod/db-AbCdEf"),
		regional("secretsmanager", region, "secret:prod/api-key-Q1w2E3"),
		regional("secretsmanager", region, "secret:dev/db-XyZ123"),
		regional("secretsmanager", region, "secret:production/db-AbCdEf"),
		regional("secretsmanager", region, "secret:Prod/db-AbCdEf"),
		regional("secretsmanager", region2, "secret:prod/db-AbCdEf"),
	}
	parameters = []string{
		regional("ssm", region, "parameter/prod/app/db-url"),
		regional("ssm", region, "parameter/prod/x"),
		regional("ssm", region, "parameter/dev/app/db-url"),
		regional("ssm", region, "parameter/prod-old/x"),
		regional("ssm", region, "parameter/PROD/x"),
		regional("ssm", region2, "parameter/prod/app/db-url"),
	}
	keys = []string{
		regional("kms", region, "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		regional("kms", region, "key/0987dcba-09fe-87dc-65ba-ab0987654321"),
		regional("kms", region2, "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
	}
	logStreams = []string{
		regional("logs", region, "log-group:/ecs/app:log-stream:ecs/app/0123456789abcdef"),
		regional("logs", region, "log-group:/ecs/app-worker:log-stream:ecs/worker/fedcba9876543210"),
		regional("logs", region, "log-group:/aws/lambda/orders:log-stream:2024/01/01/[$LATEST]0a1b2c"),
		regional("logs", region, "log-group:/ECS/app:log-stream:ecs/app/0123456789abcdef"),
	}
	logGroups = []string{
		regional("logs", region, "log-group:/ecs/app"),
		regional("logs", region, "log-group:/ecs/app-worker"),
		regional("logs", region, "log-group:/aws/lambda/orders"),
	}
	repos = []string{
		regional("ecr", region, "repository/app"),
		regional("ecr", region, "repository/app-worker"),
		regional("ecr", region, "repository/team/app"),
		regional("ecr", region, "repository/App"),
	}
	roles = []string{
		"arn:aws:iam::" + account + ":role/ecsTaskExecutionRole",
		"arn:aws:iam::" + account + ":role/ecs-task-app",
		"arn:aws:iam::" + account + ":role/service-role/ecs-task-app",
		"arn:aws:iam::" + account + ":role/admin",
		"arn:aws:iam::" + account + ":role/EcsTaskExecutionRole",
		"arn:aws:iam::" + account + ":role/ecs-task-app-old",
	}
	users = []string{
		"arn:aws:iam::" + account + ":user/alice",
		"arn:aws:iam::" + account + ":user/bob",
		"arn:aws:iam::" + account + ":user/admins/carol",
	}
	taskDefs = []string{
		regional("ecs", region, "task-definition/app:3"),
		regional("ecs", region, "task-definition/app-worker:12"),
		regional("ecs", region, "task-definition/App:1"),
		regional("ecs", region2, "task-definition/app:3"),
	}
	tasks = []string{
		regional("ecs", region, "task/prod/0123456789abcdef0123456789abcdef"),
		regional("ecs", region, "task/dev/fedcba9876543210fedcba9876543210"),
	}
	clusters = []string{
		regional("ecs", region, "cluster/prod"),
		regional("ecs", region, "cluster/dev"),
	}
	ecsServices = []string{
		regional("ecs", region, "service/prod/web"),
		regional("ecs", region, "service/dev/web"),
	}
	tables = []string{
		regional("dynamodb", region, "table/orders"),
		regional("dynamodb", region, "table/orders-archive"),
		regional("dynamodb", region, "table/Orders"),
	}
	instances = []string{
		regional("ec2", region, "instance/i-0123456789abcdef0"),
		regional("ec2", region2, "instance/i-0fedcba9876543210"),
	}
	queues    = []string{regional("sqs", region, "orders"), regional("sqs", region, "orders-dlq"), regional("sqs", region, "Orders")}
	topics    = []string{regional("sns", region, "alerts"), regional("sns", region, "alerts-prod")}
	functions = []string{regional("lambda", region, "function:orders"), regional("lambda", region, "function:orders-v2")}
	fileSys   = []string{regional("elasticfilesystem", region, "file-system/fs-0123abcd")}
	all       = []string{"*"}
)

var groups = []group{
	{[]string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, s3Objects},
	{[]string{"s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketPolicy"}, s3Buckets},
	{[]string{"s3:ListAllMyBuckets"}, all},
	{[]string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, secrets},
	{[]string{"secretsmanager:ListSecrets"}, all},
	{[]string{"ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"}, parameters},
	{[]string{"ssm:DescribeParameters"}, all},
	{[]string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"}, keys},
	{[]string{"kms:ListKeys"}, all},
	{[]string{"logs:PutLogEvents", "logs:CreateLogStream"}, logStreams},
	{[]string{"logs:CreateLogGroup"}, logGroups},
	{[]string{"logs:DescribeLogGroups"}, all},
	{[]string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:PutImage"}, repos},
	{[]string{"ecr:GetAuthorizationToken"}, all},
	{[]string{"iam:PassRole", "iam:GetRole", "iam:AttachRolePolicy"}, roles},
	{[]string{"iam:CreateUser", "iam:CreateAccessKey"}, users},
	{[]string{"iam:ListRoles"}, all},
	{[]string{"sts:AssumeRole"}, roles},
	{[]string{"ecs:RunTask", "ecs:RegisterTaskDefinition"}, taskDefs},
	{[]string{"ecs:DescribeTasks", "ecs:StopTask"}, tasks},
	{[]string{"ecs:ExecuteCommand", "ecs:CreateCluster"}, clusters},
	{[]string{"ecs:UpdateService"}, ecsServices},
	{[]string{"ecs:ListClusters"}, all},
	{[]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}, tables},
	{[]string{"dynamodb:Query"}, []string{regional("dynamodb", region, "table/orders/index/by-date")}},
	{[]string{"dynamodb:ListTables"}, all},
	{[]string{"ec2:DescribeInstances", "ec2:DescribeSubnets"}, all},
	{[]string{"ec2:TerminateInstances"}, instances},
	{[]string{"sqs:SendMessage", "sqs:ReceiveMessage"}, queues},
	{[]string{"sns:Publish"}, topics},
	{[]string{"lambda:InvokeFunction"}, functions},
	{[]string{"elasticfilesystem:ClientMount"}, fileSys},
	{[]string{"xray:PutTraceSegments", "ssmmessages:CreateControlChannel", "organizations:ListAccounts"}, all},
}

func targets() []target {
	var out []target
	for _, g := range groups {
		for _, a := range g.actions {
			svc, _, _ := strings.Cut(a, ":")
			for _, r := range g.resources {
				out = append(out, target{svc, a, r})
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Policy building blocks.

type obj = map[string]any

func doc(stmts ...obj) obj {
	l := make([]any, len(stmts))
	for i, s := range stmts {
		l[i] = s
	}
	return obj{"Version": "2012-10-17", "Statement": l}
}

func allow(action any, resource any) obj {
	return obj{"Effect": "Allow", "Action": action, "Resource": resource}
}
func deny(action any, resource any) obj {
	return obj{"Effect": "Deny", "Action": action, "Resource": resource}
}

func with(s obj, kv ...any) obj {
	for i := 0; i+1 < len(kv); i += 2 {
		s[kv[i].(string)] = kv[i+1]
	}
	return s
}

func list(s ...string) []any {
	l := make([]any, len(s))
	for i, v := range s {
		l[i] = v
	}
	return l
}

const passedToECS = "ecs-tasks.amazonaws.com"

type named struct {
	name string
	doc  obj
}

// Identity policies as ECS task roles and the people who deploy them have
// them: AWS managed policies and typical inline policies.
func namedIdentity() []named {
	acctRole := func(r string) string { return "arn:aws:iam::" + account + ":role/" + r }
	return []named{
		{"AmazonECSTaskExecutionRolePolicy", doc(allow(list("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
			"ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"), "*"))},
		{"AdministratorAccess", obj{"Version": "2012-10-17", "Statement": obj{"Effect": "Allow", "Action": "*", "Resource": "*"}}},
		{"PowerUserAccess", doc(
			obj{"Effect": "Allow", "NotAction": list("iam:*", "organizations:*", "account:*"), "Resource": "*"},
			allow(list("account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions",
				"iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
				"organizations:DescribeOrganization"), "*"))},
		{"ReadOnlyStyle", doc(allow(list("s3:Get*", "s3:List*", "dynamodb:Get*", "dynamodb:Query", "dynamodb:List*",
			"ec2:Describe*", "ecs:Describe*", "ecs:List*", "logs:Describe*", "iam:Get*", "iam:List*", "kms:List*",
			"ssm:Describe*", "secretsmanager:List*", "secretsmanager:Describe*"), "*"))},
		{"AmazonS3FullAccess", doc(allow(list("s3:*", "s3-object-lambda:*"), "*"))},
		{"S3MixedCase", doc(allow("S3:getobject", "arn:aws:s3:::app-config/*"), allow("S3:List*", "arn:aws:s3:::app-config"))},
		{"AppSecrets", doc(
			with(allow("secretsmanager:GetSecretValue", regional("secretsmanager", region, "secret:prod/*")), "Sid", "Secrets"),
			with(allow(list("ssm:GetParameters", "ssm:GetParameter"), regional("ssm", region, "parameter/prod/*")), "Sid", "Params"),
			with(allow("kms:Decrypt", regional("kms", region, "key/*")), "Sid", "Decrypt",
				"Condition", obj{"StringEquals": obj{"kms:ViaService": list("secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com")}}))},
		{"PassRoleForECS", doc(with(allow("iam:PassRole", acctRole("ecs-*")),
			"Condition", obj{"StringEquals": obj{"iam:PassedToService": passedToECS}}))},
		{"PassRoleAnywhere", obj{"Version": "2012-10-17", "Statement": obj{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}}},
		{"PassRoleTagged", doc(with(allow("iam:PassRole", "*"),
			"Condition", obj{"StringEquals": obj{"iam:PassedToService": passedToECS, "aws:ResourceTag/team": "payments"}}))},
		{"DenyInsecureTransport", doc(with(deny("*", "*"), "Condition", obj{"Bool": obj{"aws:SecureTransport": "false"}}))},
		{"DenyIAM", doc(deny("iam:*", "*"))},
		{"AppBucket", doc(allow(list("s3:GetObject", "s3:PutObject"), "arn:aws:s3:::app-config/*"),
			allow("s3:ListBucket", "arn:aws:s3:::app-config"))},
		{"DenyOutsideAppBucket", doc(allow("s3:*", "*"),
			obj{"Effect": "Deny", "Action": "s3:*", "NotResource": list("arn:aws:s3:::app-config", "arn:aws:s3:::app-config/*")})},
		{"EcsExec", doc(allow(list("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
			"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"), "*"))},
		{"TagBasedEcs", doc(with(allow("ecs:*", "*"), "Condition", obj{"StringEquals": obj{"aws:ResourceTag/team": "payments"}}))},
		{"OrdersTable", doc(allow(list("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"),
			list(regional("dynamodb", region, "table/orders"), regional("dynamodb", region, "table/orders/index/*"))))},
		{"HomeDirectory", doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"),
			allow("s3:ListBucket", "arn:aws:s3:::home"),
			allow("iam:CreateAccessKey", "arn:aws:iam::"+account+":user/${aws:username}"))},
		{"EcsDeployer", doc(allow(list("ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:RunTask", "ecs:DescribeTasks"), "*"),
			with(allow("iam:PassRole", list(acctRole("ecs-*"), acctRole("ecsTaskExecutionRole"))),
				"Condition", obj{"StringLike": obj{"iam:PassedToService": passedToECS}}))},
		{"CloudWatchAgent", doc(allow("logs:*", "arn:aws:logs:*:*:*"), allow(list("xray:PutTraceSegments", "ssm:GetParameter"), "*"))},
		{"DenyOutsideRegion", doc(allow("*", "*"), with(obj{"Effect": "Deny", "NotAction": list("iam:*", "sts:*", "organizations:*"), "Resource": "*"},
			"Condition", obj{"StringNotEquals": obj{"aws:RequestedRegion": list(region)}}))},
		{"DenyPassRoleExceptECS", doc(allow(list("iam:PassRole", "iam:GetRole"), "*"),
			with(deny("iam:PassRole", "*"), "Condition", obj{"StringNotEquals": obj{"iam:PassedToService": passedToECS}}))},
		{"SecretsNotResource", doc(obj{"Effect": "Allow", "Action": "secretsmanager:*",
			"NotResource": regional("secretsmanager", region, "secret:prod/*")})},
		{"ParamsAnyRegion", doc(allow(list("ssm:GetParameter*"), "arn:aws:ssm:*:parameter/prod/*"),
			allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:secret:prod/*"))},
		{"UpperCaseArnSegments", doc(allow("ssm:GetParameters", "arn:aws:SSM:us-east-1:"+account+":parameter/prod/*"),
			allow(list("logs:CreateLogStream", "logs:PutLogEvents"), "arn:aws:logs:US-EAST-1:"+account+":log-group:/ecs/*"))},
		{"ReadTaggedSecrets", doc(with(allow(list("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"), "*"),
			"Condition", obj{"StringEquals": obj{"aws:ResourceTag/env": "prod"}}),
			allow("secretsmanager:ListSecrets", "*"))},
	}
}

// Permissions boundaries: narrower, wider, disjoint, NotAction, with Deny,
// conditional, resource-scoped.
func namedBoundaries() []named {
	return []named{
		{"BoundaryNarrow", doc(allow(list("s3:Get*", "s3:List*", "logs:*", "ecr:*", "ssm:GetParameter*",
			"secretsmanager:GetSecretValue", "kms:Decrypt"), "*"))},
		{"BoundaryWide", doc(allow("*", "*"))},
		{"BoundaryDisjoint", doc(allow(list("dynamodb:*", "sqs:*", "sns:*"), "*"))},
		{"BoundaryNotAction", doc(obj{"Effect": "Allow", "NotAction": list("iam:*", "sts:*", "organizations:*"), "Resource": "*"})},
		{"BoundaryDenyIAM", doc(allow("*", "*"), deny("iam:*", "*"))},
		{"BoundaryConditional", doc(with(allow("*", "*"), "Condition", obj{"StringEquals": obj{"aws:RequestedRegion": region}}))},
		{"BoundaryResourceScoped", doc(allow("*", list("arn:aws:s3:::app-config", "arn:aws:s3:::app-config/*",
			regional("secretsmanager", region, "secret:prod/*"), "arn:aws:logs:*:*:*")),
			allow("ecr:GetAuthorizationToken", "*"))},
		{"BoundaryPassRole", doc(allow("*", "*"),
			obj{"Effect": "Deny", "Action": "iam:PassRole", "NotResource": "arn:aws:iam::" + account + ":role/ecs-*"})},
		{"BoundaryDenyInsecure", doc(allow("*", "*"), with(deny("*", "*"), "Condition", obj{"Bool": obj{"aws:SecureTransport": "false"}}))},
		{"BoundaryPassRoleConditional", doc(allow(list("s3:*", "logs:*", "ecr:*"), "*"),
			with(allow("iam:PassRole", "*"), "Condition", obj{"StringEquals": obj{"iam:PassedToService": passedToECS}}))},
		{"BoundaryDenyUnlessMFA", doc(allow("*", "*"), with(obj{"Effect": "Deny", "NotAction": list("iam:ListMFADevices", "sts:GetSessionToken"), "Resource": "*"},
			"Condition", obj{"BoolIfExists": obj{"aws:MultiFactorAuthPresent": "false"}}))},
		{"BoundaryConditionalDeny", doc(allow("*", "*"), with(deny(list("s3:*", "secretsmanager:*"), "*"),
			"Condition", obj{"IpAddress": obj{"aws:SourceIp": "203.0.113.0/24"}}))},
		{"BoundaryDenyForUsers", doc(allow("*", "*"), with(deny("*", "*"),
			"Condition", obj{"StringEquals": obj{"aws:PrincipalType": "User"}}))},
		{"BoundaryDenyPassRoleElsewhere", doc(allow("*", "*"), with(deny("iam:PassRole", "*"),
			"Condition", obj{"StringNotEquals": obj{"iam:PassedToService": passedToECS}}))},
	}
}

// Action patterns per service, for Action and NotAction: exact names,
// wildcards ("s3:*", "s3:Get*", "s3:*Object", "?"), mixed case.
var actionPool = map[string][]string{
	"s3": {"s3:GetObject", "s3:Get*", "s3:*Object", "s3:*", "S3:getobject", "s3:PutObject", "s3:List*", "s3:ListBucket",
		"s3:Get?bject", "s3:DeleteObject", "s3:*Bucket*", "s3:ListAllMyBuckets", "s3:GetObj", "s3:GetObject*"},
	"secretsmanager": {"secretsmanager:GetSecretValue", "secretsmanager:*", "secretsmanager:Describe*",
		"SecretsManager:GetSecretValue", "secretsmanager:List*", "secretsmanager:Get*"},
	"ssm":               {"ssm:GetParameters", "ssm:GetParameter", "ssm:GetParameter?", "ssm:GetParameter*", "ssm:*", "ssm:Describe*", "ssm:GetParameters*"},
	"kms":               {"kms:Decrypt", "kms:*", "kms:GenerateDataKey*", "kms:Encrypt", "KMS:Decrypt", "kms:List*", "kms:*crypt"},
	"logs":              {"logs:CreateLogStream", "logs:PutLogEvents", "logs:*", "logs:Create*", "logs:Describe*", "logs:PutLog*", "Logs:putlogevents"},
	"ecr":               {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:Batch*", "ecr:*", "ecr:Get*", "ecr:PutImage"},
	"iam":               {"iam:PassRole", "iam:*", "iam:Get*", "iam:Pass*", "iam:List*", "iam:Create*", "IAM:passrole", "iam:AttachRolePolicy", "iam:PassRol?"},
	"sts":               {"sts:AssumeRole", "sts:*", "sts:Assume*", "sts:AssumeRoleWith*"},
	"ecs":               {"ecs:RunTask", "ecs:*", "ecs:Describe*", "ecs:*Task", "ecs:ExecuteCommand", "ecs:UpdateService", "ecs:List*", "ecs:RegisterTaskDefinition", "ecs:*Task*"},
	"dynamodb":          {"dynamodb:GetItem", "dynamodb:*Item", "dynamodb:*", "dynamodb:Query", "dynamodb:Get*", "dynamodb:List*"},
	"ec2":               {"ec2:Describe*", "ec2:*", "ec2:DescribeInstances", "ec2:Describe?nstances", "ec2:TerminateInstances", "EC2:describe*"},
	"sqs":               {"sqs:SendMessage", "sqs:*Message", "sqs:*", "sqs:ReceiveMessage"},
	"sns":               {"sns:Publish", "sns:*"},
	"lambda":            {"lambda:InvokeFunction", "lambda:Invoke*", "lambda:*"},
	"xray":              {"xray:PutTraceSegments", "xray:*"},
	"ssmmessages":       {"ssmmessages:*", "ssmmessages:Create*"},
	"organizations":     {"organizations:*", "organizations:List*"},
	"elasticfilesystem": {"elasticfilesystem:Client*", "elasticfilesystem:ClientMount"},
}

// Resource patterns per service: wildcards with * and ?, case differences,
// prefixes that must not match, policy variables.
var resourcePool = map[string][]string{
	"s3": {"arn:aws:s3:::*", "arn:aws:s3:::app-config/*", "arn:aws:s3:::app-config", "arn:aws:s3:::app-config*",
		"arn:aws:s3:::app-config/prod/*", "arn:aws:s3:::App-Config/*", "arn:aws:s3:::artifacts/builds/*", "arn:aws:s3:::a?/k",
		"arn:aws:s3:::a?", "arn:aws:s3:::*/prod/*", "arn:aws:s3:::app-config/*/settings.json", "arn:aws:s3:::logs-111122223333/*",
		"arn:aws:s3:::artifacts/builds/app:*", "arn:aws:s3:::app-config/prod/settings.json", "arn:aws:s3:::app-config/prod/settings.jso?",
		"arn:aws:s3:::app", "arn:aws:s3:::app-config/prod/settings.json?", "arn:*:s3:::artifacts/*"},
	"secretsmanager": {regional("secretsmanager", region, "secret:prod/*"), regional("secretsmanager", region, "secret:prod*"),
		regional("secretsmanager", region, "secret:prod/db-??????"), regional("secretsmanager", region, "secret:prod/db-*"),
		"arn:aws:secretsmanager:*:" + account + ":secret:prod/*", regional("secretsmanager", region, "secret:*"),
		regional("secretsmanager", region, "secret:Prod/*"), regional("secretsmanager", region, "secret:prod/db-AbCdEf"),
		regional("secretsmanager", region, "secret:prod/db")},
	"ssm": {regional("ssm", region, "parameter/prod/*"), regional("ssm", region, "parameter/prod*"), "arn:aws:ssm:*:*:parameter/prod/*",
		regional("ssm", region, "parameter/*"), regional("ssm", region, "parameter/prod/app/*"), regional("ssm", region, "parameter/PROD/*"),
		regional("ssm", region2, "parameter/*"), regional("ssm", region, "parameter/prod/x"), "arn:aws:ssm:us-*:" + account + ":parameter/prod/?"},
	"kms": {regional("kms", region, "key/*"), "arn:aws:kms:*:" + account + ":key/*", regional("kms", region, "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		regional("kms", region, "alias/app"), regional("kms", region, "key/1234abcd-*")},
	"logs": {regional("logs", region, "log-group:/ecs/*"), "arn:aws:logs:*:*:*", regional("logs", region, "log-group:/ecs/app:*"),
		regional("logs", region, "log-group:/ecs/app:log-stream:*"), regional("logs", region, "log-group:/ecs/app"),
		regional("logs", region, "log-group:/aws/lambda/*"), regional("logs", region, "*"), regional("logs", region, "log-group:/ecs/app*")},
	"ecr": {regional("ecr", region, "repository/app"), regional("ecr", region, "repository/app*"), regional("ecr", region, "repository/*"),
		"arn:aws:ecr:*:" + account + ":repository/team/*", regional("ecr", region, "repository/App")},
	"iam": {"arn:aws:iam::" + account + ":role/ecs-*", "arn:aws:iam::" + account + ":role/*", "arn:aws:iam::" + account + ":role/ecsTaskExecutionRole",
		"arn:aws:iam::*:role/ecs-task-app", "arn:aws:iam::" + account + ":role/service-role/*", "arn:aws:iam::" + account + ":user/*",
		"arn:aws:iam::" + account + ":role/ecs-task-?pp", "arn:aws:iam::" + account + ":role/*ecs*", "arn:aws:iam::" + account + ":role/ecs-task-app"},
	"sts": {"arn:aws:iam::" + account + ":role/ecs-*", "arn:aws:iam::" + account + ":role/*", "arn:aws:iam::" + account + ":role/admin"},
	"ecs": {regional("ecs", region, "task-definition/app:*"), regional("ecs", region, "task-definition/app*"), "arn:aws:ecs:*:" + account + ":*",
		regional("ecs", region, "task/prod/*"), regional("ecs", region, "cluster/prod"), regional("ecs", region, "service/prod/*"),
		regional("ecs", region, "task-definition/App:*"), regional("ecs", region, "task-definition/app:3")},
	"dynamodb": {regional("dynamodb", region, "table/orders"), regional("dynamodb", region, "table/orders*"),
		regional("dynamodb", region, "table/orders/index/*"), "arn:aws:dynamodb:*:*:table/*"},
	"ec2":               {regional("ec2", region, "instance/*"), "arn:aws:ec2:*:" + account + ":instance/i-0123*"},
	"sqs":               {regional("sqs", region, "orders"), regional("sqs", region, "orders*"), "arn:aws:sqs:*:" + account + ":*"},
	"sns":               {regional("sns", region, "alerts*"), regional("sns", region, "alerts")},
	"lambda":            {regional("lambda", region, "function:orders"), regional("lambda", region, "function:orders*")},
	"xray":              {"*"},
	"ssmmessages":       {"*"},
	"organizations":     {"*"},
	"elasticfilesystem": {regional("elasticfilesystem", region, "file-system/*")},
}

// Resource patterns only used in Allow statements' Resource: policy
// variables (with and without defaults, decided or not for a task role
// session), wildcards inside an ARN segment and ending one, short ARNs, and
// case differences in the partition/service/region/account segments
// (where iam-simulate and the evaluator are known to disagree, see
// known.json).
var allowOnlyResources = []string{
	"arn:aws:s3:::home/${aws:username}/*",
	"arn:aws:iam::" + account + ":user/${aws:username}",
	"arn:aws:s3:::${aws:username}-config/*",
	"arn:aws:s3:::home/${aws:username, 'shared'}/*",
	"arn:aws:s3:::home/${aws:PrincipalAccount}/*",
	"arn:aws:s3:::home/${aws:PrincipalTag/team, 'shared'}/*",
	"arn:aws:s3:::home/${aws:PrincipalTag/team}/*",
	"arn:aws:ssm:us-east-1:" + account + ":parameter/${aws:PrincipalAccount}/*",
	"arn:aws:ssm:*:parameter/prod/*",
	"arn:aws:secretsmanager:*:secret:prod/*",
	"arn:aws:SSM:us-east-1:" + account + ":parameter/prod/*",
	"arn:aws:logs:US-EAST-1:" + account + ":log-group:/ecs/*",
	// '*' inside a segment stays in it; '*' ending a segment may cross ':'.
	"arn:aws:ssm:us-*-1:" + account + ":parameter/prod/*",
	"arn:aws:ssm:*-1:*:parameter/*",
	"arn:aws:secretsmanager:us-east-1:1111*3333:secret:prod/*",
	"arn:aws:iam::1111*:role/ecs-*",
	"arn:aws:s3:::app-config/*/settings.json",
	"arn:aws:s3:::app-config/prod*settings.json",
	"arn:aws:logs:us-east-1:" + account + ":log-group:/ecs/app*:*",
	"arn:aws:ecs:us-*:" + account + ":task-definition/app:*",
	// Short ARNs.
	"arn:aws:ssm:*",
	"arn:aws:secretsmanager:us-east-1:*",
	"arn:aws:iam::*",
	"arn:aws:ecs:*:*",
	"arn:*",
}

var allowConditions = []obj{
	{"StringEquals": obj{"aws:ResourceTag/env": "prod"}},
	{"Bool": obj{"aws:SecureTransport": "true"}},
	{"Bool": obj{"aws:SecureTransport": true}},
	{"StringEquals": obj{"aws:PrincipalTag/team": "payments"}},
	{"IpAddress": obj{"aws:SourceIp": list("10.0.0.0/8", "192.168.0.0/16")}},
	{"StringEquals": obj{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
	{"ArnLike": obj{"ecs:cluster": regional("ecs", region, "cluster/prod")}},
	{"Null": obj{"aws:ResourceTag/env": "false"}},
	{"NumericLessThan": obj{"aws:MultiFactorAuthAge": 3600}},
	{"StringEqualsIfExists": obj{"aws:ResourceTag/team": "payments"}},
	{"StringEquals": obj{"iam:PassedToService": passedToECS, "aws:ResourceTag/env": "prod"}},
	{"StringEquals": obj{"iam:PassedToService": passedToECS}, "Bool": obj{"aws:SecureTransport": "true"}},
	// Decided for a task role session.
	{"StringEquals": obj{"aws:PrincipalType": "AssumedRole"}},
	{"StringEquals": obj{"aws:username": "alice"}},
	{"StringNotEquals": obj{"aws:username": "bob"}},
	{"Bool": obj{"aws:MultiFactorAuthPresent": "true"}},
	{"ArnLike": obj{"aws:PrincipalArn": "arn:aws:iam::" + account + ":role/ecsguard-*"}},
	{"StringEquals": obj{"aws:PrincipalAccount": "444455556666"}},
	{"StringLike": obj{"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}},
	{"StringEquals": obj{"aws:PrincipalArn": "${aws:username}"}},
	// Null "true" and ForAllValues in Allows, on keys absent, present or unknown.
	{"Null": obj{"aws:username": "true"}},
	{"Null": obj{"aws:SecureTransport": "true"}},
	{"Null": obj{"aws:ResourceTag/env": "true"}},
	{"ForAllValues:StringEquals": obj{"aws:TagKeys": list("env", "team")}},
	{"ForAllValues:StringLike": obj{"aws:username": "a*"}},
	{"ForAnyValue:StringEquals": obj{"aws:username": list("alice", "bob")}},
	{"BoolIfExists": obj{"aws:MultiFactorAuthPresent": "false"}},
}

var passRoleConditions = []obj{
	{"StringEquals": obj{"iam:PassedToService": passedToECS}},
	{"StringLike": obj{"iam:PassedToService": list(passedToECS, "ecs.amazonaws.com")}},
	{"StringEquals": obj{"IAM:PassedToService": passedToECS}},
	{"ForAnyValue:StringEquals": obj{"iam:PassedToService": passedToECS}},
}

var denyConditions = []obj{
	{"Bool": obj{"aws:SecureTransport": "false"}},
	{"StringNotEquals": obj{"aws:RequestedRegion": list(region, region2)}},
	{"StringNotEquals": obj{"aws:ResourceTag/env": "prod"}},
	{"StringNotEquals": obj{"iam:PassedToService": passedToECS}},
	{"Null": obj{"aws:MultiFactorAuthAge": "true"}},
	{"NotIpAddress": obj{"aws:SourceIp": "10.0.0.0/8"}},
	// AWS's "deny unless MFA" guard, and Denies a task session decides.
	{"BoolIfExists": obj{"aws:MultiFactorAuthPresent": "false"}},
	{"StringNotEquals": obj{"aws:PrincipalType": "AssumedRole"}},
	{"Null": obj{"aws:username": "true"}},
	{"StringEquals": obj{"aws:PrincipalArn": "arn:aws:iam::" + account + ":role/ecsguard-sim"}},
	{"ForAnyValue:StringEquals": obj{"aws:TagKeys": list("secret")}},
	{"StringNotEqualsIfExists": obj{"aws:SourceVpce": "vpce-0a1b2c3d"}},
}

// ---------------------------------------------------------------------------

type gen struct {
	r        *rand.Rand
	services []string // sorted keys of actionPool
}

func (g *gen) pick(l []string) string    { return l[g.r.IntN(len(l))] }
func (g *gen) chance(p float64) bool     { return g.r.Float64() < p }
func (g *gen) pickObj(l []obj) obj       { return l[g.r.IntN(len(l))] }
func (g *gen) between(lo, hi int) int    { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) pickNamed(l []named) named { return l[g.r.IntN(len(l))] }

// element returns a string or, often, a list of distinct strings.
func (g *gen) element(vals []string) any {
	if len(vals) == 1 && g.chance(0.5) {
		return vals[0]
	}
	return list(vals...)
}

func (g *gen) distinct(n int, from func() string) []string {
	var out []string
	for tries := 0; len(out) < n && tries < 10*n; tries++ {
		v := from()
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (g *gen) statement(focus []string) obj {
	s := obj{}
	isDeny := g.chance(0.2)
	if isDeny {
		s["Effect"] = "Deny"
	} else {
		s["Effect"] = "Allow"
	}
	if g.chance(0.15) {
		s["Sid"] = fmt.Sprintf("S%d", g.r.IntN(1000))
	}

	// Actions: mostly from the focus services, sometimes "*" or another service.
	var actions []string
	switch {
	case g.chance(0.06):
		actions = []string{"*"}
	default:
		actions = g.distinct(g.between(1, 4), func() string {
			svc := g.pick(focus)
			if g.chance(0.15) {
				svc = g.pick(g.services)
			}
			return g.pick(actionPool[svc])
		})
	}
	passRole := false
	for _, a := range actions {
		if strings.EqualFold(a, "iam:PassRole") || a == "iam:*" || a == "iam:Pass*" || a == "IAM:passrole" || a == "iam:PassRol?" || a == "*" {
			passRole = true
		}
	}
	if g.chance(0.1) && actions[0] != "*" {
		s["NotAction"] = g.element(actions)
	} else {
		s["Action"] = g.element(actions)
	}

	// Resources.
	switch {
	case g.chance(0.4):
		s["Resource"] = "*"
	case g.chance(0.1):
		// NotResource: only patterns both sides read the same way.
		svc := g.pick(focus)
		s["NotResource"] = g.element(g.distinct(g.between(1, 2), func() string { return g.pick(resourcePool[svc]) }))
	default:
		res := g.distinct(g.between(1, 3), func() string {
			svc := g.pick(focus)
			if g.chance(0.1) {
				svc = g.pick(g.services)
			}
			return g.pick(resourcePool[svc])
		})
		if !isDeny && g.chance(0.12) {
			res = append(res, g.pick(allowOnlyResources))
		}
		if g.chance(0.05) {
			res = append(res, "*")
		}
		s["Resource"] = g.element(res)
	}

	// Conditions.
	switch {
	case isDeny && g.chance(0.5):
		s["Condition"] = g.pickObj(denyConditions)
	case !isDeny && passRole && g.chance(0.5):
		s["Condition"] = g.pickObj(passRoleConditions)
	case !isDeny && g.chance(0.25):
		s["Condition"] = g.pickObj(allowConditions)
	}
	return s
}

func (g *gen) policy(focus []string) obj {
	n := g.between(1, 4)
	if n == 1 && g.chance(0.5) {
		return obj{"Version": "2012-10-17", "Statement": g.statement(focus)}
	}
	stmts := make([]obj, n)
	for i := range stmts {
		stmts[i] = g.statement(focus)
	}
	d := doc(stmts...)
	if g.chance(0.08) {
		delete(d, "Version")
	}
	return d
}

// urlEncode escapes every byte but RFC 3986 unreserved characters, the way
// the IAM Get*Policy APIs return documents.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type writer struct {
	w   *bufio.Writer
	err error
}

func (w *writer) line(v any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = err
		return
	}
	b = append(b, '\n')
	_, w.err = w.w.Write(b)
}

type policyLine struct {
	Policy string `json:"policy"`
	Doc    any    `json:"doc"`
}

type setLine struct {
	Set      int      `json:"set"`
	Identity []string `json:"identity"`
	Boundary *string  `json:"boundary"`
}

type requestLine struct {
	ID       int                 `json:"id"`
	Set      int                 `json:"set"`
	Action   string              `json:"action"`
	Resource string              `json:"resource"`
	Context  map[string][]string `json:"context,omitempty"`
}

// passedTo are the services an iam:PassRole request passes the role to.
var passedTo = []string{passedToECS, "lambda.amazonaws.com", "ec2.amazonaws.com"}

// statements returns the statements of a document.
func statements(d obj) []obj {
	switch st := d["Statement"].(type) {
	case obj:
		return []obj{st}
	case []any:
		out := make([]obj, len(st))
		for i, s := range st {
			out[i] = s.(obj)
		}
		return out
	}
	return nil
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = x.(string)
		}
		return out
	}
	return nil
}

// glob is a plain IAM wildcard match ('*' any run, '?' one byte). It only
// steers which requests the generator picks; the answers come from
// iam-simulate.
func glob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if glob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && glob(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && glob(p[1:], s[1:])
}

// grantedTargets returns the targets some Allow statement with Action and
// Resource elements names.
func grantedTargets(all []target, docs []obj) []target {
	var out []target
	for _, t := range all {
	stmts:
		for _, d := range docs {
			for _, s := range statements(d) {
				if s["Effect"] != "Allow" || s["Action"] == nil || s["Resource"] == nil {
					continue
				}
				actionHit := false
				for _, a := range strs(s["Action"]) {
					actionHit = actionHit || glob(strings.ToLower(a), strings.ToLower(t.action))
				}
				if !actionHit {
					continue
				}
				for _, r := range strs(s["Resource"]) {
					if glob(r, t.resource) {
						out = append(out, t)
						break stmts
					}
				}
			}
		}
	}
	return out
}

// servicesOf returns the service prefixes a set's Action elements name, or
// nil when they include "*" or a NotAction (every service is relevant).
func servicesOf(docs []obj) []string {
	var out []string
	for _, d := range docs {
		for _, s := range statements(d) {
			if _, ok := s["NotAction"]; ok {
				return nil
			}
			for _, a := range strs(s["Action"]) {
				svc, _, ok := strings.Cut(strings.ToLower(a), ":")
				if !ok {
					return nil
				}
				if !slices.Contains(out, svc) {
					out = append(out, svc)
				}
			}
		}
	}
	return out
}

func main() {
	g := &gen{r: rand.New(rand.NewPCG(seedHi, seedLo))}
	for svc := range actionPool {
		g.services = append(g.services, svc)
	}
	slices.Sort(g.services)

	f, err := os.Create(outPath)
	if err != nil {
		log.Fatal(err)
	}
	w := &writer{w: bufio.NewWriter(f)}

	all := targets()
	byService := map[string][]target{}
	for _, t := range all {
		byService[t.service] = append(byService[t.service], t)
	}

	docs := map[string]obj{}
	emit := func(name string, d obj, encoded bool) {
		docs[name] = d
		if !encoded {
			w.line(policyLine{name, d})
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			log.Fatal(err)
		}
		w.line(policyLine{name, urlEncode(string(b))})
	}
	identity := namedIdentity()
	boundaries := namedBoundaries()
	for i, p := range identity {
		emit(p.name, p.doc, i%8 == 7)
	}
	for _, p := range boundaries {
		emit(p.name, p.doc, false)
	}
	// A set iam-simulate rejects: "ec?" is not a valid service prefix for
	// it; its requests are recorded as errors and excluded from the comparison.
	emit("EcWildcardService", doc(allow(list("ec?:Describe*", "s3:GetObject"), "*")), false)

	id := 0
	request := func(set int, t target) {
		id++
		l := requestLine{ID: id, Set: set, Action: t.action, Resource: t.resource}
		if t.action == "iam:PassRole" && g.chance(0.7) {
			l.Context = map[string][]string{"iam:PassedToService": {g.pick(passedTo)}}
		}
		w.line(l)
	}

	set := 0
	for set < numSets {
		set++
		var names []string
		var setDocs []obj
		nIdentity := g.between(1, 3)
		for i := 0; i < nIdentity; i++ {
			var name string
			if g.chance(0.4) {
				name = g.pickNamed(identity).name
				if slices.Contains(names, name) {
					continue
				}
			} else {
				focus := g.distinct(g.between(1, 2), func() string { return g.pick(g.services) })
				name = fmt.Sprintf("set%03d-policy%d", set, i+1)
				emit(name, g.policy(focus), g.chance(encodedP))
			}
			names = append(names, name)
			setDocs = append(setDocs, docs[name])
		}
		var boundary *string
		if g.chance(0.35) {
			var name string
			if g.chance(0.6) {
				name = g.pickNamed(boundaries).name
			} else {
				focus := g.distinct(g.between(1, 3), func() string { return g.pick(g.services) })
				name = fmt.Sprintf("set%03d-boundary", set)
				emit(name, g.policy(focus), g.chance(encodedP))
			}
			boundary = &name
		}
		w.line(setLine{set, names, boundary})

		// Requests: 40% that some Allow statement of the set names (by a
		// rough glob match, to get a mix of answers), 30% on the services
		// the set names, the rest anywhere.
		relevant := servicesOf(setDocs)
		granted := grantedTargets(all, setDocs)
		var chosen []target
		for tries := 0; len(chosen) < perSet && tries < 20*perSet; tries++ {
			var t target
			x := g.r.Float64()
			if len(granted) > 0 && x < 0.4 {
				t = granted[g.r.IntN(len(granted))]
			} else if len(relevant) > 0 && x < 0.7 {
				svc := g.pick(relevant)
				ts := byService[svc]
				if len(ts) == 0 {
					continue
				}
				t = ts[g.r.IntN(len(ts))]
			} else {
				t = all[g.r.IntN(len(all))]
			}
			if !slices.Contains(chosen, t) {
				chosen = append(chosen, t)
			}
		}
		for _, t := range chosen {
			request(set, t)
		}
	}

	set++
	bad := "EcWildcardService"
	w.line(setLine{set, []string{bad}, nil})
	for _, t := range []target{
		{"ec2", "ec2:DescribeInstances", "*"},
		{"s3", "s3:GetObject", s3Objects[0]},
	} {
		request(set, t)
	}

	if w.err == nil {
		w.err = w.w.Flush()
	}
	if err := f.Close(); w.err == nil {
		w.err = err
	}
	if w.err != nil {
		log.Fatal(w.err)
	}
	fmt.Printf("%s: %d policies, %d sets, %d requests\n", outPath, len(docs), set, id)
}
