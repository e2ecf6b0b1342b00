package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/assess"
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
	// maxEmailRoles is how many roles reached the email names.
	maxEmailRoles = 50
)

// email is the plain text for email subscribers, one renderer for every
// alert: the headline, the event, then each subject of the part. A part of
// one subject gives its fields right after the event's; a part of several
// lists them, most severe first, then gives a section to each.
func (ev *eventView) email(p *part) string {
	pieces := []string{ev.emailHeader(p)}
	if len(p.subs) == 1 {
		pieces = append(pieces, "\n", p.subs[0].text(p.limit, p.sum))
	} else {
		for _, i := range p.order {
			pieces = append(pieces, p.subs[i].affectedLine())
		}
		for _, i := range p.order {
			s := p.subs[i]
			pieces = append(pieces, s.sectionPrefix(), s.text(p.limit, nil))
		}
	}
	pieces = append(pieces, ev.footer(p))
	return strings.Join(pieces, "")
}

// emailHeader is the email up to the subjects: the headline, whether the
// event brought anything, the event, the part, the notes.
func (ev *eventView) emailHeader(p *part) string {
	var b strings.Builder
	e := ev.e
	b.WriteString(ev.headline(p) + "\n\n")
	if p.headline > 0 && !p.brought {
		if ev.brought {
			wrap(&b, "", 0, "Nothing new in this part: the findings the event brought are in its other parts.")
		} else {
			wrap(&b, "", 0, "Nothing new: every open finding below was open before the event.")
		}
		b.WriteString("\n")
	}
	if ev.noEvent() {
		field(&b, "Event:", "none (evaluated without an event)")
	} else {
		field(&b, "Event:", cmp.Or(oneLine(e.Name), "(unnamed event)"))
		field(&b, "Event ID:", orNone(oneLine(e.ID)))
		field(&b, "Actor:", orNone(oneLine(e.Actor)))
	}
	field(&b, "Account:", orNone(ev.accountLabel()))
	field(&b, "Region:", orNone(ev.region))
	if r := oneLine(e.Role); r != "" {
		field(&b, "Role changed:", r)
	}
	if pol := oneLine(e.Policy); pol != "" {
		field(&b, "Policy:", pol)
	}
	if res := oneLine(e.Resource); res != "" {
		field(&b, "Changed:", res)
	}
	if len(e.Roles) == 0 && e.Kind == assess.RoleChange {
		field(&b, "Roles reached:", "(none named)")
	}
	where := "in the document"
	if ev.rolesOmitted > 0 {
		where = fmt.Sprintf("(the document lists %d of the %d)", len(ev.roles), len(e.Roles))
	}
	items(&b, "Roles reached:", e.Roles, maxEmailRoles, where)
	if p.n > 1 {
		field(&b, "Part:", fmt.Sprintf("%d of %d: this message announces %d of the %d subjects of this alert, the other parts the others.",
			p.k, p.n, len(p.subs), len(ev.subs)))
	}
	items(&b, "Notes:", ev.notes, len(ev.notes), "")
	if len(p.subs) > 1 {
		fmt.Fprintf(&b, "\nAFFECTED (%d)\n\n", len(p.subs))
	}
	return b.String()
}

// headline is the email's first line: the subject line untruncated, but
// for a single registration, which says how many findings the subject has.
func (ev *eventView) headline(p *part) string {
	if ev.single {
		return subjectHeadline(p.subs[0])
	}
	return "[" + tagWord(p.headline) + "] " + ev.summary(p, -1) + partSuffix(p)
}

// footer ends an email: what shrinking left out of what, and how to exempt
// a rule.
func (ev *eventView) footer(p *part) string {
	var b strings.Builder
	b.WriteString("\n-- \n")
	if p.slim() {
		what := "this message's reports"
		if ev.single {
			what = "this message's report"
		}
		wrap(&b, "", 0, "Policy statements were left out of "+what+" to keep it within the SNS size limit.")
	}
	if ev.e.Kind == assess.Tampering {
		wrap(&b, "", 0, "Tampering cannot be exempted: revert the change with the stack (cdk deploy).")
	} else {
		wrap(&b, "", 0, "To exempt a rule, tag the task definition or role with "+rules.TagExempt+
			"=<rule-id> (or *) and give the reason in "+rules.TagExemptReason+".")
	}
	return b.String()
}

