package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// writeText prints the reports as a table for a terminal: per subject a
// header line, the errors of an incomplete evaluation, one row per finding;
// then one summary line.
func writeText(w io.Writer, reports []rules.Report, failOn rules.Severity, truncated bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var (
		counts     [rules.Critical + 1]int
		suppressed int
		incomplete int
	)
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		state := "complete"
		if !r.Complete {
			state = "INCOMPLETE"
			incomplete++
		}
		fmt.Fprintf(tw, "%s %s  %s\n", subjectName(r.Subject.Type), r.Subject.ARN, state)
		for _, e := range r.Errors {
			fmt.Fprintf(tw, "  ! %s\n", oneLine(e))
		}
		if len(r.Findings) == 0 {
			fmt.Fprintln(tw, "  no findings")
		}
		for _, f := range r.Findings {
			detail := ""
			if len(f.Evidence) > 0 {
				detail = oneLine(f.Evidence[0].Detail)
			}
			if f.Suppressed {
				suppressed++
				detail += " (suppressed: " + oneLine(f.SuppressedReason) + ")"
			} else if f.Severity >= rules.Informational && f.Severity <= rules.Critical {
				counts[f.Severity]++
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Severity, f.Rule, f.Title, f.Resource, strings.TrimSpace(detail))
		}
	}
	if len(reports) > 0 {
		fmt.Fprintln(tw)
	}
	if byRule := summarize(reports).ByRule; len(byRule) > 0 {
		var parts []string
		for _, id := range slices.Sorted(maps.Keys(byRule)) {
			parts = append(parts, fmt.Sprintf("%s %d", id, byRule[id]))
		}
		fmt.Fprintf(tw, "findings by rule: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "%d %s", len(reports), plural(len(reports), "subject", "subjects"))
	if incomplete > 0 {
		fmt.Fprintf(tw, " (%d INCOMPLETE)", incomplete)
	}
	var bySeverity []string
	for s := rules.Critical; s >= rules.Informational; s-- {
		bySeverity = append(bySeverity, fmt.Sprintf("%d %s", counts[s], s))
	}
	fmt.Fprintf(tw, ": %s; %d suppressed", strings.Join(bySeverity, ", "), suppressed)
	if truncated {
		fmt.Fprint(tw, "; IAM export truncated")
	}
	verdict := "pass"
	if failed(reports, failOn) {
		verdict = "fail"
	}
	fmt.Fprintf(tw, "; fail-on %s: %s\n", failOn, verdict)
	return tw.Flush()
}

func subjectName(typ string) string {
	switch typ {
	case rules.SubjectTaskDefinition:
		return "task definition"
	case rules.SubjectRole:
		return "role"
	}
	return typ
}

// oneLine keeps a table row on one line and free of tab stops.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeAccountsText prints a scan of several accounts: per account the
// single-account report, or why it failed or was skipped; then a table of
// the accounts and one line over all of them.
func writeAccountsText(w io.Writer, res organizationResult, failOn rules.Severity) error {
	for _, a := range res.Accounts {
		switch a.Status {
		case statusScanned:
			fmt.Fprintf(w, "== account %s%s: scanned\n\n", a.Account, named(a.Name))
			if err := writeText(w, res.byAccount[a.Account], failOn, false); err != nil {
				return err
			}
		case statusFailed:
			fmt.Fprintf(w, "== account %s%s: FAILED\n  ! %s\n", a.Account, named(a.Name), oneLine(a.Error))
		default:
			fmt.Fprintf(w, "== account %s%s: skipped: %s\n", a.Account, named(a.Name), skipReason(a))
		}
		fmt.Fprintln(w)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tSTATUS\tSUBJECTS\tINCOMPLETE\tCRITICAL\tHIGH\tMEDIUM\tLOW\tINFORMATIONAL\tSUPPRESSED\tAWS CALLS")
	for _, a := range res.Accounts {
		status, figures := a.Status, "-\t-\t-\t-\t-\t-\t-\t-\t-"
		switch a.Status {
		case statusScanned:
			b := a.BySeverity
			figures = fmt.Sprintf("%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", a.Subjects, a.Incomplete,
				b["CRITICAL"], b["HIGH"], b["MEDIUM"], b["LOW"], b["INFORMATIONAL"], a.Suppressed, a.AWSCalls)
		case statusFailed:
			status = "FAILED"
		default:
			status += " (" + skipReason(a) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Account, cmp.Or(a.Name, "-"), status, figures)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	s := res.Summary
	fmt.Fprintf(w, "\n%d %s: %d scanned, %d failed, %d skipped; %d %s", s.Accounts, plural(s.Accounts, "account", "accounts"),
		s.Scanned, s.Failed, s.Skipped, s.Subjects, plural(s.Subjects, "subject", "subjects"))
	if s.Incomplete > 0 {
		fmt.Fprintf(w, " (%d INCOMPLETE)", s.Incomplete)
	}
	var bySeverity []string
	for sev := rules.Critical; sev >= rules.Informational; sev-- {
		bySeverity = append(bySeverity, fmt.Sprintf("%d %s", s.BySeverity[sev.String()], sev))
	}
	verdict := "pass"
	if failed(res.Reports, failOn) {
		verdict = "fail"
	}
	_, err := fmt.Fprintf(w, ": %s; %d suppressed; fail-on %s: %s\n", strings.Join(bySeverity, ", "), s.Suppressed, failOn, verdict)
	return err
}

// named is " (name)", or nothing for an account of unknown name.
func named(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// skipReason is why an account was skipped: its state, or the error.
func skipReason(a accountSummary) string {
	if a.State != "" && a.Error == "" {
		return a.State
	}
	return a.Error
}
