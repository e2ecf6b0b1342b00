package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	// maxChatSubjects and maxChatSubjectFindings bound a change's chat
	// notification: the subjects most severe first, each with its most
	// severe findings.
	maxChatSubjects        = 5
	maxChatSubjectFindings = 3
	// maxChatRoles bounds the roles reached that the chat text names.
	maxChatRoles = 5
	// maxChatSteps bounds a change's next steps.
	maxChatSteps = 5
)

// emailText is a change's plain text for email subscribers: the change,
// a line per subject, then a section per subject as [Render] writes it,
// with the findings the change brought marked NEW. It lists at most
// subjects subjects (and roles reached), and for each at most findings
// errors, open findings and suppressed findings; slim says the reports
// left out the policy statements.
func (cv *changeView) emailText(subjects, findings int, slim bool) string {
	c := cv.c
	var b strings.Builder
	b.WriteString(cv.headline + "\n\n")

	field(&b, "Event:", cmp.Or(oneLine(c.EventName), "(unnamed event)"))
	field(&b, "Event ID:", orNone(oneLine(c.EventID)))
	field(&b, "Actor:", orNone(oneLine(c.Actor)))
	field(&b, "Account:", orNone(cv.account))
	field(&b, "Region:", orNone(cv.region))
	if r := oneLine(c.Role); r != "" {
		field(&b, "Role changed:", r)
	}
	if p := oneLine(c.Policy); p != "" {
		field(&b, "Policy:", p)
	}
	if len(c.Roles) == 0 {
		field(&b, "Roles reached:", "(none named)")
	}
	items(&b, "Roles reached:", c.Roles, subjects)

	n := len(cv.views)
	fmt.Fprintf(&b, "\nAFFECTED (%d)\n\n", n)
	for k, i := range cv.order {
		if k == subjects {
			wrap(&b, "", 0, fmt.Sprintf("… %d more %s not listed, to keep this message within the SNS size limit; the reports list them all.",
				n-subjects, plural(n-subjects, "subject")))
			break
		}
		wrap(&b, "- ", 2, cv.subjectLine(i))
	}
	for k, i := range cv.order {
		if k == subjects {
			break
		}
		v := cv.views[i]
		b.WriteString("\n" + strings.Repeat("=", textWidth) + "\n")
		b.WriteString(headline(v) + "\n\n")
		subjectText(&b, v, findings, cv.subjects[i])
	}
	footer(&b, slim, "this message's reports")
	return b.String()
}