// subjectHeadline is a subject's first line, tagged with its own headline
// severity: "[HIGH] 2 findings on task definition web-api:42".
func subjectHeadline(s *subjectView) string {
	tag := "[" + tagWord(s.headline()) + "] "
	what := strings.ToLower(s.kind) + " " + s.label
	n := s.real
	switch {
	case n > 0 && !s.r.Complete:
		return fmt.Sprintf("%s%d %s on %s, evaluation INCOMPLETE", tag, n, plural(n, "finding"), what)
	case n > 0:
		return fmt.Sprintf("%s%d %s on %s", tag, n, plural(n, "finding"), what)
	case !s.r.Complete:
		return tag + what + " could not be fully evaluated"
	}
	return tag + "no unsuppressed findings on " + what
}

// affectedLine sums a subject up in the list of a part of several:
// "- [CRITICAL] task definition web-api:42: TD-008 (new), TD-011;
// deregistered", wrapped.
func (s *subjectView) affectedLine() string {
	if s.line != "" {
		return s.line
	}
	var ids []string
	for i, f := range s.open {
		if f.Rule == rules.IncompleteRule {
			continue
		}
		id := orNone(oneLine(f.Rule))
		if s.marked(i) {
			id += " (new)"
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	line := fmt.Sprintf("[%s] %s %s: ", tagWord(s.headline()), strings.ToLower(s.kind), s.label)
	if len(ids) == 0 {
		line += "no unsuppressed findings"
	} else {
		line += strings.Join(ids, ", ")
	}
	if !s.r.Complete {
		line += "; evaluation INCOMPLETE"
	}
	if verb := actionVerb(s.r.Action); verb != "" {
		line += "; " + verb
	}
	var b strings.Builder
	wrap(&b, "- ", 2, line)
	s.line = b.String()
	return s.line
}

// sectionPrefix opens a subject's section in a part of several.
func (s *subjectView) sectionPrefix() string {
	return "\n" + strings.Repeat("=", textWidth) + "\n" + subjectHeadline(s) + "\n\n"
}

// text is the subject's fields and findings, listing at most limit of
// each list; sum, when set, says the report was summarised.
func (s *subjectView) text(limit int, sum *summary) string {
	if sum != nil {
		var b strings.Builder
		subjectText(&b, s, limit, sum)
		return b.String()
	}
	limit = min(limit, s.listMax()) // any larger limit lists as much
	if t, ok := s.texts[limit]; ok {
		return t
	}
	var b strings.Builder
	subjectText(&b, s, limit, nil)
	if s.texts == nil {
		s.texts = map[int]string{}
	}
	s.texts[limit] = b.String()
	return s.texts[limit]
}

// listMax is the longest list the subject's text has: a limit at or above
// it lists everything.
func (s *subjectView) listMax() int {
	return max(len(s.r.Findings), len(s.r.Errors), len(s.usedBy))
}

// Sizes in the body, escaped, without quotes.
func (s *subjectView) slimLen() int {
	if s.slimEsc == 0 {
		s.slimEsc = escLen(string(s.slimJSON())) - 2
	}
	return s.slimEsc
}
func (s *subjectView) lineLen() int { return escLen(s.affectedLine()) - 2 }

// sectionLen is the size of the subject's section in a part of several.
func (s *subjectView) sectionLen(limit int) int {
	limit = min(limit, s.listMax())
	if n, ok := s.textLens[limit]; ok {
		return n
	}
	n := escLen(s.sectionPrefix()) - 2 + escLen(s.text(limit, nil)) - 2
	if s.textLens == nil {
		s.textLens = map[int]int{}
	}
	s.textLens[limit] = n
	return n
}

// subjectText writes a subject's fields and findings.
func subjectText(b *strings.Builder, s *subjectView, limit int, sum *summary) {
	r := s.r
	field(b, s.kind+":", orNone(oneLine(r.Subject.ARN)))
	uses := make([]string, len(s.usedBy))
	for i, u := range s.usedBy {
		uses[i] = useText(u)
	}
	items(b, "Used by:", uses, limit, "in the report")
	if s.known {
		if len(s.newRules) == 0 {
			field(b, "New findings:", "none: every finding was there before the change")
		} else {
			ids := make([]string, len(s.newRules))
			for i, id := range s.newRules {
				ids[i] = orNone(oneLine(id))
			}
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
		items(b, "Errors:", r.Errors, limit, "in the report")
	}
	field(b, "Action:", actionText(r.Action))
	if reason := oneLine(r.Action.Reason); reason != "" {
		field(b, "Action reason:", reason)
	}
	if len(s.suppressed) > 0 {
		field(b, "Suppressed:", suppressedText(s.suppressed, limit))
	}
	if sum != nil {
		field(b, "Report:", summaryText(sum.counts))
	}

	if len(s.open) > 0 {
		if s.known {
			n := 0
			for i := range s.open {
				if s.marked(i) {
					n++
				}
			}
			fmt.Fprintf(b, "\nFINDINGS (%d, %d new)\n", len(s.open), n)
		} else {
			fmt.Fprintf(b, "\nFINDINGS (%d)\n", len(s.open))
		}
		for i, f := range s.open {
			if i == limit {
				left := len(s.open) - limit
				b.WriteString("\n")
				if sum != nil {
					wrap(b, "", 0, fmt.Sprintf("… %d more %s not listed: the report is too large for one SNS message (see Report above).", left, plural(left, "finding")))
				} else {
					wrap(b, "", 0, fmt.Sprintf("… %d more %s not listed, to keep this message within the SNS size limit; the report lists them all.", left, plural(left, "finding")))
				}
				break
			}
			b.WriteString("\n")
			mark := ""
			if s.marked(i) {
				mark = "NEW "
			}
			findingText(b, f, mark)
		}
	}
	if len(s.suppressed) > 0 {
		fmt.Fprintf(b, "\nSUPPRESSED (%d, exempted by tag, not alerted)\n\n", len(s.suppressed))
		for i, f := range s.suppressed {
			if i == limit {
				fmt.Fprintf(b, "… %d more suppressed %s not listed.\n", len(s.suppressed)-limit, plural(len(s.suppressed)-limit, "finding"))
				break
			}
			wrap(b, "- ", 2, fmt.Sprintf("[%s] %s %s", f.Severity, oneLine(f.Rule), oneLine(f.Title)))
			wrap(b, "  ", 2, orNone(oneLine(f.Resource)))
		}
	}
}

// suppressedText counts the suppressed findings and gives their reasons,
// at most limit of them: "2 findings suppressed by exemptions: TD-009,
// TD-010 (batch launcher, reviewed in SEC-142)".
func suppressedText(fs []rules.Finding, limit int) string {
	type group struct {
		reason string
		rules  []string
	}
	var groups []group
	for _, f := range fs {
		reason := orNone(oneLine(f.SuppressedReason))
		i := slices.IndexFunc(groups, func(g group) bool { return g.reason == reason })
		if i < 0 {
			groups = append(groups, group{reason: reason})
			i = len(groups) - 1
		}
		if id := orNone(oneLine(f.Rule)); !slices.Contains(groups[i].rules, id) {
			groups[i].rules = append(groups[i].rules, id)
		}
	}
	text := fmt.Sprintf("%d %s suppressed by exemptions", len(fs), plural(len(fs), "finding"))
	var parts []string
	for i, g := range groups {
		if i == limit {
			parts = append(parts, fmt.Sprintf("… %d more %s", len(groups)-limit, plural(len(groups)-limit, "reason")))
			break
		}
		parts = append(parts, strings.Join(g.rules, ", ")+" ("+g.reason+")")
	}
	if len(parts) == 0 {
		return text
	}
	return text + ": " + strings.Join(parts, "; ")
}

// summaryText says what a summarised report holds in all.
func summaryText(c Summary) string {
	var open []string
	for sev := rules.Critical; sev >= rules.Informational; sev-- {
		if n := c.Open[sev.String()]; n > 0 {
			open = append(open, fmt.Sprintf("%d %s", n, sev))
		}
	}
	text := fmt.Sprintf("too large for one SNS message even without policy statements: the report here lists its first %d of %d findings",
		c.ListedFindings, c.Findings)
	if c.Errors > c.ListedErrors {
		text += fmt.Sprintf(", %d of %d errors", c.ListedErrors, c.Errors)
	}
	if c.UsedBy > c.ListedUsedBy {
		text += fmt.Sprintf(", %d of %d uses", c.ListedUsedBy, c.UsedBy)
	}
	text += ". In all: "
	if len(open) == 0 {
		text += "no open findings"
	} else {
		text += strings.Join(open, ", ") + " open"
	}
	return text + fmt.Sprintf(", %d suppressed.", c.Suppressed)
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
// then how many more there are, and where they are.
func items(b *strings.Builder, label string, values []string, limit int, where string) {
	for i, v := range values {
		if i > 0 {
			label = ""
		}
		if i == limit {
			item(b, label, strings.TrimSpace(fmt.Sprintf("… %d more %s", len(values)-limit, where)))
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
