package alert

import (
	"encoding/json"
	"slices"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// ChangeSchemaVersion is the version of the [ChangeDocument] JSON. Version
// 2 added part and parts (an event's alert may come in several messages),
// notes, summaries, the change's kind and resource, and counts a finding
// new by its evidence ([assess.Key]) rather than by its rule and severity.
const ChangeSchemaVersion = "2"

// ChangeDocument is the machine-readable body ("default") of an alert on a
// role change, on tampering, or on several subjects at once: the event, a
// finding report per subject the message announces, and the findings the
// event brought.
//
// An event that reaches more subjects than one SNS message holds is
// announced in several messages, its parts: each is a complete document
// with the same change and notes, and its own share of the subjects. Every
// alerting subject is in exactly one part; Part and Parts number them.
type ChangeDocument struct {
	SchemaVersion string      `json:"schemaVersion"`
	Part          int         `json:"part"`  // 1-based
	Parts         int         `json:"parts"` // 1 when the alert is one message
	Change        ChangeEvent `json:"change"`
	// Notes say what ecsguard could not do without holding the verdicts
	// back ("the role index was not updated: ..."); [] when none.
	Notes   []string       `json:"notes"`
	Reports []rules.Report `json:"reports"`
	// NewFindings maps the ARN of each subject whose state before the
	// event is known to the sorted rule IDs of the open findings the event
	// brought (a finding that was not open before: a new rule, or the same
	// rule at another severity, on another resource or with other
	// evidence); [] when it brought none. A subject absent from it has no
	// known prior state.
	NewFindings map[string][]string `json:"newFindings"`
	// UsedBy maps the ARN of each secondary role among the subjects to
	// what references it besides task definitions; {} when none is known.
	UsedBy map[string][]rules.Use `json:"usedBy"`
	// Summaries maps the ARN of a subject whose report is too large for
	// one SNS message even without policy statements to what the report
	// holds in all; its report here then lists only its first findings and
	// errors. {} when every report is whole.
	Summaries map[string]Summary `json:"summaries"`
}

// ChangeEvent is the event of a [ChangeDocument].
type ChangeEvent struct {
	Kind      string `json:"kind"` // "registration", "role change" or "tampering"
	EventID   string `json:"eventId"`
	EventName string `json:"eventName"`
	Actor     string `json:"actor"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	Role      string `json:"role"`     // "" when the event names none
	Policy    string `json:"policy"`   // "" when the event names none
	Resource  string `json:"resource"` // tampering: ecsguard's resource that was changed; else ""
	// Roles are the roles the event reached: for a policy-level change,
	// every role the policy is attached to. A list too long to repeat in
	// every part is cut, and RolesOmitted counts the roles left out.
	Roles        []string `json:"roles"`
	RolesOmitted int      `json:"rolesOmitted,omitempty"`
}

// Summary counts what a report holds when it is too large for one SNS
// message even without policy statements: the document's copy lists only
// its first findings (most severe first) and errors.
type Summary struct {
	Findings       int            `json:"findings"`       // findings in the report
	ListedFindings int            `json:"listedFindings"` // of which the document lists the first
	Open           map[string]int `json:"open"`           // open findings by severity
	Rules          map[string]int `json:"rules"`          // open findings by rule
	Suppressed     int            `json:"suppressed"`     // suppressed findings
	Errors         int            `json:"errors"`         // errors in the report
	ListedErrors   int            `json:"listedErrors"`
	UsedBy         int            `json:"usedBy"` // uses of the role
	ListedUsedBy   int            `json:"listedUsedBy"`
}

// document is [ChangeDocument] as it is written: the reports are
// marshalled once per subject, when measured, and copied in as they are.
type document struct {
	SchemaVersion string                 `json:"schemaVersion"`
	Part          int                    `json:"part"`
	Parts         int                    `json:"parts"`
	Change        ChangeEvent            `json:"change"`
	Notes         []string               `json:"notes"`
	Reports       []json.RawMessage      `json:"reports"`
	NewFindings   map[string][]string    `json:"newFindings"`
	UsedBy        map[string][]rules.Use `json:"usedBy"`
	Summaries     map[string]Summary     `json:"summaries"`
}

func (ev *eventView) changeEvent() ChangeEvent {
	e := ev.e
	return ChangeEvent{
		Kind: e.Kind.String(), EventID: e.ID, EventName: e.Name, Actor: e.Actor,
		Account: ev.account, Region: ev.region, Role: e.Role, Policy: e.Policy, Resource: e.Resource,
		Roles: ev.roles, RolesOmitted: ev.rolesOmitted,
	}
}

// documentJSON is the part's default body: the report itself for a single
// registration, else the change document of the part's subjects.
func (ev *eventView) documentJSON(p *part) ([]byte, error) {
	if ev.single && p.sum == nil {
		return p.report(p.subs[0]), nil
	}
	d := document{
		SchemaVersion: ChangeSchemaVersion, Part: p.k, Parts: p.n,
		Change: ev.changeEvent(), Notes: ev.notes,
		Reports:     make([]json.RawMessage, 0, len(p.subs)),
		NewFindings: map[string][]string{}, UsedBy: map[string][]rules.Use{}, Summaries: map[string]Summary{},
	}
	for _, s := range p.subs {
		arn := s.r.Subject.ARN
		uses := s.usedBy
		if p.sum != nil {
			uses = p.sum.uses
			d.Summaries[arn] = p.sum.counts
		}
		d.Reports = append(d.Reports, p.report(s))
		if s.known {
			// Two verdicts on one subject add up.
			ids := append(append([]string{}, d.NewFindings[arn]...), s.newRules...)
			slices.Sort(ids)
			d.NewFindings[arn] = slices.Compact(ids)
		}
		if _, ok := d.UsedBy[arn]; !ok && len(uses) > 0 {
			d.UsedBy[arn] = uses
		}
	}
	return marshal(d)
}

// report is the JSON of a subject's report as the part carries it.
func (p *part) report(s *subjectView) []byte {
	if p.sum != nil {
		return p.sum.report
	}
	if p.full {
		if b, ok := s.fullJSON(); ok {
			return b
		}
	}
	return s.slimJSON()
}

// summary is a report too large for one message, cut to fit.
type summary struct {
	report []byte      // the report without statements, with its first findings and errors
	uses   []rules.Use // its first uses
	counts Summary
	// budget is what the cut kept room for, in escaped bytes: 0 keeps
	// nothing but the counts.
	budget int
}

// summarize cuts a subject's report to its first findings, errors and
// uses that fit in budget escaped bytes (findings), and an eighth of it
// each (errors, uses).
func summarize(s *subjectView, budget int) *summary {
	r := withoutStatements(s.r)
	c := Summary{Findings: len(r.Findings), Errors: len(r.Errors), UsedBy: len(s.usedBy), Open: map[string]int{}, Rules: map[string]int{}}
	for _, f := range r.Findings {
		if f.Suppressed {
			c.Suppressed++
			continue
		}
		c.Open[f.Severity.String()]++
		c.Rules[f.Rule]++
	}
	c.ListedFindings = prefix(r.Findings, budget)
	c.ListedErrors = prefix(r.Errors, budget/8)
	c.ListedUsedBy = prefix(s.usedBy, budget/8)
	r.Findings = r.Findings[:c.ListedFindings]
	r.Errors = r.Errors[:c.ListedErrors]
	b, _ := marshal(r) // as slimJSON: cannot fail
	return &summary{report: b, uses: s.usedBy[:c.ListedUsedBy], counts: c, budget: budget}
}

// prefix is how many of the first values fit in budget bytes of the body.
func prefix[T any](values []T, budget int) int {
	size := 0
	for i, v := range values {
		b, err := marshal(v)
		if err != nil {
			return i
		}
		if size += escLen(string(b)) - 1; size > budget {
			return i
		}
	}
	return len(values)
}

// withoutStatements copies r with no Evidence.Statement, leaving r intact.
func withoutStatements(r rules.Report) rules.Report {
	r.Findings = slices.Clone(r.Findings)
	for i, f := range r.Findings {
		if f.Evidence == nil {
			continue
		}
		ev := slices.Clone(f.Evidence)
		for j := range ev {
			ev[j].Statement = nil
		}
		r.Findings[i].Evidence = ev
	}
	return r
}
