package trail_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/ecsguard/ecsguard/shared/trail"
)

// Reference forms, written independently of the parser's checks.
var (
	taskDefinitionARNForm = regexp.MustCompile(`^arn:[^:]+:ecs:[^:]+:[^:]+:task-definition/[^:]+:[0-9]+$`)
	policyARNForm         = regexp.MustCompile(`^arn:[^:]+:iam::[^:]+:policy/.*[^/]$`)
	roleNameForm          = regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]{1,64}$`)
	policyNameForm        = regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]{1,128}$`)
)

// FuzzParse runs ParseJSON on mutations of the corpus. Its seeds run in
// every go test; make fuzz runs it for longer:
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./shared/trail
func FuzzParse(f *testing.F) {
	for _, b := range corpus(f) {
		f.Add(b)
	}
	// Small events reach the interesting branches in fewer mutations than
	// the corpus files, which are mostly request and response bodies.
	f.Add([]byte(event(ecsEvent)))
	f.Add([]byte(event(ecsEvent, del("id"))))
	for name, req := range iamRequests {
		f.Add([]byte(event(iamEvent, set("detail.eventName", name), set("detail.requestParameters", req.params))))
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `{"id":"x","detail":`, `{"id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":[]}`} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := trail.ParseJSON(b)

		// The id EventBridge gave the event is always the one reported.
		var envelope struct {
			ID string `json:"id"`
		}
		envelopeID, hasID := "", json.Unmarshal(b, &envelope) == nil && envelope.ID != ""
		if hasID {
			envelopeID = envelope.ID
		}

		if err != nil {
			checkError(t, err)
			if !reflect.DeepEqual(c, trail.Change{}) {
				t.Errorf("error %v came with a non-zero Change %+v", err, c)
			}
			var te *trail.Error
			if errors.As(err, &te) && hasID && te.EventID != envelopeID {
				t.Errorf("error EventID = %q, want the envelope's %q (%v)", te.EventID, envelopeID, err)
			}
			return
		}

		if hasID && c.EventID != envelopeID {
			t.Errorf("EventID = %q, want the envelope's %q", c.EventID, envelopeID)
		}
		switch c.Source {
		case trail.SourceECS:
			switch c.EventName {
			case trail.EventRegisterTaskDefinition:
			case trail.EventTagResource:
				if !c.SetsExemption() {
					t.Errorf("TagResource change that sets no exemption tag: %+v", c)
				}
			default:
				t.Errorf("aws.ecs change for event %q", c.EventName)
			}
			if !taskDefinitionARNForm.MatchString(c.TaskDefinitionARN) {
				t.Errorf("RegisterTaskDefinition with TaskDefinitionARN %q", c.TaskDefinitionARN)
			}
			if c.RoleName != "" || c.PolicyARN != "" || c.PolicyName != "" {
				t.Errorf("RegisterTaskDefinition change names IAM entities: %+v", c)
			}
		case trail.SourceIAM:
			if !slices.Contains(trail.IAMEventNames(), c.EventName) {
				t.Fatalf("aws.iam change for event %q, not in IAMEventNames", c.EventName)
			}
			if c.TaskDefinitionARN != "" {
				t.Errorf("IAM change names a task definition: %+v", c)
			}
			var need trail.Change
			iamRequests[c.EventName].change(&need)
			checkIAMField(t, c, "RoleName", c.RoleName, need.RoleName != "", roleNameForm)
			checkIAMField(t, c, "PolicyARN", c.PolicyARN, need.PolicyARN != "", policyARNForm)
			checkIAMField(t, c, "PolicyName", c.PolicyName, need.PolicyName != "", policyNameForm)
		case trail.SourceSNS, trail.SourceKMS, trail.SourceEvents:
			if !slices.Contains(trail.TamperEventNames(c.Source), c.EventName) {
				t.Fatalf("%s change for event %q, not in TamperEventNames", c.Source, c.EventName)
			}
			if c.Resource == "" || c.TaskDefinitionARN != "" || c.RoleName != "" {
				t.Errorf("%s change names no resource, or an ECS or IAM entity: %+v", c.Source, c)
			}
		default:
			t.Errorf("change from source %q: %+v", c.Source, c)
		}
	})
}

// checkIAMField checks that an IAM change has a field of the right form
// exactly when its event name requires it.
func checkIAMField(t *testing.T, c trail.Change, field, value string, required bool, form *regexp.Regexp) {
	t.Helper()
	switch {
	case required && !form.MatchString(value):
		t.Errorf("%s change with %s %q", c.EventName, field, value)
	case !required && value != "":
		t.Errorf("%s change has %s %q, which it does not use", c.EventName, field, value)
	}
}
