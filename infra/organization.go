package main

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Organization mode, the home stack's part: the central bus the member
// accounts forward their events to, its rules, what the functions need to
// reach into a member account, and the StackSet that deploys the member
// stack (member.go). docs/organization.md walks through a deployment.

const (
	// centralBusName is the custom bus of the home account, in the home
	// region, that the member stacks forward to.
	centralBusName = "ecsguard-central"
	// memberStackSetParameter is the member template's one parameter: the
	// home account, which the template names the central bus and the
	// functions' roles by.
	memberStackSetParameter = "CentralAccountId"
	// maxTemplateBody is the largest TemplateBody a StackSet takes
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stackset.html#cfn-cloudformation-stackset-templatebody).
	maxTemplateBody = 51200
)

// functionRoleName is the name of a function's role: fixed in
// organization mode, so that the member template can name the two roles
// its member role trusts; CloudFormation's own in account mode.
func functionRoleName(s Settings, fn string) *string {
	if !s.OrganizationMode() {
		return nil
	}
	return jsii.String("ecsguard-" + fn)
}

// centralRuleNames are the names of the rules on the central bus. Rule
// names are unique per bus only; these differ from the default bus's so
// that ECSGUARD_RULE_NAMES, which the functions recognise tampering by,
// and the tamper rule name each rule of ecsguard once.
func centralRuleNames(rule func(suffix string) string) []string {
	return []string{rule("OrgRegisterTaskDefinition"), rule("OrgRoleChange")}
}

// watchedAccounts is WATCHED_ACCOUNTS: the stack's account in account
// mode; in organization mode the allow-list, or nil (unset: every account
// of the organization, which the functions check with
// organizations:DescribeAccount).
func watchedAccounts(stack awscdk.Stack, s Settings) *string {
	switch {
	case !s.OrganizationMode():
		return stack.Account()
	case len(s.Organization.Accounts) > 0:
		return jsii.String(strings.Join(s.Organization.Accounts, ","))
	}
	return nil
}

