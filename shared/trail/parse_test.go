package trail_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ecsguard/ecsguard/shared/trail"
)

// corpusAccount is the account of the events-testdata files.
const corpusAccount = "111122223333"

// Actors of the corpus files.
const (
	ciDeploy = "arn:aws:iam::111122223333:role/ci-deploy"
	ssoAdmin = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
)

// corpusWants holds every file of events-testdata and what ParseJSON gives
// for it. TestParseCorpus fails when a file has no entry or an entry has no
// file: a new file must be added here.
var corpusWants = map[string]want{
	"aws-events-disablerule-ecsguard-rule.json": {change: trail.Change{
		EventID: "ae4b6a8c-3d5f-4179-bc2e-4f6a8b0c2d83", EventName: "DisableRule", Source: "aws.events",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		Resource: "arn:aws:events:us-east-1:111122223333:rule/Ecsguard-RoleChange",
	}},
	"aws-kms-disablekey-ecsguard-key.json": {change: trail.Change{
		EventID: "9d3a5f7b-2c4e-4068-ab1d-3e5f7a9b1c72", EventName: "DisableKey", Source: "aws.kms",
		Account: corpusAccount, Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
		Resource: "arn:aws:kms:us-east-1:111122223333:key/5c1d8e2a-7b4f-4a93-9e06-3f2b8c7d1a64",
	}},
	"aws-sns-settopicattributes-ecsguard-topic.json": {change: trail.Change{
		EventID: "8c2f4e6a-1b3d-4f57-9a0c-2d4e6f8a0b61", EventName: "SetTopicAttributes", Source: "aws.sns",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		Resource: "arn:aws:sns:us-east-1:111122223333:Ecsguard-Findings172CF60E-9XK2QW7RZ4LM",
	}},
	"ecs-registertaskdefinition-admin-task-role.json": {change: trail.Change{
		EventID: "b9e3f1a7-5d26-4e91-8c3b-0a4f6e2d1c33", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1",
	}},
	"ecs-registertaskdefinition-by-ecsguard.json": {change: trail.Change{
		EventID: "d2a6b9e3-8f40-4c15-ae7d-4c6f8a0b2e55", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/ecsguard-onregister",
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:2",
	}},
	"ecs-registertaskdefinition-ec2-without-task-role.json": {change: trail.Change{
		EventID: "e3b7c0f4-9a51-4d26-bf8e-5d7a9b1c3f66", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/legacy-worker:1",
	}},
	"ecs-registertaskdefinition-errorcode.json": {
		err: trail.ErrFailedCall, id: "f4c8d1a5-0b62-4e37-809f-6e8b0c2d4a77",
		msg: "failed API call: aws.ecs RegisterTaskDefinition: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/ci-deploy/gh is not authorized to perform: iam:PassRole",
	},
	"ecs-registertaskdefinition-fargate-compliant.json": {change: trail.Change{
		EventID: "7f3c1a52-0d4e-4b8a-9c61-2e5f8a9b0c11", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:1",
	}},
	"ecs-registertaskdefinition-secrets-without-access.json": {change: trail.Change{
		EventID: "c1f5a8d2-7e39-4b04-9d6c-3b5e7f9a1d44", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/payments:1",
	}},
	// The request names the task role by its short name; the change takes
	// the registered revision from the response.
	"ecs-registertaskdefinition-shared-role.json": {change: trail.Change{
		EventID: "a4d7e2b9-3c15-4f80-b6a2-9e1d0c8f7a22", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:1",
	}},
	// An exemption set on a revision by an administrator: the revision is
	// judged again, with who set the tags.
	"ecs-tagresource-exempt-task-definition.json": {change: trail.Change{
		EventID: "3b8e5d1f-6a2c-4e94-8f07-b1c3d5e7f920", EventName: "TagResource", Source: "aws.ecs",
		Account: corpusAccount, Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/platform-admins",
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1",
		Tags: map[string]string{
			"ecsguard:exempt":        "TD-008",
			"ecsguard:exempt-reason": "quarterly reporting job reads every bucket, accepted until 2026-06-30 in SEC-57",
		},
	}},
	"ecs-runtask-ignored.json": {
		err: trail.ErrForeign, id: "0a5e9b2c-1d73-4f48-91a0-7f9c1d3e5b88",
		msg: "not an event ecsguard handles: aws.ecs RunTask",
	},
	"foreign-s3-putobject.json": {
		err: trail.ErrForeign, id: "2c7a1d4e-3f95-4b6a-b3c2-9b1e3f5a7d00",
		msg: `not an event ecsguard handles: source "aws.s3"`,
	},
	"iam-attachrolepolicy-admin-on-task-role.json": {change: trail.Change{
		EventID: "3d8b2e5f-4a06-4c7b-a4d3-0c2f4a6b8e11", EventName: "AttachRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "web-api-task", PolicyARN: "arn:aws:iam::aws:policy/AdministratorAccess",
	}},
	"iam-attachrolepolicy-unrelated-role.json": {change: trail.Change{
		EventID: "71cf6c9d-8e4a-40bf-a817-4a6d8e0f2c55", EventName: "AttachRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		RoleName: "data-science-notebook", PolicyARN: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	}},
	"iam-attachrolepolicy-errorcode.json": {
		err: trail.ErrFailedCall, id: "a18cf9ef-48ab-4571-91dd-742b24c26c31",
		msg: "failed API call: aws.iam AttachRolePolicy: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/ci-deploy/gh is not authorized to perform: iam:AttachRolePolicy on resource: role batch-task with an explicit deny",
	},
	"iam-createpolicyversion-broadens-exec-policy.json": {change: trail.Change{
		EventID: "5fad4a7b-6c28-4e9d-86f5-2e4b6c8d0a33", EventName: "CreatePolicyVersion", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		PolicyARN: "arn:aws:iam::111122223333:policy/web-api-exec-secrets",
	}},
	// The trust policy and the response's role are read with the role, not
	// from the event.
	"iam-createrole-task-role-trusting-account.json": {change: trail.Change{
		EventID: "6ee744d6-72d7-4929-b988-4b3d6efd8dc0", EventName: "CreateRole", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		RoleName: "batch-task",
	}},
	"iam-deleterolepermissionsboundary-task-role.json": {change: trail.Change{
		EventID: "a3a5b501-01d8-4f2c-ac02-a6cb6b351432", EventName: "DeleteRolePermissionsBoundary", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "payments-task",
	}},
	"iam-deleterolepolicy-task-role-inline.json": {change: trail.Change{
		EventID: "046427a1-75b8-4c38-84b3-e3c7e9f06a9c", EventName: "DeleteRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		RoleName: "web-api-task", PolicyName: "uploads",
	}},
	"iam-detachrolepolicy-exec-policy-from-exec-role.json": {change: trail.Change{
		EventID: "349087c4-7a0b-48cb-9166-587dea1493d8", EventName: "DetachRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ciDeploy,
		RoleName: "web-api-exec", PolicyARN: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
	}},
	// The boundary is the change's policy.
	"iam-putrolepermissionsboundary-task-role.json": {change: trail.Change{
		EventID: "d40684e2-e983-45fa-a4c5-2eb2ecd8fa31", EventName: "PutRolePermissionsBoundary", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "payments-task", PolicyARN: "arn:aws:iam::111122223333:policy/ecs-task-boundary",
	}},
	"iam-putrolepolicy-events-role-passrole.json": {change: trail.Change{
		EventID: "4e9c3f6a-5b17-4d8c-b5e4-1d3a5b7c9f22", EventName: "PutRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "ecsEventsRole", PolicyName: "run-scheduled-tasks",
	}},
	"iam-setdefaultpolicyversion-exec-secrets.json": {change: trail.Change{
		EventID: "a10839f9-0914-4c02-8c73-dd6a11d6da0c", EventName: "SetDefaultPolicyVersion", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		PolicyARN: "arn:aws:iam::111122223333:policy/web-api-exec-secrets",
	}},
	"iam-tagrole-exempt-task-role.json": {change: trail.Change{
		EventID: "af9088ba-4af8-4b24-8463-d52c1904e95f", EventName: "TagRole", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "reports-admin-task",
		Tags:     map[string]string{"ecsguard:exempt": "TD-008", "ecsguard:exempt-reason": "break-glass reporting, ticket SEC-42"},
	}},
	"iam-untagrole-task-role.json": {change: trail.Change{
		EventID: "46345d27-8677-465c-b810-aad0cddf1603", EventName: "UntagRole", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "reports-admin-task",
	}},
	"iam-updateassumerolepolicy-task-role.json": {change: trail.Change{
		EventID: "60be5b8c-7d39-4fae-9706-3f5c7d9e1b44", EventName: "UpdateAssumeRolePolicy", Source: "aws.iam",
		Account: corpusAccount, Region: "us-east-1", Actor: ssoAdmin,
		RoleName: "web-api-task",
	}},
	"malformed-no-detail.json": {
		err: trail.ErrMalformed, id: "1b6f0c3d-2e84-4a59-a2b1-8a0d2e4f6c99",
		msg: "detail holds no CloudTrail record",
	},
	// Cut inside a string: not JSON, but the id before the cut is read.
	"malformed-truncated.json": {
		err: trail.ErrMalformed, id: "7f3c1a52-0d4e-4b8a-9c61-2e5f8a9b0c11",
		msg: "malformed event: envelope: line 92 col 25: unexpected end of JSON input",
	},
}

func TestParseCorpus(t *testing.T) {
	t.Parallel()
	files := corpus(t)
	for name := range files {
		if _, ok := corpusWants[name]; !ok {
			t.Errorf("events-testdata/%s has no entry in corpusWants: add what it parses to", name)
		}
	}
	for name := range corpusWants {
		if _, ok := files[name]; !ok {
			t.Errorf("corpusWants has %s, which is not in events-testdata", name)
		}
	}
	for name, b := range files {
		w, ok := corpusWants[name]
		if !ok {
			continue
		}
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			t.Parallel()
			got, err := trail.ParseJSON(b)
			check(t, name, got, err, w)

			// Parse, on the event as the Lambda runtime decodes it, agrees.
			var e events.CloudWatchEvent
			if json.Unmarshal(b, &e) == nil {
				got, err := trail.Parse(e)
				check(t, name, got, err, w)
			}

			// Tests and the demo move the corpus into their own account.
			const account = "999988887777"
			moved := want{err: w.err, id: w.id, change: w.change}
			for _, f := range []*string{&moved.change.Account, &moved.change.Actor, &moved.change.TaskDefinitionARN, &moved.change.PolicyARN, &moved.change.Resource} {
				*f = strings.ReplaceAll(*f, corpusAccount, account)
			}
			got, err = trail.ParseJSON([]byte(strings.ReplaceAll(string(b), corpusAccount, account)))
			check(t, name+" in account "+account, got, err, moved)
		})
	}
}