// subjectLine sums a subject up on one line: "[CRITICAL] task definition
// web-api:42: TD-008 (new), TD-011; deregistered".
func (cv *changeView) subjectLine(i int) string {
	v, s := cv.views[i], cv.subjects[i]
	var ids []string
	for _, f := range v.open {
		if f.Rule == rules.IncompleteRule {
			continue
		}
		id := orNone(oneLine(f.Rule))
		if s.isNew(f) {
			id += " (new)"
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	line := fmt.Sprintf("[%s] %s %s: ", v.tag, strings.ToLower(v.kind), v.label)
	if len(ids) == 0 {
		line += "no unsuppressed findings"
	} else {
		line += strings.Join(ids, ", ")
	}
	if !v.r.Complete {
		line += "; evaluation INCOMPLETE"
	}
	if verb := actionVerb(v.r.Action); verb != "" {
		line += "; " + verb
	}
	return line
}

// notification builds a change's chat notification: the change, then at
// most subjects subjects, most severe first, each with at most findings
// findings, and the remediations of the rules shown as next steps.
func (cv *changeView) notification(subjects, findings int) chatNotification {
	c := cv.c
	n := chatNotification{
		Version: "1.0",
		Source:  "custom",
		ID:      oneLine(c.EventID),
		Content: chatContent{
			TextType: "client-markdown",
			Title:    cv.subject,
		},
		Metadata: chatMetadata{
			ThreadID:  cmp.Or(oneLine(c.Role), oneLine(c.Policy), oneLine(c.EventID)),
			Summary:   cv.subject,
			EventType: chatEventType,
		},
	}

	var b strings.Builder
	b.WriteString("*" + cmp.Or(oneLine(c.EventName), "IAM change") + "*")
	if a := oneLine(c.Actor); a != "" {
		b.WriteString(" by " + code(a))
	}
	if cv.account != "" {
		b.WriteString(" in account " + code(cv.account))
	}
	if cv.region != "" {
		b.WriteString(", " + code(cv.region))
	}
	b.WriteString("\n")
	if r := oneLine(c.Role); r != "" {
		b.WriteString("*Role changed:* " + code(r) + "\n")
	}
	if p := oneLine(c.Policy); p != "" {
		b.WriteString("*Policy:* " + code(p) + "\n")
	}
	if len(c.Roles) > 0 {
		var names []string
		for _, r := range c.Roles[:min(len(c.Roles), maxChatRoles)] {
			names = append(names, code(orNone(oneLine(r))))
		}
		b.WriteString("*Roles reached:* " + strings.Join(names, ", "))
		if more := len(c.Roles) - maxChatRoles; more > 0 {
			fmt.Fprintf(&b, " (+%d more)", more)
		}
		b.WriteString("\n")
	}

	var res []string
	ruleSeen := map[string]bool{}
	var ruleIDs []string
	for k, i := range cv.order {
		v, s := cv.views[i], cv.subjects[i]
		for _, f := range v.open {
			if id := oneLine(f.Rule); id != "" && !ruleSeen[id] {
				ruleSeen[id] = true
				ruleIDs = append(ruleIDs, id)
			}
		}
		if k == subjects {
			left := len(cv.order) - subjects
			fmt.Fprintf(&b, "\n_… %d more %s in the email and the report_\n", left, plural(left, "subject"))
			continue // the rule IDs of every subject make the keywords
		}
		if k >= subjects {
			continue
		}
		res = append(res, oneLine(v.r.Subject.ARN))
		fmt.Fprintf(&b, "\n*[%s] %s* %s", v.tag, v.kind, code(v.label))
		if a := v.r.Action; a.Type != rules.ActionNone {
			b.WriteString(" — " + actionText(a))
		}
		b.WriteString("\n")
		if !v.r.Complete {
			b.WriteString("_Evaluation INCOMPLETE, enforcement blocked_")
			if len(v.r.Errors) > 0 {
				b.WriteString(": " + code(truncate(oneLine(v.r.Errors[0]), maxChatDetail)))
				if more := len(v.r.Errors) - 1; more > 0 {
					fmt.Fprintf(&b, " (+%d more)", more)
				}
			}
			b.WriteString("\n")
		}
		listed := 0
		addStep := func(f rules.Finding) {
			rem, id := oneLine(f.Remediation), oneLine(f.Rule)
			if rem == "" || len(n.Content.NextSteps) == maxChatSteps || slices.ContainsFunc(n.Content.NextSteps, func(step string) bool {
				return strings.HasPrefix(step, id+": ")
			}) {
				return
			}
			n.Content.NextSteps = append(n.Content.NextSteps, id+": "+rem)
		}
		for _, f := range v.open {
			if f.Rule == rules.IncompleteRule {
				addStep(f) // the finding itself is said above
				continue
			}
			if listed == findings {
				left := v.real - findings
				fmt.Fprintf(&b, "• _… %d more %s_\n", left, plural(left, "finding"))
				break
			}
			listed++
			fmt.Fprintf(&b, "• *[%s] %s* %s", f.Severity, oneLine(f.Rule), oneLine(f.Title))
			if s.isNew(f) {
				b.WriteString(" _(new)_")
			}
			b.WriteString("\n")
			addStep(f)
		}
		if m := len(v.suppressed); m > 0 {
			fmt.Fprintf(&b, "_%d suppressed %s not alerted_\n", m, plural(m, "finding"))
		}
	}
	n.Content.Description = strings.TrimSuffix(b.String(), "\n")

	kw := []string{cv.tag}
	if e := oneLine(c.EventName); e != "" {
		kw = append(kw, e)
	}
	slices.Sort(ruleIDs)
	for _, id := range ruleIDs {
		if len(kw) < maxKeywords {
			kw = append(kw, id)
		}
	}
	n.Content.Keywords = kw

	res = slices.DeleteFunc(res, func(s string) bool { return s == "" })
	slices.Sort(res)
	n.Metadata.RelatedResources = slices.Compact(res)

	ctx := map[string]string{
		"account":   cv.account,
		"region":    cv.region,
		"eventId":   oneLine(c.EventID),
		"eventName": oneLine(c.EventName),
		"actor":     oneLine(c.Actor),
		"role":      oneLine(c.Role),
		"policy":    oneLine(c.Policy),
		"subjects":  strconv.Itoa(len(cv.views)),
	}
	if cv.highest > 0 {
		ctx["severity"] = cv.highest.String()
	}
	for k, val := range ctx {
		if val == "" {
			delete(ctx, k)
		}
	}
	n.Metadata.AdditionalContext = ctx
	return n
}
