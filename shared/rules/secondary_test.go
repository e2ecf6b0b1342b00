package rules_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	trustEvents     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustAutoscale  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"application-autoscaling.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustEC2        = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustECSService = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustCodeDeploy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

	// AmazonEC2ContainerServiceEventsRole v3.
	eventsManaged = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole|" +
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:RunTask"],"Resource":["*"]},{"Effect":"Allow","Action":"iam:PassRole","Resource":["*"],"Condition":{"StringLike":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},{"Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"StringEquals":{"ecs:CreateAction":["RunTask"]}}}]}`
	eventsScoped = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:111122223333:task-definition/report:*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":["arn:aws:iam::111122223333:role/report-task","arn:aws:iam::111122223333:role/report-exec"],"Condition":{"StringLike":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}`
	// AmazonEC2ContainerServiceAutoscaleRole v2.
	autoscaleManaged = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole|" +
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeServices","ecs:UpdateService"],"Resource":["*"]},{"Effect":"Allow","Action":["cloudwatch:DescribeAlarms","cloudwatch:PutMetricAlarm"],"Resource":["*"]}]}`
	// AmazonEC2ContainerServiceforEC2Role v10 (statements abridged to its actions).
	forEC2Managed = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role|" +
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeTags","ecs:CreateCluster","ecs:DeregisterContainerInstance","ecs:DiscoverPollEndpoint","ecs:Poll","ecs:RegisterContainerInstance","ecs:StartTelemetrySession","ecs:UpdateContainerInstancesState","ecs:Submit*","ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"},{"Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"StringEquals":{"ecs:CreateAction":["CreateCluster","RegisterContainerInstance"]}}},{"Effect":"Allow","Action":"ecs:ListTagsForResource","Resource":["arn:aws:ecs:*:*:task/*/*","arn:aws:ecs:*:*:container-instance/*/*"]}]}`
	serviceManaged    = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole|" + `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:AuthorizeSecurityGroupIngress","ec2:Describe*","elasticloadbalancing:RegisterTargets","elasticloadbalancing:DeregisterTargets","elasticloadbalancing:Describe*"],"Resource":"*"}]}`
	codeDeployBroad   = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS|" + `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeServices","ecs:CreateTaskSet","ecs:UpdateServicePrimaryTaskSet","ecs:DeleteTaskSet","s3:GetObject","sns:Publish","lambda:InvokeFunction"],"Resource":"*"}]}`
	codeDeployLimited = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited|" + `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:DescribeServices","ecs:CreateTaskSet","ecs:UpdateServicePrimaryTaskSet","ecs:DeleteTaskSet"],"Resource":"*"}]}`
	adminPolicy       = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

const roleARN = "arn:aws:iam::111122223333:role/"

type secondaryCase struct {
	name     string
	role     func(t testing.TB) *rules.Role
	rule     string
	severity rules.Severity // 0: must not fire
	evidence string
}

