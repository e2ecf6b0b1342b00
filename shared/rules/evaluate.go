package rules

import (
	"cmp"
	"fmt"
	"slices"
)

// Evaluate judges one subject: the task definition of f when set, else the
// secondary role f.Role. It never stops early: every rule runs, facts that
// could not be loaded make the report incomplete and add an [IncompleteRule]
// finding, and every finding carries its evidence.
func Evaluate(f Facts) Report {
	r := Report{
		SchemaVersion: SchemaVersion,
		Account:       f.Account,
		Region:        f.Region,
		Trigger:       f.Trigger,
		Findings:      []Finding{},
		Action:        Action{Type: ActionNone},
		Errors:        []string{},
	}
	missing := slices.Clone(f.Missing)
	var found []Finding
	switch {
	case f.Tampered != nil:
		r.Subject = Subject{Type: SubjectResource, ARN: f.Tampered.Resource}
		who := f.Trigger.Actor
		if who == "" {
			who = "an unknown caller"
		}
		found = []Finding{newFinding(TamperingRule, Critical, f.Tampered.Resource, Evidence{
			Detail: f.Tampered.Change + " on ecsguard's own " + f.Tampered.Resource + " by " + who + " (event " + f.Trigger.EventID + ")",
		})}
	case f.TaskDefinition != nil:
		td := f.TaskDefinition
		r.Subject = Subject{Type: SubjectTaskDefinition, ARN: td.ARN}
		for _, arn := range []string{td.TaskRoleARN, td.ExecutionRoleARN} {
			if arn != "" && f.Roles[arn] == nil && !hasMissing(missing, arn) {
				missing = append(missing, FactError{Subject: arn, Err: errRoleNotLoaded})
			}
			if role := f.Roles[arn]; arn != "" && role != nil {
				missing = addMissing(missing, role.Missing)
			}
		}
		found = checkTaskDefinition(f)
	case f.Role != nil:
		r.Subject = Subject{Type: SubjectRole, ARN: f.Role.ARN}
		missing = addMissing(missing, f.Role.Missing)
		found = checkSecondaryRole(f.Role, f.Cache)
	case f.Unread != nil:
		r.Subject = *f.Unread
		if len(missing) == 0 {
			missing = append(missing, FactError{Subject: f.Unread.ARN, Err: errNoSubject})
		}
	default:
		missing = append(missing, FactError{Subject: "facts", Err: errNoSubject})
	}
	if len(missing) > 0 {
		ev := make([]Evidence, 0, len(missing))
		for _, m := range missing {
			r.Errors = append(r.Errors, m.Error())
			ev = append(ev, Evidence{Detail: m.Error()})
		}
		found = append(found, newFinding(IncompleteRule, High, r.Subject.ARN, ev...))
	}
	r.Complete = len(missing) == 0
	found = subsume(found)
	found = append(found, unknownExemptions(f)...)
	exempt(found, f)
	slices.SortStableFunc(found, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Resource, b.Resource))
	})
	r.Findings = append(r.Findings, found...)
	return r
}

var (
	errRoleNotLoaded = fmt.Errorf("role facts not provided")
	errNoSubject     = fmt.Errorf("no task definition or role to evaluate")
)

func hasMissing(ms []FactError, subject string) bool {
	return slices.ContainsFunc(ms, func(m FactError) bool { return m.Subject == subject })
}

// addMissing appends the errors of add that ms does not list yet (same
// subject, same text): loaders report a role's missing facts both in
// [Role.Missing] and in [Facts.Missing], and a report names each once.
func addMissing(ms, add []FactError) []FactError {
	for _, a := range add {
		if !slices.ContainsFunc(ms, func(m FactError) bool { return m.Subject == a.Subject && errText(m.Err) == errText(a.Err) }) {
			ms = append(ms, a)
		}
	}
	return ms
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// newFinding fills a finding from the catalog entry of rule id.
func newFinding(id string, s Severity, resource string, ev ...Evidence) Finding {
	rule, _ := Lookup(id)
	if ev == nil {
		ev = []Evidence{}
	}
	return Finding{Rule: id, Severity: s, Title: rule.Title, Resource: resource, Evidence: ev, Remediation: rule.Remediation}
}

// subsumption: a stronger finding on a resource hides weaker ones on the
// same resource (SPEC §3), so one mistake is reported once. It runs before
// the exemptions: exempting the stronger finding (a shared role accepted
// for now, TD-001) accepts the mistake, and the findings that are only its
// consequences (TD-002, TD-003) do not surface in its place.
var subsumption = []struct {
	rule     string
	severity Severity // 0: any severity of rule
	hides    []string
}{
	{"TD-001", 0, []string{"TD-002", "TD-003", "TD-005"}},
	{"TD-008", Critical, []string{"TD-002", "TD-003", "TD-009"}},
	{"TD-012", 0, []string{"TD-010", "TD-011"}},
	{"TD-010", Critical, []string{"TD-011"}},
}

func subsume(fs []Finding) []Finding {
	// A finding is hidden only by a stronger one: TD-012 (HIGH) hides a
	// TD-010 MEDIUM, never a TD-010 CRITICAL (a role anyone can assume).
	hidden := map[[2]string]Severity{}
	for _, f := range fs {
		for _, s := range subsumption {
			if f.Rule == s.rule && (s.severity == 0 || f.Severity == s.severity) {
				for _, h := range s.hides {
					k := [2]string{h, f.Resource}
					hidden[k] = max(hidden[k], f.Severity)
				}
			}
		}
	}
	return slices.DeleteFunc(fs, func(f Finding) bool {
		by, ok := hidden[[2]string{f.Rule, f.Resource}]
		return ok && f.Severity <= by
	})
}
