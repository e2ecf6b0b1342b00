package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

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

// notification builds the chat notification. It shows the limit most
// severe findings with their first piece of evidence, and their
// remediations as next steps: the chat message says what is wrong and what
// to do, the email and the report carry the detail.
func notification(v view, limit int) chatNotification {
	r := v.r
	n := chatNotification{
		Version: "1.0",
		Source:  "custom",
		ID:      oneLine(r.Subject.ARN),
		Content: chatContent{
			TextType:    "client-markdown",
			Title:       v.subject,
			Description: chatDescription(v, limit),
		},
		Metadata: chatMetadata{
			ThreadID:  threadID(r.Subject),
			Summary:   v.subject,
			EventType: chatEventType,
		},
	}
	if id := oneLine(r.Trigger.EventID); id != "" {
		n.ID = id + "/" + n.ID
	}

	shown := v.open[:min(limit, len(v.open))]
	seen := map[string]bool{}
	for _, f := range shown {
		if rem := oneLine(f.Remediation); rem != "" && !seen[f.Rule] {
			seen[f.Rule] = true
			n.Content.NextSteps = append(n.Content.NextSteps, oneLine(f.Rule)+": "+rem)
		}
	}

	kw := []string{v.tag}
	if verb := actionVerb(r.Action); verb != "" {
		kw = append(kw, verb)
	}
	ids := make([]string, 0, len(v.open))
	for _, f := range v.open {
		ids = append(ids, oneLine(f.Rule))
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if id != "" && len(kw) < maxKeywords {
			kw = append(kw, id)
		}
	}
	n.Content.Keywords = kw

	res := []string{oneLine(r.Subject.ARN)}
	for _, f := range shown {
		res = append(res, oneLine(f.Resource))
	}
	res = slices.DeleteFunc(res, func(s string) bool { return s == "" })
	slices.Sort(res)
	n.Metadata.RelatedResources = slices.Compact(res)

	ctx := map[string]string{
		"account":   oneLine(r.Account),
		"region":    oneLine(r.Region),
		"eventId":   oneLine(r.Trigger.EventID),
		"eventName": oneLine(r.Trigger.EventName),
		"actor":     oneLine(r.Trigger.Actor),
		"complete":  fmt.Sprint(r.Complete),
		"action":    actionText(r.Action),
	}
	if h := r.Highest(); h > 0 {
		ctx["severity"] = h.String()
	}
	for k, val := range ctx {
		if val == "" {
			delete(ctx, k)
		}
	}
	n.Metadata.AdditionalContext = ctx
	return n
}

// chatDescription is the notification's markdown body.
func chatDescription(v view, limit int) string {
	r := v.r
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* %s", v.kind, code(v.label))
	if a := oneLine(r.Account); a != "" {
		b.WriteString(" in account " + code(a))
	}
	if reg := oneLine(r.Region); reg != "" {
		b.WriteString(", " + code(reg))
	}
	b.WriteString("\n")
	if t := r.Trigger; t.EventName != "" || t.Actor != "" {
		b.WriteString("*Trigger:* " + cmp.Or(oneLine(t.EventName), "event"))
		if a := oneLine(t.Actor); a != "" {
			b.WriteString(" by " + code(a))
		}
		b.WriteString("\n")
	}
	if r.Complete {
		b.WriteString("*Evaluation:* complete\n")
	} else {
		b.WriteString("*Evaluation: INCOMPLETE*, enforcement blocked. Could not read:\n")
		for i, e := range r.Errors {
			if i == 3 {
				fmt.Fprintf(&b, "• … %d more\n", len(r.Errors)-3)
				break
			}
			b.WriteString("• " + code(truncate(oneLine(e), maxChatDetail)) + "\n")
		}
	}
	b.WriteString("*Action:* " + actionText(r.Action))
	if reason := oneLine(r.Action.Reason); reason != "" {
		b.WriteString(" — " + reason)
	}
	b.WriteString("\n")

	for i, f := range v.open {
		if i == limit {
			fmt.Fprintf(&b, "\n_… %d more %s in the email and the report_\n", len(v.open)-limit, plural(len(v.open)-limit, "finding"))
			break
		}
		fmt.Fprintf(&b, "\n*[%s] %s* %s\n", f.Severity, oneLine(f.Rule), oneLine(f.Title))
		if res := oneLine(f.Resource); res != "" {
			b.WriteString(code(res) + "\n")
		}
		if len(f.Evidence) > 0 {
			b.WriteString("> " + code(truncate(oneLine(f.Evidence[0].Detail), maxChatDetail)))
			if more := len(f.Evidence) - 1; more > 0 {
				fmt.Fprintf(&b, " (+%d more)", more)
			}
			b.WriteString("\n")
		}
	}
	if n := len(v.suppressed); n > 0 {
		fmt.Fprintf(&b, "\n_%d suppressed %s (exempted by tag) not alerted_\n", n, plural(n, "finding"))
	}
	return strings.TrimSuffix(b.String(), "\n")
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
