package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// subjectLine is the part's SNS subject: its headline severity, then
// what happened, then " (k/n)" for a part of several, in at most
// maxSubject bytes.
//
//	[HIGH] ecsguard: web-api:42 deregistered: task role and execution role are the same role (+1 more)
//	[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 2 task definitions, deregistered 2
//	[CRITICAL] ecsguard: tampering: DeleteTopic on ecsguard-findings by intruder
//
// In an organization the account leads what happened, by name when
// Organizations gave one: "[HIGH] ecsguard: team-a: web-api:42 ...".
func (ev *eventView) subjectLine(p *part) string {
	prefix := "[" + tagWord(p.headline) + "] ecsguard: "
	if n := oneLine(ev.e.AccountName); n != "" {
		prefix += truncate(n, maxAccountName) + ": "
	}
	suffix := partSuffix(p)
	return prefix + ev.summary(p, maxSubject-len(prefix)-len(suffix)) + suffix
}

// maxAccountName bounds the account name in a subject, which SNS caps
// below 100 characters: the rest is for what happened.
const maxAccountName = 24

// partSuffix numbers a part of several: " (2/3)".
func partSuffix(p *part) string {
	if p.n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%d/%d)", p.k, p.n)
}

// summary says what the part announces in at most n bytes (no limit when
// n < 0).
func (ev *eventView) summary(p *part, n int) string {
	switch {
	case ev.single:
		return singleSummary(p.subs[0], n)
	case ev.e.Kind == assess.Tampering:
		return ev.tamperingSummary(p, n)
	}
	return ev.changeSummary(p, n)
}

// singleSummary is a single registration's summary: the subject, what
// enforcement did, and the title of the finding that leads, e.g.
//
//	web-api:42 deregistered: task role and execution role are the same role (+1 more)
//
// When it is too long, the family name and the title are shortened, never
// the revision, the action or the count, which are what a reader scanning
// an inbox needs.
func singleSummary(s *subjectView, n int) string {
	var verb, text, more string
	top, ok := s.top()
	switch {
	case ok:
		verb = actionVerb(s.r.Action)
		if verb == "" && !s.r.Complete {
			verb = "partly evaluated"
		}
		text = cmp.Or(oneLine(top.Title), oneLine(top.Rule))
		if s.real > 1 {
			more = fmt.Sprintf(" (+%d more)", s.real-1)
		}
	case !s.r.Complete:
		text = "could not be fully evaluated"
	default:
		verb = actionVerb(s.r.Action)
		text = "no unsuppressed findings"
		if m := len(s.suppressed); m > 0 {
			more = fmt.Sprintf(" (%d suppressed)", m)
		}
	}
	if verb != "" {
		verb = " " + verb + ":"
	}
	if n < 0 {
		return s.label + verb + " " + text + more
	}
	// The fixed parts are at most ~40 bytes, so name and text always keep
	// some room; split it so that a long one does not crowd out the other.
	budget := n - len(verb) - len(" ") - len(more)
	name := s.label
	nameMax := min(len(name), max(budget-len(text), budget/2))
	name = shortenLabel(name, nameMax)
	text = truncate(text, budget-len(name))
	return name + verb + " " + text + more
}

// tamperingSummary says who changed which of ecsguard's resources:
//
//	tampering: DeleteTopic on ecsguard-findings by intruder
//
// The names are shortened when they must be, the event name last.
func (ev *eventView) tamperingSummary(p *part, n int) string {
	event := ev.eventName()
	res := oneLine(ev.e.Resource)
	if res == "" && len(p.subs) > 0 {
		res = p.subs[0].r.Subject.ARN
	}
	res = resourceName(oneLine(res))
	actor := actorName(ev.e.Actor)
	build := func(event, res, actor string) string {
		line := "tampering: " + event
		if res != "" {
			line += " on " + res
		}
		if actor != "" {
			line += " by " + actor
		}
		return line
	}
	line := build(event, res, actor)
	if n < 0 || len(line) <= n {
		return line
	}
	const minEvent = 16
	if over := len(line) - n; len(res)+len(actor) < over+2*minEvent {
		event = truncate(event, max(len(event)-over, minEvent))
	}
	avail := n - (len(build(event, res, actor)) - len(res) - len(actor))
	resMax := min(len(res), max(avail-len(actor), avail/2))
	res = truncate(res, resMax)
	actor = truncate(actor, avail-len(res))
	return truncate(build(event, res, actor), n)
}

// changeSummary says what the change was, what the part's subjects are and
// what enforcement did, in at most n bytes (no limit when n < 0):
//
//	AttachRolePolicy on web-api-task affects 2 task definitions, deregistered 2
//
// Only the names (the change's target and a single role subject) and, when
// they cannot make room, the event name are shortened: the counts are what
// a reader scanning an inbox needs.
func (ev *eventView) changeSummary(p *part, n int) string {
	event := ev.eventName()
	target := ev.target()
	var tds, others int
	var roles []string
	for _, s := range p.subs {
		switch s.r.Subject.Type {
		case rules.SubjectTaskDefinition:
			tds++
		case rules.SubjectRole:
			if !slices.Contains(roles, s.label) {
				roles = append(roles, s.label)
			}
		default:
			others++
		}
	}
	var what []string
	if tds > 0 {
		what = append(what, fmt.Sprintf("%d %s", tds, plural(tds, "task definition")))
	}
	role := "" // the one role subject, named
	switch len(roles) {
	case 0:
	case 1:
		role = roles[0]
	default:
		what = append(what, fmt.Sprintf("%d roles", len(roles)))
	}
	if others > 0 {
		what = append(what, fmt.Sprintf("%d %s", others, plural(others, "subject")))
	}

	var suffix strings.Builder
	counts := map[string]int{}
	var verbs []string
	incomplete := 0
	for _, s := range p.subs {
		if verb := actionVerb(s.r.Action); verb != "" {
			if counts[verb] == 0 {
				verbs = append(verbs, verb)
			}
			counts[verb]++
		}
		if !s.r.Complete {
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
	if p.headline > 0 && !p.brought {
		suffix.WriteString(", nothing new")
	}

	build := func(event, target, role string) string {
		var b strings.Builder
		b.WriteString(event)
		if target != "" {
			b.WriteString(" on " + target)
		}
		w := slices.Clone(what)
		if role != "" {
			w = append(w, role)
		}
		b.WriteString(" affects " + strings.Join(w, " and "))
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

// shortenLabel truncates a label to n bytes, keeping a task definition's
// ":revision" so that the reader still knows which revision it was.
func shortenLabel(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && len(s)-i <= 12 && n-(len(s)-i) >= len(ellipsis)+1 {
		return truncate(s[:i], n-(len(s)-i)) + s[i:]
	}
	return truncate(s, n)
}

const ellipsis = "…"

// truncate shortens s to at most n bytes, cutting between runes and ending
// with an ellipsis when it cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	cut := n - len(ellipsis)
	mark := ellipsis
	if cut <= 0 {
		cut, mark = n, ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + mark
}

// oneLine makes s safe for a subject line: valid UTF-8, no line breaks or
// control characters (SNS rejects both), runs of white space as one space.
func oneLine(s string) string {
	if isOneLine(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// isOneLine reports whether s is printable ASCII already in oneLine's form,
// as nearly every string of a report is.
func isOneLine(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return false
			}
		case c < 0x21 || c > 0x7e:
			return false
		}
	}
	return true
}