// TestParse covers the odd shapes an event can take, edited from ecsEvent
// or iamEvent.
func TestParse(t *testing.T) {
	t.Parallel()
	sessionIssuer := "detail.userIdentity.sessionContext.sessionIssuer"
	tests := []parseCase{
		{name: "register-task-definition", event: event(ecsEvent), want: want{change: ecsChange}},
		{name: "attach-role-policy", event: event(iamEvent), want: want{change: iamChange}},

		// The envelope.
		{
			name:  "detail-type-other",
			event: event(ecsEvent, set("detail-type", "ECS Task State Change")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: `detail-type "ECS Task State Change"`},
		},
		{
			name:  "detail-type-missing",
			event: event(ecsEvent, del("detail-type")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: `detail-type ""`},
		},
		{
			name:  "source-unhandled",
			event: event(ecsEvent, set("source", "aws.ec2")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: `source "aws.ec2"`},
		},
		{
			name:  "source-number",
			event: event(ecsEvent, set("source", 7)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "envelope: field source is a JSON number, not a string"},
		},
		{
			name:  "id-number",
			event: event(ecsEvent, set("id", 7)),
			want:  want{err: trail.ErrMalformed, id: "", msg: "event (no id): malformed event: envelope: field id is a JSON number"},
		},
		{
			name:  "time-not-a-time",
			event: event(ecsEvent, set("time", "yesterday")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: `envelope: parsing time "yesterday"`},
		},
		{
			name:  "envelope-array",
			event: `[` + ecsEvent + `]`,
			want:  want{err: trail.ErrMalformed, msg: "event (no id): malformed event: envelope: the value is a JSON array, not an object"},
		},
		{
			name:  "envelope-null",
			event: `null`,
			want:  want{err: trail.ErrMalformed, msg: "envelope: the value is JSON null, not an object"},
		},
		{
			name:  "envelope-empty-object",
			event: `{}`,
			want:  want{err: trail.ErrForeign, msg: `event (no id): not an event ecsguard handles: detail-type ""`},
		},
		{
			name:  "empty-input",
			event: ``,
			want:  want{err: trail.ErrMalformed, msg: "envelope: line 1 col 1: unexpected end of JSON input"},
		},

		// The detail.
		{
			name:  "detail-missing",
			event: event(ecsEvent, del("detail")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "malformed event: no detail"},
		},
		{
			name:  "detail-null",
			event: event(ecsEvent, set("detail", nil)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "malformed event: no detail"},
		},
		{
			name:  "detail-empty-object",
			event: event(ecsEvent, set("detail", map[string]any{})),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail holds no CloudTrail record"},
		},
		{
			name:  "detail-array",
			event: event(ecsEvent, set("detail", []any{map[string]any{"eventName": "RegisterTaskDefinition"}})),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail: the value is a JSON array, not an object"},
		},
		{
			name:  "detail-string",
			event: event(ecsEvent, set("detail", "RegisterTaskDefinition")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail: the value is a JSON string, not an object"},
		},
		{
			name:  "event-name-number",
			event: event(ecsEvent, set("detail.eventName", 42)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail: field eventName is a JSON number, not a string"},
		},
		{
			name:  "event-source-object",
			event: event(ecsEvent, set("detail.eventSource", map[string]any{"name": "ecs"})),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail: field eventSource is a JSON object, not a string"},
		},
		{
			name:  "event-source-missing",
			event: event(ecsEvent, del("detail.eventSource")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail.eventSource missing"},
		},
		{
			name:  "event-source-of-another-service",
			event: event(iamEvent, set("detail.eventSource", "ecs.amazonaws.com")),
			want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: `source aws.iam with detail.eventSource "ecs.amazonaws.com"`},
		},
		{
			name:  "event-name-missing",
			event: event(ecsEvent, del("detail.eventName")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail.eventName missing"},
		},
		{
			name:  "ecs-event-not-handled",
			event: event(ecsEvent, set("detail.eventName", "DeregisterTaskDefinition")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: "aws.ecs DeregisterTaskDefinition"},
		},
		{
			name:  "iam-event-not-handled",
			event: event(iamEvent, set("detail.eventName", "CreateUser")),
			want:  want{err: trail.ErrForeign, id: "evt-iam", msg: "aws.iam CreateUser"},
		},
		{
			// Event names are case-sensitive, as in EventBridge patterns.
			name:  "event-name-other-case",
			event: event(ecsEvent, set("detail.eventName", "registerTaskDefinition")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: "aws.ecs registerTaskDefinition"},
		},
		{
			// A foreign event is never rejected for a field it need not have.
			name:  "foreign-event-with-odd-fields",
			event: event(ecsEvent, set("detail.eventName", "RunTask"), set("detail.awsRegion", 1), set("detail.responseElements", "x")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: "aws.ecs RunTask"},
		},
		{
			name:  "user-identity-string",
			event: event(ecsEvent, set("detail.userIdentity", "ci-deploy")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail: field userIdentity is a JSON string, not an object"},
		},
		{
			name:  "session-issuer-arn-number",
			event: event(ecsEvent, set(sessionIssuer+".arn", 1)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "field userIdentity.sessionContext.sessionIssuer.arn is a JSON number, not a string"},
		},
		{
			name:  "aws-region-number",
			event: event(ecsEvent, set("detail.awsRegion", 1)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "field awsRegion is a JSON number, not a string"},
		},

		// Failed calls.
		{
			name:  "error-code-with-message",
			event: event(ecsEvent, set("detail.errorCode", "ClientException"), set("detail.errorMessage", "Role is not valid"), set("detail.responseElements", nil)),
			want:  want{err: trail.ErrFailedCall, id: "evt-ecs", msg: "event evt-ecs: failed API call: aws.ecs RegisterTaskDefinition: ClientException: Role is not valid"},
		},
		{
			name:  "error-code-without-message",
			event: event(ecsEvent, set("detail.errorCode", "ThrottlingException"), del("detail.responseElements")),
			want:  want{err: trail.ErrFailedCall, id: "evt-ecs", msg: "failed API call: aws.ecs RegisterTaskDefinition: ThrottlingException"},
		},
		{
			name:  "error-code-iam",
			event: event(iamEvent, set("detail.errorCode", "NoSuchEntityException"), set("detail.errorMessage", "The role with name web-task cannot be found.")),
			want:  want{err: trail.ErrFailedCall, id: "evt-iam", msg: "aws.iam AttachRolePolicy: NoSuchEntityException: The role with name web-task cannot be found."},
		},
		{
			// The failure is the better reason: a failed call has no response.
			name:  "error-code-before-missing-fields",
			event: event(iamEvent, set("detail.errorCode", "AccessDenied"), set("detail.requestParameters", nil)),
			want:  want{err: trail.ErrFailedCall, id: "evt-iam", msg: "AccessDenied"},
		},
		{
			name:  "error-code-empty",
			event: event(ecsEvent, set("detail.errorCode", "")),
			want:  want{err: trail.ErrFailedCall, id: "evt-ecs", msg: "failed API call: aws.ecs RegisterTaskDefinition"},
		},
		{
			name:  "error-code-null-is-no-error",
			event: event(ecsEvent, set("detail.errorCode", nil)),
			want:  want{change: ecsChange},
		},
		{
			name:  "error-code-number",
			event: event(ecsEvent, set("detail.errorCode", 403)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "field errorCode is a JSON number, not a string"},
		},
		{
			name:  "foreign-before-failed",
			event: event(ecsEvent, set("detail.eventName", "RunTask"), set("detail.errorCode", "AccessDenied")),
			want:  want{err: trail.ErrForeign, id: "evt-ecs", msg: "aws.ecs RunTask"},
		},

		// Event id.
		{
			name:  "envelope-without-id",
			event: event(ecsEvent, del("id")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.EventID = "ct-ecs" })},
		},
		{
			name:  "envelope-with-empty-id",
			event: event(iamEvent, set("id", "")),
			want:  want{change: changed(iamChange, func(c *trail.Change) { c.EventID = "ct-iam" })},
		},
		{
			name:  "envelope-without-id-error",
			event: event(ecsEvent, del("id"), del("detail.responseElements")),
			want:  want{err: trail.ErrMalformed, id: "ct-ecs", msg: "event ct-ecs: malformed event:"},
		},
		{
			name:  "envelope-without-id-failed-call",
			event: event(ecsEvent, del("id"), set("detail.errorCode", "AccessDenied")),
			want:  want{err: trail.ErrFailedCall, id: "ct-ecs"},
		},
		{
			name:  "envelope-without-id-wrong-type",
			event: event(ecsEvent, del("id"), set("detail.eventName", 42)),
			want:  want{err: trail.ErrMalformed, id: "ct-ecs", msg: "field eventName is a JSON number"},
		},
		{
			name:  "no-id-anywhere",
			event: event(ecsEvent, del("id"), del("detail.eventID"), del("detail.responseElements")),
			want:  want{err: trail.ErrMalformed, id: "", msg: "event (no id): malformed event:"},
		},
		{
			name:  "envelope-id-preferred",
			event: event(ecsEvent, set("detail.eventID", "other")),
			want:  want{change: ecsChange},
		},

		// Account and region.
		{
			name:  "account-from-recipient",
			event: event(ecsEvent, del("account"), set("detail.recipientAccountId", "444455556666")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Account = "444455556666" })},
		},
		{
			name:  "account-envelope-first",
			event: event(ecsEvent, set("detail.recipientAccountId", "444455556666")),
			want:  want{change: ecsChange},
		},
		{
			name:  "account-absent",
			event: event(ecsEvent, del("account"), del("detail.recipientAccountId")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Account = "" })},
		},
		{
			// IAM events reach EventBridge in us-east-1 and may be forwarded
			// to another region's bus: the record says where the call was.
			name:  "region-from-record",
			event: event(iamEvent, set("region", "eu-west-1")),
			want:  want{change: iamChange},
		},
		{
			name:  "region-record-first",
			event: event(ecsEvent, set("detail.awsRegion", "eu-central-1")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Region = "eu-central-1" })},
		},
		{
			name:  "region-from-envelope",
			event: event(ecsEvent, del("detail.awsRegion"), set("region", "ap-southeast-2")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Region = "ap-southeast-2" })},
		},

		// Actor.
		{
			name:  "actor-user",
			event: event(ecsEvent, set("detail.userIdentity", map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"})),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "arn:aws:iam::111122223333:user/alice" })},
		},
		{
			name: "actor-user-with-session-attributes",
			event: event(ecsEvent, set("detail.userIdentity", map[string]any{
				"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
				"sessionContext": map[string]any{"attributes": map[string]any{"mfaAuthenticated": "true"}},
			})),
			want: want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "arn:aws:iam::111122223333:user/alice" })},
		},
		{
			name:  "actor-session-issuer-without-arn",
			event: event(ecsEvent, del(sessionIssuer+".arn")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "arn:aws:sts::111122223333:assumed-role/ci-deploy/gh" })},
		},
		{
			name:  "actor-session-issuer-null",
			event: event(ecsEvent, set(sessionIssuer, nil)),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "arn:aws:sts::111122223333:assumed-role/ci-deploy/gh" })},
		},
		{
			name:  "actor-root",
			event: event(iamEvent, set("detail.userIdentity", map[string]any{"type": "Root", "arn": "arn:aws:iam::111122223333:root"})),
			want:  want{change: changed(iamChange, func(c *trail.Change) { c.Actor = "arn:aws:iam::111122223333:root" })},
		},
		{
			name:  "actor-aws-service",
			event: event(ecsEvent, set("detail.userIdentity", map[string]any{"type": "AWSService", "invokedBy": "ecs.amazonaws.com"})),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "" })},
		},
		{
			name:  "actor-absent",
			event: event(ecsEvent, del("detail.userIdentity")),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "" })},
		},
		{
			name:  "actor-null",
			event: event(ecsEvent, set("detail.userIdentity", nil)),
			want:  want{change: changed(ecsChange, func(c *trail.Change) { c.Actor = "" })},
		},

		// What RegisterTaskDefinition must say.
		{
			name:  "response-null",
			event: event(ecsEvent, set("detail.responseElements", nil)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail.responseElements.taskDefinition.taskDefinitionArn missing"},
		},
		{
			name:  "response-absent",
			event: event(ecsEvent, del("detail.responseElements")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail.responseElements.taskDefinition.taskDefinitionArn missing"},
		},
		{
			name:  "response-array",
			event: event(ecsEvent, set("detail.responseElements", []any{})),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "detail.responseElements: the value is a JSON array, not an object"},
		},
		{
			name:  "task-definition-absent",
			event: event(ecsEvent, del("detail.responseElements.taskDefinition")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "taskDefinition.taskDefinitionArn missing"},
		},
		{
			name:  "task-definition-arn-absent",
			event: event(ecsEvent, del("detail.responseElements.taskDefinition.taskDefinitionArn")),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "taskDefinition.taskDefinitionArn missing"},
		},
		{
			name:  "task-definition-arn-null",
			event: event(ecsEvent, set("detail.responseElements.taskDefinition.taskDefinitionArn", nil)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "taskDefinition.taskDefinitionArn missing"},
		},
		{
			name:  "task-definition-arn-number",
			event: event(ecsEvent, set("detail.responseElements.taskDefinition.taskDefinitionArn", 3)),
			want:  want{err: trail.ErrMalformed, id: "evt-ecs", msg: "field taskDefinition.taskDefinitionArn is a JSON number, not a string"},
		},
		{
			// The request's family and roles are never used.
			name:  "request-ignored",
			event: event(ecsEvent, set("detail.requestParameters", "anything")),
			want:  want{change: ecsChange},
		},

		// The tags a registration sets, for exemption approvals; tags
		// that cannot be read never drop the registration.
		{
			name: "register-with-tags",
			event: event(ecsEvent, set("detail.requestParameters.tags", []any{
				map[string]any{"key": "team", "value": "web"}, map[string]any{"key": "ecsguard:exempt", "value": "TD-011"},
				map[string]any{"key": "ecsguard:exempt-reason"},
			})),
			want: want{change: changed(ecsChange, func(c *trail.Change) {
				c.Tags = map[string]string{"team": "web", "ecsguard:exempt": "TD-011", "ecsguard:exempt-reason": ""}
			})},
		},
		{
			name:  "register-with-tags-unreadable",
			event: event(ecsEvent, set("detail.requestParameters.tags", map[string]any{"ecsguard:exempt": "*"})),
			want:  want{change: ecsChange},
		},
		{
			name:  "register-with-empty-tags",
			event: event(ecsEvent, set("detail.requestParameters.tags", []any{})),
			want:  want{change: ecsChange},
		},

		// ECS TagResource: a task definition revision given an exemption tag.
		{name: "tag-resource-exempt", event: tagResource(), want: want{change: tagResourceChange}},
		{
			name:  "tag-resource-reason-only",
			event: event(tagResource(), set("detail.requestParameters.tags", []any{map[string]any{"key": "ecsguard:exempt-reason", "value": "SEC-57"}})),
			want:  want{change: changed(tagResourceChange, func(c *trail.Change) { c.Tags = map[string]string{"ecsguard:exempt-reason": "SEC-57"} })},
		},
		{
			name:  "tag-resource-other-tags",
			event: event(tagResource(), set("detail.requestParameters.tags", []any{map[string]any{"key": "team", "value": "reports"}})),
			want:  want{err: trail.ErrForeign, id: "evt-tag", msg: "aws.ecs TagResource of arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1 sets neither ecsguard:exempt nor ecsguard:exempt-reason"},
		},
		{
			name:  "tag-resource-cluster",
			event: event(tagResource(), set("detail.requestParameters.resourceArn", "arn:aws:ecs:us-east-1:111122223333:cluster/prod")),
			want:  want{err: trail.ErrForeign, id: "evt-tag", msg: "aws.ecs TagResource of arn:aws:ecs:us-east-1:111122223333:cluster/prod, not a task definition revision"},
		},
		{
			name:  "tag-resource-family-without-revision",
			event: event(tagResource(), set("detail.requestParameters.resourceArn", "arn:aws:ecs:us-east-1:111122223333:task-definition/reports")),
			want:  want{err: trail.ErrForeign, id: "evt-tag", msg: "not a task definition revision"},
		},
		{
			name:  "tag-resource-no-resource",
			event: event(tagResource(), del("detail.requestParameters.resourceArn")),
			want:  want{err: trail.ErrMalformed, id: "evt-tag", msg: "detail.requestParameters.resourceArn missing"},
		},
		{
			name:  "tag-resource-tags-object",
			event: event(tagResource(), set("detail.requestParameters.tags", map[string]any{"ecsguard:exempt": "*"})),
			want:  want{err: trail.ErrMalformed, id: "evt-tag", msg: "field tags is a JSON object, not an array"},
		},
		{
			name:  "tag-resource-tag-without-key",
			event: event(tagResource(), set("detail.requestParameters.tags", []any{map[string]any{"value": "*"}})),
			want:  want{err: trail.ErrMalformed, id: "evt-tag", msg: "detail.requestParameters.tags[0].key missing"},
		},
		{
			name:  "tag-resource-failed",
			event: event(tagResource(), set("detail.errorCode", "AccessDeniedException"), set("detail.requestParameters", nil)),
			want:  want{err: trail.ErrFailedCall, id: "evt-tag", msg: "aws.ecs TagResource: AccessDeniedException"},
		},
		{
			name:  "untag-resource",
			event: event(tagResource(), set("detail.eventName", "UntagResource")),
			want:  want{err: trail.ErrForeign, id: "evt-tag", msg: "aws.ecs UntagResource"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := trail.ParseJSON([]byte(tc.event))
			check(t, tc.event, got, err, tc.want)
		})
	}
}

func TestParseTaskDefinitionARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		arn   string
		valid bool
	}{
		{"revision", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3", true},
		{"long-revision", "arn:aws:ecs:us-east-1:111122223333:task-definition/web_api-2:1024", true},
		{"china-partition", "arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/web:1", true},
		{"govcloud-partition", "arn:aws-us-gov:ecs:us-gov-west-1:111122223333:task-definition/web:1", true},
		{"no-revision", "arn:aws:ecs:us-east-1:111122223333:task-definition/web", false},
		{"empty-revision", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:", false},
		{"revision-latest", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:latest", false},
		{"revision-with-letter", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3a", false},
		{"revision-negative", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:-1", false},
		{"revision-plus", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:+1", false},
		{"two-revisions", "arn:aws:ecs:us-east-1:111122223333:task-definition/web:1:2", false},
		{"no-family", "arn:aws:ecs:us-east-1:111122223333:task-definition/:3", false},
		{"wrong-service", "arn:aws:iam::111122223333:task-definition/web:3", false},
		{"wrong-service-with-region", "arn:aws:ec2:us-east-1:111122223333:task-definition/web:3", false},
		{"task-not-task-definition", "arn:aws:ecs:us-east-1:111122223333:task/prod/0a1b2c3d4e5f60718293a4b5c6d7e8f9", false},
		{"cluster", "arn:aws:ecs:us-east-1:111122223333:cluster/prod", false},
		{"no-region", "arn:aws:ecs::111122223333:task-definition/web:3", false},
		{"no-account", "arn:aws:ecs:us-east-1::task-definition/web:3", false},
		{"no-partition", "arn::ecs:us-east-1:111122223333:task-definition/web:3", false},
		{"not-arn-prefix", "urn:aws:ecs:us-east-1:111122223333:task-definition/web:3", false},
		{"family-and-revision", "web:3", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := event(ecsEvent, set("detail.responseElements.taskDefinition.taskDefinitionArn", tc.arn))
			w := want{err: trail.ErrMalformed, id: "evt-ecs", msg: fmt.Sprintf("detail.responseElements.taskDefinition.taskDefinitionArn %q is not a task definition revision ARN", tc.arn)}
			if tc.valid {
				w = want{change: changed(ecsChange, func(c *trail.Change) { c.TaskDefinitionARN = tc.arn })}
			}
			got, err := trail.ParseJSON([]byte(in))
			check(t, tc.arn, got, err, w)
		})
	}
}

// iamRequests holds, for every name of IAMEventNames, a complete request as
// CloudTrail records it, what the change takes from it, and the parameters
// the change needs (in the order they are checked).
var iamRequests = map[string]struct {
	params   map[string]any
	change   func(c *trail.Change)
	required []string
}{
	"AttachRolePolicy": {
		params: map[string]any{"roleName": "web-api-task", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
		change: func(c *trail.Change) {
			c.RoleName, c.PolicyARN = "web-api-task", "arn:aws:iam::aws:policy/AdministratorAccess"
		},
		required: []string{"roleName", "policyArn"},
	},
	"DetachRolePolicy": {
		params: map[string]any{"roleName": "web-api-exec", "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
		change: func(c *trail.Change) {
			c.RoleName, c.PolicyARN = "web-api-exec", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
		},
		required: []string{"roleName", "policyArn"},
	},
	"PutRolePolicy": {
		params:   map[string]any{"roleName": "ecsEventsRole", "policyName": "run-scheduled-tasks", "policyDocument": `{"Version":"2012-10-17","Statement":[]}`},
		change:   func(c *trail.Change) { c.RoleName, c.PolicyName = "ecsEventsRole", "run-scheduled-tasks" },
		required: []string{"roleName", "policyName"},
	},
	"DeleteRolePolicy": {
		params:   map[string]any{"roleName": "web-api-task", "policyName": "uploads"},
		change:   func(c *trail.Change) { c.RoleName, c.PolicyName = "web-api-task", "uploads" },
		required: []string{"roleName", "policyName"},
	},
	"UpdateAssumeRolePolicy": {
		params:   map[string]any{"roleName": "web-api-task", "policyDocument": `{"Version":"2012-10-17","Statement":[]}`},
		change:   func(c *trail.Change) { c.RoleName = "web-api-task" },
		required: []string{"roleName"},
	},
	// A policy version names only the policy, which may be attached to many
	// roles.
	"CreatePolicyVersion": {
		params:   map[string]any{"policyArn": "arn:aws:iam::111122223333:policy/web-api-exec-secrets", "policyDocument": `{"Version":"2012-10-17","Statement":[]}`, "setAsDefault": true},
		change:   func(c *trail.Change) { c.PolicyARN = "arn:aws:iam::111122223333:policy/web-api-exec-secrets" },
		required: []string{"policyArn"},
	},
	"SetDefaultPolicyVersion": {
		params:   map[string]any{"policyArn": "arn:aws:iam::111122223333:policy/teams/web-api-exec-secrets", "versionId": "v1"},
		change:   func(c *trail.Change) { c.PolicyARN = "arn:aws:iam::111122223333:policy/teams/web-api-exec-secrets" },
		required: []string{"policyArn"},
	},
	// The boundary is the policy the change names.
	"PutRolePermissionsBoundary": {
		params: map[string]any{"roleName": "web-api-task", "permissionsBoundary": "arn:aws:iam::111122223333:policy/ecs-task-boundary"},
		change: func(c *trail.Change) {
			c.RoleName, c.PolicyARN = "web-api-task", "arn:aws:iam::111122223333:policy/ecs-task-boundary"
		},
		required: []string{"roleName", "permissionsBoundary"},
	},
	"DeleteRolePermissionsBoundary": {
		params:   map[string]any{"roleName": "web-api-task"},
		change:   func(c *trail.Change) { c.RoleName = "web-api-task" },
		required: []string{"roleName"},
	},
	// The boundary a new role is created with is read with the role.
	"CreateRole": {
		params: map[string]any{
			"roleName": "web-api-task", "path": "/", "assumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[]}`,
			"permissionsBoundary": "arn:aws:iam::111122223333:policy/ecs-task-boundary", "maxSessionDuration": 3600,
			"tags": []any{map[string]any{"key": "team", "value": "web"}},
		},
		change: func(c *trail.Change) {
			c.RoleName, c.Tags = "web-api-task", map[string]string{"team": "web"}
		},
		required: []string{"roleName"},
	},
	// The tags a TagRole sets: who set an exemption.
	"TagRole": {
		params: map[string]any{"roleName": "web-api-task", "tags": []any{map[string]any{"key": "ecsguard:exempt", "value": "TD-011"}}},
		change: func(c *trail.Change) {
			c.RoleName, c.Tags = "web-api-task", map[string]string{"ecsguard:exempt": "TD-011"}
		},
		required: []string{"roleName"},
	},
	"UntagRole": {
		params:   map[string]any{"roleName": "web-api-task", "tagKeys": []any{"ecsguard:exempt"}},
		change:   func(c *trail.Change) { c.RoleName = "web-api-task" },
		required: []string{"roleName"},
	},
}

// invalidParam is a value of the right type but not of the form of each
// parameter.
var invalidParam = map[string]string{
	"roleName":            "web api task",
	"policyArn":           "AdministratorAccess",
	"policyName":          "run scheduled tasks",
	"permissionsBoundary": "arn:aws:iam::111122223333:role/ecs-task-boundary",
}

func TestParseIAMEvents(t *testing.T) {
	t.Parallel()
	names := trail.IAMEventNames()
	for _, name := range names {
		if _, ok := iamRequests[name]; !ok {
			t.Errorf("IAMEventNames has %s, which iamRequests lacks", name)
		}
	}
	for name := range iamRequests {
		if !slices.Contains(names, name) {
			t.Errorf("iamRequests has %s, which IAMEventNames lacks", name)
		}
	}
	for _, name := range names {
		req, ok := iamRequests[name]
		if !ok {
			continue
		}
		base := func(edits ...edit) string {
			return event(iamEvent, append([]edit{set("detail.eventName", name), set("detail.requestParameters", req.params)}, edits...)...)
		}
		base0 := changed(iamChange, func(c *trail.Change) {
			c.EventName, c.RoleName, c.PolicyARN, c.PolicyName = name, "", "", ""
		})
		tests := []parseCase{
			{name: "complete", event: base(), want: want{change: changed(base0, req.change)}},
			{
				name:  "request-parameters-null",
				event: base(set("detail.requestParameters", nil)),
				want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters." + req.required[0] + " missing"},
			},
			{
				name:  "request-parameters-absent",
				event: base(del("detail.requestParameters")),
				want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters." + req.required[0] + " missing"},
			},
			{
				name:  "request-parameters-array",
				event: base(set("detail.requestParameters", []any{req.params})),
				want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters: the value is a JSON array, not an object"},
			},
			{
				name:  "failed",
				event: base(set("detail.errorCode", "AccessDenied"), set("detail.errorMessage", "not authorized")),
				want:  want{err: trail.ErrFailedCall, id: "evt-iam", msg: "failed API call: aws.iam " + name + ": AccessDenied: not authorized"},
			},
		}
		for _, p := range req.required {
			tests = append(tests,
				parseCase{
					name:  p + "-missing",
					event: base(del("detail.requestParameters." + p)),
					want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters." + p + " missing"},
				},
				parseCase{
					name:  p + "-null",
					event: base(set("detail.requestParameters."+p, nil)),
					want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters." + p + " missing"},
				},
				parseCase{
					name:  p + "-empty",
					event: base(set("detail.requestParameters."+p, "")),
					want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters." + p + " missing"},
				},
				parseCase{
					name:  p + "-invalid",
					event: base(set("detail.requestParameters."+p, invalidParam[p])),
					want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: fmt.Sprintf("detail.requestParameters.%s %q is not of its form", p, invalidParam[p])},
				},
				parseCase{
					name:  p + "-number",
					event: base(set("detail.requestParameters."+p, 7)),
					want:  want{err: trail.ErrMalformed, id: "evt-iam", msg: "detail.requestParameters: field " + p + " is a JSON number, not a string"},
				},
			)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, err := trail.ParseJSON([]byte(tc.event))
					check(t, tc.event, got, err, tc.want)
				})
			}
		})
	}
}

// TestParseIAMParameterForms checks the forms of role names, policy ARNs
// and policy names (IAM API reference), through the events that carry them.
func TestParseIAMParameterForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		eventName string
		param     string
		value     string
		valid     bool
	}{
		{"role-name-all-characters", "AttachRolePolicy", "roleName", "Web_API+=,.@-task1", true},
		{"role-name-64", "AttachRolePolicy", "roleName", strings.Repeat("r", 64), true},
		{"role-name-65", "AttachRolePolicy", "roleName", strings.Repeat("r", 65), false},
		{"role-name-space", "AttachRolePolicy", "roleName", "web task", false},
		{"role-name-path", "AttachRolePolicy", "roleName", "service-role/web-task", false},
		{"role-name-arn", "AttachRolePolicy", "roleName", "arn:aws:iam::111122223333:role/web-task", false},
		{"role-name-not-ascii", "AttachRolePolicy", "roleName", "wéb-task", false},
		{"policy-arn-aws-managed", "AttachRolePolicy", "policyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess", true},
		{"policy-arn-path", "AttachRolePolicy", "policyArn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", true},
		{"policy-arn-customer", "DetachRolePolicy", "policyArn", "arn:aws:iam::111122223333:policy/web-api-exec-secrets", true},
		{"policy-arn-china", "CreatePolicyVersion", "policyArn", "arn:aws-cn:iam::111122223333:policy/web", true},
		{"policy-arn-no-name", "CreatePolicyVersion", "policyArn", "arn:aws:iam::111122223333:policy/", false},
		{"policy-arn-path-no-name", "SetDefaultPolicyVersion", "policyArn", "arn:aws:iam::111122223333:policy/teams/", false},
		{"policy-arn-role", "AttachRolePolicy", "policyArn", "arn:aws:iam::111122223333:role/web-task", false},
		{"policy-arn-region", "AttachRolePolicy", "policyArn", "arn:aws:iam:us-east-1:111122223333:policy/web", false},
		{"policy-arn-no-account", "AttachRolePolicy", "policyArn", "arn:aws:iam:::policy/web", false},
		{"policy-arn-no-partition", "AttachRolePolicy", "policyArn", "arn::iam::aws:policy/web", false},
		{"policy-arn-other-service", "AttachRolePolicy", "policyArn", "arn:aws:sts::aws:policy/web", false},
		{"policy-arn-name-only", "AttachRolePolicy", "policyArn", "policy/web", false},
		{"boundary-customer", "PutRolePermissionsBoundary", "permissionsBoundary", "arn:aws:iam::111122223333:policy/boundaries/ecs", true},
		{"boundary-name-only", "PutRolePermissionsBoundary", "permissionsBoundary", "ecs-boundary", false},
		{"policy-name-all-characters", "PutRolePolicy", "policyName", "Run_Tasks+=,.@-1", true},
		{"policy-name-128", "DeleteRolePolicy", "policyName", strings.Repeat("p", 128), true},
		{"policy-name-129", "DeleteRolePolicy", "policyName", strings.Repeat("p", 129), false},
		{"policy-name-slash", "PutRolePolicy", "policyName", "run/tasks", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := iamRequests[tc.eventName]
			in := event(iamEvent, set("detail.eventName", tc.eventName), set("detail.requestParameters", req.params),
				set("detail.requestParameters."+tc.param, tc.value))
			w := want{err: trail.ErrMalformed, id: "evt-iam", msg: fmt.Sprintf("detail.requestParameters.%s %q is not of its form", tc.param, tc.value)}
			if tc.valid {
				var got trail.Change
				req.change(&got)
				w = want{change: changed(iamChange, func(c *trail.Change) {
					c.EventName, c.RoleName, c.PolicyARN, c.PolicyName = tc.eventName, got.RoleName, got.PolicyARN, got.PolicyName
					switch tc.param {
					case "roleName":
						c.RoleName = tc.value
					case "policyArn", "permissionsBoundary":
						c.PolicyARN = tc.value
					case "policyName":
						c.PolicyName = tc.value
					}
				})}
			}
			got, err := trail.ParseJSON([]byte(in))
			check(t, tc.value, got, err, w)
		})
	}
}

