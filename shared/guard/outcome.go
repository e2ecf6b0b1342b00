package guard

import (
	"fmt"
	"slices"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Results of an invocation.
const (
	ResultDropped   = "dropped"   // malformed, failed call, foreign, or of an account not watched
	ResultIgnored   = "ignored"   // caused by ecsguard itself
	ResultEvaluated = "evaluated" // evaluated; alerted when there was something to say
	ResultDuplicate = "duplicate" // already handled: a duplicate delivery, nothing done again
	ResultFailed    = "failed"    // returned an error for EventBridge to retry
)

// Outcome is what an onregister invocation did. The Lambda function
// returns it, so it is also what the Runtime Interface Emulator and the
// demo show.
type Outcome struct {
	EventID    string       `json:"eventId"`
	EventName  string       `json:"eventName,omitempty"`
	Result     string       `json:"result"`
	Reason     string       `json:"reason,omitempty"`
	Subject    string       `json:"subject,omitempty"`
	Complete   bool         `json:"complete"`
	Findings   int          `json:"findings"` // unsuppressed
	Suppressed int          `json:"suppressed"`
	Highest    string       `json:"highest,omitempty"`
	Rules      []string     `json:"rules,omitempty"`
	Alerted    bool         `json:"alerted"`
	MessageID  string       `json:"messageId,omitempty"`
	Action     rules.Action `json:"action"`
	Notes      []string     `json:"notes,omitempty"`
	Calls      int64        `json:"awsCalls"`
}

// ChangeOutcome is what an onrolechange invocation did.
type ChangeOutcome struct {
	EventID   string `json:"eventId"`
	EventName string `json:"eventName,omitempty"`
	Kind      string `json:"kind,omitempty"` // "role change" or "tampering"
	Result    string `json:"result"`
	Reason    string `json:"reason,omitempty"`
	// Roles are the roles the change reached.
	Roles []string `json:"roles,omitempty"`
	// Subjects are the task definitions, secondary roles and own resources
	// judged.
	Subjects   []SubjectOutcome `json:"subjects,omitempty"`
	Findings   int              `json:"findings"` // unsuppressed, over every subject
	Suppressed int              `json:"suppressed"`
	Alerted    bool             `json:"alerted"`
	MessageID  string           `json:"messageId,omitempty"`
	Messages   int              `json:"messages,omitempty"` // published by this delivery; more than one for a split alert
	Notes      []string         `json:"notes,omitempty"`
	Calls      int64            `json:"awsCalls"`
}

// SubjectOutcome is the verdict on one subject of a role change.
type SubjectOutcome struct {
	ARN      string       `json:"arn"`
	Type     string       `json:"type"`
	Complete bool         `json:"complete"`
	Highest  string       `json:"highest,omitempty"`
	Rules    []string     `json:"rules,omitempty"`
	New      []string     `json:"new,omitempty"`    // rules of the findings the change brought, when the state before is known
	UsedBy   []rules.Use  `json:"usedBy,omitempty"` // a secondary role's EventBridge rules, schedules, scalable targets, instance profiles
	Action   rules.Action `json:"action"`
}

// RetryableError is returned when the invocation must fail so that
// EventBridge retries it: Stage says where ("load facts", "publish").
// Lambda reports its type name as the errorType.
type RetryableError struct {
	Stage string
	Err   error
}

func (e *RetryableError) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }

func (e *RetryableError) Unwrap() error { return e.Err }

func (r *run) outcome() Outcome {
	o := Outcome{EventID: r.ch.EventID, EventName: r.ch.EventName, Result: r.result, Reason: r.reason,
		Subject: r.ch.TaskDefinitionARN, Alerted: r.alerted, Notes: r.a.Notes, Calls: r.calls}
	if len(r.messageIDs) > 0 {
		o.MessageID = r.messageIDs[0]
	}
	for _, v := range r.a.Verdicts {
		o.Subject, o.Complete, o.Action = v.Report.Subject.ARN, v.Report.Complete, v.Report.Action
		o.Rules = ruleIDs(v.Open())
		o.Findings += len(v.Open())
		o.Suppressed += len(v.Suppressed())
		if s := v.Report.Highest(); s > 0 {
			o.Highest = s.String()
		}
	}
	return o
}

func (r *run) changeOutcome() ChangeOutcome {
	o := ChangeOutcome{EventID: r.ch.EventID, EventName: r.ch.EventName, Result: r.result, Reason: r.reason,
		Roles: r.a.Event.Roles, Alerted: r.alerted, Messages: len(r.messageIDs), Notes: r.a.Notes, Calls: r.calls}
	if r.a.Event.Kind != 0 {
		o.Kind = r.a.Event.Kind.String()
	}
	if len(r.messageIDs) > 0 {
		o.MessageID = r.messageIDs[0]
	}
	for _, v := range r.a.Verdicts {
		s := SubjectOutcome{ARN: v.Report.Subject.ARN, Type: v.Report.Subject.Type, Complete: v.Report.Complete,
			Rules: ruleIDs(v.Open()), UsedBy: v.UsedBy, Action: v.Report.Action}
		if hs := v.Report.Highest(); hs > 0 {
			s.Highest = hs.String()
		}
		if v.BeforeKnown {
			s.New = ruleIDs(v.New())
		}
		o.Findings += len(v.Open())
		o.Suppressed += len(v.Suppressed())
		o.Subjects = append(o.Subjects, s)
	}
	return o
}

// ruleIDs lists the rules of findings once each, in order.
func ruleIDs(fs []rules.Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	return out
}
