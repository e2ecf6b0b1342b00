package main

import (
	"bytes"
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
// header line, the errors of an incomplete evaluation, one row per finding
// ending in its first piece of evidence, the others on lines below it;
// then one summary line. What comes from the input is made terminal-safe.
func writeText(w io.Writer, reports []rules.Report, failOn rules.Severity, truncated bool) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		state := "complete"
		if !r.Complete {
			state = "INCOMPLETE"
		}
		fmt.Fprintf(tw, "%s %s  %s\n", subjectName(r.Subject.Type), oneLine(r.Subject.ARN), state)
		for _, e := range r.Errors {
			fmt.Fprintf(tw, "  ! %s\n", oneLine(e))
		}
		if len(r.Findings) == 0 {
			fmt.Fprintln(tw, "  no findings")
		}
		for _, f := range r.Findings {
			lines := evidenceLines(f)
			if f.Suppressed {
				lines[0] = strings.TrimSpace(lines[0] + " (suppressed: " + oneLine(f.SuppressedReason) + ")")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Severity, oneLine(f.Rule), oneLine(f.Title), oneLine(f.Resource), lines[0])
			for _, l := range lines[1:] { // below the row: a wide column would push them off the screen
				fmt.Fprintf(tw, "      %s\n", l)
			}
		}
	}
	if len(reports) > 0 {
		fmt.Fprintln(tw)
	}
	if byRule := summarize(reports).ByRule; len(byRule) > 0 {
		var parts []string
		for _, id := range slices.Sorted(maps.Keys(byRule)) {
			parts = append(parts, fmt.Sprintf("%s %d", oneLine(id), byRule[id]))
		}
		fmt.Fprintf(tw, "findings by rule: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprint(tw, judged(reports))
	if truncated {
		fmt.Fprint(tw, "; IAM export truncated")
	}
	fmt.Fprintf(tw, "; %s\n", verdict(reports, failOn))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(terminalSafe(buf.Bytes()))
	return err
}

// evidenceLines are the evidence of a finding, one line each: its detail,
// or the action and policy of an evidence without one. There is always
// one line, empty for a finding without evidence.
func evidenceLines(f rules.Finding) []string {
	lines := make([]string, 0, max(len(f.Evidence), 1))
	for _, e := range f.Evidence {
		l := oneLine(e.Detail)
		if l == "" {
			l = strings.TrimSpace(oneLine(e.Action) + " " + oneLine(e.Policy))
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "")
	}
	return lines
}

// judged counts the subjects, each in one of three kinds, and the
// findings: "3 subjects judged: 1 with findings, 1 clean, 1 incomplete; 3
// open findings (2 HIGH, 1 LOW), 1 suppressed". An incomplete subject is
// counted as incomplete whatever else it shows; a clean one has no open
// (unsuppressed) finding. Open findings include those of incomplete
// subjects (ECSG-001 among them).
func judged(reports []rules.Report) string {
	var withFindings, clean, incomplete, open, suppressed int
	var counts [rules.Critical + 1]int
	for _, r := range reports {
		switch {
		case !r.Complete:
			incomplete++
		case r.Highest() > 0:
			withFindings++
		default:
			clean++
		}
		for _, f := range r.Findings {
			switch {
			case f.Suppressed:
				suppressed++
			case f.Severity >= rules.Informational && f.Severity <= rules.Critical:
				counts[f.Severity]++
				open++
			}
		}
	}
	s := fmt.Sprintf("%d %s judged: %d with findings, %d clean, %d incomplete; %d open %s",
		len(reports), plural(len(reports), "subject", "subjects"), withFindings, clean, incomplete,
		open, plural(open, "finding", "findings"))
	var bySeverity []string
	for sev := rules.Critical; sev >= rules.Informational; sev-- {
		if counts[sev] > 0 {
			bySeverity = append(bySeverity, fmt.Sprintf("%d %s", counts[sev], sev))
		}
	}
	if len(bySeverity) > 0 {
		s += " (" + strings.Join(bySeverity, ", ") + ")"
	}
	return s + fmt.Sprintf(", %d suppressed", suppressed)
}

// verdict is "fail-on HIGH: pass", or fail.
func verdict(reports []rules.Report, failOn rules.Severity) string {
	if failed(reports, failOn) {
		return "fail-on " + failOn.String() + ": fail"
	}
	return "fail-on " + failOn.String() + ": pass"
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
	var buf bytes.Buffer
	if err := accountsText(&buf, res, failOn); err != nil {
		return err
	}
	_, err := w.Write(terminalSafe(buf.Bytes())) // account names and errors come from AWS
	return err
}

func accountsText(w io.Writer, res organizationResult, failOn rules.Severity) error {
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
	line := fmt.Sprintf("\n%d %s: %d scanned, %d failed, %d skipped; %s; %s\n", s.Accounts, plural(s.Accounts, "account", "accounts"),
		s.Scanned, s.Failed, s.Skipped, judged(res.Reports), verdict(res.Reports, failOn))
	_, err := io.WriteString(w, line)
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
