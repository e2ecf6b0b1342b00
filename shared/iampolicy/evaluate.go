package iampolicy

import (
	"encoding/json"
	"strings"
)

// Decision is the answer for one action on one resource.
type Decision uint8

// Decisions are ordered: a boundary can only lower a decision.
const (
	NotAllowed  Decision = iota // no applicable Allow, or an unconditional explicit Deny
	Conditional                 // allowed only if a statement's Condition holds
	Allowed                     // allowed without conditions
)

func (d Decision) String() string {
	switch d {
	case NotAllowed:
		return "NotAllowed"
	case Conditional:
		return "Conditional"
	case Allowed:
		return "Allowed"
	}
	return "Decision(?)"
}

// MarshalText writes the decision's name.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Policy is a named document of a principal: Name is what evidence shows,
// usually the policy ARN or "inline:<name>".
type Policy struct {
	Name     string
	Document *Document
}

// Evidence is a statement that decided an answer.
type Evidence struct {
	Policy      string          `json:"policy"`
	Boundary    bool            `json:"boundary,omitempty"`
	Sid         string          `json:"sid,omitempty"`
	Effect      Effect          `json:"effect"`
	Conditional bool            `json:"conditional,omitempty"`
	Statement   json.RawMessage `json:"statement"`
}

// Result is a [Decision] with the statements behind it.
type Result struct {
	Decision Decision
	Evidence []Evidence
}

// Set is the compiled identity policies and optional permissions boundary of
// one principal. It is immutable and safe for concurrent use.
type Set struct {
	identity    []statement
	boundary    []statement
	hasBoundary bool
	// The unconditional Denies of each, the only ones that remove a grant:
	// listing grants consults them per action, so they are kept apart.
	identityDenies []statement
	boundaryDenies []statement
}

type statement struct {
	policy      string
	boundary    bool
	src         *Statement
	deny        bool
	notAction   bool
	actions     []actionPattern
	notResource bool
	resources   []resourcePattern // nil with no Resource element: every resource
	conditional bool
	// passRoleOnly: the Condition only tests iam:PassedToService. That limits
	// which service may receive the role, not who may act, so for
	// iam:PassRole the grant is treated as unconditional.
	passRoleOnly bool
	// ev is the statement's evidence, unconditional and conditional, made
	// at compile time so that a wildcard's thousands of grants share it.
	ev [2]Evidence
}

// NewSet compiles the identity policies of a principal and its permissions
// boundary (nil when it has none). Documents are only read.
func NewSet(identity []Policy, boundary *Policy) *Set {
	s := &Set{}
	for _, p := range identity {
		s.identity = appendCompiled(s.identity, p, false)
	}
	if boundary != nil {
		s.hasBoundary = true
		s.boundary = appendCompiled(s.boundary, *boundary, true)
	}
	s.identityDenies = unconditionalDenies(s.identity)
	s.boundaryDenies = unconditionalDenies(s.boundary)
	return s
}

func unconditionalDenies(stmts []statement) []statement {
	var out []statement
	for _, st := range stmts {
		if st.deny && !st.conditional {
			out = append(out, st)
		}
	}
	return out
}

func appendCompiled(out []statement, p Policy, boundary bool) []statement {
	if p.Document == nil {
		return out
	}
	for i := range p.Document.Statements {
		st := &p.Document.Statements[i]
		c := statement{
			policy:       p.Name,
			boundary:     boundary,
			src:          st,
			deny:         st.Effect == Deny,
			notAction:    st.NotAction != nil,
			notResource:  st.NotResource != nil,
			conditional:  len(st.Condition) > 0,
			passRoleOnly: st.Condition.onlyKey("iam:PassedToService"),
		}
		acts := st.Action
		if c.notAction {
			acts = st.NotAction
		}
		for _, a := range acts {
			c.actions = append(c.actions, compileAction(a))
		}
		res := st.Resource
		if c.notResource {
			res = st.NotResource
		}
		if res != nil {
			c.resources = make([]resourcePattern, 0, len(res))
			for _, r := range res {
				c.resources = append(c.resources, compileResource(r))
			}
		}
		c.ev = [2]Evidence{c.evidence(false), c.evidence(true)}
		out = append(out, c)
	}
	return out
}

