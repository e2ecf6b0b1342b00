package asff

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// describe is a finding's Description: what it is about, each evidence
// line, the exemption that suppressed it, and whether the evaluation was
// complete; cut to ASFF's 1,024 characters with the number of lines left
// out (the whole evidence is in ecsguard's report).
func (c context) describe(f rules.Finding) string {
	lines := []string{fmt.Sprintf("%s %s on %s.", f.Severity, f.Title, first(f.Resource, c.r.Subject.ARN))}
	if f.Suppressed {
		lines = append(lines, "Exempted: "+first(f.SuppressedReason, "no reason given")+".")
	}
	if !c.r.Complete && f.Rule != rules.IncompleteRule {
		lines = append(lines, "The evaluation was incomplete ("+rules.IncompleteRule+"): other findings may be missing.")
	}
	for _, ev := range f.Evidence {
		line := "- " + ev.Detail
		if ev.Policy != "" {
			line += " (policy " + ev.Policy + ")"
		}
		lines = append(lines, line)
	}
	return joinLimited(lines, maxDescription)
}

// joinLimited joins lines with newlines, keeping as many whole lines as
// fit in max bytes with a last line that counts the ones left out.
func joinLimited(lines []string, max int) string {
	all := strings.Join(lines, "\n")
	if len(all) <= max {
		return all
	}
	var b strings.Builder
	for i, l := range lines {
		more := fmt.Sprintf("\n… %d more lines in ecsguard's report", len(lines)-i)
		if b.Len() > 0 && b.Len()+1+len(l)+len(more) > max {
			b.WriteString(more)
			return b.String()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(limit(l, max-b.Len()-len(more)))
	}
	return b.String()
}

// limit cuts s to at most max bytes (so at most max characters), on a
// character boundary, marking the cut with an ellipsis.
func limit(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut <= 0 {
		return ""
	}
	return s[:cut] + mark
}
