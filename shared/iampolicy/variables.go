package iampolicy

import "strings"

// Policy variables, as "IAM policy elements: Variables and tags" describes
// them (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
//
//   - They exist only in documents with "Version": "2012-10-17"; without it
//     "variables like ${aws:username} are treated as literal strings".
//   - ${*}, ${?} and ${$} stand for a literal '*', '?' and '$'.
//   - ${key, 'default'} takes the default when the key has no value.
//   - A variable whose key has no value in the request "will not match any
//     resource", and in a Condition value it matches nothing (negated
//     operators match against it).
//
// A variable whose value is unknown here (a key the [Context] does not
// know, or one present with a value only the request has) matches like a
// wildcard, and only conditionally.

// policyVersion is the language version that has policy variables.
const policyVersion = "2012-10-17"

// varPart is one piece of a string with policy variables: literal text, or
// a variable with its key (lower case) and optional default.
type varPart struct {
	text       string // literal text, or the variable's key
	variable   bool
	hasDefault bool
	def        string
}

// splitVariables cuts s into literal text and variables. The three escapes
// become literal text holding the byte that stands for the character.
func splitVariables(s string) []varPart {
	var out []varPart
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			out = append(out, varPart{text: s[:i]})
		}
		inner := s[i+2 : i+j]
		switch inner {
		case "*":
			out = append(out, varPart{text: string(rune(litStar))})
		case "?":
			out = append(out, varPart{text: string(rune(litQuestion))})
		case "$":
			out = append(out, varPart{text: string(rune(litDollar))})
		default:
			out = append(out, parseVariable(inner))
		}
		s = s[i+j+1:]
	}
	if s != "" {
		out = append(out, varPart{text: s})
	}
	return out
}

// parseVariable reads "key" or "key, 'default'".
func parseVariable(inner string) varPart {
	p := varPart{variable: true}
	key, def, ok := strings.Cut(inner, ",")
	p.text = strings.ToLower(strings.TrimSpace(key))
	if ok {
		def = strings.TrimSpace(def)
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			p.hasDefault, p.def = true, def[1:len(def)-1]
		}
	}
	return p
}

// varValue is what a variable resolves to in a context.
type varValue uint8

const (
	varKnown   varValue = iota // a single known value (or the default)
	varNone                    // no value and no default: matches nothing
	varUnknown                 // a value only the request has
)

// resolve answers a variable's value in ctx. Only single-valued keys can be
// variables; a key with several values resolves like one with none.
func (p varPart) resolve(ctx *Context) (string, varValue) {
	switch k := ctx.lookup(p.text); k.state {
	case keyPresent:
		if len(k.values) == 1 {
			return k.values[0], varKnown
		}
	case keyPresentUnknown, keyUnknown:
		return "", varUnknown
	}
	if p.hasDefault {
		return p.def, varKnown
	}
	return "", varNone
}

// escapeLiteral makes a substituted value match only itself in a glob.
func escapeLiteral(v string) string {
	if !strings.ContainsAny(v, "*?$") {
		return v
	}
	r := strings.NewReplacer("*", string(rune(litStar)), "?", string(rune(litQuestion)), "$", string(rune(litDollar)))
	return r.Replace(v)
}

// unescapeLiteral turns the escape bytes back into the characters, for
// comparisons that are not globs (StringEquals).
func unescapeLiteral(v string) string {
	if !strings.ContainsAny(v, "\x00\x01\x02") {
		return v
	}
	r := strings.NewReplacer(string(rune(litStar)), "*", string(rune(litQuestion)), "?", string(rune(litDollar)), "$")
	return r.Replace(v)
}
