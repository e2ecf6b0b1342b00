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
	Resource string   // the resource pattern of the deciding statement
	Evidence Evidence // the deciding Allow statement
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
	var out []Grant
	index := map[Action]int{}
	for i := range s.identity {
		st := &s.identity[i]
		if st.deny {
			continue
		}
		st.eachAction(func(a Action) {
			if keep != nil && !keep(a) {
				return
			}
			g, ok := s.grantVia(st, a)
			if !ok {
				return
			}
			j, seen := index[a]
			if !seen {
				index[a] = len(out)
				out = append(out, g)
				return
			}
			prev := &out[j]
			if g.Decision > prev.Decision || (g.Decision == prev.Decision && g.OnAll && !prev.OnAll) {
				*prev = g
			}
		})
	}
	if len(s.identity) > 1 {
		sortGrants(out)
	}
	return out
}

// eachAction calls f for every catalog action the statement's Action or
// NotAction covers.
func (st *statement) eachAction(f func(Action)) {
	if st.notAction {
		for _, a := range AllActions() {
			if st.matchAction(a.key()) {
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
				f(Action{Service: svc, Name: name, Level: LevelUnknown})
			}
		case p.service != "":
			for _, a := range ServiceActions(p.service) {
				if p.match(a.key()) {
					f(a)
				}
			}
		default:
			for _, a := range AllActions() {
				if p.match(a.key()) {
					f(a)
				}
			}
		}
	}
}

// grantVia answers how the Allow statement st grants action a once the
// set's Denies and boundary are applied.
func (s *Set) grantVia(st *statement, a Action) (Grant, bool) {
	action := a.key()
	patterns := []string{"*"}
	if st.resources != nil && !st.notResource {
		patterns = patterns[:0]
		for _, r := range st.resources {
			patterns = append(patterns, r.glob)
		}
	}
	best := Grant{Action: a}
	for _, r := range patterns {
		d := Allowed
		if st.conditional && !(st.passRoleOnly && strings.EqualFold(action, "iam:PassRole")) {
			d = Conditional
		}
		if deniedOn(s.identity, action, r) {
			continue
		}
		if s.hasBoundary {
			d = min(d, boundaryOn(s.boundary, action, r))
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
	best.Evidence = st.evidence(best.Decision == Conditional)
	return best, true
}

// deniedOn reports whether an unconditional Deny covers action on every
// resource the pattern r stands for.
func deniedOn(stmts []statement, action, r string) bool {
	for i := range stmts {
		st := &stmts[i]
		if st.deny && !st.conditional && st.matchAction(action) && st.matchResource(r) == Allowed {
			return true
		}
	}
	return false
}

// boundaryOn answers the boundary's best decision for action on some
// resource that the pattern r and a boundary pattern both stand for.
func boundaryOn(stmts []statement, action, r string) Decision {
	if deniedOn(stmts, action, r) {
		return NotAllowed
	}
	best := NotAllowed
	for i := range stmts {
		st := &stmts[i]
		if st.deny || !st.matchAction(action) || !st.overlaps(r) {
			continue
		}
		d := Allowed
		if st.conditional && !(st.passRoleOnly && strings.EqualFold(action, "iam:PassRole")) {
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

// key is the action as a matcher reads it, "s3:GetObject".
func (a Action) key() string { return a.Service + ":" + a.Name }