// addOrganization adds organization mode to the home stack.
//
// The home account's own events keep coming through the default bus (its
// rules and the forwarding stacks, as in account mode): the StackSet
// leaves the home account out (AccountFilterType DIFFERENCE), so that no
// event of it arrives twice, and it need not be in a target OU. The
// member accounts' events arrive on the central bus, whose rules send them
// to the same functions with the same retries and DLQs.
func addOrganization(stack awscdk.Stack, s Settings, memberTemplate string, ruleNames []string, onRegister, onRoleChange *guardFunction) {
	org := s.Organization

	// The central bus admits PutEvents from the organization's accounts
	// alone. A member's rule puts events with the role it assumes, whose
	// organization aws:PrincipalOrgID names
	// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html,
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid).
	bus := awsevents.NewEventBus(stack, jsii.String("CentralBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(centralBusName),
		Description:  jsii.String("ecsguard: ECS and IAM events forwarded by the member accounts of " + org.ID),
	})
	bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationPutEvents"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{bus.EventBusArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": org.ID}},
	}))
	onRegister.subscribeOn(stack, bus, "OrgRegisterTaskDefinitionRule", ruleNames[0],
		"Member accounts' ECS RegisterTaskDefinition calls, and TagResource calls exempting a task definition, to onregister", ecsPattern, nil)
	onRoleChange.subscribeOn(stack, bus, "OrgRoleChangeRule", ruleNames[1],
		"Member accounts' IAM role and policy changes, to onrolechange", iamPattern, nil)

	for _, f := range []*guardFunction{onRegister, onRoleChange} {
		f.fn.AddEnvironment(jsii.String("MEMBER_ROLE_NAME"), jsii.String(org.MemberRoleName), nil)
		f.fn.AddEnvironment(jsii.String("ORGANIZATION_ID"), jsii.String(org.ID), nil)
		// The member role of any account, as long as the account is in
		// the organization: aws:ResourceOrgID is the organization of the
		// account that owns the role
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid).
		f.policy.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AssumeMemberRoles"),
			Actions:    jsii.Strings("sts:AssumeRole"),
			Resources:  jsii.Strings(memberRoleARNs(org)),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": org.ID}},
		}))
		// Membership, status and name of an event's account. A delegated
		// administrator may call it, like the management account
		// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeAccount.html);
		// an account's ARN is arn:PARTITION:organizations::MANAGEMENT:account/ORG/ID
		// (Service Authorization Reference, AWS Organizations).
		f.allow("DescribeMemberAccounts", []string{"organizations:DescribeAccount"},
			"arn:"+*awscdk.Aws_PARTITION()+":organizations::*:account/"+org.ID+"/*")
		// The sweep walks the member accounts; both functions fall back to
		// the list when DescribeAccount is denied for an account outside
		// the organization. ListAccounts has no resource type: IAM takes
		// only *.
		f.allow("ListMemberAccounts", []string{"organizations:ListAccounts"}, "*")
	}

	setName := *stack.StackName() + "-Member"
	set := awscloudformation.NewCfnStackSet(stack, jsii.String("MemberStackSet"), &awscloudformation.CfnStackSetProps{
		StackSetName: jsii.String(setName),
		Description:  jsii.String("ecsguard member stack: forwards ECS and IAM events to " + centralBusName + " and holds the role the functions read the account with"),
		// Service-managed: StackSets creates the roles it deploys with,
		// and deploys to the accounts that join a target OU later
		// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html).
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(org.StackSetCallAs),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		// Concurrent, non-conflicting operations (an auto-deployment while
		// an update runs) instead of refusing them. A map: the CDK passes
		// this property through as plain JSON, a struct would be written
		// with the key "active".
		ManagedExecution: map[string]any{"Active": true},
		// One account failing (a service control policy, a region turned
		// off) neither stops nor slows the others; up to a tenth of the
		// accounts of a region may fail.
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			ConcurrencyMode:            jsii.String("SOFT_FAILURE_TOLERANCE"),
			FailureTolerancePercentage: jsii.Number(10),
			MaxConcurrentPercentage:    jsii.Number(25),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		// The member role has a fixed name.
		Capabilities: jsii.Strings("CAPABILITY_NAMED_IAM"),
		Parameters: []any{&awscloudformation.CfnStackSet_ParameterProperty{
			ParameterKey: jsii.String(memberStackSetParameter), ParameterValue: stack.Account(),
		}},
		StackInstancesGroup: []any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			// The home account is left out: its events already reach the
			// functions through its default bus.
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{
				OrganizationalUnitIds: jsii.Strings(org.TargetOUs...),
				AccountFilterType:     jsii.String("DIFFERENCE"),
				Accounts:              &[]*string{stack.Account()},
			},
			Regions: jsii.Strings(org.MemberRegions...),
		}},
		TemplateBody: jsii.String(memberTemplate),
	})
	// The member role trusts the functions' roles by ARN, which IAM
	// refuses before they exist; the member rules put events on the bus.
	set.Node().AddDependency(onRegister.role, onRoleChange.role, bus)
	if n := len(memberTemplate); n == 0 || n > maxTemplateBody {
		awscdk.Annotations_Of(set).AddError(jsii.String("the member template has " + strconv.Itoa(n) + " bytes: a StackSet's TemplateBody takes 1 to 51,200"))
	}
	awscdk.NewCfnOutput(stack, jsii.String("CentralBusArn"), &awscdk.CfnOutputProps{Value: bus.EventBusArn(),
		Description: jsii.String("The bus the member accounts forward their ECS and IAM events to")})
	awscdk.NewCfnOutput(stack, jsii.String("MemberStackSetName"), &awscdk.CfnOutputProps{Value: jsii.String(setName),
		Description: jsii.String("The StackSet of the member stack (in the management account)")})
}

// memberRoleARNs is the member role of every account (the condition
// aws:ResourceOrgID narrows it to the organization's).
func memberRoleARNs(org Organization) string {
	return "arn:" + *awscdk.Aws_PARTITION() + ":iam::*:role/" + org.MemberRoleName
}
