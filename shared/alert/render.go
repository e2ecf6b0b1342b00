package alert

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Message is one SNS publish.
type Message struct {
	// Subject is under 100 characters (and bytes), on one line: SNS rejects
	// longer subjects, line breaks and control characters.
	Subject string
	// Body is for MessageStructure=json: a JSON object whose "default",
	// "email" and "https" keys hold the report JSON, the email text and the
	// AWS Chatbot custom notification, each as a string.
	Body string
	// Attributes are SNS message attributes for filter policies: severity,
	// rules, account and region (and event, for a change), each of the
	// data type [AttributeType] gives. Keys whose value would be empty are
	// left out, because SNS rejects empty attribute values.
	Attributes map[string]string
}

// AttributeType is the SNS data type of a message attribute: String.Array
// for "rules", whose value is a JSON array of rule IDs, so that a filter
// policy {"rules": ["TD-001"]} matches every alert with a TD-001 finding;
// String for the others.
func AttributeType(key string) string {
	if key == "rules" {
		return "String.Array"
	}
	return "String"
}

// ruleList is the value of the rules attribute: the rule IDs, sorted and
// once each, as a JSON array; "" when there is none.
func ruleList(ids []string) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids) // strings always marshal
	return string(b)
}

// ErrTooLarge is returned when a report does not fit in one SNS message even
// after shrinking.
var ErrTooLarge = errors.New("message exceeds the SNS size limit")

// Size limits.
const (
	// maxSubject is in bytes, so the subject is under 100 characters however
	// SNS counts them.
	maxSubject = 99
	// maxBody keeps the body under SNS's 256 KiB message limit with 1 KiB
	// to spare for the subject and attributes, which count towards it.
	maxBody = 256<<10 - 1<<10
	// maxChatFindings bounds the chat notification: a chat message is read
	// at a glance, the email and the report carry the rest.
	maxChatFindings = 5
)

// body is the MessageStructure=json document. Every value must be a string
// and "default" must be present; protocols without a key of their own
// (sqs, lambda, email-json, ...) receive "default".
type body struct {
	Default string `json:"default"`
	Email   string `json:"email"`
	HTTPS   string `json:"https"`
}

// Render turns a report into the SNS message that announces it. The report
// JSON goes out unchanged unless the message would exceed the SNS limit:
// Render then leaves the policy statements out of the report's evidence,
// and then lists fewer findings in the email and chat texts, noting how many
// it left out. It returns [ErrTooLarge] only when even that does not fit.
func Render(r rules.Report) (Message, error) {
	v := newView(r)
	msg := Message{Subject: v.subject, Attributes: attributes(v)}
	all := max(len(r.Findings), len(r.Errors)) // a limit that lists everything

	// Only a statement that is not valid JSON can fail to marshal: then
	// leave the statements out, as when shrinking, rather than lose the
	// alert.
	if full, err := marshal(r); err == nil {
		b, err := encodeBody(full, v, all, false)
		if err != nil {
			return Message{}, err
		}
		if len(b) < maxBody {
			msg.Body = string(b)
			return msg, nil
		}
	}
	slim, err := marshal(withoutStatements(r))
	if err != nil {
		return Message{}, fmt.Errorf("%s: report: %w", v.label, err)
	}
	for _, limit := range shrinkLimits(all) {
		b, err := encodeBody(slim, v, limit, true)
		if err != nil {
			return Message{}, err
		}
		if len(b) < maxBody {
			msg.Body = string(b)
			return msg, nil
		}
	}
	return Message{}, fmt.Errorf("%w: %s: %d findings, report alone is %d bytes", ErrTooLarge, v.label, len(r.Findings), len(slim))
}

// shrinkLimits are the numbers of findings (and errors) the texts list,
// from all n down to none, tried in order until the message fits.
func shrinkLimits(n int) []int {
	out := []int{n}
	for _, l := range []int{100, 50, 20, 10, 5, 1, 0} {
		if l < n {
			out = append(out, l)
		}
	}
	return out
}

func encodeBody(report []byte, v view, limit int, slim bool) ([]byte, error) {
	chat, err := marshal(notification(v, min(limit, maxChatFindings)))
	if err != nil {
		return nil, fmt.Errorf("%s: chat notification: %w", v.label, err)
	}
	b, err := marshal(body{Default: string(report), Email: emailText(v, limit, slim), HTTPS: string(chat)})
	if err != nil {
		return nil, fmt.Errorf("%s: body: %w", v.label, err)
	}
	return b, nil
}