// matchAction reports whether the statement applies to the action.
func (s *statement) matchAction(action string) bool {
	hit := false
	for _, p := range s.actions {
		if p.match(action) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

// matchResource answers NotAllowed (no match), Conditional (a match that
// depends on a policy variable) or Allowed (a match).
func (s *statement) matchResource(resource string) Decision {
	if s.resources == nil && !s.notResource {
		return Allowed
	}
	best := NotAllowed
	for _, p := range s.resources {
		if !p.match(resource) {
			continue
		}
		if !p.variable {
			best = Allowed
			break
		}
		best = Conditional
	}
	if !s.notResource {
		return best
	}
	switch best {
	case Allowed:
		return NotAllowed
	case Conditional:
		return Conditional
	}
	return Allowed
}

// applies answers how the statement applies to the request: NotAllowed when
// it does not, Conditional when it does only under a condition, Allowed when
// it does outright.
func (s *statement) applies(action, resource string) Decision {
	if !s.matchAction(action) {
		return NotAllowed
	}
	m := s.matchResource(resource)
	if m == NotAllowed {
		return NotAllowed
	}
	if s.conditional && !(s.passRoleOnly && !s.deny && strings.EqualFold(action, "iam:PassRole")) {
		return Conditional
	}
	return m
}

// Decide answers whether action is allowed on resource, without evidence and
// without allocating. An explicit Deny wins only when it is unconditional: a
// Deny whose Condition cannot be decided is not counted as a deny.
func (s *Set) Decide(action, resource string) Decision {
	return s.decide(action, resource, nil)
}

// Evaluate answers like [Set.Decide] and adds the deciding statements: the
// Deny that refused, or the Allows that granted (and, when the boundary
// lowered the answer, the boundary's own deciding statements).
func (s *Set) Evaluate(action, resource string) Result {
	var ev []Evidence
	d := s.decide(action, resource, &ev)
	return Result{Decision: d, Evidence: ev}
}

// decide is Decide and Evaluate: ev, when not nil, receives the evidence.
func (s *Set) decide(action, resource string, ev *[]Evidence) Decision {
	d := evaluate(s.identity, action, resource, ev)
	if !s.hasBoundary || d == NotAllowed {
		return d
	}
	var bev *[]Evidence
	if ev != nil {
		bev = new([]Evidence)
	}
	bd := evaluate(s.boundary, action, resource, bev)
	if bd < d {
		d = bd
		if ev != nil {
			*ev = *bev
		}
	}
	return d
}

// evaluate decides over one list of statements; ev, when set, receives the
// deciding statements.
func evaluate(stmts []statement, action, resource string, ev *[]Evidence) Decision {
	allow := NotAllowed
	for i := range stmts {
		st := &stmts[i]
		a := st.applies(action, resource)
		switch {
		case a == NotAllowed:
		case st.deny:
			if a == Allowed {
				if ev != nil {
					*ev = append((*ev)[:0], st.ev[0])
				}
				return NotAllowed
			}
		default:
			if ev != nil {
				if a > allow {
					*ev = (*ev)[:0]
				}
				if a >= allow {
					*ev = append(*ev, *st.sharedEvidence(a == Conditional))
				}
			}
			allow = max(allow, a)
		}
	}
	return allow
}

// sharedEvidence points into the compiled statement, which a Set never
// moves or changes after NewSet.
func (s *statement) sharedEvidence(conditional bool) *Evidence {
	if conditional {
		return &s.ev[1]
	}
	return &s.ev[0]
}

func (s *statement) evidence(conditional bool) Evidence {
	return Evidence{
		Policy:      s.policy,
		Boundary:    s.boundary,
		Sid:         s.src.Sid,
		Effect:      s.src.Effect,
		Conditional: conditional,
		Statement:   s.src.Raw,
	}
}
