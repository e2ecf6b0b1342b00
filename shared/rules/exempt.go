package rules

import (
	"fmt"
	"slices"
	"strings"
)

// Exemption tags, on a task definition or a role: TagExempt holds the
// comma-separated IDs of the rules exempted (or "*"), TagExemptReason why.
const (
	TagExempt       = "ecsguard:exempt"
	TagExemptReason = "ecsguard:exempt-reason"
)

// UnknownExemptionRule is reported when an exemption tag names a rule ID
// the catalog does not have: it exempts nothing, and whoever wrote it
// believes otherwise.
const UnknownExemptionRule = "ECSG-003"

// notExemptable are the rules no tag suppresses: what could not be seen,
// tampering with the guardrail, and the report on the exemption tags
// themselves.
var notExemptable = []string{IncompleteRule, TamperingRule, UnknownExemptionRule}

// Exemptable reports whether an exemption tag can suppress findings of the
// rule.
func Exemptable(rule string) bool { return !slices.Contains(notExemptable, rule) }

// Exemptions says which exemption tags hold. The zero value accepts every
// exemption that gives a reason.
type Exemptions struct {
	// Approvers are the principals whose exemption tags count
	// (EXEMPTION_APPROVERS): ARNs of roles, users, role sessions or an
	// account root, with * for any run of name characters ([Approves]).
	// Empty: anyone's, as long as TagExemptReason is set.
	Approvers []string
	// Approvals are, by the ARN of the resource tagged (a task definition
	// revision, a role, as the facts name them), the calls ecsguard saw set
	// its exemption tags. A resource without one, or whose tags no longer
	// hold the values recorded, has tags set by someone unknown.
	Approvals map[string]Approval
}

// Approval is who set each exemption tag of a resource, and to what.
type Approval struct {
	Exempt TagSetting // the last call seen setting TagExempt
	Reason TagSetting // the last call seen setting TagExemptReason
}

// TagSetting is the value a call set a tag to, and the call's actor (the
// role behind a session, or the caller's ARN); an empty Actor means no call
// was seen.
type TagSetting struct {
	Value string
	Actor string
}

// Evidence texts of an exemption that does not hold.
const (
	ignoredNoReason = "exemption ignored: no " + TagExemptReason + " tag"
	ignoredUnknown  = "exemption ignored: who set it is not known"
	ignoredSetBy    = "exemption ignored: set by %s, not an exemption approver"
)

// tagged is a resource with its tags: where an exemption can be.
type tagged struct {
	arn  string
	tags map[string]string
}

// exempt marks findings suppressed by an exemption that holds, on the task
// definition or on the role the finding is about. A finding whose
// exemptions all fail stays open, each failure in its evidence. The rules
// of notExemptable are never suppressed: an exemption is a judgement on
// what was seen.
func exempt(fs []Finding, f Facts) {
	for i := range fs {
		if !Exemptable(fs[i].Rule) {
			continue
		}
		var ignored []string
		for _, src := range exemptionSources(f, fs[i].Resource) {
			applies, reason, why := f.Exemptions.decide(src, fs[i].Rule)
			switch {
			case !applies:
				continue
			case why == "":
				fs[i].Suppressed, fs[i].SuppressedReason = true, reason
				ignored = nil
			case !slices.Contains(ignored, why):
				ignored = append(ignored, why)
			}
			if fs[i].Suppressed {
				break
			}
		}
		for _, why := range ignored {
			fs[i].Evidence = append(slices.Clip(fs[i].Evidence), Evidence{Detail: why})
		}
	}
}

// exemptionSources are the tags that can exempt a finding on resource: the
// task definition's (the subject's), and the role's the finding is about.
func exemptionSources(f Facts, resource string) []tagged {
	var out []tagged
	if td := f.TaskDefinition; td != nil {
		out = append(out, tagged{td.ARN, td.Tags})
	}
	if role := f.Roles[resource]; role != nil {
		out = append(out, tagged{resource, role.Tags})
	}
	if f.Role != nil && f.Role.ARN == resource {
		out = append(out, tagged{resource, f.Role.Tags})
	}
	return out
}

// decide reads one resource's exemption tags for a rule: whether they
// name it (applies), and then either the reason it is suppressed, or why
// the exemption does not hold.
func (x Exemptions) decide(t tagged, rule string) (applies bool, reason, ignored string) {
	v, ok := t.tags[TagExempt]
	if !ok || !namesRule(v, rule) {
		return false, "", ""
	}
	reason = strings.TrimSpace(t.tags[TagExemptReason])
	if reason == "" {
		return true, "", ignoredNoReason
	}
	if len(x.Approvers) == 0 {
		return true, reason, ""
	}
	// Both tags must hold what an approver set: the exemption says what is
	// accepted, the reason why, and either changed by someone else is no
	// longer the approver's judgement.
	a, known := x.Approvals[t.arn]
	var setters []string
	for _, s := range []struct {
		key string
		set TagSetting
	}{{TagExempt, a.Exempt}, {TagExemptReason, a.Reason}} {
		if !known || s.set.Actor == "" || s.set.Value != t.tags[s.key] {
			return true, "", ignoredUnknown
		}
		if !slices.Contains(setters, s.set.Actor) {
			setters = append(setters, s.set.Actor)
		}
	}
	for _, who := range setters {
		if !Approves(x.Approvers, who) {
			return true, "", fmt.Sprintf(ignoredSetBy, who)
		}
	}
	return true, reason + " (set by " + strings.Join(setters, " and ") + ")", ""
}

