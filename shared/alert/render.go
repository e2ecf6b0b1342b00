package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/assess"
)

// Message is one SNS publish.
type Message struct {
	// Subject is under 100 characters (and bytes), on one line: SNS rejects
	// longer subjects, line breaks and control characters.
	Subject string
	// Body is for MessageStructure=json: a JSON object whose "default",
	// "email" and "https" keys hold the machine-readable document, the
	// email text and the AWS Chatbot custom notification, each as a
	// string. It is under 255 KiB, so that with the subject and the
	// attributes the message stays within SNS's 256 KiB.
	Body string
	// Attributes are SNS message attributes for filter policies:
	// severity, rules, account and region; event, for an alert on a
	// change, tampering or several subjects; part ("2/3"), for an alert in
	// several messages. Each has the data type [AttributeType] gives. Keys
	// whose value would be empty are left out, because SNS rejects empty
	// attribute values.
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

// ErrTooLarge is returned when a message cannot be made to fit SNS's
// limit: only when a single field of the event or of a subject (an ARN,
// an actor, an action's detail) is itself near the limit, which AWS never
// produces.
var ErrTooLarge = errors.New("message exceeds the SNS size limit")

// Size limits.
const (
	// maxSubject is in bytes, so the subject is under 100 characters however
	// SNS counts them.
	maxSubject = 99
	// maxBody keeps the body under SNS's 256 KiB message limit with 1 KiB
	// to spare for the subject and attributes, which count towards it.
	maxBody = 256<<10 - 1<<10
	// splitFindings is how many findings (errors, uses) per subject the
	// email lists once an alert is too large for one message: below it,
	// the alert is split rather than shrunk further.
	splitFindings = 20
	// chatReserve is the room packing keeps for the chat notification of
	// a part, which lists a few of its subjects: it is measured only once
	// the part is known.
	chatReserve = 16 << 10
	// summaryBudget is the room, in escaped bytes, that a report too
	// large for a message keeps for its first findings.
	summaryBudget = 128 << 10
)

// bodyFrame is the size of a body with its three strings left out:
// {"default":,"email":,"https":}. The body is the MessageStructure=json
// document: every value must be a string and "default" must be present;
// protocols without a key of their own (sqs, lambda, email-json, ...)
// receive "default".
const bodyFrame = len(`{"default":,"email":,"https":}`)

// Render turns the assessment of one event into the SNS messages that
// announce it: usually one, several when one message would exceed SNS's
// limits. It announces the verdicts that need an alert
// ([assess.Verdict.NeedsAlert]), and returns nil, nil when none does.
//
// The default body of a registration with one alerting verdict is the
// subject's report (SPEC §4's finding report); for anything else it is a
// [ChangeDocument]. The texts lead with the assessment's headline (the
// severity of the findings the event brought; when it brought none, the
// highest open one, and they say nothing new was brought) and mark new
// the findings the event brought on subjects whose state before is known.
// The assessment's notes are in every message.
//
// Every message fits, however many subjects there are. A message that
// would be too large is shrunk the same way every time: the policy
// statements leave the reports, then the email lists fewer findings per
// subject. When that is not enough the alert is split into parts, each a
// complete message numbered "(k/n)" in its subject and its document,
// packed with the subjects in verdict order: every alerting subject is in
// exactly one part. A subject whose report alone is too large even without
// statements gets a part of its own, its report cut to its first findings
// and counted in the document's summaries. The same assessment always
// renders the same messages, byte for byte.
//
// Render returns an error, [ErrTooLarge], only when a message cannot be
// made to fit at all, which needs a single field near 256 KiB.
func Render(a assess.Assessment) ([]Message, error) {
	ev := newEventView(a)
	switch len(ev.subs) {
	case 0:
		return nil, nil
	case 1:
		m, err := ev.fitAlone(newPart(1, 1, ev.subs), true)
		if err != nil {
			return nil, err
		}
		return []Message{m}, nil
	}
	if m, ok, err := ev.fitWhole(); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return []Message{m}, nil
	}
	return ev.split()
}

// fitWhole renders every subject in one message, shrunk down to
// splitFindings findings per subject, if that fits.
func (ev *eventView) fitWhole() (Message, bool, error) {
	p := newPart(1, 1, ev.subs)
	slim := 0
	for _, s := range ev.subs {
		slim += s.slimLen()
	}
	if bodyFrame+slim >= maxBody {
		return Message{}, false, nil
	}
	p.full, p.limit = true, ev.listAll(ev.subs)
	if m, ok, err := ev.try(p); err != nil || ok {
		return m, ok, err
	}
	p.full = false
	for _, l := range shrinkLimits(ev.listAll(ev.subs), splitFindings) {
		p.limit = l
		if m, ok, err := ev.try(p); err != nil || ok {
			return m, ok, err
		}
	}
	return Message{}, false, nil
}

