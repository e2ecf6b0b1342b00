package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awschatbot"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackProps configures the home stack.
type StackProps struct {
	awscdk.StackProps
	Settings Settings
	// MemberTemplate is the member stack's template (memberTemplate), which
	// the StackSet deploys in organization mode.
	MemberTemplate string
}

// The event patterns of SPEC §1. Only successful calls: a failed one
// changed nothing. The ECS rule also takes the TagResource calls that set
// an exemption tag on a task definition revision, so that who set it is
// recorded and the revision judged again (EXEMPTION_APPROVERS): CloudTrail
// records the request as ECS's API takes it, {"resourceArn", "tags":
// [{"key", "value"}]}
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html),
// and EventBridge matches a field of an array of objects (tags.key) on
// each element, as the tamper rule's resources.ARN does. A wildcard is
// EventBridge's only "contains": * matches any characters, the partition
// included (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
var (
	ecsPattern = &awsevents.EventPattern{
		Source:     jsii.Strings("aws.ecs"),
		DetailType: jsii.Strings("AWS API Call via CloudTrail"),
		Detail: &map[string]any{
			"eventSource": []string{"ecs.amazonaws.com"},
			"errorCode":   []any{map[string]bool{"exists": false}},
			"$or": []any{
				map[string]any{"eventName": []string{"RegisterTaskDefinition"}},
				map[string]any{
					"eventName": []string{"TagResource"},
					"requestParameters": map[string]any{
						"resourceArn": []any{map[string]string{"wildcard": "arn:aws*:ecs:*:task-definition/*"}},
						"tags":        map[string]any{"key": []string{"ecsguard:exempt", "ecsguard:exempt-reason"}},
					},
				},
			},
		},
	}
	iamPattern = &awsevents.EventPattern{
		Source:     jsii.Strings("aws.iam"),
		DetailType: jsii.Strings("AWS API Call via CloudTrail"),
		Detail: &map[string]any{
			"eventSource": []string{"iam.amazonaws.com"},
			"eventName": []string{
				"AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
				"UpdateAssumeRolePolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
				"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "CreateRole", "TagRole", "UntagRole",
			},
			"errorCode": []any{map[string]bool{"exists": false}},
		},
	}
)