// namesRule reads an exemption tag value: comma-separated rule IDs, any
// case, or "*".
func namesRule(v, rule string) bool {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id == "*" || strings.EqualFold(id, rule) {
			return true
		}
	}
	return false
}

// unknownExemptions reports the exemption tags of the subject and its
// roles that name rules the catalog does not have.
func unknownExemptions(f Facts) []Finding {
	var sources []tagged
	switch {
	case f.TaskDefinition != nil:
		td := f.TaskDefinition
		sources = append(sources, tagged{td.ARN, td.Tags})
		for _, arn := range []string{td.TaskRoleARN, td.ExecutionRoleARN} {
			if role := f.Roles[arn]; role != nil && !slices.ContainsFunc(sources, func(s tagged) bool { return s.arn == arn }) {
				sources = append(sources, tagged{arn, role.Tags})
			}
		}
	case f.Role != nil:
		sources = append(sources, tagged{f.Role.ARN, f.Role.Tags})
	}
	var out []Finding
	for _, s := range sources {
		v, ok := s.tags[TagExempt]
		if !ok {
			continue
		}
		var unknown []string
		for _, id := range strings.Split(v, ",") {
			id = strings.TrimSpace(id)
			if id == "" || id == "*" || knownRule(id) || slices.Contains(unknown, id) {
				continue
			}
			unknown = append(unknown, id)
		}
		if len(unknown) > 0 {
			out = append(out, newFinding(UnknownExemptionRule, Informational, s.arn, Evidence{
				Detail: fmt.Sprintf("%s=%s names %s the catalog does not have, so it exempts nothing for %s: %s",
					TagExempt, v, oneOrMany(len(unknown), "a rule", "rules"), oneOrMany(len(unknown), "it", "them"), strings.Join(unknown, ", ")),
			}))
		}
	}
	return out
}

func knownRule(id string) bool {
	return slices.ContainsFunc(catalog, func(r Rule) bool { return strings.EqualFold(r.ID, id) })
}

func oneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Approves reports whether actor, the principal behind a call (a role ARN,
// a role session ARN, a user ARN or an account root), is one of the
// approvers. Each approver is an ARN in which * stands for any run of name
// characters (never across / or :); partition and account compare exactly.
// Roles compare as trail.Change.CausedBy compares them: by partition,
// account and name, the name case-insensitively (IAM keeps role names
// unique regardless of case) and the path ignored (a session ARN has none).
// So a role pattern (arn:aws:iam::111122223333:role/sec-*) admits the role
// and its sessions (arn:aws:sts::111122223333:assumed-role/sec-ops/alice);
// a session pattern (arn:aws:sts::111122223333:assumed-role/ROLE/SESSION)
// admits that session, and the role itself only when SESSION is * (any
// session of it). Users and roots compare exactly, * aside.
func Approves(approvers []string, actor string) bool {
	if actor == "" {
		return false
	}
	a, aok := principalOf(actor)
	for _, pattern := range approvers {
		if pattern == actor {
			return true
		}
		p, ok := principalOf(pattern)
		if !ok || !aok || p.partition != a.partition || p.account != a.account {
			continue
		}
		switch p.kind {
		case "role":
			if (a.kind == "role" || a.kind == "session") && glob(strings.ToLower(p.name), strings.ToLower(a.name)) {
				return true
			}
		case "session":
			if !glob(strings.ToLower(p.name), strings.ToLower(a.name)) {
				continue
			}
			if (a.kind == "session" && glob(p.session, a.session)) || (a.kind == "role" && p.session == "*") {
				return true
			}
		default:
			if a.kind == p.kind && glob(p.resource, a.resource) {
				return true
			}
		}
	}
	return false
}

// principal is an IAM principal ARN, read: kind is "role", "session"
// (an assumed-role session), or the resource type ("user", "root").
type principal struct {
	partition, account string
	kind               string
	name, session      string // a role's name (the last element of its path), a session's role and session names
	resource           string
}

func principalOf(arn string) (principal, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || parts[4] == "" {
		return principal{}, false
	}
	p := principal{partition: parts[1], account: parts[4], resource: parts[5]}
	switch resource := parts[5]; {
	case parts[2] == "iam" && strings.HasPrefix(resource, "role/"):
		p.kind, p.name = "role", resource[strings.LastIndexByte(resource, '/')+1:]
	case parts[2] == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		name, session, ok := strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
		if !ok || name == "" || session == "" {
			return principal{}, false
		}
		p.kind, p.name, p.session = "session", name, session
	case parts[2] == "iam":
		p.kind, _, _ = strings.Cut(resource, "/")
	default:
		return principal{}, false
	}
	return p, p.kind != "" && (p.kind != "role" || p.name != "")
}

// glob matches s against pattern, in which * stands for any run of
// characters other than / and : (IAM name characters), and nothing else is
// special: a reduced port of path.Match, as iampolicy's globs are.
func glob(pattern, s string) bool {
	// The classic two-pointer walk: on a mismatch, let the last star
	// swallow one more character, unless that character is a separator.
	px, sx := 0, 0
	star, next := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			star, next = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case star >= 0 && s[next] != '/' && s[next] != ':':
			next++
			px, sx = star+1, next
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
