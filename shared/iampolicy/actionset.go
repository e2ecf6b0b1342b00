package iampolicy

// ActionSet is a set of IAM action patterns ("ecs:RunTask", "ecs:Submit*"),
// matched as IAM matches actions: case-insensitively, with '*' and '?'.
type ActionSet struct {
	patterns []actionPattern
}

// NewActionSet compiles the patterns.
func NewActionSet(patterns ...string) ActionSet {
	s := ActionSet{patterns: make([]actionPattern, len(patterns))}
	for i, p := range patterns {
		s.patterns[i] = compileAction(p)
	}
	return s
}

// Contains reports whether a pattern of the set matches the action.
func (s ActionSet) Contains(a Action) bool {
	name := a.folded
	if name == "" {
		name = a.String()
	}
	for _, p := range s.patterns {
		if p.match(name) {
			return true
		}
	}
	return false
}
