package asff

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Seen is what the last import said of a finding it left active: its
// severity, and when it was first raised (its CreatedAt, kept on every
// update).
type Seen struct {
	Severity  rules.Severity `json:"severity"`
	CreatedAt time.Time      `json:"createdAt"`
}

// State is, by finding key ([Key]), the findings of one subject that the
// last import left active.
type State map[string]Seen

// Evaluation is one evaluation of one subject, with what the last import
// of that subject left active.
type Evaluation struct {
	Report rules.Report
	// Gone says the task definition revision was deregistered: every
	// finding of the subject is resolved.
	Gone   bool
	Before State
	Now    time.Time
	// Region is the findings' region when neither the report nor the
	// subject's ARN names one (a role judged offline).
	Region string
}

// Plan returns the findings to import for an evaluation, and what to keep
// for the next one: the findings left active. A finding raised and open is
// imported ACTIVE with workflow NEW; one an exemption suppressed is
// imported ARCHIVED with workflow SUPPRESSED; when the revision is gone,
// every finding is imported ARCHIVED with workflow RESOLVED, and so is a
// finding of Before that a complete report no longer raises. An incomplete
// report resolves nothing: what it does not raise stays active.
func Plan(e Evaluation) ([]Finding, State) {
	r := e.Report
	c := newContext(e)
	after := State{}
	var out []Finding
	raised := map[string]bool{}
	for _, f := range merged(r) {
		k := Key(f, r.Subject.ARN)
		raised[k] = true
		created := e.Now
		if s, ok := e.Before[k]; ok && !s.CreatedAt.IsZero() {
			created = s.CreatedAt
		}
		af := c.finding(k, f.Rule, f.Severity, f.Resource, created)
		af.Description = c.describe(f)
		switch {
		case e.Gone:
			af.Description = limit(c.goneLine()+"\n"+af.Description, maxDescription)
			af.RecordState, af.Workflow.Status = RecordArchived, WorkflowResolved
		case f.Suppressed:
			af.RecordState, af.Workflow.Status = RecordArchived, WorkflowSuppressed
		default:
			after[k] = Seen{Severity: f.Severity, CreatedAt: created}
		}
		out = append(out, af)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Before)) {
		seen := e.Before[k]
		switch {
		case raised[k]:
		case !r.Complete && !e.Gone:
			after[k] = seen // not judged: no evidence that it went away
		default:
			out = append(out, c.resolved(k, seen))
		}
	}
	return out, after
}

// Findings returns the findings of reports judged with no earlier import:
// what ecsguard check and scan print with --format asff.
func Findings(reports []rules.Report, now time.Time, region string) []Finding {
	out := []Finding{}
	for _, r := range reports {
		fs, _ := Plan(Evaluation{Report: r, Now: now, Region: region})
		out = append(out, fs...)
	}
	return out
}

// Key names a finding among those of its subject: the rule, and the
// resource it names when that is not the subject itself (TD-010 may fire
// on the task role and on the execution role of one task definition).
func Key(f rules.Finding, subject string) string {
	if f.Resource == "" || f.Resource == subject {
		return f.Rule
	}
	return f.Rule + "/" + f.Resource
}

// splitKey is the rule and resource of a key ("" for the subject).
func splitKey(k string) (rule, resource string) {
	rule, resource, _ = strings.Cut(k, "/")
	return rule, resource
}

// merged returns the report's findings with one per key: a rule that
// fires twice on the same resource is one ASFF finding carrying both
// evidences, at the higher severity (the report lists it first), open if
// either is.
func merged(r rules.Report) []rules.Finding {
	var out []rules.Finding
	at := map[string]int{}
	for _, f := range r.Findings {
		k := Key(f, r.Subject.ARN)
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			f.Evidence = slices.Clone(f.Evidence)
			out = append(out, f)
			continue
		}
		out[i].Evidence = append(out[i].Evidence, f.Evidence...)
		out[i].Suppressed = out[i].Suppressed && f.Suppressed
	}
	return out
}
