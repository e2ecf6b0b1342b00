package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	// textWidth is where the email text wraps: plain text mail is read in
	// clients that do not reflow it. Words longer than the line (ARNs) are
	// never broken, so they can be copied.
	textWidth = 78
	// maxEvidence is how many pieces of evidence the email lists per
	// finding; the report has them all.
	maxEvidence = 8
)

// emailText is the plain text for email subscribers: what was evaluated,
// why, whether the evaluation is complete, what enforcement did, then the
// findings. It lists at most limit errors, open findings and suppressed
// findings; slim says the report left out the policy statements.
func emailText(v view, limit int, slim bool) string {
	var b strings.Builder
	b.WriteString(headline(v) + "\n\n")
	subjectText(&b, v, limit, section{context: true})
	footer(&b, slim, "this message's report")
	return b.String()
}

// section says how [subjectText] writes a subject.
type section struct {
	// context adds the account, region and trigger, which a change alert
	// gives once for all its subjects instead.
	context bool
	// known says the findings before the change are known: before holds
	// them, and the text marks NEW those the change brought.
	known  bool
	before []rules.Finding
	// usedBy is what references a secondary role besides task definitions.
	usedBy []rules.Use
}

// useText names what references a role: "EventBridge rule arn:...".
func useText(u rules.Use) string {
	kind := map[rules.UseKind]string{
		rules.UseEventsTarget:    "EventBridge rule",
		rules.UseSchedule:        "EventBridge Scheduler schedule",
		rules.UseScalableTarget:  "Application Auto Scaling target",
		rules.UseInstanceProfile: "instance profile",
		rules.UseCodeDeployGroup: "CodeDeploy deployment group",
		rules.UseServiceRole:     "ECS service",
	}[u.Kind]
	return cmp.Or(kind, oneLine(string(u.Kind))) + " " + orNone(oneLine(u.Resource))
}

// isNew reports whether the change brought f: the state before is known
// and held no unsuppressed finding of f's rule at f's severity or above.
func (s section) isNew(f rules.Finding) bool {
	return s.known && !slices.ContainsFunc(s.before, func(b rules.Finding) bool {
		return !b.Suppressed && b.Rule == f.Rule && b.Severity >= f.Severity
	})
}

