package cfntemplate_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/cfntemplate"
	"github.com/ecsguard/ecsguard/shared/managedpolicy"
)

// imageTemplate is a template whose one container image is the YAML value
// given, with a parameter, a mapping, a log group and a role to refer to.
func imageTemplate(image string) string {
	return `Parameters:
  Tag: {Type: String, Default: "1.2"}
  Subnets: {Type: CommaDelimitedList, Default: "a, b"}
  NoDefault: {Type: String}
  FromSSM: {Type: "AWS::SSM::Parameter::Value<String>", Default: /app/tag}
Mappings:
  Regions: {us-east-1: {Repo: east}}
Conditions:
  Prod: !Equals [!Ref Tag, prod]
Resources:
  Logs: {Type: AWS::Logs::LogGroup}
  Role:
    Type: AWS::IAM::Role
    Properties: {RoleName: app, Path: /svc/}
  Repo: {Type: AWS::ECR::Repository}
  Vpc: {Type: AWS::EC2::VPC}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: ` + image + "\n"
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, image, want, wantErr string
	}{
		{"ref-parameter-default", "!Ref Tag", "1.2", ""},
		{"sub-pseudo", "!Sub ${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/x:${Tag}", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1.2", ""},
		{"sub-variables", `!Sub ["${A}-${B}", {A: !Ref Tag, B: !GetAtt Role.Arn}]`, "1.2-arn:aws:iam::123456789012:role/svc/app", ""},
		{"sub-literal", `!Sub "${!Tag}-${Tag}"`, "${Tag}-1.2", ""},
		{"sub-getatt", `!Sub "${Repo.RepositoryUri}:1"`, "123456789012.dkr.ecr.us-east-1.amazonaws.com/stack-repo:1", ""},
		{"join", `!Join ["/", [a, !Ref Logs, !Ref "AWS::Partition"]]`, "a/stack-Logs/aws", ""},
		{"join-list-parameter", `!Join ["+", !Ref Subnets]`, "a+b", ""},
		{"select-split", `!Select [1, !Split [":", !GetAtt Logs.Arn]]`, "aws", ""},
		{"find-in-map", `!FindInMap [Regions, !Ref "AWS::Region", Repo]`, "east", ""},
		{"getatt-full-form", `{"Fn::GetAtt": [Repo, Arn]}`, "arn:aws:ecr:us-east-1:123456789012:repository/stack-repo", ""},
		{"import-value", "!ImportValue shared-image", "", `Task.ContainerDefinitions[0].Image: {"Fn::ImportValue":"shared-image"} cannot be resolved from the template: an export of another stack`},
		{"no-default", "!Ref NoDefault", "", "parameter NoDefault has no Default"},
		{"ssm-parameter", "!Ref FromSSM", "", "parameter FromSSM is read from SSM at deployment"},
		{"if", "!If [Prod, a, b]", "", "depends on a condition"},
		{"unknown-resource-ref", "!Ref Vpc", "", "Vpc is a AWS::EC2::VPC, whose Ref value ecsguard does not derive"},
		{"unknown-attribute", "!GetAtt Role.RoleId", "", "attribute RoleId of Role (AWS::IAM::Role) is known only once deployed"},
		{"no-such-resource", "!Ref Nothing", "", "no parameter or resource Nothing in the template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := cfntemplate.Parse([]byte(imageTemplate(tt.image)), cfntemplate.Options{StackName: "stack"})
			if err != nil {
				t.Fatal(err)
			}
			td := tpl.TaskDefinitions[0]
			got := td.Containers[0].Image
			missing := tpl.Missing[td.ARN]
			if tt.wantErr == "" {
				if got != tt.want || len(missing) > 0 {
					t.Errorf("image = %q, missing %v; want %q", got, missing, tt.want)
				}
				return
			}
			if got != "" || len(missing) != 1 || !strings.Contains(missing[0].Error(), tt.wantErr) || !errors.Is(missing[0].Err, cfntemplate.ErrUnresolved) {
				t.Errorf("image = %q, missing %v; want none and an ErrUnresolved containing %q", got, missing, tt.wantErr)
			}
		})
	}
}

