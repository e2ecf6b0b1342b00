package rules

import (
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// Deployed is how ecsguard deployed a role (an organization's member role):
// the role ARNs its trust admits, the inline policies it holds, and the
// calls ecsguard makes with it.
type Deployed struct {
	Trusted []string
	Inline  []string
	Needs   []iampolicy.Request
}

// RoleDrift lists how a role that ecsguard deployed differs from d:
// principals its trust admits besides d.Trusted, policies other than
// d.Inline, a missing one of those, a permissions boundary, a call of
// d.Needs its policies no longer allow. Each difference either widens what
// the role lets others do, or narrows what ecsguard can read, so that its
// verdicts in the account become incomplete. Empty when the role is as
// deployed.
func RoleDrift(r *Role, d Deployed) []string {
	if r == nil {
		return []string{"the role is missing"}
	}
	var out []string
	for _, a := range admissions(r.Trust) {
		if who, ok := strings.CutPrefix(a.who, "AWS principal "); ok && slices.ContainsFunc(d.Trusted, func(t string) bool { return strings.EqualFold(t, who) }) {
			continue
		}
		out = append(out, "trust admits "+a.who+conditionNote(a.st))
	}
	names := map[string]bool{}
	for _, p := range r.Policies {
		names[p.Name] = true
		if name, ok := strings.CutPrefix(p.Name, "inline:"); !ok || !slices.Contains(d.Inline, name) {
			out = append(out, "policy "+p.Name+" is not ecsguard's")
		}
	}
	for _, a := range r.Attached {
		if !names[a] {
			out = append(out, "policy "+a+" is not ecsguard's")
		}
	}
	for _, name := range d.Inline {
		if !names["inline:"+name] {
			out = append(out, "inline policy "+name+" is missing")
		}
	}
	if r.Boundary != nil {
		out = append(out, "a permissions boundary "+r.Boundary.Name+" was set")
	}
	// A missing permission is only reported when the role could be read
	// whole: an unread policy may grant it.
	if len(r.Missing) == 0 {
		set := r.Permissions()
		for _, n := range d.Needs {
			if set.Decide(n.Action, n.Resource) != iampolicy.Allowed {
				out = append(out, "no longer allows "+n.Action+" on "+n.Resource)
			}
		}
	}
	return out
}
