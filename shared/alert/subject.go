package alert

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// subject returns the bracketed tag and the one-line summary: the highest severity, the subject, what
// enforcement did, and the title of the most severe finding, e.g.
//
//	[HIGH] ecsguard: web-api:42 deregistered: task role and execution role are the same role (+1 more)
//
// When it is too long, the family name and the title are shortened, never
// the severity, the revision, the action or the count, which are what a
// reader scanning an inbox needs.
func subject(v view) (tag, line string) {
	var verb, text, more string
	top, ok := v.top()
	switch {
	case ok:
		tag = v.r.Highest().String()
		verb = actionVerb(v.r.Action)
		if verb == "" && !v.r.Complete {
			verb = "partly evaluated"
		}
		text = oneLine(top.Title)
		if text == "" {
			text = oneLine(top.Rule)
		}
		if v.real > 1 {
			more = fmt.Sprintf(" (+%d more)", v.real-1)
		}
	case !v.r.Complete:
		tag, text = "INCOMPLETE", "could not be fully evaluated"
	default:
		tag, text = "OK", "no unsuppressed findings"
		if n := len(v.suppressed); n > 0 {
			more = fmt.Sprintf(" (%d suppressed)", n)
		}
	}
	prefix := "[" + tag + "] ecsguard: "
	if verb != "" {
		verb = " " + verb + ":"
	}
	// The fixed parts are at most ~60 bytes, so name and text always keep
	// some room; split it so that a long one does not crowd out the other.
	budget := maxSubject - len(prefix) - len(verb) - len(" ") - len(more)
	name := v.label
	nameMax := min(len(name), max(budget-len(text), budget/2))
	name = shortenLabel(name, nameMax)
	text = truncate(text, budget-len(name))
	return tag, prefix + name + verb + " " + text + more
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
