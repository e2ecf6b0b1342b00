package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// checkWithNag applies cdk-nag's AwsSolutions rules to every stack of the
// app or stage: synthesis records each finding as an error annotation, cdk
// synth and deploy fail on it, and the tests require none.
func checkWithNag(app awscdk.Stage) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppressHome records why the functions' policies hold the wildcards they
// hold: each is the narrowest resource IAM accepts for what the code does.
func suppressHome(s Settings, fns ...*guardFunction) {
	org := s.Organization
	for _, f := range fns {
		suppressions := readWildcards(s.OrganizationMode())
		if s.OrganizationMode() {
			*suppressions = append(*suppressions,
				wildcard("Resource::arn:<AWS::Partition>:iam::*:role/"+org.MemberRoleName,
					"The functions assume the member role of whichever account an event comes from; the condition aws:ResourceOrgID keeps it to the accounts of "+org.ID+"."),
				wildcard("Resource::arn:<AWS::Partition>:organizations::*:account/"+org.ID+"/*",
					"DescribeAccount is called on whichever account of "+org.ID+" an event comes from; the management account, which its ARN names, is not a setting; read-only."))
		}
		cdknag.NagSuppressions_AddResourceSuppressions(f.policy, suppressions, nil)
	}
}

// readWildcards are the reasons for the wildcards of the reads the
// functions make in an account, at home (their policies) and in a member
// account (the member role). listAccounts: the home policies of
// organization mode, which also list the organization's accounts.
func readWildcards(listAccounts bool) *[]*cdknag.NagPackSuppression {
	star := "The ECS, EventBridge, Scheduler and Application Auto Scaling calls granted on * (DescribeTaskDefinition, ListTaskDefinitions, ListClusters, DeregisterTaskDefinition, ListEventBuses, ListRuleNamesByTarget, ListSchedules, DescribeScalableTargets) support no resource-level permissions: IAM accepts only * for them."
	if listAccounts {
		star += " So does organizations:ListAccounts, which the sweep calls to walk the member accounts, and both functions call when DescribeAccount is denied for an account outside the organization."
	}
	return &[]*cdknag.NagPackSuppression{
		wildcard("Resource::*", star),
		wildcard("Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
			"ecsguard judges whichever role a task definition names or an IAM change touches, so it reads any role of the account; the actions are read-only (Get/List)."),
		wildcard("Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*",
			"Any customer managed policy attached to a judged role is read (GetPolicy, GetPolicyVersion, ListEntitiesForPolicy); read-only."),
		wildcard("Resource::arn:<AWS::Partition>:iam::aws:policy/*",
			"The AWS managed policies attached to a judged role are read to evaluate it (GetPolicy, GetPolicyVersion, ListEntitiesForPolicy); read-only."),
		wildcard("Resource::arn:<AWS::Partition>:events:*:<AWS::AccountId>:rule/*",
			"ListTargetsByRule is called on the rules that target an ECS cluster, which can be any rule of the account; read-only."),
		wildcard("Resource::arn:<AWS::Partition>:scheduler:*:<AWS::AccountId>:schedule/*",
			"GetSchedule is called on the schedules that target an ECS cluster, in any schedule group; read-only."),
	}
}

func wildcard(appliesTo, reason string) *cdknag.NagPackSuppression {
	return &cdknag.NagPackSuppression{
		Id:        jsii.String("AwsSolutions-IAM5"),
		AppliesTo: &[]any{appliesTo},
		Reason:    jsii.String(reason),
	}
}