// TestParseOnlyNeededParameters: the change takes the parameters its event
// needs and no others, even when the request has them.
func TestParseOnlyNeededParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		event  string
		change trail.Change
	}{
		{
			name: "create-policy-version-policy-arn-only",
			event: event(iamEvent, set("detail.eventName", "CreatePolicyVersion"), set("detail.requestParameters", map[string]any{
				"policyArn": "arn:aws:iam::111122223333:policy/web", "roleName": "web-task", "policyName": "web",
			})),
			change: changed(iamChange, func(c *trail.Change) {
				c.EventName, c.RoleName, c.PolicyARN = "CreatePolicyVersion", "", "arn:aws:iam::111122223333:policy/web"
			}),
		},
		{
			name: "boundary-over-policy-arn",
			event: event(iamEvent, set("detail.eventName", "PutRolePermissionsBoundary"), set("detail.requestParameters", map[string]any{
				"roleName": "web-task", "permissionsBoundary": "arn:aws:iam::111122223333:policy/boundary", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
			})),
			change: changed(iamChange, func(c *trail.Change) {
				c.EventName, c.PolicyARN = "PutRolePermissionsBoundary", "arn:aws:iam::111122223333:policy/boundary"
			}),
		},
		{
			name: "put-role-policy-no-policy-arn",
			event: event(iamEvent, set("detail.eventName", "PutRolePolicy"), set("detail.requestParameters", map[string]any{
				"roleName": "web-task", "policyName": "inline", "policyArn": "not even an ARN",
			})),
			change: changed(iamChange, func(c *trail.Change) {
				c.EventName, c.PolicyARN, c.PolicyName = "PutRolePolicy", "", "inline"
			}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := trail.ParseJSON([]byte(tc.event))
			check(t, tc.event, got, err, want{change: tc.change})
		})
	}
}