func TestSecondaryRoleRules(t *testing.T) {
	t.Parallel()
	withProfile := func(r *rules.Role) *rules.Role {
		r.Uses = []rules.Use{{Kind: rules.UseInstanceProfile, Resource: "arn:aws:iam::111122223333:instance-profile/ecsInstanceProfile"}}
		return r
	}
	tests := []secondaryCase{
		// AWS's own AmazonEC2ContainerServiceEventsRole: never above LOW.
		{"sr001-managed-events-role-passrole-low", func(t testing.TB) *rules.Role { return role(t, roleARN+"ecsEventsRole", trustEvents, eventsManaged) }, "SR-001", rules.Low, "limited to ecs-tasks"},
		{"sr001-passrole-to-lambda-only", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", trustEvents, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}}`)
		}, "SR-001", rules.High, ""},
		{"sr001-passrole-not-ecs-is-any", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", trustEvents, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringNotEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}}`)
		}, "SR-001", rules.High, "to any service"},
		{"sr001-passrole-like-any-service", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", trustEvents, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringLike":{"iam:PassedToService":"*.amazonaws.com"}}}}`)
		}, "SR-001", rules.High, "to any service"},
		{"sr001-managed-events-role-runtask-low", func(t testing.TB) *rules.Role { return role(t, roleARN+"ecsEventsRole", trustEvents, eventsManaged) }, "SR-001", rules.Low, "ecs:RunTask"},
		{"sr001-passrole-any-service-high", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"nightly-report-events", trustEvents, `{"Statement":[{"Effect":"Allow","Action":["ecs:RunTask","iam:PassRole"],"Resource":"*"}]}`)
		}, "SR-001", rules.High, "to any service"},
		{"sr001-scoped-passes", func(t testing.TB) *rules.Role { return role(t, roleARN+"report-events", trustEvents, eventsScoped) }, "SR-001", 0, ""},
		{"sr002-extra-actions", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", trustEvents, eventsScoped, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
		}, "SR-002", rules.Medium, "s3:"},
		{"sr002-managed-passes", func(t testing.TB) *rules.Role { return role(t, roleARN+"ecsEventsRole", trustEvents, eventsManaged) }, "SR-002", 0, ""},
		{"sr003-managed-autoscale-informational", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsAutoscaleRole", trustAutoscale, autoscaleManaged)
		}, "SR-003", rules.Informational, "service-linked"},
		{"sr003-extra-actions", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsAutoscaleRole", trustAutoscale, autoscaleManaged, `{"Statement":{"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"*"}}`)
		}, "SR-003", rules.Medium, "ec2:TerminateInstances"},
		{"sr004-managed-instance-role-passes", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", trustEC2, forEC2Managed))
		}, "SR-004", 0, ""},
		{"sr004-admin-high", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", trustEC2, forEC2Managed, adminPolicy))
		}, "SR-004", rules.High, ""},
		{"sr004-everything-but-one-bucket-high", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", trustEC2, forEC2Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::audit/*"}}`))
		}, "SR-004", rules.High, ""},
		{"sr004-service-wide-arns-high", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", trustEC2, forEC2Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/*"}}`))
		}, "SR-004", rules.High, ""},
		{"sr004-unknown-service-high", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", trustEC2, forEC2Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"newsvc:*","Resource":"*"}}`))
		}, "SR-004", rules.High, "beyond the IAM action catalog"},
		{"sr004-extra-read-medium", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecs-hosts", trustEC2, forEC2Managed, `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::config/*"}}`))
		}, "SR-004", rules.Medium, "s3:GetObject"},
		{"sr005-legacy-service-role", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsServiceRole", trustECSService, serviceManaged)
		}, "SR-005", rules.Low, "legacy"},
		{"sr005-broad-codedeploy", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsCodeDeployRole", trustCodeDeploy, codeDeployBroad)
		}, "SR-005", rules.Low, "Limited"},
		{"sr005-limited-codedeploy-passes", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsCodeDeployRole", trustCodeDeploy, codeDeployLimited)
		}, "SR-005", 0, ""},
		{"sr006-events-role-trusts-account", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com","AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`, eventsManaged)
		}, "SR-006", rules.High, "444455556666"},
		{"sr006-scheduler-is-the-events-service", func(t testing.TB) *rules.Role {
			return role(t, roleARN+"ecsEventsRole", `{"Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","scheduler.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`, eventsManaged)
		}, "SR-006", 0, ""},
		{"sr006-instance-role-trusts-star", func(t testing.TB) *rules.Role {
			return withProfile(role(t, roleARN+"ecsInstanceRole", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, forEC2Managed))
		}, "SR-006", rules.High, `"*"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: tc.role(t)})
			dump := func() string { b, _ := json.MarshalIndent(r.Findings, "", "  "); return string(b) }
			if r.Subject.Type != "role" || !r.Complete {
				t.Fatalf("subject %+v complete %v", r.Subject, r.Complete)
			}
			i := slices.IndexFunc(r.Findings, func(f rules.Finding) bool {
				return f.Rule == tc.rule && (tc.severity == 0 || f.Severity == tc.severity)
			})
			if tc.severity == 0 {
				if i >= 0 {
					t.Fatalf("%s fired:\n%s", tc.rule, dump())
				}
				return
			}
			if i < 0 {
				t.Fatalf("no %s %v in:\n%s", tc.rule, tc.severity, dump())
			}
			if tc.evidence != "" && !slices.ContainsFunc(r.Findings[i].Evidence, func(e rules.Evidence) bool { return strings.Contains(e.Detail, tc.evidence) }) {
				t.Errorf("%s evidence lacks %q:\n%s", tc.rule, tc.evidence, dump())
			}
		})
	}
}

func TestSecondaryClasses(t *testing.T) {
	t.Parallel()
	slr := role(t, "arn:aws:iam::111122223333:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", trustAutoscale, autoscaleManaged)
	slr.Path = "/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
	notInProfile := role(t, roleARN+"some-ec2-app", trustEC2, forEC2Managed)
	plainApp := role(t, roleARN+"lambda-fn", `{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`, adminPolicy)
	byUse := role(t, roleARN+"scheduler-runner", `{"Statement":{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}}`, eventsScoped)
	byUse.Uses = []rules.Use{{Kind: rules.UseEventsTarget, Resource: "arn:aws:events:us-east-1:111122223333:rule/nightly"}}
	tests := []struct {
		name string
		role *rules.Role
		want []rules.Class
	}{
		{"events-by-name-and-trust", role(t, roleARN+"ecsEventsRole", trustEvents, eventsManaged), []rules.Class{rules.ClassEvents}},
		{"events-by-use", byUse, []rules.Class{rules.ClassEvents}},
		// RunTask on the task definitions it runs only, as SR-001 asks.
		{"events-scoped-by-trust", role(t, roleARN+"report-events", trustEvents, eventsScoped), []rules.Class{rules.ClassEvents}},
		{"autoscale", role(t, roleARN+"scaler", trustAutoscale, autoscaleManaged), []rules.Class{rules.ClassAutoscale}},
		{"service-linked-never", slr, nil},
		{"ec2-without-instance-profile", notInProfile, nil},
		{"unrelated-admin-role", plainApp, nil},
		{"legacy-service-role", role(t, roleARN+"ecsServiceRole", trustECSService, serviceManaged), []rules.Class{rules.ClassService}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := rules.SecondaryClasses(tc.role); !slices.Equal(got, tc.want) {
				t.Errorf("SecondaryClasses(%s) = %v, want %v", tc.role.Name, got, tc.want)
			}
		})
	}
	if r := rules.Evaluate(rules.Facts{Role: slr}); len(r.Findings) != 0 {
		t.Errorf("service-linked role has findings: %+v", r.Findings)
	}
}
