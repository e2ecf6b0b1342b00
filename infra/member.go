package main

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// memberRuleNames are the names of the member stack's rules, in each
// member account and region.
var memberRuleNames = []string{"ecsguard-forward-RegisterTaskDefinition", "ecsguard-forward-RoleChange"}

// MemberProps configures the member stack.
type MemberProps struct {
	awscdk.StackProps
	Settings Settings
}

// NewMemberStack is the stack the StackSet deploys to every account of the
// target OUs, in every member region (organization mode). It forwards the
// account's ECS registrations and exemption tags, and in us-east-1 its IAM
// changes, to the central bus of the home account; and, once per account
// (in us-east-1, IAM being global), it holds the role the functions assume
// to read the account. Its one parameter, CentralAccountId, is the home
// account, which the StackSet passes.
func NewMemberStack(scope constructs.Construct, id string, props *MemberProps) awscdk.Stack {
	sp := props.StackProps
	// The member accounts have no CDK bootstrap: no bootstrap version
	// check, no CDK metadata resource; the stack has no assets.
	sp.Synthesizer = awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{GenerateBootstrapVersionRule: jsii.Bool(false)})
	sp.AnalyticsReporting = jsii.Bool(false)
	stack := awscdk.NewStack(scope, &id, &sp)
	s := props.Settings

	central := *awscdk.NewCfnParameter(stack, jsii.String(memberStackSetParameter), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		AllowedPattern: jsii.String(`^\d{12}$`),
		Description:    jsii.String("The account ecsguard runs in, whose bus and functions this stack serves"),
	}).ValueAsString()
	bus := awsevents.EventBus_FromEventBusArn(stack, jsii.String("CentralBus"), jsii.String(
		"arn:"+*awscdk.Aws_PARTITION()+":events:"+s.HomeRegion+":"+central+":event-bus/"+centralBusName))
	// A rule that sends to a bus of another account needs a role to put
	// the events with
	// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html);
	// the target gives it events:PutEvents on the central bus alone. The
	// central bus may be in another region: EventBridge delivers across
	// accounts and regions in one hop, keeping the event's account and
	// region.
	role := awsiam.NewRole(stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("ecsguard: puts this account's ECS and IAM events on " + centralBusName),
	})
	// What cannot be delivered after EventBridge's retries (24 hours, 185
	// attempts) waits in the DLQ for 14 days. The rules have fixed names
	// (one stack per account and region), so that a service control policy
	// can protect them (docs/organization.md).
	forward := func(scope constructs.Construct, id, name, description string, pattern *awsevents.EventPattern) {
		dlq := deadLetterQueue(scope, id+"DLQ")
		awsevents.NewRule(scope, jsii.String(id), &awsevents.RuleProps{
			RuleName:     jsii.String(name),
			Description:  jsii.String(description),
			EventPattern: pattern,
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{
				Role: role, DeadLetterQueue: dlq,
			})},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("This queue is the dead-letter queue of a forwarding rule's target; a dead-letter queue needs none of its own."),
		}}, nil)
	}
	forward(stack, "ForwardRegisterTaskDefinition", memberRuleNames[0],
		"ECS RegisterTaskDefinition calls, and TagResource calls exempting a task definition, to ecsguard's "+centralBusName, ecsPattern)

	// IAM events arrive in us-east-1 alone, and the role is global: both
	// are created by the us-east-1 instance only, which every member
	// account has (ParseSettings adds us-east-1 to the member regions).
	inIAMRegion := awscdk.NewCfnCondition(stack, jsii.String("InIAMRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(iamRegion)),
	})
	global := constructs.NewConstruct(stack, jsii.String("InIAMRegionOnly"))
	forward(global, "ForwardRoleChanges", memberRuleNames[1], "IAM role and policy changes, to ecsguard's "+centralBusName, iamPattern)
	memberRole(global, s, central)
	auditRole(global, s, central)
	onlyIf(inIAMRegion, global)
	return stack
}

