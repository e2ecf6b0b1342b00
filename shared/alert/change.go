package alert

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Change is an IAM change and the verdicts on what it touched.
type Change struct {
	EventID, EventName, Actor string
	Account, Region           string
	// Role is the name of the role changed, when the event names one.
	Role string
	// Policy is the policy ARN or inline policy name, when the event names
	// one.
	Policy string
	// Roles are the roles the change reached: for a policy-level event
	// (CreatePolicyVersion...), every role the policy is attached to.
	Roles []string
	// Reports holds one report per affected subject (task definition or
	// secondary role), each with its own Action.
	Reports []rules.Report
	// Before holds, per subject ARN, the unsuppressed findings before the
	// change, when known. A subject absent from it has no known prior
	// state; a subject present with none had none. A finding now is new
	// when there was none of its rule at its severity or above: a rule
	// that fired LOW before and fires HIGH now is new.
	Before map[string][]rules.Finding
	// UsedBy holds, per secondary role ARN, what references the role
	// besides task definitions: the EventBridge rules, schedules, scalable
	// targets and instance profiles that a change to it reaches.
	UsedBy map[string][]rules.Use
}

// ChangeSchemaVersion is the version of the [ChangeDocument] JSON.
const ChangeSchemaVersion = "1"

// ChangeDocument is the machine-readable body ("default") of a change
// alert: the change, a finding report per affected subject, and the
// findings the change brought.
type ChangeDocument struct {
	SchemaVersion string         `json:"schemaVersion"`
	Change        ChangeEvent    `json:"change"`
	Reports       []rules.Report `json:"reports"`
	// NewFindings maps the ARN of each subject whose state before the
	// change is known to the rules of the unsuppressed findings the change
	// brought (a rule new, or at a higher severity than before), sorted;
	// [] when it brought none. A subject absent from it has no known prior
	// state.
	NewFindings map[string][]string `json:"newFindings"`
	// UsedBy maps the ARN of each secondary role among the subjects to
	// what references it besides task definitions; {} when none is known.
	UsedBy map[string][]rules.Use `json:"usedBy"`
}

// ChangeEvent is the IAM change of a [ChangeDocument].
type ChangeEvent struct {
	EventID   string   `json:"eventId"`
	EventName string   `json:"eventName"`
	Actor     string   `json:"actor"`
	Account   string   `json:"account"`
	Region    string   `json:"region"`
	Role      string   `json:"role"`   // "" when the event names none
	Policy    string   `json:"policy"` // "" when the event names none
	Roles     []string `json:"roles"`
}

// ErrNoReports is returned by [RenderChange] for a change with no report:
// a change that touches nothing of ECS is not alerted.
var ErrNoReports = errors.New("change has no report to render")

// RenderChange turns an IAM change and the reports on every subject it
// touched into the one SNS message that announces it. The body's "default"
// is the [ChangeDocument] JSON, "email" the change then a section per
// subject, "https" a Chatbot notification listing the subjects and their
// top findings. It shrinks as [Render] does, the same way every time: first
// the policy statements leave the reports, then the texts list fewer
// findings per subject, then fewer subjects, saying how many they left out.
// It returns [ErrTooLarge] when even the reports without statements do not
// fit, and [ErrNoReports] when there is no report.
func RenderChange(c Change) (Message, error) {
	if len(c.Reports) == 0 {
		return Message{}, fmt.Errorf("%w: %s", ErrNoReports, cmp.Or(oneLine(c.EventName), "IAM change"))
	}
	cv := newChangeView(c)
	msg := Message{Subject: cv.subject, Attributes: cv.attributes()}
	allFindings := 0 // a limit that lists every finding and error
	for _, v := range cv.views {
		allFindings = max(allFindings, len(v.r.Findings), len(v.r.Errors))
	}
	allSubjects := len(c.Reports)

	if full, err := marshal(cv.document(c.Reports)); err == nil {
		b, err := cv.encodeBody(full, allSubjects, allFindings, false)
		if err != nil {
			return Message{}, err
		}
		if len(b) < maxBody {
			msg.Body = string(b)
			return msg, nil
		}
	}
	slimReports := make([]rules.Report, len(c.Reports))
	for i, r := range c.Reports {
		slimReports[i] = withoutStatements(r)
	}
	slim, err := marshal(cv.document(slimReports))
	if err != nil {
		return Message{}, fmt.Errorf("%s: reports: %w", cv.label, err)
	}
	for _, l := range changeShrinkLimits(allSubjects, allFindings) {
		b, err := cv.encodeBody(slim, l.subjects, l.findings, true)
		if err != nil {
			return Message{}, err
		}
		if len(b) < maxBody {
			msg.Body = string(b)
			return msg, nil
		}
	}
	return Message{}, fmt.Errorf("%w: %s: %d subjects, reports alone are %d bytes", ErrTooLarge, cv.label, len(c.Reports), len(slim))
}