// subjectText writes a subject's fields and findings: everything of
// [emailText] but the headline and the footer.
func subjectText(b *strings.Builder, v view, limit int, s section) {
	r := v.r
	field(b, v.kind+":", orNone(oneLine(r.Subject.ARN)))
	uses := make([]string, len(s.usedBy))
	for i, u := range s.usedBy {
		uses[i] = useText(u)
	}
	items(b, "Used by:", uses, limit)
	if s.context {
		field(b, "Account:", orNone(oneLine(r.Account)))
		field(b, "Region:", orNone(oneLine(r.Region)))
		if t := r.Trigger; t == (rules.Trigger{}) {
			field(b, "Trigger:", "none (evaluated without an event)")
		} else {
			field(b, "Trigger:", cmp.Or(oneLine(t.EventName), "(unnamed event)"))
			field(b, "Event ID:", orNone(oneLine(t.EventID)))
			field(b, "Actor:", orNone(oneLine(t.Actor)))
		}
	}
	newOpen := 0
	if s.known {
		var ids []string
		for _, f := range v.open {
			if s.isNew(f) {
				newOpen++
				if id := oneLine(f.Rule); !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			field(b, "New findings:", "none: every finding was there before the change")
		} else {
			slices.Sort(ids)
			field(b, "New findings:", strings.Join(ids, ", ")+" (brought by the change)")
		}
	}
	if r.Complete {
		field(b, "Evaluation:", "complete")
	} else {
		field(b, "Evaluation:", "INCOMPLETE: some facts could not be read, so this is not a full verdict. "+
			"Enforcement was blocked: ecsguard never deregisters on an incomplete evaluation.")
		if len(r.Errors) == 0 {
			field(b, "Errors:", "none recorded")
		}
		items(b, "Errors:", r.Errors, limit)
	}
	field(b, "Action:", actionText(r.Action))
	if reason := oneLine(r.Action.Reason); reason != "" {
		field(b, "Action reason:", reason)
	}

	if len(v.open) > 0 {
		if s.known {
			fmt.Fprintf(b, "\nFINDINGS (%d, %d new)\n", len(v.open), newOpen)
		} else {
			fmt.Fprintf(b, "\nFINDINGS (%d)\n", len(v.open))
		}
		for i, f := range v.open {
			if i == limit {
				b.WriteString("\n")
				wrap(b, "", 0, fmt.Sprintf("… %d more %s not listed, to keep this message within the SNS size limit; the report lists them all.",
					len(v.open)-limit, plural(len(v.open)-limit, "finding")))
				break
			}
			b.WriteString("\n")
			mark := ""
			if s.isNew(f) {
				mark = "NEW "
			}
			findingText(b, f, mark)
		}
	}
	if len(v.suppressed) > 0 {
		fmt.Fprintf(b, "\nSUPPRESSED (%d, exempted by tag, not alerted)\n\n", len(v.suppressed))
		for i, f := range v.suppressed {
			if i == limit {
				fmt.Fprintf(b, "… %d more suppressed %s not listed.\n", len(v.suppressed)-limit, plural(len(v.suppressed)-limit, "finding"))
				break
			}
			wrap(b, "- ", 2, fmt.Sprintf("[%s] %s %s", f.Severity, oneLine(f.Rule), oneLine(f.Title)))
			wrap(b, "  ", 2, orNone(oneLine(f.Resource)))
			wrap(b, "  Reason: ", 10, orNone(oneLine(f.SuppressedReason)))
		}
	}
}

// footer ends an email: what shrinking left out of what, and how to exempt
// a rule.
func footer(b *strings.Builder, slim bool, what string) {
	b.WriteString("\n-- \n")
	if slim {
		wrap(b, "", 0, "Policy statements were left out of "+what+" to keep it within the SNS size limit.")
	}
	wrap(b, "", 0, "To exempt a rule, tag the task definition or role with "+rules.TagExempt+
		"=<rule-id> (or *) and give the reason in "+rules.TagExemptReason+".")
}

// headline is the email's first line, tagged like the subject.
func headline(v view) string {
	what := strings.ToLower(v.kind) + " " + v.label
	n := v.real
	switch {
	case n > 0 && !v.r.Complete:
		return fmt.Sprintf("[%s] %d %s on %s, evaluation INCOMPLETE", v.tag, n, plural(n, "finding"), what)
	case n > 0:
		return fmt.Sprintf("[%s] %d %s on %s", v.tag, n, plural(n, "finding"), what)
	case !v.r.Complete:
		return "[" + v.tag + "] " + what + " could not be fully evaluated"
	}
	return "[" + v.tag + "] no unsuppressed findings on " + what
}

// findingText writes one finding, its heading led by mark ("NEW " or "").
func findingText(b *strings.Builder, f rules.Finding, mark string) {
	// The heading is not wrapped: it is what a reader scans for.
	fmt.Fprintf(b, "%s[%s] %s %s\n", mark, f.Severity, oneLine(f.Rule), oneLine(f.Title))
	field3 := func(label, text string) { wrap(b, "   "+pad(label, 13), 16, text) }
	field3("Resource:", orNone(oneLine(f.Resource)))
	for i, e := range f.Evidence {
		label := ""
		if i == 0 {
			label = "Evidence:"
		}
		if i == maxEvidence {
			wrap(b, "   "+pad(label, 13), 16, fmt.Sprintf("- … %d more in the report", len(f.Evidence)-maxEvidence))
			break
		}
		wrap(b, "   "+pad(label, 13)+"- ", 18, orNone(oneLine(e.Detail)))
		if where := evidenceWhere(e); where != "" {
			wrap(b, strings.Repeat(" ", 18), 18, where)
		}
	}
	if rem := oneLine(f.Remediation); rem != "" {
		field3("Remediation:", rem)
	}
}

// evidenceWhere says where a piece of evidence comes from: "policy P,
// action A, conditional".
func evidenceWhere(e rules.Evidence) string {
	var parts []string
	if p := oneLine(e.Policy); p != "" {
		parts = append(parts, "policy "+p)
	}
	if a := oneLine(e.Action); a != "" {
		parts = append(parts, "action "+a)
	}
	if e.Conditional {
		parts = append(parts, "conditional")
	}
	return strings.Join(parts, ", ")
}

// field writes "Label:          value", the value wrapped under itself.
func field(b *strings.Builder, label, value string) { wrap(b, pad(label, 17), 17, value) }

// item writes a list item in the field column.
func item(b *strings.Builder, label, value string) { wrap(b, pad(label, 17)+"- ", 19, value) }

// items writes a labelled list of at most limit values, each on one line,
// then how many more the report holds.
func items(b *strings.Builder, label string, values []string, limit int) {
	for i, v := range values {
		if i > 0 {
			label = ""
		}
		if i == limit {
			item(b, label, fmt.Sprintf("… %d more in the report", len(values)-limit))
			return
		}
		item(b, label, orNone(oneLine(v)))
	}
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}

// wrap writes first followed by the words of text, filling lines up to
// textWidth; continuation lines are indented by indent spaces.
func wrap(b *strings.Builder, first string, indent int, text string) {
	b.WriteString(first)
	col := len(first)
	start := col
	for w := range strings.FieldsSeq(text) {
		switch {
		case col == start:
		case col+1+len(w) > textWidth:
			b.WriteString("\n")
			b.WriteString(strings.Repeat(" ", indent))
			col, start = indent, indent
		default:
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteString("\n")
}

func orNone(s string) string { return cmp.Or(s, "(none)") }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