// TestParseJSONAndYAML checks the two syntaxes give the same facts, and
// the positions of the logical IDs.
func TestParseJSONAndYAML(t *testing.T) {
	t.Parallel()
	yamlSrc := `Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]}
      ManagedPolicyArns: [!Sub "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess", arn:aws:iam::aws:policy/AmazonRDSFullAccess]
  Td:
    Type: AWS::ECS::TaskDefinition
    Properties:
      TaskRoleArn: !GetAtt TaskRole.Arn
      ExecutionRoleArn: !GetAtt TaskRole.Arn
`
	jsonSrc := `{"Resources": {
 "TaskRole": {"Type": "AWS::IAM::Role", "Properties": {
  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
  "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}, "arn:aws:iam::aws:policy/AmazonRDSFullAccess"]}},
 "Td": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
  "TaskRoleArn": {"Fn::GetAtt": ["TaskRole", "Arn"]},
  "ExecutionRoleArn": {"Fn::GetAtt": "TaskRole.Arn"}}}}}`
	for _, tc := range []struct {
		name, src                 string
		roleLine, roleCol, tdLine int
	}{
		{"yaml", yamlSrc, 2, 3, 7},
		{"json", jsonSrc, 2, 2, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := cfntemplate.Parse([]byte(tc.src), cfntemplate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			const roleARN = "arn:aws:iam::123456789012:role/TaskRole"
			const tdARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/Td:1"
			td := tpl.TaskDefinitions[0]
			if td.ARN != tdARN || td.TaskRoleARN != roleARN || td.ExecutionRoleARN != roleARN {
				t.Errorf("task definition %s with roles %s, %s; want %s with %s twice", td.ARN, td.TaskRoleARN, td.ExecutionRoleARN, tdARN, roleARN)
			}
			if p := tpl.Positions[roleARN]; p.LogicalID != "TaskRole" || p.Line != tc.roleLine || p.Column != tc.roleCol {
				t.Errorf("role at %+v, want TaskRole at line %d col %d", p, tc.roleLine, tc.roleCol)
			}
			if p := tpl.Positions[tdARN]; p.Line != tc.tdLine {
				t.Errorf("task definition at %+v, want line %d", p, tc.tdLine)
			}
			f, err := tpl.Facts(context.Background(), td, nil)
			if err != nil {
				t.Fatal(err)
			}
			role := f.Roles[roleARN]
			if role == nil || len(role.Policies) != 1 || role.Policies[0].Name != "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess" {
				t.Fatalf("role %+v: want the X-Ray policy from the snapshot", role)
			}
			// A managed policy the snapshot does not hold leaves the role
			// incomplete, naming it.
			if len(role.Missing) != 1 || role.Missing[0].Subject != "arn:aws:iam::aws:policy/AmazonRDSFullAccess" || !errors.Is(role.Missing[0].Err, managedpolicy.ErrNotInSnapshot) {
				t.Errorf("role missing %v, want AmazonRDSFullAccess not in the snapshot", role.Missing)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"not-yaml", "Resources: [1,\n", "yaml: line 1"},
		{"not-a-map", "- a\n", "not a JSON object or YAML mapping"},
		{"no-resources", "{}", "no Resources section"},
		{"resource-not-a-map", "Resources:\n  A: 1\n", "line 2 col 3: resource A is not a map"},
		{"duplicate-key", "Resources:\n  A: {Type: x}\n  A: {Type: y}\n", "line 3 col 3: duplicate key \"A\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := cfntemplate.Parse([]byte(tc.src), cfntemplate.Options{})
			if !errors.Is(err, cfntemplate.ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v; want ErrSyntax with %q", err, tc.want)
			}
		})
	}
}

// TestWebTemplate checks the hand-written template of testdata: every
// reference resolved, policies attached where the template says.
func TestWebTemplate(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := cfntemplate.Parse(b, cfntemplate.Options{StackName: "web"})
	if err != nil {
		t.Fatal(err)
	}
	td := tpl.TaskDefinitions[0]
	if len(tpl.Missing) != 0 {
		t.Errorf("missing %v, want everything resolved", tpl.Missing)
	}
	c := td.Containers[0]
	checks := []struct{ what, got, want string }{
		{"family", td.Family, "web-api"},
		{"secret", c.Secrets[0].ValueFrom, "arn:aws:secretsmanager:us-east-1:123456789012:secret:web-api/db-XXXXXX:password::"},
		{"log group", c.LogConfiguration.Options["awslogs-group"], "/ecs/web-api"},
		{"environment", c.Environment[0].Value, "web-assets"},
		{"tag", td.Tags["owner"], "payments"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	task := tpl.Roles[td.TaskRoleARN]
	if task == nil || len(task.Policies) != 1 || task.Policies[0].Name != "inline:assets-read" || task.Tags["team"] != "payments" {
		t.Errorf("task role %+v: want the AWS::IAM::Policy assets-read and tag team", task)
	}
	exec := tpl.Roles[td.ExecutionRoleARN]
	if exec == nil || len(exec.Policies) != 2 || len(exec.Attached) != 1 {
		t.Errorf("execution role %+v: want its inline policy and AmazonECSTaskExecutionRolePolicy", exec)
	}
}