// changeLimit is how many subjects the texts list, and how many findings
// (and errors) for each.
type changeLimit struct{ subjects, findings int }

// changeShrinkLimits are the limits tried in order until the message fits:
// every subject with fewer and fewer findings, then fewer and fewer
// subjects with none.
func changeShrinkLimits(subjects, findings int) []changeLimit {
	var out []changeLimit
	for _, f := range shrinkLimits(findings) {
		out = append(out, changeLimit{subjects, f})
	}
	for _, s := range shrinkLimits(subjects)[1:] {
		out = append(out, changeLimit{s, 0})
	}
	return out
}

func (cv *changeView) encodeBody(doc []byte, subjects, findings int, slim bool) ([]byte, error) {
	chat, err := marshal(cv.notification(min(subjects, maxChatSubjects), min(findings, maxChatSubjectFindings)))
	if err != nil {
		return nil, fmt.Errorf("%s: chat notification: %w", cv.label, err)
	}
	b, err := marshal(body{Default: string(doc), Email: cv.emailText(subjects, findings, slim), HTTPS: string(chat)})
	if err != nil {
		return nil, fmt.Errorf("%s: body: %w", cv.label, err)
	}
	return b, nil
}

// document is the default body, with reports (the change's, or the same
// without statements).
func (cv *changeView) document(reports []rules.Report) ChangeDocument {
	c := cv.c
	d := ChangeDocument{
		SchemaVersion: ChangeSchemaVersion,
		Change: ChangeEvent{
			EventID: c.EventID, EventName: c.EventName, Actor: c.Actor,
			Account: c.Account, Region: c.Region, Role: c.Role, Policy: c.Policy,
			Roles: c.Roles,
		},
		Reports:     reports,
		NewFindings: map[string][]string{},
		UsedBy:      map[string][]rules.Use{},
	}
	if d.Change.Roles == nil {
		d.Change.Roles = []string{}
	}
	for _, r := range c.Reports {
		if u := c.UsedBy[r.Subject.ARN]; len(u) > 0 {
			d.UsedBy[r.Subject.ARN] = u
		}
	}
	for i, r := range c.Reports {
		if !cv.subjects[i].known {
			continue
		}
		ids := d.NewFindings[r.Subject.ARN] // two reports on one subject add up
		if ids == nil {
			ids = []string{}
		}
		for _, f := range cv.views[i].open {
			if cv.subjects[i].isNew(f) {
				ids = append(ids, f.Rule)
			}
		}
		slices.Sort(ids)
		d.NewFindings[r.Subject.ARN] = slices.Compact(ids)
	}
	return d
}

// changeView is a change prepared for the texts.
type changeView struct {
	c        Change
	views    []view    // one per report, in the change's order
	subjects []section // how each report's section is written
	// order lists the report indexes most severe first (report order
	// within a severity), the order the texts list the subjects in.
	order []int
	// highest is the highest unsuppressed severity over every report.
	highest rules.Severity
	// account and region are the change's, else the first report's that
	// has one.
	account, region string
	// label names the change briefly, for errors: "AttachRolePolicy on
	// web-api-task".
	label string
	// tag is the subject line's bracketed word, subject the line itself,
	// headline the same untruncated, for the email.
	tag, subject, headline string
}

func newChangeView(c Change) *changeView {
	cv := &changeView{c: c, account: oneLine(c.Account), region: oneLine(c.Region)}
	for i, r := range c.Reports {
		cv.account = cmp.Or(cv.account, oneLine(r.Account))
		cv.region = cmp.Or(cv.region, oneLine(r.Region))
		v := newView(r)
		cv.views = append(cv.views, v)
		cv.highest = max(cv.highest, r.Highest())
		s := section{usedBy: c.UsedBy[r.Subject.ARN]}
		s.before, s.known = c.Before[r.Subject.ARN]
		cv.subjects = append(cv.subjects, s)
		cv.order = append(cv.order, i)
	}
	slices.SortStableFunc(cv.order, func(a, b int) int {
		return cmp.Compare(cv.views[b].r.Highest(), cv.views[a].r.Highest())
	})
	cv.label = cmp.Or(oneLine(c.EventName), "IAM change")
	if t := cv.target(); t != "" {
		cv.label += " on " + t
	}
	cv.tag = cv.tagWord()
	cv.subject = "[" + cv.tag + "] ecsguard: " + cv.summary(maxSubject-len("["+cv.tag+"] ecsguard: "))
	cv.headline = "[" + cv.tag + "] " + cv.summary(-1)
	return cv
}

