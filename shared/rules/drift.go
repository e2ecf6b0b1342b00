package rules

import (
	"slices"
	"strings"
)

// RoleDrift lists how a role that ecsguard deployed (an organization's
// member role) differs from what it deployed: principals its trust admits
// besides the trusted role ARNs, policies other than the inline ones it
// holds, a missing one of those, a permissions boundary. Each difference
// either widens what the role lets others do, or narrows what ecsguard
// can read, so that its verdicts in the account become incomplete. Empty
// when the role is as deployed.
func RoleDrift(r *Role, trusted, inline []string) []string {
	if r == nil {
		return []string{"the role is missing"}
	}
	var out []string
	for _, a := range admissions(r.Trust) {
		if who, ok := strings.CutPrefix(a.who, "AWS principal "); ok && slices.ContainsFunc(trusted, func(t string) bool { return strings.EqualFold(t, who) }) {
			continue
		}
		out = append(out, "trust admits "+a.who+conditionNote(a.st))
	}
	names := map[string]bool{}
	for _, p := range r.Policies {
		names[p.Name] = true
		if name, ok := strings.CutPrefix(p.Name, "inline:"); !ok || !slices.Contains(inline, name) {
			out = append(out, "policy "+p.Name+" is not ecsguard's")
		}
	}
	for _, a := range r.Attached {
		if !names[a] {
			out = append(out, "policy "+a+" is not ecsguard's")
		}
	}
	for _, name := range inline {
		if !names["inline:"+name] {
			out = append(out, "inline policy "+name+" is missing")
		}
	}
	if r.Boundary != nil {
		out = append(out, "a permissions boundary "+r.Boundary.Name+" was set")
	}
	return out
}
