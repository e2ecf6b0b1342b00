package iampolicy

import (
	"encoding/json"
	"strings"
	"sync"
)

// Decision is the answer for one action on one resource.
type Decision uint8

// Decisions are ordered: a Deny or a boundary can only lower a decision.
const (
	NotAllowed  Decision = iota // no applicable Allow, or a Deny that holds
	Conditional                 // allowed only if a Condition holds, or a conditional Deny does not
	Allowed                     // allowed for every request the Context describes
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

// Evidence is a statement that decided an answer. A Deny that is
// Conditional is one whose Condition cannot be decided: it may deny.
type Evidence struct {
	Policy      string          `json:"policy"`
	Boundary    bool            `json:"boundary,omitempty"`
	Sid         string          `json:"sid,omitempty"`
	Effect      Effect          `json:"effect"`
	Conditional bool            `json:"conditional,omitempty"`
	Statement   json.RawMessage `json:"statement"`
	// Note says what in the statement IAM itself would reject (an invalid
	// resource ARN), and how it was read.
	Note string `json:"note,omitempty"`
}

// Result is a [Decision] with the statements behind it.
type Result struct {
	Decision Decision
	Evidence []Evidence
}

// MayBeDenied reports whether a Deny whose Condition cannot be decided
// matched the request: the answer is Conditional because of it, not only
// because of a conditional Allow.
func (r Result) MayBeDenied() bool {
	for _, e := range r.Evidence {
		if e.Effect == Deny && e.Conditional {
			return true
		}
	}
	return false
}

// Request is an action on a resource, with request context keys only the
// request has, such as iam:PassedToService for iam:PassRole. Keys are
// condition keys as policies write them (case does not matter).
type Request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

// Set is the compiled identity policies and optional permissions boundary of
// one principal, with conditions and policy variables decided for a
// [Context]. It is immutable and safe for concurrent use.
//
// Evaluation follows "Policy evaluation logic"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// an explicit Deny wins, then an Allow is needed in the identity policies
// and, when there is one, in the boundary.
type Set struct {
	ctx         Context
	identity    []statement
	boundary    []statement
	hasBoundary bool
	// The Denies of each, the only statements that remove a grant: listing
	// grants consults them per action, so they are kept apart.
	identityDenies []statement
	boundaryDenies []statement

	// Every grant and the services held whole, listed once on first use:
	// the rules ask for them many times per role.
	grantsOnce sync.Once
	grants     []Grant
	wholeOnce  sync.Once
	whole      []string
	wholeAll   bool
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
	cond        *compiledCondition
	// ev is the statement's evidence, unconditional and conditional, made
	// at compile time so that a wildcard's thousands of grants share it.
	ev [2]Evidence
}

// noPermission lists the actions IAM never denies: "No permissions are
// required to perform this operation. If an administrator attaches a
// policy to your identity that explicitly denies access to the
// sts:GetCallerIdentity action, you can still perform this operation."
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)
var noPermission = []string{"sts:GetCallerIdentity"}

