package iampolicy

import (
	"strconv"
	"strings"
)

// Conditions are decided for the request context a [Context] describes, in
// three values: true, false, or unknown (the statement then applies only
// conditionally). The rules for keys that are absent come from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// ("If the key that you specify in a policy condition is not present in the
// request context, the values do not match and the condition is false. If
// the policy condition requires that the key is not matched, such as
// StringNotLike or ArnNotLike, and the right key is not present, the
// condition is true"; ...IfExists is true on an absent key; Null tests
// presence) and from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
// (on an absent key ForAllValues is true and ForAnyValue false).

// verdict is a three-valued truth, ordered so that min is "and".
type verdict uint8

const (
	vFalse verdict = iota
	vUnknown
	vTrue
)

type setOp uint8

const (
	setNone setOp = iota
	setForAll
	setForAny
)

// condValue is one value of a condition, its policy variables resolved.
type condValue struct {
	text  string   // for equality
	glob  string   // for the Like operators: escapes kept as literal bytes
	state varValue // varNone: matches nothing; varUnknown: undecidable
}

// condEntry is one operator and key of a Condition block.
type condEntry struct {
	op       string // base operator, lower case: "stringequals", "arnlike", "null"
	negated  bool   // StringNotEquals, ArnNotLike, NotIpAddress, ...
	ifExists bool
	set      setOp
	key      string // lower case
	service  string // keyService(key): "" for aws: and cross-service keys
	values   []condValue
	fixed    verdict // decided from the Context alone (service == "")
}

// compiledCondition is a statement's Condition decided as far as the
// Context allows: base is the conjunction of the entries that need no
// request, deferred says whether some entry needs one.
type compiledCondition struct {
	entries  []condEntry
	base     verdict
	deferred bool
	ctx      *Context
}

// Operators, by their lower-case name without Not: the negated name maps to
// the same base with negated set.
var condOperators = map[string]struct {
	base    string
	negated bool
}{
	"stringequals":              {"stringequals", false},
	"stringnotequals":           {"stringequals", true},
	"stringequalsignorecase":    {"stringequalsignorecase", false},
	"stringnotequalsignorecase": {"stringequalsignorecase", true},
	"stringlike":                {"stringlike", false},
	"stringnotlike":             {"stringlike", true},
	"numericequals":             {"numericequals", false},
	"numericnotequals":          {"numericequals", true},
	"numericlessthan":           {"numericlessthan", false},
	"numericlessthanequals":     {"numericlessthanequals", false},
	"numericgreaterthan":        {"numericgreaterthan", false},
	"numericgreaterthanequals":  {"numericgreaterthanequals", false},
	"dateequals":                {"dateequals", false},
	"datenotequals":             {"dateequals", true},
	"datelessthan":              {"datelessthan", false},
	"datelessthanequals":        {"datelessthanequals", false},
	"dategreaterthan":           {"dategreaterthan", false},
	"dategreaterthanequals":     {"dategreaterthanequals", false},
	"bool":                      {"bool", false},
	"binaryequals":              {"binaryequals", false},
	"ipaddress":                 {"ipaddress", false},
	"notipaddress":              {"ipaddress", true},
	"arnequals":                 {"arnlike", false},
	"arnlike":                   {"arnlike", false},
	"arnnotequals":              {"arnlike", true},
	"arnnotlike":                {"arnlike", true},
	"null":                      {"null", false},
}

func compileCondition(c Condition, versioned bool, ctx *Context) *compiledCondition {
	if len(c) == 0 {
		return nil
	}
	cc := &compiledCondition{base: vTrue, ctx: ctx}
	for op, keys := range c {
		for key, vals := range keys {
			e := condEntry{key: strings.ToLower(key)}
			e.service = keyService(e.key)
			name := strings.ToLower(op)
			if rest, ok := strings.CutPrefix(name, "forallvalues:"); ok {
				e.set, name = setForAll, rest
			} else if rest, ok := strings.CutPrefix(name, "foranyvalue:"); ok {
				e.set, name = setForAny, rest
			}
			if rest, ok := strings.CutSuffix(name, "ifexists"); ok && rest != "null" {
				e.ifExists, name = true, rest
			}
			if o, ok := condOperators[name]; ok {
				e.op, e.negated = o.base, o.negated
			} // else e.op == "": an operator IAM does not know, never decided
			for _, v := range vals {
				e.values = append(e.values, compileCondValue(v, versioned, ctx))
			}
			if e.service == "" {
				e.fixed = e.eval(ctx.lookup(e.key))
				cc.base = min(cc.base, e.fixed)
			} else {
				cc.deferred = true
			}
			cc.entries = append(cc.entries, e)
		}
	}
	return cc
}

func compileCondValue(v string, versioned bool, ctx *Context) condValue {
	if !versioned || !strings.Contains(v, "${") {
		return condValue{text: v, glob: v}
	}
	var text, glob strings.Builder
	out := condValue{}
	for _, p := range splitVariables(v) {
		if !p.variable {
			glob.WriteString(p.text)
			text.WriteString(unescapeLiteral(p.text))
			continue
		}
		s, state := p.resolve(ctx)
		if state != varKnown {
			out.state = max(out.state, state)
			continue
		}
		glob.WriteString(escapeLiteral(s))
		text.WriteString(s)
	}
	out.text, out.glob = text.String(), glob.String()
	return out
}

