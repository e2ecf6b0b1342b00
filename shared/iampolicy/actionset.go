package iampolicy

import "strings"

// ActionSet is a set of IAM action patterns ("ecs:RunTask", "ecs:Submit*"),
// matched as IAM matches actions: case-insensitively, with '*' and '?'.
type ActionSet struct {
	byService map[string][]actionPattern // patterns with a literal service prefix
	any       []actionPattern            // patterns whose service part has a wildcard
}

// NewActionSet compiles the patterns.
func NewActionSet(patterns ...string) ActionSet {
	s := ActionSet{byService: map[string][]actionPattern{}}
	for _, p := range patterns {
		c := compileAction(p)
		if c.service == "" {
			s.any = append(s.any, c)
			continue
		}
		s.byService[c.service] = append(s.byService[c.service], c)
	}
	return s
}

// Contains reports whether a pattern of the set matches the action. Only
// the patterns of the action's own service are tried, so testing the whole
// catalog against a set stays cheap.
//
// For a wildcard [Grant] action, it reports whether one pattern of the set
// covers every action the wildcard stands for.
func (s ActionSet) Contains(a Action) bool {
	name := a.folded
	if name == "" {
		name = strings.ToLower(a.String())
	}
	if a.wildcard {
		for _, ps := range s.byService {
			for _, p := range ps {
				if coverGlob(p.glob, name) {
					return true
				}
			}
		}
		for _, p := range s.any {
			if coverGlob(p.glob, name) {
				return true
			}
		}
		return false
	}
	svc, _, _ := strings.Cut(name, ":")
	for _, p := range s.byService[svc] {
		if p.match(name) {
			return true
		}
	}
	for _, p := range s.any {
		if p.match(name) {
			return true
		}
	}
	return false
}
