package rules

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SchemaVersion is the version of the [Report] JSON.
const SchemaVersion = "1"

// Severity is a finding's severity, ordered, with Security Hub's names.
type Severity uint8

// Severities from least to most severe.
const (
	Informational Severity = iota + 1
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{Informational: "INFORMATIONAL", Low: "LOW", Medium: "MEDIUM", High: "HIGH", Critical: "CRITICAL"}

func (s Severity) String() string {
	if s >= Informational && s <= Critical {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// MarshalText writes the Security Hub name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a Security Hub name, case-insensitively.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "HIGH", "high", "Critical"...
func ParseSeverity(name string) (Severity, error) {
	for s := Informational; s <= Critical; s++ {
		if strings.EqualFold(name, severityNames[s]) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL)", name)
}

// Report is the outcome of one evaluation of one subject (SPEC §4).
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Account       string    `json:"account"`
	Region        string    `json:"region"`
	Trigger       Trigger   `json:"trigger"`
	Subject       Subject   `json:"subject"`
	Findings      []Finding `json:"findings"`
	Action        Action    `json:"action"`
	Complete      bool      `json:"complete"`
	Errors        []string  `json:"errors"`
	// Notes say what the guardrail could not do around the evaluation
	// without holding it back ("the role index was not updated: ...").
	Notes []string `json:"notes,omitempty"`
}

// Trigger is the event that caused the evaluation, empty offline.
type Trigger struct {
	EventID   string `json:"eventId"`
	EventName string `json:"eventName"`
	Actor     string `json:"actor"`
}

// Subject is what was evaluated.
type Subject struct {
	Type string `json:"type"` // "taskDefinition" or "role"
	ARN  string `json:"arn"`
}

// Subject types.
const (
	SubjectTaskDefinition = "taskDefinition"
	SubjectRole           = "role"
	SubjectResource       = "resource" // one of ecsguard's own resources (tampering)
	SubjectPolicy         = "policy"   // a managed policy whose roles could not be read
)

// Action is what enforcement did about the subject.
type Action struct {
	Type   ActionType   `json:"type"`
	Result ActionResult `json:"result,omitzero"`
	Reason string       `json:"reason,omitempty"`
}

// Finding is one rule broken by the subject.
type Finding struct {
	Rule             string     `json:"rule"`
	Severity         Severity   `json:"severity"`
	Title            string     `json:"title"`
	Resource         string     `json:"resource"`
	Evidence         []Evidence `json:"evidence"`
	Remediation      string     `json:"remediation"`
	Suppressed       bool       `json:"suppressed"`
	SuppressedReason string     `json:"suppressedReason,omitempty"`
}

// Evidence is why a finding fired: a sentence, and where it applies the
// policy, action and statement behind it.
type Evidence struct {
	Detail      string          `json:"detail"`
	Policy      string          `json:"policy,omitempty"`
	Action      string          `json:"action,omitempty"`
	Statement   json.RawMessage `json:"statement,omitempty"`
	Conditional bool            `json:"conditional,omitempty"`
}

// Highest returns the highest severity among the unsuppressed findings, 0
// when there is none.
func (r Report) Highest() Severity {
	var h Severity
	for _, f := range r.Findings {
		if !f.Suppressed {
			h = max(h, f.Severity)
		}
	}
	return h
}

// ShouldDeregister reports whether enforcement may deregister the subject:
// only a complete report of a task definition with an unsuppressed finding
// at or above min. An incomplete report never enforces: missing evidence is
// not evidence of a violation, and deregistering on it could break a
// compliant deployment.
func (r Report) ShouldDeregister(min Severity) bool {
	return r.Complete && r.Subject.Type == SubjectTaskDefinition && min > 0 && r.Highest() >= min
}