// Ecsguard's own resources: the calls that would silence it, which the
// tamper rule sends to onrolechange. CloudTrail records a call's
// parameters as requestParameters, lower-camel-cased: topicArn for the
// topic calls, resourceArn for PutDataProtectionPolicy, subscriptionArn
// (TOPIC_ARN:ID) for Unsubscribe and SetSubscriptionAttributes, name for
// the rule calls and rule for the target calls
// (https://docs.aws.amazon.com/sns/latest/dg/sns-logging-using-cloudtrail.html,
// https://docs.aws.amazon.com/sns/latest/api/API_PutDataProtectionPolicy.html,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/logging-using-cloudtrail.html,
// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html).
// KMS records name the key in resources[].ARN
// (https://docs.aws.amazon.com/kms/latest/developerguide/ct-disablekey.html).
// These are write events: a rule in state ENABLED receives them
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html).
var (
	tamperTopicCalls        = []string{"SetTopicAttributes", "DeleteTopic", "AddPermission", "RemovePermission", "Subscribe"}
	tamperSubscriptionCalls = []string{"Unsubscribe", "SetSubscriptionAttributes"}
	tamperKeyCalls          = []string{"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "DisableKeyRotation", "CreateGrant", "RevokeGrant"}
	tamperRuleCalls         = []string{"DisableRule", "DeleteRule", "PutRule"}
	tamperTargetCalls       = []string{"RemoveTargets", "PutTargets"}
)

// tamperPattern matches the successful calls above on ecsguard's topics,
// key and rules. A subscription ARN is its topic's ARN, a colon and an id:
// the prefix keeps the colon, so a topic whose name merely starts with
// ours does not match.
func tamperPattern(topics []string, key string, rules []string) *awsevents.EventPattern {
	var subscriptions []any
	for _, t := range topics {
		subscriptions = append(subscriptions, map[string]string{"prefix": t + ":"})
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.sns", "aws.kms", "aws.events"),
		DetailType: jsii.Strings("AWS API Call via CloudTrail"),
		Detail: &map[string]any{
			"errorCode": []any{map[string]bool{"exists": false}},
			"$or": []any{
				map[string]any{"eventSource": []string{"sns.amazonaws.com"}, "eventName": tamperTopicCalls,
					"requestParameters": map[string]any{"topicArn": topics}},
				map[string]any{"eventSource": []string{"sns.amazonaws.com"}, "eventName": []string{"PutDataProtectionPolicy"},
					"requestParameters": map[string]any{"resourceArn": topics}},
				map[string]any{"eventSource": []string{"sns.amazonaws.com"}, "eventName": tamperSubscriptionCalls,
					"requestParameters": map[string]any{"subscriptionArn": subscriptions}},
				map[string]any{"eventSource": []string{"kms.amazonaws.com"}, "eventName": tamperKeyCalls,
					"resources": map[string]any{"ARN": []string{key}}},
				map[string]any{"eventSource": []string{"events.amazonaws.com"}, "eventName": tamperRuleCalls,
					"requestParameters": map[string]any{"name": rules}},
				map[string]any{"eventSource": []string{"events.amazonaws.com"}, "eventName": tamperTargetCalls,
					"requestParameters": map[string]any{"rule": rules}},
			},
		},
	}
}

// NewStack is the home stack: both functions, the findings and alarm
// topics, the role index and idempotency tables, the rules that feed the
// functions in this region, their dead-letter queues and the alarms.
// Events of other regions reach this region's bus through the forwarding
// stacks (NewForwarderStack).
func NewStack(scope constructs.Construct, id string, props *StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := props.Settings

	key := topicKey(stack, "FindingsKey", "ecsguard findings topic")
	topic := encryptedTopic(stack, "Findings", "ecsguard findings", key)
	subscribeEmails(topic, s.Emails, severityFilter(s.EmailMinSeverity))
	// CloudWatch alarm notifications carry no message attributes, and a
	// subscription with a filter policy never receives a message without
	// attributes, even with {"exists": false}
	// (https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html).
	// So the alarms also go to a topic of their own, with no filter: the
	// subscribers that filter the findings subscribe to it too.
	alarmTopic := encryptedTopic(stack, "Alarms", "ecsguard alarms", key)
	if s.EmailMinSeverity != "" {
		subscribeEmails(alarmTopic, s.Emails, nil)
	}
	if s.SlackWorkspaceID != "" {
		slack(stack, topic, s)
	}

	// The role index: which task definitions use a role. It can be rebuilt
	// from ECS at any time (the sweep), so it is not kept on delete.
	index := awsdynamodb.NewTable(stack, jsii.String("RoleIndex"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String("role"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String("taskDefinition"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    awscdk.RemovalPolicy_DESTROY,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
	})
	// The idempotency records: one per event, written conditionally, so a
	// duplicate delivery neither deregisters nor alerts twice. DynamoDB
	// deletes a record after its expiresAt. The same table keeps who set
	// the exemption tags (shared/ledger approval items, no expiresAt).
	// Nothing is lost on delete but the memory of events already handled
	// and of those approvals: with EXEMPTION_APPROVERS set, the exemptions
	// then stop holding until an approver sets their tags again.
	idempotency := awsdynamodb.NewTable(stack, jsii.String("Idempotency"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute:              jsii.String("expiresAt"),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    awscdk.RemovalPolicy_DESTROY,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
	})

	// The rules have names of their own (not CloudFormation's): the
	// functions must know them to recognise tampering, and the tamper rule
	// watches itself, which a reference could not express.
	rule := func(suffix string) string { return *stack.StackName() + "-" + suffix }
	ruleNames := []string{rule("RegisterTaskDefinition"), rule("RoleChange"), rule("Sweep"), rule("Tamper")}
	if s.OrganizationMode() {
		ruleNames = append(ruleNames, centralRuleNames(rule)...)
	}

	onRegister := newFunction(stack, "OnRegister", "onregister", s, topic, key)
	onRoleChange := newFunction(stack, "OnRoleChange", "onrolechange", s, topic, key)
	for _, f := range []*guardFunction{onRegister, onRoleChange} {
		f.fn.AddEnvironment(jsii.String("INDEX_TABLE"), index.TableName(), nil)
		f.fn.AddEnvironment(jsii.String("IDEMPOTENCY_TABLE"), idempotency.TableName(), nil)
		if s.SecurityHub {
			// The findings go to the account's default product, the only
			// resource BatchImportFindings takes from a custom integration.
			f.fn.AddEnvironment(jsii.String("SECURITY_HUB"), jsii.String("true"), nil)
			f.allow("ImportFindings", []string{"securityhub:BatchImportFindings"},
				*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default"), nil))
		}
		// The loop guard: calls made by ecsguard's own roles are ignored.
		f.fn.AddEnvironment(jsii.String("ECSGUARD_ROLE_ARNS"),
			awscdk.Fn_Join(jsii.String(","), &[]*string{onRegister.role.RoleArn(), onRoleChange.role.RoleArn()}), nil)
		// Tampering: ecsguard's own topics (TOPIC_ARN, ALARM_TOPIC_ARN),
		// key and rules.
		f.fn.AddEnvironment(jsii.String("ALARM_TOPIC_ARN"), alarmTopic.TopicArn(), nil)
		f.fn.AddEnvironment(jsii.String("ECSGUARD_KEY_ARN"), key.KeyArn(), nil)
		f.fn.AddEnvironment(jsii.String("ECSGUARD_RULE_NAMES"), jsii.String(strings.Join(ruleNames, ",")), nil)
		// Events of any other account are dropped.
		if accounts := watchedAccounts(stack, s); accounts != nil {
			f.fn.AddEnvironment(jsii.String("WATCHED_ACCOUNTS"), accounts, nil)
		}
		if len(s.ExemptionApprovers) > 0 {
			f.fn.AddEnvironment(jsii.String("EXEMPTION_APPROVERS"), jsii.String(strings.Join(s.ExemptionApprovers, ",")), nil)
		}
		// The event records and the exemption approvals: written with
		// UpdateItem (a claim refused returns the record with the refusal),
		// approvals read in batches.
		idempotency.Grant(f.role, jsii.String("dynamodb:UpdateItem"), jsii.String("dynamodb:BatchGetItem"))
	}
	// The sweep walks every watched region: their events come here.
	onRoleChange.fn.AddEnvironment(jsii.String("REGIONS"), jsii.String(strings.Join(s.Regions, ",")), nil)
	onRegister.allow("ReadTaskDefinitions", []string{"ecs:DescribeTaskDefinition"}, "*")
	onRoleChange.allow("ReadTaskDefinitions", []string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListClusters"}, "*")
	if s.Mode == "enforce" {
		onRegister.allow("DeregisterTaskDefinitions", []string{"ecs:DeregisterTaskDefinition"}, "*")
		if s.EnforceOnRoleChange {
			onRoleChange.allow("DeregisterTaskDefinitions", []string{"ecs:DeregisterTaskDefinition"}, "*")
		}
	}
	readRoles := []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"}
	onRegister.allow("ReadRoles", readRoles, iamARN("role/*"))
	onRoleChange.allow("ReadRoles", append(readRoles, "iam:ListInstanceProfilesForRole"), iamARN("role/*"))
	// Managed policies: the account's own and AWS's (account "aws").
	readPolicies := []string{"iam:GetPolicy", "iam:GetPolicyVersion"}
	policies := []string{iamARN("policy/*"), "arn:" + *awscdk.Aws_PARTITION() + ":iam::aws:policy/*"}
	onRegister.allow("ReadPolicies", readPolicies, policies...)
	onRoleChange.allow("ReadPolicies", append(readPolicies, "iam:ListEntitiesForPolicy"), policies...)
	// What references a secondary role (onrolechange only).
	onRoleChange.allow("FindRoleUses", []string{
		"events:ListEventBuses", "events:ListRuleNamesByTarget", "scheduler:ListSchedules",
		"application-autoscaling:DescribeScalableTargets",
	}, "*")
	onRoleChange.allow("ReadRuleTargets", []string{"events:ListTargetsByRule"},
		"arn:"+*awscdk.Aws_PARTITION()+":events:*:"+*awscdk.Aws_ACCOUNT_ID()+":rule/*")
	onRoleChange.allow("ReadSchedules", []string{"scheduler:GetSchedule"},
		"arn:"+*awscdk.Aws_PARTITION()+":scheduler:*:"+*awscdk.Aws_ACCOUNT_ID()+":schedule/*")
	// The role index (shared/roleuse): both record a revision's roles in
	// one batch (onregister on registration, onrolechange in the sweep) and
	// query a role's entries (onregister for the families sharing a task
	// role, TD-013); onrolechange forgets an entry whose revision is gone.
	index.Grant(onRegister.role, jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:BatchWriteItem"), jsii.String("dynamodb:Query"))
	// onrolechange also reads the mark a sweep leaves per account (GetItem)
	// and writes it (PutItem).
	index.Grant(onRoleChange.role, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:BatchWriteItem"), jsii.String("dynamodb:DeleteItem"), jsii.String("dynamodb:Query"))

	// The rules. Registrations of this region and those forwarded here;
	// IAM events, which AWS delivers in us-east-1 (and forwards here when
	// the home region is another); the sweep of the role index; changes
	// to ecsguard's own topics, key and rules, made in this region.
	onRegister.subscribe(stack, "RegisterTaskDefinitionRule", ruleNames[0], "ECS RegisterTaskDefinition calls, and TagResource calls exempting a task definition, to onregister", ecsPattern, nil)
	onRoleChange.subscribe(stack, "RoleChangeRule", ruleNames[1], "IAM role and policy changes, to onrolechange", iamPattern, nil)
	onRoleChange.subscribe(stack, "SweepRule", ruleNames[2], "Rebuild the role index of onrolechange", nil,
		awsevents.Schedule_Expression(jsii.String(s.SweepSchedule)))
	onRoleChange.subscribe(stack, "TamperRule", ruleNames[3], "Changes to ecsguard's own topics, key and rules, to onrolechange",
		tamperPattern([]string{*topic.TopicArn(), *alarmTopic.TopicArn()}, *key.KeyArn(), ruleNames), nil)
	if s.OrganizationMode() {
		addOrganization(stack, s, props.MemberTemplate, ruleNames[4:], onRegister, onRoleChange)
	}

	// Alarms: a function that fails, an event that lands in a DLQ. Each
	// notifies both topics (see alarmTopic).
	actions := []awscloudwatch.IAlarmAction{awscloudwatchactions.NewSnsAction(topic), awscloudwatchactions.NewSnsAction(alarmTopic)}
	for _, f := range []*guardFunction{onRegister, onRoleChange} {
		errs := awscloudwatch.NewAlarm(stack, jsii.String(f.id+"Errors"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("ecsguard " + f.name + " failed an invocation: EventBridge and Lambda retry it, then it goes to the DLQ"),
			Metric: f.fn.MetricErrors(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
			}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		errs.AddAlarmAction(actions...)
		dlqAlarm(stack, f.id+"DeadLetters", "ecsguard "+f.name+": events it could not process are in its dead-letter queue", f.dlq).AddAlarmAction(actions...)
	}

	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn(), Description: jsii.String("Findings topic: subscribe to it")})
	awscdk.NewCfnOutput(stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{Value: alarmTopic.TopicArn(),
		Description: jsii.String("Alarms alone, unfiltered: subscribe to it when you filter the findings topic")})
	awscdk.NewCfnOutput(stack, jsii.String("OnRegisterFunction"), &awscdk.CfnOutputProps{Value: onRegister.fn.FunctionName()})
	awscdk.NewCfnOutput(stack, jsii.String("OnRoleChangeFunction"), &awscdk.CfnOutputProps{Value: onRoleChange.fn.FunctionName()})
	awscdk.NewCfnOutput(stack, jsii.String("RoleIndexTable"), &awscdk.CfnOutputProps{Value: index.TableName()})
	awscdk.NewCfnOutput(stack, jsii.String("IdempotencyTable"), &awscdk.CfnOutputProps{Value: idempotency.TableName()})
	suppressHome(s, onRegister, onRoleChange)
	return stack
}

// topicKey is the KMS key of a stack's topics. CloudWatch alarms publish
// to them, so CloudWatch may use the key.
func topicKey(stack awscdk.Stack, id, description string) awskms.Key {
	key := awskms.NewKey(stack, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		EnableKeyRotation: jsii.Bool(true),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	}), nil)
	return key
}

// encryptedTopic is an SNS topic encrypted with key and reached over TLS
// only. Its policy, once it has one, replaces SNS's default policy, so it
// lets this account's CloudWatch alarms publish: without that statement an
// alarm's notification is refused.
func encryptedTopic(stack awscdk.Stack, id, name string, key awskms.Key) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String(name),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	}))
	return topic
}

// subscribeEmails subscribes each address to the topic, with filter as
// its filter policy (none when nil).
func subscribeEmails(topic awssns.Topic, emails []string, filter *map[string]awssns.SubscriptionFilter) {
	for _, e := range emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), &awssnssubscriptions.EmailSubscriptionProps{FilterPolicy: filter}))
	}
}

