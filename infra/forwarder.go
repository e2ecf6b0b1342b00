package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ForwarderProps configures a forwarding stack.
type ForwarderProps struct {
	awscdk.StackProps
	Settings Settings
	// ECS forwards this region's RegisterTaskDefinition calls; IAM forwards
	// the IAM changes (us-east-1, when the home region is another).
	ECS, IAM bool
}

// NewForwarderStack sends the events the functions need from another region
// to the home region's default bus, where the home stack's rules take them:
// EventBridge keeps the event's own region, and the functions read each
// task definition in its region. What cannot be delivered goes to an
// encrypted DLQ, whose alarm goes to a local topic with the same emails
// (CloudWatch alarms publish only within their region).
func NewForwarderStack(scope constructs.Construct, id string, props *ForwarderProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := props.Settings
	home := awsevents.EventBus_FromEventBusArn(stack, jsii.String("HomeBus"), jsii.String(
		"arn:"+*awscdk.Aws_PARTITION()+":events:"+s.HomeRegion+":"+*awscdk.Aws_ACCOUNT_ID()+":event-bus/default"))
	dlq := deadLetterQueue(stack, "ForwardDLQ")
	target := awseventstargets.NewEventBus(home, &awseventstargets.EventBusProps{DeadLetterQueue: dlq})
	if props.ECS {
		awsevents.NewRule(stack, jsii.String("ForwardRegisterTaskDefinition"), &awsevents.RuleProps{
			Description:  jsii.String("ECS RegisterTaskDefinition calls, and TagResource calls exempting a task definition, to ecsguard in " + s.HomeRegion),
			EventPattern: ecsPattern,
			Targets:      &[]awsevents.IRuleTarget{target},
		})
	}
	if props.IAM {
		awsevents.NewRule(stack, jsii.String("ForwardRoleChanges"), &awsevents.RuleProps{
			Description:  jsii.String("IAM role and policy changes, to ecsguard in " + s.HomeRegion),
			EventPattern: iamPattern,
			Targets:      &[]awsevents.IRuleTarget{target},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter queue of the forwarding rules' target; a dead-letter queue needs none of its own."),
	}}, nil)
	alarms := encryptedTopic(stack, "Alarms", "ecsguard forwarding alarms", topicKey(stack, "AlarmsKey", "ecsguard forwarding alarms topic"))
	subscribeEmails(alarms, s.Emails, nil)
	dlqAlarm(stack, "ForwardDeadLetters", "ecsguard: events that could not be forwarded to "+s.HomeRegion+" are in the DLQ", dlq).
		AddAlarmAction(awscloudwatchactions.NewSnsAction(alarms))
	awscdk.NewCfnOutput(stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{Value: alarms.TopicArn()})
	return stack
}
