package iampolicy

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// Grant is one action that a [Set] allows on at least one resource, or,
// when [Action.Wildcard] is true, the actions a wildcard or NotAction
// allows beyond the embedded catalog (an unknown service, or actions newer
// than the catalog's data): they are never counted as nothing.
type Grant struct {
	Action   Action   // from the catalog; Level is LevelUnknown for an action (or wildcard) the catalog lacks
	Decision Decision // Allowed or Conditional
	// OnAll is true when the action is granted on every resource: on "*"
	// (or with no Resource element), on a pattern that matches every ARN
	// ("arn:*", "**"), on everything but some (NotResource), or on a
	// service-wide ARN of the action's service ("arn:aws:s3:::*",
	// "arn:aws:dynamodb:*:*:table/*").
	OnAll    bool
	Resource string    // the resource pattern of the deciding statement
	Evidence *Evidence // the deciding Allow statement, shared by its grants

	// except holds, for the wildcard grant of a NotAction statement, the
	// patterns it leaves out.
	except []actionPattern
}

// Grants lists every action the set allows on some resource, in catalog
// order, keeping only the actions for which keep returns true (nil keeps
// all). Wildcards and NotAction are expanded against the catalog, and each
// adds one wildcard grant for what it matches beyond the catalog; a literal
// action the catalog does not know is kept with LevelUnknown. Actions that
// need no permission (sts:GetCallerIdentity) are not listed.
//
// Resources are compared as patterns: a Deny removes a grant when its
// resources cover the Allow's pattern, and a boundary keeps it when one of
// its resources overlaps the pattern. This is exact for the shapes IAM
// policies use ("*", service-wide ARNs, prefixes) and errs towards reporting
// a grant, never towards hiding one. A Deny or boundary whose condition may
// hold lowers a grant to Conditional; the too-broad rules count those.
func (s *Set) Grants(keep func(Action) bool) []Grant {
	s.grantsOnce.Do(func() { s.grants = s.listGrants() })
	if keep == nil {
		return slices.Clone(s.grants)
	}
	var out []Grant
	for _, g := range s.grants {
		if keep(g.Action) {
			out = append(out, g)
		}
	}
	return out
}

// WholeServices is [WholeServices] of every grant of the set, computed once.
func (s *Set) WholeServices() (services []string, all bool) {
	s.wholeOnce.Do(func() {
		s.grantsOnce.Do(func() { s.grants = s.listGrants() })
		s.whole, s.wholeAll = WholeServices(s.grants)
	})
	return slices.Clone(s.whole), s.wholeAll
}

// listGrants is every grant of the set, in catalog order.
func (s *Set) listGrants() []Grant {
	var g grantList
	for i := range s.identity {
		st := &s.identity[i]
		if st.deny || !st.cond.mayHold() {
			continue
		}
		if st.notAction || slices.ContainsFunc(st.actions, func(p actionPattern) bool { return p.service == "" && !p.literal }) {
			g.out = slices.Grow(g.out, len(AllActions())-len(g.out))
		}
		st.eachAction(func(a Action) {
			if noPermissionAction(a) {
				return
			}
			if gr, ok := s.grantVia(st, a); ok {
				g.add(gr)
			}
		})
		st.eachWildcard(func(w Action) {
			for _, a := range s.narrow(w) {
				if gr, ok := s.grantVia(st, a); ok {
					if st.notAction {
						gr.except = st.actions
					}
					g.add(gr)
				}
			}
		})
	}
	if g.merged {
		sortGrants(g.out)
	}
	return g.out
}

func noPermissionAction(a Action) bool { return a.id != 0 && needsNoPermission(a.folded) }

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
		if len(g.out) > 0 && (gr.Action.id == 0 || gr.Action.id < g.out[len(g.out)-1].Action.id) {
			g.merged = true
		}
		g.out = append(g.out, gr)
		if g.pos != nil && gr.Action.id != 0 {
			g.pos[gr.Action.id] = int32(len(g.out))
		}
		return
	}
	g.merged = true
	// Keep the broadest grant: on every resource first (the too-broad
	// rules count a conditional grant as granted), then the surest.
	prev := &g.out[j]
	if (gr.OnAll && !prev.OnAll) || (gr.OnAll == prev.OnAll && gr.Decision > prev.Decision) {
		*prev = gr
	}
}