// severityFilter passes the messages whose severity attribute is min or
// higher, and those with attributes but no severity. Nil (no filter
// policy) when min is empty. SNS ORs the values of one attribute's list,
// {"exists": false} among them
// (https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html,
// https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html);
// a message with no attributes at all, such as an alarm notification,
// matches no filter policy: alarms reach filtered subscribers through the
// alarm topic.
func severityFilter(min string) *map[string]awssns.SubscriptionFilter {
	if min == "" {
		return nil
	}
	var conditions []any
	for _, sev := range SeveritiesFrom(min) {
		conditions = append(conditions, sev)
	}
	conditions = append(conditions, map[string]bool{"exists": false})
	return &map[string]awssns.SubscriptionFilter{"severity": awssns.NewSubscriptionFilter(&conditions)}
}

// iamARN is the ARN of IAM resources of this account (tokens, resolved at
// deployment).
func iamARN(resource string) string {
	return "arn:" + *awscdk.Aws_PARTITION() + ":iam::" + *awscdk.Aws_ACCOUNT_ID() + ":" + resource
}

// guardFunction is one of the two functions with its role and DLQ.
type guardFunction struct {
	id, name string
	fn       awslambda.Function
	role     awsiam.Role
	policy   awsiam.Policy
	dlq      awssqs.Queue
}

