package trail

import "strings"

// Change is what one successful API call changed, read from its event.
//
// For RegisterTaskDefinition, TaskDefinitionARN is the registered revision
// (from the response, never the request, whose role fields may be short
// names). For an ECS TagResource, it is the revision tagged (the request's
// resourceArn): only a TagResource of a task definition that sets an
// exemption tag is a Change. For the IAM events, RoleName, PolicyARN and PolicyName are the
// request's roleName, policyArn (permissionsBoundary for
// PutRolePermissionsBoundary) and policyName, each set when the event has
// it; CreatePolicyVersion and SetDefaultPolicyVersion name only a policy,
// which may be attached to many roles.
type Change struct {
	// EventID is the EventBridge event id (the CloudTrail eventID when the
	// envelope has none): the id EventBridge retries and dead-letter queues
	// show.
	EventID   string
	EventName string // "RegisterTaskDefinition", "AttachRolePolicy", ...
	Source    string // "aws.ecs" or "aws.iam"
	Account   string // the envelope's account, else the record's recipientAccountId
	Region    string // the record's awsRegion, else the envelope's region
	// Actor is the IAM role behind the call
	// (userIdentity.sessionContext.sessionIssuer.arn), or the caller's ARN
	// when the call was not made with a role session
	// (userIdentity.arn); empty for calls made by AWS services without one.
	Actor string

	TaskDefinitionARN string
	RoleName          string
	PolicyARN         string
	PolicyName        string
	// Resource is the topic, key or EventBridge rule (an ARN) an SNS, KMS
	// or EventBridge call changed: calls watched on ecsguard's own
	// resources.
	Resource string
	// Tags are the tags the call set, by key: the request's tags
	// ([{key, value}]) of RegisterTaskDefinition, ECS TagResource, IAM
	// TagRole and CreateRole; nil when it set none. Who set a resource's
	// exemption tags is what an exemption approval is (EXEMPTION_APPROVERS).
	Tags map[string]string
}

// Exemption tags, as package rules names them (rules.TagExempt,
// rules.TagExemptReason).
const (
	TagExempt       = "ecsguard:exempt"
	TagExemptReason = "ecsguard:exempt-reason"
)

// SetsExemption reports whether the call set an exemption tag.
func (c Change) SetsExemption() bool {
	_, exempt := c.Tags[TagExempt]
	_, reason := c.Tags[TagExemptReason]
	return exempt || reason
}

// CausedBy reports whether the call was made by the role roleARN: Actor is
// roleARN, or both name the same role in the same account and partition,
// either as a role ARN (arn:aws:iam::111122223333:role/path/NAME) or as a
// session of it (arn:aws:sts::111122223333:assumed-role/NAME/session, what
// sts:GetCallerIdentity returns inside a Lambda function). Role names compare
// case-insensitively, as IAM keeps them unique regardless of case. This is
// the loop guard: ecsguard ignores the changes its own role makes.
func (c Change) CausedBy(roleARN string) bool {
	if c.Actor == "" || roleARN == "" {
		return false
	}
	if c.Actor == roleARN {
		return true
	}
	a, ok := roleOf(c.Actor)
	if !ok {
		return false
	}
	b, ok := roleOf(roleARN)
	return ok && a.partition == b.partition && a.account == b.account && strings.EqualFold(a.name, b.name)
}

type roleID struct{ partition, account, name string }

// roleOf reads the role out of a role ARN or an assumed-role session ARN.
// The role ARN may have a path; the session ARN never has one, so only the
// last path element of a role ARN is its name.
func roleOf(arn string) (roleID, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || parts[4] == "" {
		return roleID{}, false
	}
	id := roleID{partition: parts[1], account: parts[4]}
	switch resource := parts[5]; {
	case parts[2] == "iam" && strings.HasPrefix(resource, "role/"):
		id.name = resource[strings.LastIndexByte(resource, '/')+1:]
	case parts[2] == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		name, session, ok := strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
		if !ok || session == "" {
			return roleID{}, false
		}
		id.name = name
	default:
		return roleID{}, false
	}
	return id, id.name != ""
}
