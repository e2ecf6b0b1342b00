package trail_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ecsguard/ecsguard/shared/trail"
)

// Calls on ecsguard's own topic, key and rules name the resource changed.
func TestTamperResource(t *testing.T) {
	t.Parallel()
	event := func(source, svc, name string, params, resources any) []byte {
		detail := map[string]any{
			"eventSource": svc, "eventName": name, "eventID": "c-1", "awsRegion": "eu-west-1",
			"recipientAccountId": "111122223333", "userIdentity": map[string]any{"arn": "arn:aws:iam::111122223333:user/mallory"},
			"requestParameters": params,
		}
		if resources != nil {
			detail["resources"] = resources
		}
		b, _ := json.Marshal(map[string]any{"id": "e-1", "detail-type": trail.DetailTypeAPICall, "source": source, "account": "111122223333", "region": "eu-west-1", "detail": detail})
		return b
	}
	for _, tc := range []struct {
		name  string
		event []byte
		want  string
		err   error
	}{
		{"sns-unsubscribe", event("aws.sns", "sns.amazonaws.com", "Unsubscribe", map[string]any{"subscriptionArn": "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings:3f2a-11"}, nil), "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings", nil},
		{"sns-delete", event("aws.sns", "sns.amazonaws.com", "DeleteTopic", map[string]any{"topicArn": "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings"}, nil), "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings", nil},
		{"kms-resources", event("aws.kms", "kms.amazonaws.com", "ScheduleKeyDeletion", map[string]any{"keyId": "1234"}, []any{map[string]any{"ARN": "arn:aws:kms:eu-west-1:111122223333:key/1234"}}), "arn:aws:kms:eu-west-1:111122223333:key/1234", nil},
		{"kms-key-id-only", event("aws.kms", "kms.amazonaws.com", "DisableKey", map[string]any{"keyId": "arn:aws:kms:eu-west-1:111122223333:key/1234"}, nil), "arn:aws:kms:eu-west-1:111122223333:key/1234", nil},
		{"events-default-bus", event("aws.events", "events.amazonaws.com", "DeleteRule", map[string]any{"name": "ecsguard-register"}, nil), "arn:aws:events:eu-west-1:111122223333:rule/ecsguard-register", nil},
		{"events-custom-bus", event("aws.events", "events.amazonaws.com", "RemoveTargets", map[string]any{"rule": "x", "name": "ecsguard-register", "eventBusName": "central"}, nil), "arn:aws:events:eu-west-1:111122223333:rule/central/ecsguard-register", nil},
		{"sns-data-protection", event("aws.sns", "sns.amazonaws.com", "PutDataProtectionPolicy", map[string]any{"resourceArn": "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings"}, nil), "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings", nil},
		{"sns-subscription-attributes", event("aws.sns", "sns.amazonaws.com", "SetSubscriptionAttributes", map[string]any{"subscriptionArn": "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings:9"}, nil), "arn:aws:sns:eu-west-1:111122223333:ecsguard-findings", nil},
		{"events-put-targets", event("aws.events", "events.amazonaws.com", "PutTargets", map[string]any{"rule": "ecsguard-register"}, nil), "arn:aws:events:eu-west-1:111122223333:rule/ecsguard-register", nil},
		{"sns-publish-foreign", event("aws.sns", "sns.amazonaws.com", "Publish", map[string]any{"topicArn": "t"}, nil), "", trail.ErrForeign},
		{"kms-no-key", event("aws.kms", "kms.amazonaws.com", "DisableKey", map[string]any{}, nil), "", trail.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := trail.ParseJSON(tc.event)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseJSON = %+v, %v; want %v", c, err, tc.err)
				}
				return
			}
			if err != nil || c.Resource != tc.want || c.Actor != "arn:aws:iam::111122223333:user/mallory" {
				t.Fatalf("ParseJSON = %+v, %v; want resource %s", c, err, tc.want)
			}
		})
	}
}