// fitAlone renders a part of one subject: with its statements when
// statements says so (the subject is the whole alert), then without, with
// fewer and fewer findings listed, then with its report summarised.
func (ev *eventView) fitAlone(p *part, statements bool) (Message, error) {
	s := p.subs[0]
	all := ev.listAll(p.subs)
	if statements {
		if b, ok := s.fullJSON(); ok && bodyFrame+escLen(string(b)) < maxBody {
			p.full, p.limit = true, all
			if m, ok, err := ev.try(p); err != nil || ok {
				return m, err
			}
		}
	}
	p.full = false
	if bodyFrame+s.slimLen() < maxBody {
		for _, l := range shrinkLimits(all, 0) {
			p.limit = l
			if m, ok, err := ev.try(p); err != nil || ok {
				return m, err
			}
		}
	}
	for _, c := range []struct{ budget, limit int }{{summaryBudget, 10}, {summaryBudget, 0}, {summaryBudget / 8, 0}, {0, 0}} {
		if p.sum == nil || p.sum.budget != c.budget {
			p.sum = summarize(s, c.budget)
		}
		p.limit = c.limit
		m, err := ev.render(p)
		if err != nil {
			return Message{}, err
		}
		if len(m.Body) < maxBody {
			return m, nil
		}
	}
	return Message{}, fmt.Errorf("%w: %s: even summarised", ErrTooLarge, s.label)
}

// split packs the subjects into parts and renders each. A part whose
// estimate was short is halved, and the parts renumbered: that is rare,
// and the outcome is still determined by the assessment alone.
func (ev *eventView) split() ([]Message, error) {
	groups := ev.pack()
	for {
		msgs, redo, err := ev.renderGroups(groups)
		if err != nil || redo < 0 {
			return msgs, err
		}
		g := groups[redo]
		groups = slices.Concat(groups[:redo], [][]*subjectView{g[:len(g)/2], g[len(g)/2:]}, groups[redo+1:])
	}
}

// renderGroups renders one part per group; redo is the index of a group
// of several subjects that did not fit, -1 when all did.
func (ev *eventView) renderGroups(groups [][]*subjectView) (msgs []Message, redo int, err error) {
	msgs = make([]Message, 0, len(groups))
	for k, g := range groups {
		p := newPart(k+1, len(groups), g)
		var m Message
		if len(g) == 1 {
			if m, err = ev.fitAlone(p, false); err != nil {
				return nil, -1, err
			}
		} else {
			p.limit = splitFindings
			var ok bool
			if m, ok, err = ev.try(p); err != nil {
				return nil, -1, err
			}
			if !ok {
				return nil, k, nil
			}
		}
		msgs = append(msgs, m)
	}
	return msgs, -1, nil
}

// pack groups the subjects, in verdict order, into as few parts as their
// measured sizes allow: a part is closed when the next subject would not
// fit, and a subject too large for a part with others gets one of its own.
func (ev *eventView) pack() [][]*subjectView {
	whole := newPart(len(ev.subs), len(ev.subs), ev.subs)
	whole.limit = splitFindings
	budget := maxBody - ev.frameLen(whole) - chatReserve
	var groups [][]*subjectView
	var cur []*subjectView
	size := 0
	for _, s := range ev.subs {
		c := ev.cost(s, splitFindings)
		switch {
		case c > budget:
			if cur != nil {
				groups, cur, size = append(groups, cur), nil, 0
			}
			groups = append(groups, []*subjectView{s})
			continue
		case size+c > budget && cur != nil:
			groups, cur, size = append(groups, cur), nil, 0
		}
		cur, size = append(cur, s), size+c
	}
	if cur != nil {
		groups = append(groups, cur)
	}
	return groups
}

// try renders the part when its estimated size fits, and keeps the
// message when its real size does.
func (ev *eventView) try(p *part) (Message, bool, error) {
	if ev.estimate(p) >= maxBody {
		return Message{}, false, nil
	}
	m, err := ev.render(p)
	if err != nil || len(m.Body) >= maxBody {
		return Message{}, false, err
	}
	return m, true, nil
}

// estimate is the body size of the part, from the sizes measured per
// subject and the part's frame.
func (ev *eventView) estimate(p *part) int {
	n := ev.frameLen(p)
	for _, s := range p.subs {
		n += ev.cost(s, p.limit)
		if p.full {
			if b, ok := s.fullJSON(); ok {
				n += escLen(string(b)) - s.slimLen()
			}
		}
	}
	return n
}

