package rules

import (
	"fmt"
	"io"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// WriteMarkdown writes the rule catalog as the Markdown of docs/rules.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# ecsguard rules\n\n")
	b.WriteString("<!-- Generated from the rule catalog in shared/rules/catalog.go by `make docs`. Do not edit. -->\n\n")
	b.WriteString("Severities are Security Hub's. Exempt a task definition or role from rules with the tag\n")
	b.WriteString("`ecsguard:exempt` (comma-separated rule IDs, or `*`) and say why in `ecsguard:exempt-reason`;\n")
	b.WriteString("suppressed findings stay in the report, marked, and are not alerted. " + IncompleteRule + " cannot be exempted.\n")
	var hides []string
	for _, h := range subsumption {
		who := h.rule
		if h.severity != 0 {
			who += " " + h.severity.String()
		}
		hides = append(hides, who+" hides "+strings.Join(h.hides, ", "))
	}
	fmt.Fprintf(&b, "A stronger finding hides the weaker ones it covers on the same role (%s),\n", strings.Join(hides, "; "))
	b.WriteString("so one mistake is reported once; exempting the stronger finding accepts the mistake, and what it covers stays hidden.\n\n")
	fmt.Fprintf(&b, "Wildcard actions are expanded against the IAM action catalog of %s (%s).\n\n", iampolicy.CatalogDate, iampolicy.CatalogSource)
	b.WriteString("| ID | rule | severity |\n|---|---|---|\n")
	for _, r := range catalog {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Title, severityList(r.Severities))
	}
	for _, r := range catalog {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** (%s)\n\n%s\n\n**Remediation.** %s\n", r.ID, r.Title, severityList(r.Severities), r.Why, r.Remediation)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func severityList(ss []Severity) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	return strings.Join(names, " / ")
}