// marshal is json.Marshal without HTML escaping: nothing here is embedded in
// HTML, and each escaped '<' would cost six bytes of the size budget.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// withoutStatements copies r with no Evidence.Statement, leaving r intact.
func withoutStatements(r rules.Report) rules.Report {
	r.Findings = slices.Clone(r.Findings)
	for i, f := range r.Findings {
		if f.Evidence == nil {
			continue
		}
		ev := slices.Clone(f.Evidence)
		for j := range ev {
			ev[j].Statement = nil
		}
		r.Findings[i].Evidence = ev
	}
	return r
}

// view is a report prepared for the texts.
type view struct {
	r rules.Report
	// open are the unsuppressed findings, most severe first, in report
	// order within a severity; suppressed are the others, in report order.
	open, suppressed []rules.Finding
	// real counts the open findings other than the incomplete-evaluation
	// one, which the texts announce on their own.
	real int
	// label names the subject briefly: "web-api:42" for a task definition,
	// the role name for a role.
	label string
	kind  string // "Task definition", "Role"
	// tag is the subject line's bracketed word, subject the line itself.
	tag, subject string
}

func newView(r rules.Report) view {
	v := view{r: r, label: subjectLabel(r.Subject), kind: subjectKind(r.Subject.Type)}
	for _, f := range r.Findings {
		if f.Suppressed {
			v.suppressed = append(v.suppressed, f)
			continue
		}
		v.open = append(v.open, f)
		if f.Rule != rules.IncompleteRule {
			v.real++
		}
	}
	slices.SortStableFunc(v.open, func(a, b rules.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	v.tag, v.subject = subject(v)
	return v
}

// top returns the most severe open finding other than the incomplete one.
func (v view) top() (rules.Finding, bool) {
	for _, f := range v.open {
		if f.Rule != rules.IncompleteRule {
			return f, true
		}
	}
	return rules.Finding{}, false
}

// subjectLabel is the family:revision of a task definition ARN, or the name
// of a role (the last path segment), or the ARN itself when it has neither.
func subjectLabel(s rules.Subject) string {
	arn := oneLine(s.ARN)
	if i := strings.LastIndex(arn, ":task-definition/"); i >= 0 {
		arn = arn[i+len(":task-definition/"):]
	} else if i := strings.LastIndexByte(arn, '/'); i >= 0 && strings.Contains(arn, ":role/") {
		arn = arn[i+1:]
	}
	if arn == "" {
		return "unknown subject"
	}
	return arn
}

func subjectKind(t string) string {
	switch t {
	case rules.SubjectTaskDefinition:
		return "Task definition"
	case rules.SubjectRole:
		return "Role"
	case "":
		return "Subject"
	}
	return oneLine(t)
}

// actionText says what enforcement did, for the texts.
func actionText(a rules.Action) string {
	switch {
	case a.Type == rules.ActionNone:
		return "none"
	case a.Result.IsZero():
		return a.Type.String() + " (no result recorded)"
	case a.Result.Kind == rules.Failed:
		return a.Type.String() + " " + a.Result.String()
	}
	return a.Result.String()
}

// actionVerb is the word the subject line gives a deregistration, "" when
// there was none.
func actionVerb(a rules.Action) string {
	if a.Type != rules.ActionDeregister {
		return ""
	}
	switch a.Result.Kind {
	case rules.Deregistered:
		return "deregistered"
	case rules.WouldDeregister:
		return "would be deregistered"
	case rules.Failed:
		return "deregister failed"
	}
	return "deregister"
}

// attributes are the message attributes subscribers filter on.
func attributes(v view) map[string]string {
	a := make(map[string]string, 4)
	set := func(k, val string) {
		if val = strings.TrimSpace(val); val != "" {
			a[k] = val
		}
	}
	if h := v.r.Highest(); h > 0 {
		set("severity", h.String())
	}
	ids := make([]string, 0, len(v.open))
	for _, f := range v.open {
		if id := oneLine(f.Rule); id != "" {
			ids = append(ids, id)
		}
	}
	set("rules", ruleList(ids))
	set("account", v.r.Account)
	set("region", v.r.Region)
	return a
}