// newFunction is a function from the bootstrap make build wrote: arm64,
// provided.al2023, its own role (logs only, to start with), its own log
// group and dead-letter queue. An invocation that fails (an alert not
// sent, a throttled read) is retried by Lambda twice, then kept in the DLQ.
func newFunction(stack awscdk.Stack, id, name string, s Settings, topic awssns.Topic, key awskms.Key) *guardFunction {
	f := &guardFunction{id: id, name: name}
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention(s.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	f.role = awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    functionRoleName(s, name),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("ecsguard " + name + ": reads task definitions and roles, publishes findings"),
	})
	f.policy = awsiam.NewPolicy(stack, jsii.String(id+"Policy"), &awsiam.PolicyProps{Roles: &[]awsiam.IRole{f.role}})
	f.policy.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	f.dlq = deadLetterQueue(stack, id+"DLQ")
	f.fn = awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Description:   jsii.String("ecsguard " + name),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(s.AssetDir, name)), nil),
		MemorySize:    jsii.Number(256),
		Timeout:       awscdk.Duration_Minutes(jsii.Number(5)),
		Role:          f.role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment: &map[string]*string{
			"TOPIC_ARN":              topic.TopicArn(),
			"MODE":                   jsii.String(s.Mode),
			"ENFORCE_MIN_SEVERITY":   jsii.String(s.EnforceMinSeverity),
			"DRY_RUN":                jsii.String(strconv.FormatBool(s.DryRun)),
			"ENFORCE_ON_ROLE_CHANGE": jsii.String(strconv.FormatBool(s.EnforceOnRoleChange)),
		},
		RetryAttempts:   jsii.Number(2),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
		DeadLetterQueue: f.dlq,
	})
	// The function needs its policy before it runs.
	f.fn.Node().AddDependency(f.policy)
	f.allow("PublishFindings", []string{"sns:Publish"}, *topic.TopicArn())
	f.allow("EncryptFindings", []string{"kms:GenerateDataKey", "kms:Decrypt"}, *key.KeyArn())
	return f
}

