package trail_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// sentinels are the reasons every error of the package wraps exactly one of.
var sentinels = []error{trail.ErrMalformed, trail.ErrForeign, trail.ErrFailedCall}

// corpus returns every file of events-testdata by name, failing when there
// are none (an empty corpus must not pass silently).
func corpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no events in events-testdata (%v)", err)
	}
	files := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(eventstestdata.FS, name)
		if err != nil {
			tb.Fatal(err)
		}
		files[name] = b
	}
	return files
}

// want is what parsing one event gives: a Change, or an error wrapping err
// on an *trail.Error whose EventID is id and whose text contains msg.
type want struct {
	change trail.Change
	err    error
	id     string
	msg    string
}

// parseCase is one event, as JSON text, and what parsing it gives.
type parseCase struct {
	name  string
	event string
	want  want
}

// check compares what ParseJSON or Parse returned with w.
func check(t *testing.T, input string, got trail.Change, err error, w want) {
	t.Helper()
	if w.err == nil {
		if err != nil {
			t.Fatalf("Parse(%s) error = %v, want %+v", input, err, w.change)
		}
		if !reflect.DeepEqual(got, w.change) {
			t.Fatalf("Parse(%s)\n got %+v\nwant %+v", input, got, w.change)
		}
		return
	}
	if err == nil {
		t.Fatalf("Parse(%s) = %+v, want error %v", input, got, w.err)
	}
	if !reflect.DeepEqual(got, trail.Change{}) {
		t.Errorf("Parse(%s) returned %+v with its error, want the zero Change", input, got)
	}
	checkError(t, err)
	var te *trail.Error
	errors.As(err, &te)
	if !errors.Is(err, w.err) {
		t.Errorf("Parse(%s) error = %v, want %v", input, err, w.err)
	}
	if te.EventID != w.id {
		t.Errorf("Parse(%s) error EventID = %q, want %q (%v)", input, te.EventID, w.id, err)
	}
	if !strings.Contains(err.Error(), w.msg) {
		t.Errorf("Parse(%s) error = %q, want it to contain %q", input, err, w.msg)
	}
}

// checkError checks what holds for every error: an *trail.Error wrapping
// exactly one sentinel, whose text starts with the event it names.
func checkError(t *testing.T, err error) {
	t.Helper()
	var te *trail.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *trail.Error", err, err)
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d of the sentinels, want exactly 1", err, n)
	}
	id := te.EventID
	if id == "" {
		id = "(no id)"
	}
	if prefix := "event " + id + ": "; !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q does not start with %q", err, prefix)
	}
}

// edit changes one field of an event held as decoded JSON.
type edit func(m map[string]any)

// set sets the field at a dot-separated path (creating objects on the way)
// to a copy of v, so later edits never change the caller's value.
func set(path string, v any) edit {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return func(m map[string]any) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			panic(err)
		}
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
}

// del removes the field at a dot-separated path.
func del(path string) edit {
	return func(m map[string]any) {
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				return
			}
			m = next
		}
		delete(m, keys[len(keys)-1])
	}
}

// event returns base (an event as JSON text) with the edits applied.
func event(base string, edits ...edit) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		panic("test event is not JSON: " + err.Error())
	}
	for _, e := range edits {
		e(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Events as AWS delivers them, cut to the fields that matter, for the table
// cases to edit.
const (
	ecsEvent = `{
	  "version": "0", "id": "evt-ecs", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs",
	  "account": "111122223333", "time": "2026-03-14T10:00:00Z", "region": "us-east-1", "resources": [],
	  "detail": {
	    "eventSource": "ecs.amazonaws.com", "eventName": "RegisterTaskDefinition", "eventID": "ct-ecs",
	    "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
	    "userIdentity": {
	      "type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ci-deploy/gh",
	      "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/ci-deploy"}}
	    },
	    "requestParameters": {"family": "web", "taskRoleArn": "web-task"},
	    "responseElements": {"taskDefinition": {
	      "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3",
	      "taskRoleArn": "arn:aws:iam::111122223333:role/web-task", "revision": 3}}
	  }
	}`
	iamEvent = `{
	  "version": "0", "id": "evt-iam", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
	  "account": "111122223333", "time": "2026-03-14T13:00:00Z", "region": "us-east-1", "resources": [],
	  "detail": {
	    "eventSource": "iam.amazonaws.com", "eventName": "AttachRolePolicy", "eventID": "ct-iam",
	    "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
	    "userIdentity": {
	      "type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/alice",
	      "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/admin"}}
	    },
	    "requestParameters": {"roleName": "web-task", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
	    "responseElements": null
	  }
	}`
)

// ecsChange and iamChange are what ecsEvent and iamEvent parse to.
var (
	ecsChange = trail.Change{
		EventID: "evt-ecs", EventName: "RegisterTaskDefinition", Source: "aws.ecs",
		Account: "111122223333", Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/ci-deploy",
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3",
	}
	iamChange = trail.Change{
		EventID: "evt-iam", EventName: "AttachRolePolicy", Source: "aws.iam",
		Account: "111122223333", Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/admin",
		RoleName: "web-task", PolicyARN: "arn:aws:iam::aws:policy/AdministratorAccess",
	}
)

// tagResource is ecsEvent made an ECS TagResource of a revision that sets
// both exemption tags, and tagResourceChange what it parses to.
func tagResource() string {
	return event(ecsEvent, set("id", "evt-tag"), set("detail.eventName", "TagResource"), set("detail.responseElements", nil),
		set("detail.requestParameters", map[string]any{
			"resourceArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1",
			"tags": []any{
				map[string]any{"key": "ecsguard:exempt", "value": "TD-008"},
				map[string]any{"key": "ecsguard:exempt-reason", "value": "SEC-57"},
			},
		}))
}

var tagResourceChange = trail.Change{
	EventID: "evt-tag", EventName: "TagResource", Source: "aws.ecs",
	Account: "111122223333", Region: "us-east-1", Actor: "arn:aws:iam::111122223333:role/ci-deploy",
	TaskDefinitionARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1",
	Tags:              map[string]string{"ecsguard:exempt": "TD-008", "ecsguard:exempt-reason": "SEC-57"},
}

// changed returns c changed by f.
func changed(c trail.Change, f func(c *trail.Change)) trail.Change {
	f(&c)
	return c
}