// TestParseSyntaxErrorPosition: a syntax error says where, in the text that
// holds it, so the drop message points at the problem.
func TestParseSyntaxErrorPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// Either text for ParseJSON, or a detail for Parse.
		text, detail string
		want         want
	}{
		{
			name: "truncated-after-id",
			text: "{\n  \"version\": \"0\",\n  \"id\": \"evt-1\",\n  \"detail-type\": \"AWS API Ca",
			want: want{err: trail.ErrMalformed, id: "evt-1", msg: "envelope: line 4 col 28: unexpected end of JSON input"},
		},
		{
			name: "truncated-before-id",
			text: "{\n  \"version\": \"0\",\n  \"i",
			want: want{err: trail.ErrMalformed, id: "", msg: "event (no id): malformed event: envelope: line 3 col 4: unexpected end of JSON input"},
		},
		{
			name: "truncated-in-id",
			text: `{"id": "evt-`,
			want: want{err: trail.ErrMalformed, id: "", msg: "line 1 col 12: unexpected end of JSON input"},
		},
		{
			name: "bad-character",
			text: "{\"id\": \"evt-2\",\n \"source\": aws.ecs}",
			want: want{err: trail.ErrMalformed, id: "evt-2", msg: "envelope: line 2 col 12: invalid character 'a' looking for beginning of value"},
		},
		{
			name: "trailing-data",
			text: event(ecsEvent) + "\n}",
			want: want{err: trail.ErrMalformed, id: "evt-ecs", msg: "line 2 col 1: invalid character '}' after top-level value"},
		},
		{
			name: "two-events",
			text: event(ecsEvent) + event(iamEvent),
			want: want{err: trail.ErrMalformed, id: "evt-ecs", msg: "invalid character '{' after top-level value"},
		},
		{
			name: "id-after-truncated-detail",
			text: `{"detail": {"eventName": "RegisterTaskDefinition", "id": "x"`,
			want: want{err: trail.ErrMalformed, id: "", msg: "unexpected end of JSON input"},
		},
		{
			name: "id-key-case",
			text: `{"ID": "evt-3", "detail": {`,
			want: want{err: trail.ErrMalformed, id: "evt-3"},
		},
		{
			name: "id-twice",
			text: `{"id": "evt-4", "id": "evt-5", "detail": {`,
			want: want{err: trail.ErrMalformed, id: "evt-5"},
		},
		{
			name:   "detail-truncated",
			detail: "{\n\"eventSource\": \"ecs.amazonaws.com\",\n\"eventName\": \"Register",
			want:   want{err: trail.ErrMalformed, id: "evt-raw", msg: "malformed event: detail: line 3 col 22: unexpected end of JSON input"},
		},
		{
			name:   "detail-not-json",
			detail: `eventName=RegisterTaskDefinition`,
			want:   want{err: trail.ErrMalformed, id: "evt-raw", msg: "detail: line 1 col 1: invalid character 'e' looking for beginning of value"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.detail == "" {
				got, err := trail.ParseJSON([]byte(tc.text))
				check(t, tc.text, got, err, tc.want)
				return
			}
			e := events.CloudWatchEvent{ID: "evt-raw", DetailType: trail.DetailTypeAPICall, Source: trail.SourceECS, Detail: json.RawMessage(tc.detail)}
			got, err := trail.Parse(e)
			check(t, tc.detail, got, err, tc.want)
		})
	}
}