// decide is the condition's verdict for a request of an action of service
// (its prefix, in any case; "" when the action is a pattern that may be of any
// service) with the extra request keys (lower case), if any.
func (cc *compiledCondition) decide(service string, extra map[string][]string) verdict {
	if cc == nil {
		return vTrue
	}
	if !cc.deferred && extra == nil {
		return cc.base
	}
	v := vTrue
	for i := range cc.entries {
		e := &cc.entries[i]
		var ev verdict
		switch vals, ok := extra[e.key]; {
		case ok:
			ev = e.eval(keyInfo{state: keyPresent, values: vals})
		case e.service == "":
			ev = e.fixed
		case service != "" && !strings.EqualFold(e.service, service):
			// A service's own keys are not in requests to other services
			// ("service specific condition context keys in requests to
			// resources that do not support that condition key", policy
			// variables page).
			ev = e.eval(keyInfo{state: keyAbsent})
		default:
			ev = e.eval(cc.ctx.lookup(e.key))
		}
		if v = min(v, ev); v == vFalse {
			return vFalse
		}
	}
	return v
}

// eval decides one entry for what is known of its key.
func (e *condEntry) eval(k keyInfo) verdict {
	if e.op == "" {
		return vUnknown
	}
	if e.op == "null" {
		var present verdict
		switch k.state {
		case keyAbsent:
			present = vFalse
		case keyPresent, keyPresentUnknown:
			present = vTrue
		default:
			return vUnknown
		}
		for _, v := range e.values {
			// "true": the key is absent; "false": it is present.
			if strings.EqualFold(v.text, "true") == (present == vFalse) {
				return vTrue
			}
		}
		return vFalse
	}
	switch k.state {
	case keyAbsent:
		switch {
		case e.ifExists || e.set == setForAll:
			return vTrue
		case e.set == setForAny:
			return vFalse
		case e.negated:
			return vTrue
		}
		return vFalse
	case keyPresent:
		return e.compareSet(k.values)
	}
	return vUnknown
}

// compareSet applies the set operator to the request's values.
func (e *condEntry) compareSet(values []string) verdict {
	switch e.set {
	case setForAll:
		v := vTrue
		for _, x := range values {
			v = min(v, e.compareOne(x))
		}
		return v
	default:
		// ForAnyValue, and a single-valued key compared as written.
		v := vFalse
		for _, x := range values {
			v = max(v, e.compareOne(x))
		}
		return v
	}
}

// compareOne answers whether one request value satisfies the entry: it
// matches one of the policy values, or, negated, none of them. A value that
// has no value (a variable without one) matches nothing.
func (e *condEntry) compareOne(x string) verdict {
	any := vFalse
	for _, pv := range e.values {
		switch pv.state {
		case varNone:
			continue
		case varUnknown:
			any = max(any, vUnknown)
			continue
		}
		any = max(any, compare(e.op, x, pv))
		if any == vTrue {
			break
		}
	}
	if e.negated {
		return vTrue - any // true <-> false, unknown stays
	}
	return any
}

// compare applies a base operator to a request value and a policy value.
// Operators no known request value of ecsguard's contexts reaches (dates,
// IP addresses, binary) are not decided.
func compare(op, x string, pv condValue) verdict {
	truth := func(b bool) verdict {
		if b {
			return vTrue
		}
		return vFalse
	}
	switch op {
	case "stringequals":
		return truth(x == pv.text)
	case "stringequalsignorecase":
		return truth(strings.EqualFold(x, pv.text))
	case "stringlike":
		return truth(matchGlob(pv.glob, x, false))
	case "arnlike":
		return truth(matchARN(pv.glob, x))
	case "bool":
		return truth(strings.EqualFold(x, pv.text))
	case "numericequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan", "numericgreaterthanequals":
		a, err1 := strconv.ParseFloat(x, 64)
		b, err2 := strconv.ParseFloat(pv.text, 64)
		if err1 != nil || err2 != nil {
			return vFalse
		}
		switch op {
		case "numericequals":
			return truth(a == b)
		case "numericlessthan":
			return truth(a < b)
		case "numericlessthanequals":
			return truth(a <= b)
		case "numericgreaterthan":
			return truth(a > b)
		}
		return truth(a >= b)
	}
	return vUnknown
}

// matchARN is ArnLike: "Each of the six colon-delimited components of the
// ARN is checked separately and each can include multi-character match
// wildcards (*) or single-character match wildcards (?)" (condition
// operators page, ARN condition operators).
func matchARN(pattern, arn string) bool {
	p := strings.SplitN(pattern, ":", 6)
	a := strings.SplitN(arn, ":", 6)
	if len(p) != len(a) {
		return false
	}
	for i := range p {
		if !matchGlob(p[i], a[i], false) {
			return false
		}
	}
	return true
}