func needsNoPermission(action string) bool {
	for _, a := range noPermission {
		if len(a) == len(action) && strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}

// NewSet compiles the identity policies of a principal and its permissions
// boundary (nil when it has none) for the zero [Context]: every condition
// is undecided. Documents are only read.
func NewSet(identity []Policy, boundary *Policy) *Set {
	return NewSetIn(Context{}, identity, boundary)
}

// NewSetIn compiles the policies with their conditions and policy
// variables decided, as far as possible, for requests in ctx.
func NewSetIn(ctx Context, identity []Policy, boundary *Policy) *Set {
	s := &Set{ctx: ctx}
	for _, p := range identity {
		s.identity = appendCompiled(s.identity, p, false, &s.ctx)
	}
	if boundary != nil {
		s.hasBoundary = true
		s.boundary = appendCompiled(s.boundary, *boundary, true, &s.ctx)
	}
	s.identityDenies = denies(s.identity)
	s.boundaryDenies = denies(s.boundary)
	return s
}

// denies returns the Deny statements whose condition can hold.
func denies(stmts []statement) []statement {
	var out []statement
	for _, st := range stmts {
		if st.deny && st.cond.mayHold() {
			out = append(out, st)
		}
	}
	return out
}

// mayHold is false when the Context alone shows the condition false.
func (cc *compiledCondition) mayHold() bool { return cc == nil || cc.base != vFalse }

func appendCompiled(out []statement, p Policy, boundary bool, ctx *Context) []statement {
	if p.Document == nil {
		return out
	}
	versioned := p.Document.Version == policyVersion
	for i := range p.Document.Statements {
		st := &p.Document.Statements[i]
		c := statement{
			policy:      p.Name,
			boundary:    boundary,
			src:         st,
			deny:        st.Effect == Deny,
			notAction:   st.NotAction != nil,
			notResource: st.NotResource != nil,
			cond:        compileCondition(st.Condition, versioned, ctx),
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
		var notes []string
		if res != nil {
			c.resources = make([]resourcePattern, 0, len(res))
			for _, r := range res {
				rp := compileResource(r, versioned, ctx)
				if rp.invalid != "" {
					notes = append(notes, "resource "+r+" has "+rp.invalid+", which IAM Access Analyzer reports as invalid: matched ignoring the case of partition and service, and only conditionally")
				}
				c.resources = append(c.resources, rp)
			}
		}
		c.ev = [2]Evidence{c.evidence(false), c.evidence(true)}
		if len(notes) > 0 {
			note := strings.Join(notes, "; ")
			c.ev[0].Note, c.ev[1].Note = note, note
		}
		out = append(out, c)
	}
	return out
}

// matchAction reports whether the statement applies to the action.
func (s *statement) matchAction(action string) bool {
	hit := false
	for i := range s.actions {
		if s.actions[i].match(action) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

// matchResource answers NotAllowed (no match), Conditional (a match that
// depends on a policy variable or an invalid ARN) or Allowed (a match).
func (s *statement) matchResource(resource string) Decision {
	if s.resources == nil && !s.notResource {
		return Allowed
	}
	best := NotAllowed
	for i := range s.resources {
		p := &s.resources[i]
		if !p.match(resource) {
			continue
		}
		if !p.variable && p.invalid == "" {
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
// it does outright. service is the action's service prefix.
func (s *statement) applies(action, service, resource string, extra map[string][]string) Decision {
	if !s.matchAction(action) {
		return NotAllowed
	}
	m := s.matchResource(resource)
	if m == NotAllowed {
		return NotAllowed
	}
	return min(m, decisionOf(s.cond.decide(service, extra)))
}

func decisionOf(v verdict) Decision {
	switch v {
	case vTrue:
		return Allowed
	case vUnknown:
		return Conditional
	}
	return NotAllowed
}

// Decide answers whether action is allowed on resource, without evidence and
// without allocating.
func (s *Set) Decide(action, resource string) Decision {
	return s.decide(Request{Action: action, Resource: resource}, nil)
}

// Evaluate answers like [Set.Decide] and adds the deciding statements: the
// Deny that refused, or the Allows that granted and the Denies that may
// refuse (and, when the boundary lowered the answer, the boundary's own
// deciding statements).
func (s *Set) Evaluate(action, resource string) Result {
	return s.EvaluateRequest(Request{Action: action, Resource: resource})
}

// EvaluateRequest is [Set.Evaluate] for a request with context keys of its
// own.
func (s *Set) EvaluateRequest(r Request) Result {
	var ev []Evidence
	d := s.decide(r, &ev)
	return Result{Decision: d, Evidence: ev}
}

// decide is Decide and Evaluate: ev, when not nil, receives the evidence.
func (s *Set) decide(r Request, ev *[]Evidence) Decision {
	action := r.Action
	if needsNoPermission(action) {
		return Allowed
	}
	service, _, _ := strings.Cut(action, ":")
	extra := lowerKeys(r.Context)
	d := evaluate(s.identity, action, service, r.Resource, extra, ev)
	if !s.hasBoundary || d == NotAllowed {
		return d
	}
	var bev *[]Evidence
	if ev != nil {
		bev = new([]Evidence)
	}
	bd := evaluate(s.boundary, action, service, r.Resource, extra, bev)
	if bd < d {
		d = bd
		if ev != nil {
			*ev = *bev
		}
	} else if ev != nil && bd == Conditional {
		for _, e := range *bev {
			if e.Effect == Deny {
				*ev = append(*ev, e)
			}
		}
	}
	return d
}

func lowerKeys(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// evaluate decides over one list of statements; ev, when set, receives the
// deciding statements. A Deny that holds refuses; one that may hold lowers
// the answer to Conditional.
func evaluate(stmts []statement, action, service, resource string, extra map[string][]string, ev *[]Evidence) Decision {
	allow := NotAllowed
	mayDeny := false
	var denyEv []Evidence
	for i := range stmts {
		st := &stmts[i]
		a := st.applies(action, service, resource, extra)
		switch {
		case a == NotAllowed:
		case st.deny:
			if a == Allowed {
				if ev != nil {
					*ev = append((*ev)[:0], st.ev[0])
				}
				return NotAllowed
			}
			mayDeny = true
			if ev != nil {
				denyEv = append(denyEv, *st.sharedEvidence(true))
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
	if mayDeny && allow != NotAllowed {
		allow = Conditional
		if ev != nil {
			*ev = append(*ev, denyEv...)
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