// tagWord is the highest severity when some subject has a finding other
// than the incomplete-evaluation one (counting that one too, as [Render]
// does), INCOMPLETE when no subject has one but some could not be fully
// evaluated, and OK otherwise.
func (cv *changeView) tagWord() string {
	incomplete := false
	for _, v := range cv.views {
		if v.real > 0 {
			return cv.highest.String()
		}
		incomplete = incomplete || !v.r.Complete
	}
	if incomplete {
		return "INCOMPLETE"
	}
	return "OK"
}

// target is what the change changed: the role's name, else the policy's
// name, else "".
func (cv *changeView) target() string {
	if r := oneLine(cv.c.Role); r != "" {
		return r[strings.LastIndexByte(r, '/')+1:]
	}
	p := oneLine(cv.c.Policy)
	if strings.HasPrefix(p, "arn:") {
		p = p[strings.LastIndexByte(p, '/')+1:]
	}
	return p
}

// summary says what the change was, what it affects and what enforcement
// did, in at most n bytes (no limit when n < 0):
//
//	AttachRolePolicy on web-api-task affects 2 task definitions, deregistered 2
//
// Only the names (the change's target and a single role subject) and, when
// they cannot make room, the event name are shortened: the counts are what
// a reader scanning an inbox needs.
func (cv *changeView) summary(n int) string {
	event := cmp.Or(oneLine(cv.c.EventName), "IAM change")
	target := cv.target()
	var tds, others int
	var roles []string
	for _, v := range cv.views {
		switch v.r.Subject.Type {
		case rules.SubjectTaskDefinition:
			tds++
		case rules.SubjectRole:
			if !slices.Contains(roles, v.label) {
				roles = append(roles, v.label)
			}
		default:
			others++
		}
	}
	var parts []string
	if tds > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", tds, plural(tds, "task definition")))
	}
	role := "" // the one role subject, named
	switch len(roles) {
	case 0:
	case 1:
		role = roles[0]
	default:
		parts = append(parts, fmt.Sprintf("%d roles", len(roles)))
	}
	if others > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", others, plural(others, "subject")))
	}

	var suffix strings.Builder
	counts := map[string]int{}
	var verbs []string
	incomplete := 0
	for _, v := range cv.views {
		if verb := actionVerb(v.r.Action); verb != "" {
			if counts[verb] == 0 {
				verbs = append(verbs, verb)
			}
			counts[verb]++
		}
		if !v.r.Complete {
			incomplete++
		}
	}
	for _, verb := range verbs {
		word := verb
		switch verb {
		case "would be deregistered":
			word = "would deregister"
		case "deregister":
			word = "deregister attempted"
		}
		fmt.Fprintf(&suffix, ", %s %d", word, counts[verb])
	}
	if incomplete > 0 {
		fmt.Fprintf(&suffix, ", %d incomplete", incomplete)
	}

	build := func(event, target, role string) string {
		var b strings.Builder
		b.WriteString(event)
		if target != "" {
			b.WriteString(" on " + target)
		}
		what := slices.Clone(parts)
		if role != "" {
			what = append(what, role)
		}
		b.WriteString(" affects " + strings.Join(what, " and "))
		b.WriteString(suffix.String())
		return b.String()
	}
	line := build(event, target, role)
	if n < 0 || len(line) <= n {
		return line
	}
	// The names share the room the rest leaves them; when that is under
	// minNames bytes, the event name gives up some of its own.
	const minNames, minEvent = 24, 16
	names := len(target) + len(role)
	if short := minNames - (n - (len(line) - names)); short > 0 {
		event = truncate(event, max(len(event)-short, minEvent))
	}
	avail := n - (len(build(event, target, role)) - names)
	targetMax := min(len(target), max(avail-len(role), avail/2))
	// A name cut to less than a character and an ellipsis says nothing:
	// the target is left out, the role subject counted instead.
	if target = truncate(target, targetMax); len(target) <= len(ellipsis) {
		target = ""
	}
	if role != "" {
		if role = truncate(role, avail-len(target)); len(role) <= len(ellipsis) {
			role = "1 role"
		}
	}
	return truncate(build(event, target, role), n)
}

// attributes are the message attributes subscribers filter on: those of
// [Render] over every report, and the event name.
func (cv *changeView) attributes() map[string]string {
	a := make(map[string]string, 5)
	set := func(k, val string) {
		if val = strings.TrimSpace(val); val != "" {
			a[k] = val
		}
	}
	if cv.highest > 0 {
		set("severity", cv.highest.String())
	}
	var ids []string
	for _, v := range cv.views {
		for _, f := range v.open {
			if id := oneLine(f.Rule); id != "" {
				ids = append(ids, id)
			}
		}
	}
	set("rules", ruleList(ids))
	set("account", cv.account)
	set("region", cv.region)
	set("event", oneLine(cv.c.EventName))
	return a
}