// frameLen is the size of the part's body without its subjects: the
// document's event, notes and keys, the email's header and footer, and the
// chat notification.
func (ev *eventView) frameLen(p *part) int {
	n := bodyFrame + escLen(ev.emailHeader(p)) + escLen(ev.footer(p)) - 2
	if chat, err := marshal(ev.notification(p, ev.subjectLine(p))); err == nil {
		n += escLen(string(chat))
	}
	if ev.single {
		return n + 2
	}
	frame, _ := marshal(document{Change: ev.changeEvent(), Notes: ev.notes, SchemaVersion: ChangeSchemaVersion, Part: p.k, Parts: p.n})
	return n + escLen(string(frame))
}

// cost is what a subject adds to a part's body, without statements and
// with at most limit findings listed in the email.
func (ev *eventView) cost(s *subjectView, limit int) int {
	n := s.slimLen() - 1 // its report, and a comma
	if !ev.single {
		n += s.docEntries()
	}
	return n + s.lineLen() + s.sectionLen(limit)
}

// listAll is a limit that lists every finding, error and use.
func (ev *eventView) listAll(subs []*subjectView) int {
	n := 0
	for _, s := range subs {
		n = max(n, s.listMax())
	}
	return n
}

// shrinkLimits are the numbers of findings (and errors, uses) the email
// lists per subject, from all n down to floor, tried in order until the
// message fits.
func shrinkLimits(n, floor int) []int {
	out := []int{n}
	for _, l := range []int{100, 50, 20, 10, 5, 1, 0} {
		if l < n && l >= floor {
			out = append(out, l)
		}
	}
	return out
}

// render writes the part's message.
func (ev *eventView) render(p *part) (Message, error) {
	subject := ev.subjectLine(p)
	doc, err := ev.documentJSON(p)
	if err != nil {
		return Message{}, fmt.Errorf("%s: document: %w", subject, err)
	}
	chat, err := marshal(ev.notification(p, subject))
	if err != nil {
		return Message{}, fmt.Errorf("%s: chat notification: %w", subject, err)
	}
	return Message{Subject: subject, Body: encodeBody(string(doc), ev.email(p), string(chat)), Attributes: ev.attributes(p)}, nil
}

// encodeBody writes the MessageStructure=json document, as marshal would
// write a [body], in one allocation.
func encodeBody(def, email, https string) string {
	var b strings.Builder
	b.Grow(bodyFrame + escLen(def) + escLen(email) + escLen(https))
	b.WriteString(`{"default":`)
	writeString(&b, def)
	b.WriteString(`,"email":`)
	writeString(&b, email)
	b.WriteString(`,"https":`)
	writeString(&b, https)
	b.WriteString(`}`)
	return b.String()
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

// escLen is the size of s as a JSON string, quotes included, as
// [writeString] and [marshal] write it: what s costs inside the body.
func escLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n += len(asciiEscape(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if esc := runeEscape(r, size); esc != "" {
			n += len(esc)
		} else {
			n += size
		}
		i += size
	}
	return n
}

// writeString writes s as a JSON string, as encoding/json does without
// HTML escaping.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if esc := asciiEscape(c); len(esc) > 1 {
				b.WriteString(s[start:i])
				b.WriteString(esc)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if esc := runeEscape(r, size); esc != "" {
			b.WriteString(s[start:i])
			b.WriteString(esc)
			start = i + size
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// asciiEscapes are the escapes of the ASCII bytes that need one.
var asciiEscapes = func() (t [utf8.RuneSelf]string) {
	for c := range t {
		switch c {
		case '"', '\\':
			t[c] = `\` + string(rune(c))
		case '\n':
			t[c] = `\n`
		case '\r':
			t[c] = `\r`
		case '\t':
			t[c] = `\t`
		case '\b':
			t[c] = `\b`
		case '\f':
			t[c] = `\f`
		default:
			if c < 0x20 {
				t[c] = fmt.Sprintf(`\u%04x`, c)
			} else {
				t[c] = string(rune(c))
			}
		}
	}
	return t
}()

// asciiEscape is an ASCII byte as a JSON string holds it: itself, or an
// escape.
func asciiEscape(c byte) string { return asciiEscapes[c] }

// runeEscape is the escape of a non-ASCII rune decoded from size bytes,
// "" when it needs none: an invalid byte is written as the replacement
// character, and the line and paragraph separators are escaped because
// JavaScript reads them as line breaks.
func runeEscape(r rune, size int) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return `\ufffd`
	case r == '\u2028':
		return `\u2028`
	case r == '\u2029':
		return `\u2029`
	}
	return ""
}
