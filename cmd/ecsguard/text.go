package main

import (
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
