package assess

import (
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Kind is what an event is.
type Kind uint8

// The kinds of event ecsguard assesses.
const (
	Registration Kind = iota + 1 // an ECS RegisterTaskDefinition call
	RoleChange                   // an IAM role or policy change
	Tampering                    // a change to ecsguard's own roles, topic, key or rules
)

func (k Kind) String() string {
	switch k {
	case Registration:
		return "registration"
	case RoleChange:
		return "role change"
	case Tampering:
		return "tampering"
	}
	return "event"
}

// Event is the event being assessed.
type Event struct {
	Kind            Kind
	ID, Name, Actor string
	Account, Region string
	AccountName     string   // the account's name in the organization, when known
	Role, Policy    string   // the role and the policy the event names, if any
	Roles           []string // the roles it reaches: for a policy-level change, every role the policy is attached to
	Resource        string   // for Tampering: the resource of ecsguard's that was changed
}

// Trigger is the event as a report's trigger.
func (e Event) Trigger() rules.Trigger {
	return rules.Trigger{EventID: e.ID, EventName: e.Name, Actor: e.Actor}
}

// Subject is one thing an event reaches, with its facts.
type Subject struct {
	Facts rules.Facts
	// Before are the facts as they were before the event, when the event
	// says what it changed (a policy attached, an inline policy put); nil
	// when that is not known.
	Before *rules.Facts
	// UsedBy is what references a secondary role besides task
	// definitions: EventBridge rules and schedules, scalable targets,
	// instance profiles.
	UsedBy []rules.Use
	// Action is what enforcement already did about the subject for this
	// event (a retry after a partial failure); the zero Action when
	// nothing yet.
	Action rules.Action
	// Inactive says the revision was already deregistered, not by this
	// event: there is nothing left to enforce.
	Inactive bool
}

// Verdict is the judgement on one subject.
type Verdict struct {
	Report rules.Report
	// BeforeKnown says whether the state before the event is known; Before
	// then holds the findings that were open.
	BeforeKnown bool
	Before      []rules.Finding
	UsedBy      []rules.Use
	Inactive    bool // the revision was already INACTIVE, not by this event
	// Status is the task definition revision's status as read (ACTIVE,
	// INACTIVE, DELETE_IN_PROGRESS); "" for a role. Enforcement reads it
	// to know whether a deregistration an earlier delivery began is done.
	Status string
}

// Assessment is the judgement on one event.
type Assessment struct {
	Event    Event
	Verdicts []Verdict
	// Notes say what could not be done without holding the verdicts back,
	// such as "the role index was not updated: ...". An alert carries
	// them.
	Notes []string
}

// Assess evaluates every subject, and its state before the event when
// known.
func Assess(e Event, subjects []Subject) Assessment {
	a := Assessment{Event: e}
	for _, s := range subjects {
		f := s.Facts
		f.Trigger = e.Trigger()
		v := Verdict{Report: rules.Evaluate(f), UsedBy: s.UsedBy, Inactive: s.Inactive}
		if f.TaskDefinition != nil {
			v.Status = f.TaskDefinition.Status
		}
		if s.Action != (rules.Action{}) {
			v.Report.Action = s.Action
		}
		if s.Before != nil {
			b := *s.Before
			b.Trigger = f.Trigger
			v.BeforeKnown, v.Before = true, open(rules.Evaluate(b).Findings)
		}
		a.Verdicts = append(a.Verdicts, v)
	}
	return a
}

// Open returns the findings that are not suppressed.
func (v Verdict) Open() []rules.Finding { return open(v.Report.Findings) }

// Suppressed returns the findings an exemption suppressed.
func (v Verdict) Suppressed() []rules.Finding {
	var out []rules.Finding
	for _, f := range v.Report.Findings {
		if f.Suppressed {
			out = append(out, f)
		}
	}
	return out
}

// New returns the open findings the event brought: those that were not
// open before it, a finding being its rule and severity on a resource with
// its evidence (a rule raised from LOW to HIGH is new, as is the same rule
// on another statement). When the state before is not known, every open
// finding counts as new.
func (v Verdict) New() []rules.Finding {
	now := v.Open()
	if !v.BeforeKnown {
		return now
	}
	was := make(map[string]bool, len(v.Before))
	for _, f := range v.Before {
		was[Key(f)] = true
	}
	return slices.DeleteFunc(now, func(f rules.Finding) bool { return was[Key(f)] })
}

// Key identifies a finding across evaluations: rule, severity, resource and
// evidence.
func Key(f rules.Finding) string {
	var b strings.Builder
	b.WriteString(f.Rule)
	b.WriteByte(0)
	b.WriteString(f.Severity.String())
	b.WriteByte(0)
	b.WriteString(f.Resource)
	for _, e := range f.Evidence {
		b.WriteByte(0)
		b.WriteString(e.Detail)
		b.WriteByte(1)
		b.WriteString(e.Policy)
		b.WriteByte(1)
		b.WriteString(e.Action)
	}
	return b.String()
}

// NeedsAlert reports whether the verdict has something to say: an open
// finding, an evaluation that could not see everything, or an action.
func (v Verdict) NeedsAlert() bool {
	return len(v.Open()) > 0 || !v.Report.Complete || v.Report.Action.Type != rules.ActionNone
}

// Enforceable reports whether enforcement may deregister the subject at
// the threshold min: a complete report of a task definition with an open
// finding at or above it (rules.Report.ShouldDeregister), still ACTIVE and
// not already acted on.
func (v Verdict) Enforceable(min rules.Severity) bool {
	return v.Report.ShouldDeregister(min) && v.Report.Action.Result.IsZero() && !v.Inactive
}

// Alerting returns the verdicts that need an alert, in order.
func (a Assessment) Alerting() []Verdict {
	var out []Verdict
	for _, v := range a.Verdicts {
		if v.NeedsAlert() {
			out = append(out, v)
		}
	}
	return out
}

// NeedsAlert reports whether any verdict needs an alert.
func (a Assessment) NeedsAlert() bool { return len(a.Alerting()) > 0 }

// Headline is the severity an alert leads with: the highest of the
// findings the event brought, so that an old finding elsewhere does not
// set it; when the event brought none, the highest open finding. 0 when
// nothing is open.
func (a Assessment) Headline() rules.Severity {
	var brought, open rules.Severity
	for _, v := range a.Verdicts {
		for _, f := range v.New() {
			brought = max(brought, f.Severity)
		}
		open = max(open, v.Report.Highest())
	}
	if brought > 0 {
		return brought
	}
	return open
}

// Brought reports whether the event brought any finding.
func (a Assessment) Brought() bool {
	return slices.ContainsFunc(a.Verdicts, func(v Verdict) bool { return len(v.New()) > 0 })
}

// Counts are the totals of an assessment, for outcomes and logs.
type Counts struct {
	Subjects   int // verdicts
	Open       int // open findings
	New        int // open findings the event brought
	Suppressed int // findings an exemption suppressed
	Incomplete int // verdicts that could not see everything
}

// Count totals the assessment.
func (a Assessment) Count() Counts {
	c := Counts{Subjects: len(a.Verdicts)}
	for _, v := range a.Verdicts {
		c.Open += len(v.Open())
		c.New += len(v.New())
		c.Suppressed += len(v.Suppressed())
		if !v.Report.Complete {
			c.Incomplete++
		}
	}
	return c
}

func open(fs []rules.Finding) []rules.Finding {
	var out []rules.Finding
	for _, f := range fs {
		if !f.Suppressed {
			out = append(out, f)
		}
	}
	return out
}