// memberRole is the role the functions assume in a member account: the
// reads their code makes there (the home stack grants the same ones in the
// home account), and deregistration in enforce mode. Only the two
// functions' roles may assume it, and only while the home account is in
// the organization (aws:PrincipalOrgID). Its name is fixed: the functions
// find it by MEMBER_ROLE_NAME.
func memberRole(scope constructs.Construct, s Settings, central string) awsiam.CfnRole {
	partition, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID()
	functionRole := func(fn string) string {
		return "arn:" + partition + ":iam::" + central + ":role/" + *functionRoleName(s, fn)
	}
	statements := []any{
		allowStatement("ReadTaskDefinitions", []string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListClusters"}, "*"),
		allowStatement("ReadRoles", []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"},
			iamARN("role/*")),
		allowStatement("ReadPolicies", []string{"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListEntitiesForPolicy"},
			iamARN("policy/*"), "arn:"+partition+":iam::aws:policy/*"),
		allowStatement("FindRoleUses", []string{"events:ListEventBuses", "events:ListRuleNamesByTarget", "scheduler:ListSchedules", "application-autoscaling:DescribeScalableTargets"}, "*"),
		allowStatement("ReadRuleTargets", []string{"events:ListTargetsByRule"}, "arn:"+partition+":events:*:"+account+":rule/*"),
		allowStatement("ReadSchedules", []string{"scheduler:GetSchedule"}, "arn:"+partition+":scheduler:*:"+account+":schedule/*"),
	}
	if s.Mode == "enforce" {
		statements = append(statements, allowStatement("DeregisterTaskDefinitions", []string{"ecs:DeregisterTaskDefinition"}, "*"))
	}
	role := awsiam.NewCfnRole(scope, jsii.String("MemberRole"), &awsiam.CfnRoleProps{
		RoleName:    jsii.String(s.Organization.MemberRoleName),
		Description: jsii.String("ecsguard: the functions of the home account read this account's task definitions and roles with it"),
		AssumeRolePolicyDocument: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "EcsguardFunctions",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": []string{functionRole("onregister"), functionRole("onrolechange")}},
				"Action":    "sts:AssumeRole",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": s.Organization.ID}},
			}},
		},
		Policies: []any{&awsiam.CfnRole_PolicyProperty{
			PolicyName:     jsii.String("ecsguard-reads"),
			PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": statements},
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, readWildcards(false), nil)
	return role
}

// AuditRoleName is the role `ecsguard scan --organization` assumes in each
// member account (its default --role-name).
const AuditRoleName = "ecsguard-audit"

// auditRole is the role a security engineer's `ecsguard scan
// --organization` assumes in a member account: read-only, the bulk reads
// a scan makes (one GetAccountAuthorizationDetails for IAM, the ECS lists
// and describes, the lookups of what uses a secondary role), never a
// deregistration. The home account is trusted as an account, so its own
// IAM policies decide which of its principals may scan, and only while it
// is in the organization; the functions' member role stays as narrow as
// their code.
func auditRole(scope constructs.Construct, s Settings, central string) awsiam.CfnRole {
	partition, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID()
	statements := []any{
		allowStatement("ReadTaskDefinitions", []string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitionFamilies", "ecs:ListTaskDefinitions", "ecs:ListClusters"}, "*"),
		// GetAccountAuthorizationDetails has no resource type: IAM takes
		// only * for it (Service Authorization Reference, IAM).
		allowStatement("ReadIAMInBulk", []string{"iam:GetAccountAuthorizationDetails"}, "*"),
		allowStatement("ReadRoles", []string{"iam:ListInstanceProfilesForRole"}, iamARN("role/*")),
		allowStatement("ReadPolicies", []string{"iam:GetPolicy", "iam:GetPolicyVersion"}, iamARN("policy/*"), "arn:"+partition+":iam::aws:policy/*"),
		allowStatement("FindRoleUses", []string{"events:ListEventBuses", "events:ListRuleNamesByTarget", "scheduler:ListSchedules", "application-autoscaling:DescribeScalableTargets"}, "*"),
		allowStatement("ReadRuleTargets", []string{"events:ListTargetsByRule"}, "arn:"+partition+":events:*:"+account+":rule/*"),
		allowStatement("ReadSchedules", []string{"scheduler:GetSchedule"}, "arn:"+partition+":scheduler:*:"+account+":schedule/*"),
	}
	role := awsiam.NewCfnRole(scope, jsii.String("AuditRole"), &awsiam.CfnRoleProps{
		RoleName:    jsii.String(AuditRoleName),
		Description: jsii.String("ecsguard: ecsguard scan --organization, run from the home account, reads this account with it"),
		AssumeRolePolicyDocument: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "HomeAccount",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": "arn:" + partition + ":iam::" + central + ":root"},
				"Action":    "sts:AssumeRole",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": s.Organization.ID}},
			}},
		},
		Policies: []any{&awsiam.CfnRole_PolicyProperty{
			PolicyName:     jsii.String("ecsguard-scan"),
			PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": statements},
		}},
	})
	sup := append(*readWildcards(false), wildcard("Resource::*",
		"ecs:ListTaskDefinitionFamilies and iam:GetAccountAuthorizationDetails support no resource-level permissions either: IAM accepts only * for them."))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &sup, nil)
	return role
}

// allowStatement is an Allow statement of a policy document.
func allowStatement(sid string, actions []string, resources ...string) map[string]any {
	return map[string]any{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
}

// onlyIf makes every CloudFormation resource under scope conditional.
func onlyIf(condition awscdk.CfnCondition, scope constructs.IConstruct) {
	for _, c := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if r, ok := c.(awscdk.CfnResource); ok && *awscdk.CfnResource_IsCfnResource(c) {
			r.CfnOptions().SetCondition(condition)
		}
	}
}

// memberTemplate synthesizes the member stack and returns its template,
// for the StackSet's TemplateBody. The stack lives in a Stage of its own,
// which is a nested cloud assembly (cdk.out/assembly-Member): synthesizing
// it is a plain function call, with no asset, bucket or bootstrap between
// the two stacks; cdk synth still checks it (cdk-nag included); and cdk
// deploy --all leaves it alone, since --all selects the top-level stacks
// only. cdk-nag is applied to the stage itself: aspects do not cross into
// a Stage.
func memberTemplate(app awscdk.App, s Settings) string {
	stage := awscdk.NewStage(app, jsii.String("Member"), nil)
	stack := NewMemberStack(stage, "EcsguardMember", &MemberProps{
		StackProps: awscdk.StackProps{Description: jsii.String("ecsguard member stack: forwards ECS and IAM events to the central account")},
		Settings:   s,
	})
	checkWithNag(stage)
	template := stage.Synth(nil).GetStackArtifact(stack.ArtifactId()).Template()
	body, err := json.Marshal(template)
	if err != nil {
		awscdk.Annotations_Of(stack).AddError(jsii.String("member template: " + err.Error()))
		return ""
	}
	return string(body)
}