func (g *grantList) find(a Action) int {
	const linear = 32
	if a.id == 0 || (g.pos == nil && len(g.out) < linear) {
		for i := range g.out {
			if g.out[i].Action.folded == a.folded && g.out[i].Action.wildcard == a.wildcard {
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
// NotAction covers, and for each literal action the catalog lacks.
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

// eachWildcard calls f with the wildcard action of each pattern that can
// match actions the catalog does not list: every non-literal pattern
// (new actions appear after the catalog's date, services too), and a
// NotAction statement as a whole.
func (st *statement) eachWildcard(f func(Action)) {
	if st.notAction {
		f(wildcardAction("*"))
		return
	}
	for _, p := range st.actions {
		if !p.literal {
			f(wildcardAction(p.text))
		}
	}
}

func wildcardAction(pattern string) Action {
	svc, name, ok := cutAction(pattern)
	if !ok {
		svc, name = "*", pattern
	}
	return Action{Service: strings.ToLower(svc), Name: name, Level: LevelUnknown, folded: strings.ToLower(pattern), wildcard: true}
}

// narrow returns what a permissions boundary lets through of the wildcard
// action w: w itself, the narrower wildcards of the boundary within it
// (identity "*" under a boundary "s3:*" is "s3:*"), or nothing.
func (s *Set) narrow(w Action) []Action {
	if !s.hasBoundary {
		return []Action{w}
	}
	var out []Action
	add := func(a Action) {
		if !slices.ContainsFunc(out, func(b Action) bool { return b.folded == a.folded }) {
			out = append(out, a)
		}
	}
	for i := range s.boundary {
		b := &s.boundary[i]
		if b.deny || !b.cond.mayHold() || !b.reachesAction(w) {
			continue
		}
		if b.notAction {
			add(w)
			continue
		}
		for _, q := range b.actions {
			switch {
			case q.literal || !intersectGlob(q.glob, w.folded):
			case coverGlob(w.folded, q.glob):
				add(wildcardAction(q.text))
			default:
				add(w)
			}
		}
	}
	return out
}

// coversAction reports whether the statement's Action or NotAction covers
// every action a stands for (all of a wildcard's).
func (st *statement) coversAction(a Action) bool {
	if !a.wildcard {
		return st.matchAction(a.folded)
	}
	if st.notAction {
		for _, p := range st.actions {
			if intersectGlob(p.glob, a.folded) {
				return false
			}
		}
		return true
	}
	for _, p := range st.actions {
		if coverGlob(p.glob, a.folded) {
			return true
		}
	}
	return false
}

// reachesAction reports whether the statement can allow some of the
// actions a stands for beyond the catalog (a boundary letting a wildcard
// grant through).
func (st *statement) reachesAction(a Action) bool {
	if !a.wildcard {
		return st.matchAction(a.folded)
	}
	if st.notAction {
		for _, p := range st.actions {
			if coverGlob(p.glob, a.folded) {
				return false
			}
		}
		return true
	}
	for _, p := range st.actions {
		if !p.literal && intersectGlob(p.glob, a.folded) {
			return true
		}
	}
	return false
}

// serviceOf is the service whose own condition keys a request of a can
// carry: "" for a wildcard that may be of any service.
func serviceOf(a Action) string {
	if a.wildcard && strings.ContainsAny(a.Service, "*?") {
		return ""
	}
	return a.Service
}

// grantVia answers how the Allow statement st grants action a once the
// set's Denies and boundary are applied.
func (s *Set) grantVia(st *statement, a Action) (Grant, bool) {
	svc := serviceOf(a)
	cond := decisionOf(st.cond.decide(svc, nil))
	best := Grant{Action: a}
	n := len(st.resources)
	if st.resources == nil || st.notResource {
		n = 1 // every resource, or every resource but some: judged as "*"
	}
	for i := range n {
		r, onAll, d := "*", true, cond
		if st.resources != nil && !st.notResource {
			p := &st.resources[i]
			if p.never {
				continue
			}
			r, onAll = p.raw, p.everyResource(a.Service)
			if p.variable || p.invalid != "" {
				d = min(d, Conditional)
			}
		}
		d = min(d, denyOn(s.identityDenies, a, svc, r))
		if d == NotAllowed {
			continue
		}
		if s.hasBoundary {
			d = min(d, boundaryOn(s.boundary, s.boundaryDenies, a, svc, r))
		}
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

// denyOn answers what the Denies leave of action a on every resource the
// pattern r stands for: NotAllowed when one that holds covers them all,
// Conditional when one that may hold does, else Allowed.
func denyOn(denies []statement, a Action, svc, r string) Decision {
	d := Allowed
	for i := range denies {
		st := &denies[i]
		if !st.coversAction(a) {
			continue
		}
		m := st.matchResource(r)
		if m == NotAllowed {
			continue
		}
		m = min(m, decisionOf(st.cond.decide(svc, nil)))
		switch m {
		case Allowed:
			return NotAllowed
		case Conditional:
			d = Conditional
		}
	}
	return d
}

// boundaryOn answers the boundary's best decision for action a on some
// resource that the pattern r and a boundary pattern both stand for.
func boundaryOn(stmts, denies []statement, a Action, svc, r string) Decision {
	dd := denyOn(denies, a, svc, r)
	if dd == NotAllowed {
		return NotAllowed
	}
	best := NotAllowed
	for i := range stmts {
		st := &stmts[i]
		if st.deny || !st.reachesAction(a) || !st.overlaps(r) {
			continue
		}
		best = max(best, decisionOf(st.cond.decide(svc, nil)))
	}
	return min(best, dd)
}

// overlaps reports whether the statement's resources and the pattern r can
// name a common resource: either pattern matches the other taken literally.
func (st *statement) overlaps(r string) bool {
	if st.resources == nil || st.notResource {
		return st.matchResource(r) != NotAllowed || r == "*"
	}
	for i := range st.resources {
		p := &st.resources[i]
		if p.never {
			continue
		}
		if p.match(r) || matchGlob(r, p.raw, false) {
			return true
		}
	}
	return false
}

// sortGrants puts grants from several statements back in catalog order,
// the wildcard grants after the actions.
func sortGrants(g []Grant) {
	slices.SortStableFunc(g, func(a, b Grant) int {
		if a.Action.wildcard != b.Action.wildcard {
			if a.Action.wildcard {
				return 1
			}
			return -1
		}
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

// WholeServices lists the services every action of which the grants allow
// on every resource (Allowed or Conditional): those a wildcard or NotAction
// covers whole, including services the catalog does not know ("newsvc:*"),
// and of which no catalog action was denied or left out. Enumerating every
// action by name is not enough: a service may add actions. all is true
// when that holds for every service, known or not.
func WholeServices(gs []Grant) (services []string, all bool) {
	count := map[string]int{}
	var wild []*Grant
	for i := range gs {
		g := &gs[i]
		if !g.OnAll || g.Decision == NotAllowed {
			continue
		}
		switch {
		case g.Action.wildcard:
			wild = append(wild, g)
		case g.Action.id != 0:
			count[g.Action.Service]++
		}
	}
	if len(wild) == 0 {
		return nil, false // naming actions one by one never holds a service whole
	}
	covers := func(svc string) bool {
		return slices.ContainsFunc(wild, func(g *Grant) bool { return g.coversService(svc) })
	}
	all = slices.ContainsFunc(wild, (*Grant).coversAll)
	needs := permissionCounts()
	for _, svc := range loadCatalog().services {
		if count[svc] == needs[svc] && covers(svc) {
			services = append(services, svc)
		} else {
			all = false
		}
	}
	for _, g := range wild {
		svc := g.Action.Service
		if !strings.ContainsAny(svc, "*?") && ServiceActions(svc) == nil && g.coversService(svc) && !slices.Contains(services, svc) {
			services = append(services, svc)
		}
	}
	slices.Sort(services)
	return services, all
}

// permissionCounts is, per service, how many of its catalog actions need a
// permission (all but sts:GetCallerIdentity).
var permissionCounts = sync.OnceValue(func() map[string]int {
	out := map[string]int{}
	for _, a := range AllActions() {
		if !noPermissionAction(a) {
			out[a.Service]++
		}
	}
	return out
})

// coversService reports whether the wildcard grant stands for every action
// of the service, named or not.
func (g *Grant) coversService(svc string) bool {
	for _, p := range g.except {
		if globMatchesPrefix(p.glob, svc+":") {
			return false
		}
	}
	return coverGlob(g.Action.folded, svc+":*")
}

// coversAll reports whether the wildcard grant stands for every action of
// every service. A NotAction that leaves out only services the catalog
// does not know still counts: WholeServices checks every known one.
func (g *Grant) coversAll() bool {
	return coverGlob(g.Action.folded, "?*:?*") // actions are never empty

}
