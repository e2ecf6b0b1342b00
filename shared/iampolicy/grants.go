package iampolicy

import (
	"cmp"
	"slices"
	"strings"
)

// Grant is one action that a [Set] allows on at least one resource.
type Grant struct {
	Action   Action   // from the catalog; Level is LevelUnknown for an action the catalog lacks
	Decision Decision // Allowed or Conditional
	// OnAll is true when the action is granted on Resource "*" (or with no
	// Resource element), not only on named resources.
	OnAll    bool
	Resource string    // the resource pattern of the deciding statement
	Evidence *Evidence // the deciding Allow statement, shared by its grants
}

// Grants lists every action the set allows on some resource, in catalog
// order, keeping only the actions for which keep returns true (nil keeps
// all). Wildcards and NotAction are expanded against the catalog; a literal
// action the catalog does not know is kept with LevelUnknown.
//
// Resources are compared as patterns: a Deny removes a grant when its
// resources cover the Allow's pattern, and a boundary keeps it when one of
// its resources overlaps the pattern. This is exact for the shapes IAM
// policies use ("*", service-wide ARNs, prefixes) and errs towards reporting
// a grant, never towards hiding one.
func (s *Set) Grants(keep func(Action) bool) []Grant {
	var g grantList
	for i := range s.identity {
		st := &s.identity[i]
		if st.deny {
			continue
		}
		if st.notAction || slices.ContainsFunc(st.actions, func(p actionPattern) bool { return p.service == "" && !p.literal }) {
			g.out = slices.Grow(g.out, len(AllActions())-len(g.out))
		}
		st.eachAction(func(a Action) {
			if keep != nil && !keep(a) {
				return
			}
			if gr, ok := s.grantVia(st, a); ok {
				g.add(gr)
			}
		})
	}
	if g.merged {
		sortGrants(g.out)
	}
	return g.out
}

// grantList collects grants, merging those of one action from several
// statements. A linear scan finds duplicates while the list is short; past
// that, a table by catalog position does, so a whole-catalog expansion stays
// linear.
type grantList struct {
	out    []Grant
	pos    []int32 // catalog id -> index in out plus one
	merged bool    // a grant came from a second statement: re-sort
}

func (g *grantList) add(gr Grant) {
	j := g.find(gr.Action)
	if j < 0 {
		if len(g.out) > 0 && gr.Action.id != 0 && gr.Action.id < g.out[len(g.out)-1].Action.id {
			g.merged = true
		}
		g.out = append(g.out, gr)
		if g.pos != nil && gr.Action.id != 0 {
			g.pos[gr.Action.id] = int32(len(g.out))
		}
		return
	}
	g.merged = true
	prev := &g.out[j]
	if gr.Decision > prev.Decision || (gr.Decision == prev.Decision && gr.OnAll && !prev.OnAll) {
		*prev = gr
	}
}

func (g *grantList) find(a Action) int {
	const linear = 32
	if a.id == 0 || (g.pos == nil && len(g.out) < linear) {
		for i := range g.out {
			if g.out[i].Action.folded == a.folded {
				return i
			}
		}
		return -1
	}
	if g.pos == nil {
		g.pos = make([]int32, len(AllActions())+1)
		for i, gr := range g.out {
			if gr.Action.id != 0 {
				g.pos[gr.Action.id] = int32(i + 1)
			}
		}
	}
	return int(g.pos[a.id]) - 1
}

// eachAction calls f for every catalog action the statement's Action or
// NotAction covers.
func (st *statement) eachAction(f func(Action)) {
	if st.notAction {
		for _, a := range AllActions() {
			if st.matchAction(a.folded) {
				f(a)
			}
		}
		return
	}
	for _, p := range st.actions {
		switch {
		case p.literal:
			if a, ok := LookupAction(p.glob); ok {
				f(a)
			} else {
				svc, name, _ := cutAction(p.text)
				f(Action{Service: strings.ToLower(svc), Name: name, Level: LevelUnknown, folded: p.glob})
			}
		case p.service != "":
			for _, a := range ServiceActions(p.service) {
				if p.match(a.folded) {
					f(a)
				}
			}
		case p.glob == "*":
			for _, a := range AllActions() {
				f(a)
			}
		default:
			for _, a := range AllActions() {
				if p.match(a.folded) {
					f(a)
				}
			}
		}
	}
}

// grantVia answers how the Allow statement st grants action a once the
// set's Denies and boundary are applied.
func (s *Set) grantVia(st *statement, a Action) (Grant, bool) {
	action := a.folded
	best := Grant{Action: a}
	n := len(st.resources)
	if st.resources == nil || st.notResource {
		n = 1 // every resource, or every resource but some: judged as "*"
	}
	for i := range n {
		r := "*"
		if st.resources != nil && !st.notResource {
			r = st.resources[i].glob
		}
		d := Allowed
		if st.conditional && !(st.passRoleOnly && action == "iam:passrole") {
			d = Conditional
		}
		if deniedOn(s.identityDenies, action, r) {
			continue
		}
		if s.hasBoundary {
			d = min(d, boundaryOn(s.boundary, s.boundaryDenies, action, r))
		}
		onAll := r == "*" && !st.notResource
		if d > best.Decision || (d == best.Decision && d != NotAllowed && onAll && !best.OnAll) {
			best.Decision, best.OnAll, best.Resource = d, onAll, r
		}
	}
	if best.Decision == NotAllowed {
		return Grant{}, false
	}
	if st.notResource {
		best.Resource = "NotResource"
	}
	best.Evidence = st.sharedEvidence(best.Decision == Conditional)
	return best, true
}

// deniedOn reports whether one of the unconditional Denies covers action on
// every resource the pattern r stands for.
func deniedOn(denies []statement, action, r string) bool {
	for i := range denies {
		st := &denies[i]
		if st.matchAction(action) && st.matchResource(r) == Allowed {
			return true
		}
	}
	return false
}

// boundaryOn answers the boundary's best decision for action on some
// resource that the pattern r and a boundary pattern both stand for.
func boundaryOn(stmts, denies []statement, action, r string) Decision {
	if deniedOn(denies, action, r) {
		return NotAllowed
	}
	best := NotAllowed
	for i := range stmts {
		st := &stmts[i]
		if st.deny || !st.matchAction(action) || !st.overlaps(r) {
			continue
		}
		d := Allowed
		if st.conditional && !(st.passRoleOnly && action == "iam:passrole") {
			d = Conditional
		}
		best = max(best, d)
	}
	return best
}

// overlaps reports whether the statement's resources and the pattern r can
// name a common resource: either pattern matches the other taken literally.
func (st *statement) overlaps(r string) bool {
	if st.resources == nil || st.notResource {
		return st.matchResource(r) != NotAllowed || r == "*"
	}
	for _, p := range st.resources {
		if matchGlob(p.glob, r, false) || matchGlob(r, p.glob, false) {
			return true
		}
	}
	return false
}

// sortGrants puts grants from several statements back in catalog order.
func sortGrants(g []Grant) {
	slices.SortStableFunc(g, func(a, b Grant) int {
		if c := cmp.Compare(a.Action.Service, b.Action.Service); c != 0 {
			return c
		}
		return cmp.Compare(a.Action.Name, b.Action.Name)
	})
}

// cutAction splits "svc:Name" at the first colon.
func cutAction(a string) (service, name string, ok bool) {
	return strings.Cut(a, ":")
}