// allow adds a statement to the function's policy.
func (f *guardFunction) allow(sid string, actions []string, resources ...string) {
	f.policy.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	}))
}

// subscribe sends the events of a rule (a pattern, or a schedule) on the
// default bus to the function. EventBridge retries a delivery that fails
// for a day, then keeps the event in the function's DLQ.
func (f *guardFunction) subscribe(stack awscdk.Stack, id, name, description string, pattern *awsevents.EventPattern, schedule awsevents.Schedule) awsevents.Rule {
	return f.subscribeOn(stack, nil, id, name, description, pattern, schedule)
}

// subscribeOn is subscribe on a bus (nil: the default bus).
func (f *guardFunction) subscribeOn(stack awscdk.Stack, bus awsevents.IEventBus, id, name, description string, pattern *awsevents.EventPattern, schedule awsevents.Schedule) awsevents.Rule {
	rule := awsevents.NewRule(stack, jsii.String(id), &awsevents.RuleProps{
		EventBus:     bus,
		RuleName:     jsii.String(name),
		Description:  jsii.String(description),
		EventPattern: pattern,
		Schedule:     schedule,
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(f.fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: f.dlq,
		RetryAttempts:   jsii.Number(185),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
	}))
	return rule
}

// deadLetterQueue is an encrypted queue that keeps an event for the
// longest SQS allows, for someone to look at and replay.
func deadLetterQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