// TestParseZeroEvent: an event value nobody filled in is foreign, and names
// no event.
func TestParseZeroEvent(t *testing.T) {
	t.Parallel()
	got, err := trail.Parse(events.CloudWatchEvent{})
	check(t, "CloudWatchEvent{}", got, err, want{err: trail.ErrForeign, msg: `event (no id): not an event ecsguard handles: detail-type ""`})
}

func TestIAMEventNames(t *testing.T) {
	t.Parallel()
	// SPEC §1: the onrolechange EventBridge rule.
	want := []string{
		"AttachRolePolicy", "CreatePolicyVersion", "CreateRole", "DeleteRolePermissionsBoundary",
		"DeleteRolePolicy", "DetachRolePolicy", "PutRolePermissionsBoundary", "PutRolePolicy",
		"SetDefaultPolicyVersion", "TagRole", "UntagRole", "UpdateAssumeRolePolicy",
	}
	got := trail.IAMEventNames()
	if !slices.Equal(got, want) {
		t.Fatalf("IAMEventNames() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if trail.IAMEventNames()[0] != want[0] {
		t.Fatal("IAMEventNames returns a slice the caller can change")
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *trail.Error
		want string
	}{
		{&trail.Error{EventID: "evt-1", Err: trail.ErrForeign}, "event evt-1: not an event ecsguard handles"},
		{&trail.Error{Err: trail.ErrMalformed}, "event (no id): malformed event"},
		{&trail.Error{EventID: "evt-2", Err: fmt.Errorf("%w: AccessDenied", trail.ErrFailedCall)}, "event evt-2: failed API call: AccessDenied"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("(%#v).Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}
