package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// chatNotification is an AWS Chatbot (now Amazon Q Developer in chat
// applications) custom notification, the only shape it forwards from an SNS
// topic to Slack or Microsoft Teams: anything else is dropped silently.
// The field names are those of the documented event schema, version 1.0.
type chatNotification struct {
	Version  string       `json:"version"` // must be "1.0"
	Source   string       `json:"source"`  // must be "custom"
	ID       string       `json:"id,omitempty"`
	Content  chatContent  `json:"content"`
	Metadata chatMetadata `json:"metadata"`
}

type chatContent struct {
	TextType    string   `json:"textType"` // only "client-markdown" is supported
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

type chatMetadata struct {
	ThreadID          string            `json:"threadId,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	EventType         string            `json:"eventType,omitempty"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

const (
	// chatEventType lets custom action buttons select ecsguard's alerts.
	chatEventType = "ecsguard"
	// maxChatDetail bounds one piece of evidence in the chat text.
	maxChatDetail = 300
	// maxKeywords bounds the keyword chips under the notification.
	maxKeywords = 8
)

const (
	// maxChatFindings bounds the findings the chat lists for a part of one
	// subject, maxChatSubjectFindings for each subject of a part of
	// several, which lists at most maxChatSubjects subjects: a chat
	// message is read at a glance, the email and the document carry the
	// rest.
	maxChatFindings        = 5
	maxChatSubjects        = 5
	maxChatSubjectFindings = 3
	// maxChatRoles bounds the roles reached that the chat text names,
	// maxChatNotes the notes, maxChatReasons the exemption reasons.
	maxChatRoles   = 5
	maxChatNotes   = 3
	maxChatReasons = 3
	// maxChatSteps bounds the next steps.
	maxChatSteps = 5
)

// notification builds the part's chat notification: the event, then its
// subjects, most severe first, with their most severe findings, and the
// remediations of the rules shown as next steps. For a part of one subject
// it shows each finding's resource and first evidence too.
func (ev *eventView) notification(p *part, subject string) chatNotification {
	e := ev.e
	detail := len(p.subs) == 1
	n := chatNotification{
		Version: "1.0",
		Source:  "custom",
		ID:      oneLine(e.ID),
		Content: chatContent{
			TextType: "client-markdown",
			Title:    subject,
		},
		Metadata: chatMetadata{
			Summary:   subject,
			EventType: chatEventType,
		},
	}
	switch {
	case detail:
		n.ID = strings.TrimPrefix(n.ID+"/"+oneLine(p.subs[0].r.Subject.ARN), "/")
	case p.n > 1 && n.ID != "":
		n.ID += fmt.Sprintf("/part-%d", p.k)
	}
	switch {
	case ev.single:
		n.Metadata.ThreadID = threadID(p.subs[0].r.Subject)
	case e.Kind == assess.Tampering:
		n.Metadata.ThreadID = cmp.Or(oneLine(e.Resource), oneLine(e.ID))
	default:
		n.Metadata.ThreadID = cmp.Or(oneLine(e.Role), oneLine(e.Policy), oneLine(e.ID))
	}

	var b strings.Builder
	if ev.noEvent() {
		b.WriteString("*Evaluated without an event*")
	} else {
		b.WriteString("*" + ev.eventName() + "*")
		if a := oneLine(e.Actor); a != "" {
			b.WriteString(" by " + code(a))
		}
	}
	if ev.account != "" {
		b.WriteString(" in account " + code(ev.account))
		if n := oneLine(ev.e.AccountName); n != "" {
			b.WriteString(" (" + n + ")")
		}
	}
	if ev.region != "" {
		b.WriteString(", " + code(ev.region))
	}
	b.WriteString("\n")
	if r := oneLine(e.Role); r != "" {
		b.WriteString("*Role changed:* " + code(r) + "\n")
	}
	if pol := oneLine(e.Policy); pol != "" {
		b.WriteString("*Policy:* " + code(pol) + "\n")
	}
	if res := oneLine(e.Resource); res != "" {
		b.WriteString("*Changed:* " + code(res) + "\n")
	}
	if len(e.Roles) > 0 {
		var names []string
		for _, r := range e.Roles[:min(len(e.Roles), maxChatRoles)] {
			names = append(names, code(orNone(oneLine(r))))
		}
		b.WriteString("*Roles reached:* " + strings.Join(names, ", "))
		if more := len(e.Roles) - maxChatRoles; more > 0 {
			fmt.Fprintf(&b, " (+%d more)", more)
		}
		b.WriteString("\n")
	}
	if p.n > 1 {
		fmt.Fprintf(&b, "*Part %d of %d:* %d of the alert's %d subjects\n", p.k, p.n, len(p.subs), len(ev.subs))
	}
	for i, note := range ev.notes {
		if i == maxChatNotes {
			fmt.Fprintf(&b, "*Note:* … %d more in the email\n", len(ev.notes)-maxChatNotes)
			break
		}
		b.WriteString("*Note:* " + truncate(note, maxChatDetail) + "\n")
	}
	if p.headline > 0 && !p.brought {
		if ev.brought {
			b.WriteString("_Nothing new in this part: the findings the event brought are in its other parts_\n")
		} else {
			b.WriteString("_Nothing new: every open finding was open before the event_\n")
		}
	}

	var res []string
	addStep := func(f rules.Finding) {
		rem, id := oneLine(f.Remediation), oneLine(f.Rule)
		if rem == "" || len(n.Content.NextSteps) == maxChatSteps || slices.ContainsFunc(n.Content.NextSteps, func(step string) bool {
			return strings.HasPrefix(step, id+": ")
		}) {
			return
		}
		n.Content.NextSteps = append(n.Content.NextSteps, id+": "+truncate(rem, 4*maxChatDetail))
	}
	findings := maxChatSubjectFindings
	if detail {
		findings = maxChatFindings
	}
	findings = min(findings, p.limit)
	for k, i := range p.order {
		if k == maxChatSubjects {
			left := len(p.order) - maxChatSubjects
			fmt.Fprintf(&b, "\n_… %d more %s in the email and the document_\n", left, plural(left, "subject"))
			break
		}
		s := p.subs[i]
		r := s.r
		res = append(res, oneLine(r.Subject.ARN))
		fmt.Fprintf(&b, "\n*[%s] %s* %s", tagWord(s.headline()), s.kind, code(s.label))
		if !detail && (r.Action.Type != rules.ActionNone || !r.Action.Result.IsZero()) {
			b.WriteString(" — " + actionText(r.Action))
		}
		b.WriteString("\n")
		switch {
		case detail && r.Complete:
			b.WriteString("*Evaluation:* complete\n")
		case detail:
			b.WriteString("*Evaluation: INCOMPLETE*, enforcement blocked. Could not read:\n")
			for i, e := range r.Errors {
				if i == 3 {
					fmt.Fprintf(&b, "• … %d more\n", len(r.Errors)-3)
					break
				}
				b.WriteString("• " + code(truncate(oneLine(e), maxChatDetail)) + "\n")
			}
		case !r.Complete:
			b.WriteString("_Evaluation INCOMPLETE, enforcement blocked_")
			if len(r.Errors) > 0 {
				b.WriteString(": " + code(truncate(oneLine(r.Errors[0]), maxChatDetail)))
				if more := len(r.Errors) - 1; more > 0 {
					fmt.Fprintf(&b, " (+%d more)", more)
				}
			}
			b.WriteString("\n")
		}
		if detail {
			b.WriteString("*Action:* " + actionText(r.Action))
			if reason := oneLine(r.Action.Reason); reason != "" {
				b.WriteString(" — " + truncate(reason, maxChatDetail))
			}
			b.WriteString("\n")
		}
		listed := 0
		for i, f := range s.open {
			if f.Rule == rules.IncompleteRule {
				addStep(f) // the finding itself is said above
				continue
			}
			if detail {
				b.WriteString("\n") // the finding's lines stand apart
			}
			if listed == findings {
				left := s.real - findings
				fmt.Fprintf(&b, "• _… %d more %s in the email and the document_\n", left, plural(left, "finding"))
				break
			}
			listed++
			fmt.Fprintf(&b, "• *[%s] %s* %s", f.Severity, oneLine(f.Rule), truncate(oneLine(f.Title), maxChatDetail))
			if s.marked(i) {
				b.WriteString(" _(new)_")
			}
			b.WriteString("\n")
			if detail {
				if rs := oneLine(f.Resource); rs != "" {
					b.WriteString(code(rs) + "\n")
					res = append(res, rs)
				}
				if len(f.Evidence) > 0 {
					b.WriteString("> " + code(truncate(oneLine(f.Evidence[0].Detail), maxChatDetail)))
					if more := len(f.Evidence) - 1; more > 0 {
						fmt.Fprintf(&b, " (+%d more)", more)
					}
					b.WriteString("\n")
				}
			}
			addStep(f)
		}
		if len(s.suppressed) > 0 {
			if detail {
				b.WriteString("\n")
			}
			b.WriteString("_" + truncate(suppressedText(s.suppressed, maxChatReasons), 2*maxChatDetail) + "_\n")
		}
	}
	n.Content.Description = strings.TrimSuffix(b.String(), "\n")

	kw := []string{tagWord(p.headline)}
	if name := oneLine(e.Name); name != "" {
		kw = append(kw, name)
	}
	if detail {
		if verb := actionVerb(p.subs[0].r.Action); verb != "" {
			kw = append(kw, verb)
		}
	}
	var ids []string
	for _, s := range p.subs {
		for _, f := range s.open {
			if id := oneLine(f.Rule); id != "" {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if len(kw) < maxKeywords {
			kw = append(kw, id)
		}
	}
	n.Content.Keywords = kw

	res = slices.DeleteFunc(res, func(s string) bool { return s == "" })
	slices.Sort(res)
	n.Metadata.RelatedResources = slices.Compact(res)

	ctx := map[string]string{
		"account":   ev.account,
		"region":    ev.region,
		"eventId":   oneLine(e.ID),
		"eventName": oneLine(e.Name),
		"actor":     oneLine(e.Actor),
		"role":      oneLine(e.Role),
		"policy":    oneLine(e.Policy),
		"resource":  oneLine(e.Resource),
		"subjects":  strconv.Itoa(len(p.subs)),
	}
	if p.headline > 0 {
		ctx["severity"] = p.headline.String()
	}
	if p.n > 1 {
		ctx["part"] = fmt.Sprintf("%d/%d", p.k, p.n)
	}
	if detail {
		ctx["complete"] = strconv.FormatBool(p.subs[0].r.Complete)
		ctx["action"] = actionText(p.subs[0].r.Action)
	}
	for k, val := range ctx {
		if val == "" {
			delete(ctx, k)
		}
	}
	n.Metadata.AdditionalContext = ctx
	return n
}

// code renders s as inline code, so that the '*' and '_' of IAM patterns
// and ARNs are not read as markdown.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

// threadID groups a task definition's revisions in one chat thread, and a
// role's alerts in another.
func threadID(s rules.Subject) string {
	arn := oneLine(s.ARN)
	if s.Type == rules.SubjectTaskDefinition {
		if i := strings.LastIndexByte(arn, ':'); i > strings.LastIndexByte(arn, '/') {
			arn = arn[:i]
		}
	}
	return arn
}