// dlqAlarm fires as soon as one message waits in the queue.
func dlqAlarm(scope constructs.Construct, id, description string, q awssqs.Queue) awscloudwatch.Alarm {
	return awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(description),
		Metric: q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// slack delivers the topic to a Slack channel through AWS Chatbot. The
// channel only receives notifications: its guardrail denies every action,
// so no one can run a command through it.
func slack(stack awscdk.Stack, topic awssns.Topic, s Settings) {
	awschatbot.NewSlackChannelConfiguration(stack, jsii.String("Slack"), &awschatbot.SlackChannelConfigurationProps{
		SlackChannelConfigurationName: jsii.String("ecsguard-" + strings.ToLower(s.SlackChannelID)),
		SlackWorkspaceId:              jsii.String(s.SlackWorkspaceID),
		SlackChannelId:                jsii.String(s.SlackChannelID),
		NotificationTopics:            &[]awssns.ITopic{topic},
		LoggingLevel:                  awschatbot.LoggingLevel_ERROR,
		GuardrailPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AWSDenyAll")),
		},
	})
}

// retention is the CloudWatch Logs retention for a number of days that
// ParseSettings accepted (logRetentions, in the same order).
func retention(days int) awslogs.RetentionDays {
	all := []awslogs.RetentionDays{
		awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
		awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
		awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
		awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
		awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
		awslogs.RetentionDays_TEN_YEARS,
	}
	return all[slices.Index(logRetentions, days)]
}
