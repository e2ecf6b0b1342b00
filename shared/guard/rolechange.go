package guard

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// RoleUses finds the task definitions that use a role: the index, or the
// scan when no index table is configured (roleuse.Index, roleuse.Scan).
type RoleUses interface {
	TaskDefinitions(ctx context.Context, role string) ([]string, error)
}

// ChangeOutcome is what a role-change invocation did.
type ChangeOutcome struct {
	EventID   string `json:"eventId"`
	EventName string `json:"eventName,omitempty"`
	Result    string `json:"result"`
	Reason    string `json:"reason,omitempty"`
	// Roles are the roles the change reached.
	Roles []string `json:"roles,omitempty"`
	// Subjects are the task definitions and secondary roles re-evaluated.
	Subjects  []SubjectOutcome `json:"subjects,omitempty"`
	Findings  int              `json:"findings"` // unsuppressed, over every subject
	Alerted   bool             `json:"alerted"`
	MessageID string           `json:"messageId,omitempty"`
	Calls     int64            `json:"awsCalls"`
}

// SubjectOutcome is the verdict on one subject of a role change.
type SubjectOutcome struct {
	ARN      string       `json:"arn"`
	Type     string       `json:"type"`
	Complete bool         `json:"complete"`
	Highest  string       `json:"highest,omitempty"`
	Rules    []string     `json:"rules,omitempty"`
	New      []string     `json:"new,omitempty"`    // rules the change brought or raised, when the state before is known
	UsedBy   []rules.Use  `json:"usedBy,omitempty"` // a secondary role's EventBridge rules, schedules, scalable targets, instance profiles
	Action   rules.Action `json:"action"`
}

// OnRoleChange handles an EventBridge event for an IAM role or policy
// change: it finds the roles the change reached, the ACTIVE task
// definitions that use them and whether they are secondary ECS roles,
// re-evaluates each, and publishes one alert for the change when any has
// something to say. It deregisters only with ENFORCE_ON_ROLE_CHANGE=true.
func (h *Handler) OnRoleChange(ctx context.Context, event []byte) (ChangeOutcome, error) {
	start := time.Now()
	var calls0 int64
	if h.Calls != nil {
		calls0 = h.Calls.Total()
	}
	out, err := h.onRoleChange(ctx, event)
	if h.Calls != nil {
		out.Calls = h.Calls.Total() - calls0
	}
	h.logChange(out, err, time.Since(start))
	return out, err
}

func (h *Handler) onRoleChange(ctx context.Context, event []byte) (ChangeOutcome, error) {
	ch, err := trail.ParseJSON(event)
	out := ChangeOutcome{EventID: ch.EventID, EventName: ch.EventName}
	if err != nil {
		out.Result, out.Reason = ResultDropped, err.Error()
		return out, nil
	}
	if ch.Source != trail.SourceIAM {
		out.Result, out.Reason = ResultDropped, "event "+ch.EventID+": not an IAM role or policy change ("+ch.Source+" "+ch.EventName+")"
		return out, nil
	}
	if h.causedByItself(ch) {
		out.Result, out.Reason = ResultIgnored, "caused by ecsguard's own role "+ch.Actor
		return out, nil
	}
	fail := func(stage string, err error) (ChangeOutcome, error) {
		out.Result, out.Reason = ResultFailed, err.Error()
		return out, &RetryableError{Stage: stage, Err: err}
	}

	roles := []string{ch.RoleName}
	if ch.RoleName == "" {
		// CreatePolicyVersion, SetDefaultPolicyVersion: every role the
		// policy is attached to.
		if roles, err = h.Facts.PolicyRoles(ctx, ch.PolicyARN); err != nil {
			if !awsfacts.Permanent(err) {
				return fail("find roles", err)
			}
			out.Result, out.Reason = ResultDropped, err.Error()
			return out, nil
		}
	}
	out.Roles = roles

	trigger := rules.Trigger{EventID: ch.EventID, EventName: ch.EventName, Actor: ch.Actor}
	enforce := h.Config.Mode == ModeEnforce && h.Config.EnforceOnRoleChange
	var reports []rules.Report
	before := map[string][]rules.Finding{}
	usedBy := map[string][]rules.Use{}
	seen := map[string]bool{}
	known := awsfacts.Roles{} // each role read once in this invocation
	var uses *awsfacts.UseLookup
	if h.Uses != nil {
		uses = h.Uses.Begin()
	}
	for _, name := range roles {
		role, missing, err := h.Facts.Role(ctx, name)
		if err != nil {
			return fail("load facts", err)
		}
		known.Put(role, missing)
		// What references the role besides task definitions: it can make
		// the role a secondary one, and the alert names it.
		if role != nil && uses != nil {
			m, err := uses.Fill(ctx, role)
			if err != nil {
				return fail("find role uses", err)
			}
			missing = append(missing, m...)
		}
		// The secondary role itself, judged by the SR rules.
		if role != nil && len(rules.SecondaryClasses(role)) > 0 {
			f := rules.Facts{Account: ch.Account, Region: ch.Region, Trigger: trigger, Role: role, Missing: missing}
			r := rules.Evaluate(f)
			if b, ok := beforeChange(ch, role); ok {
				f.Role = b
				before[r.Subject.ARN] = openFindings(rules.Evaluate(f))
			}
			if len(role.Uses) > 0 {
				usedBy[r.Subject.ARN] = role.Uses
			}
			reports = append(reports, r)
		}
		// The task definitions that use it, judged by the TD rules.
		arns, err := h.uses().TaskDefinitions(ctx, name)
		if err != nil {
			return fail("find task definitions", err)
		}
		for _, arn := range arns {
			if seen[arn] {
				continue
			}
			seen[arn] = true
			f, err := h.Facts.TaskDefinitionFactsWith(ctx, arn, known)
			if err != nil {
				return fail("load facts", err)
			}
			if f.TaskDefinition.Status != "" && f.TaskDefinition.Status != "ACTIVE" {
				h.forget(ctx, name, arn) // deregistered since it was indexed
				continue
			}
			f.Trigger = trigger
			r := rules.Evaluate(f)
			if role != nil {
				if b, ok := beforeChange(ch, role); ok {
					bf := f
					bf.Roles = maps(f.Roles, role.ARN, b)
					before[r.Subject.ARN] = openFindings(rules.Evaluate(bf))
				}
			}
			if r.Action, err = h.enforce(ctx, r, enforce); err != nil {
				return fail("deregister", err)
			}
			reports = append(reports, r)
		}
	}

	out.Result = ResultEvaluated
	var alerting []rules.Report
	for _, r := range reports {
		s := SubjectOutcome{ARN: r.Subject.ARN, Type: r.Subject.Type, Complete: r.Complete, Action: r.Action, Rules: unsuppressed(r), UsedBy: usedBy[r.Subject.ARN]}
		if hs := r.Highest(); hs > 0 {
			s.Highest = hs.String()
		}
		if b, ok := before[r.Subject.ARN]; ok {
			s.New = brought(openFindings(r), b)
		}
		out.Findings += countUnsuppressed(r)
		out.Subjects = append(out.Subjects, s)
		if countUnsuppressed(r) > 0 || !r.Complete || r.Action.Type == rules.ActionDeregister {
			alerting = append(alerting, r)
		}
	}
	if len(alerting) == 0 {
		if len(reports) == 0 {
			out.Reason = "touches no task definition or secondary ECS role"
		}
		return out, nil
	}
	msg, err := alert.RenderChange(alert.Change{
		EventID: ch.EventID, EventName: ch.EventName, Actor: ch.Actor, Account: ch.Account, Region: ch.Region,
		Role: ch.RoleName, Policy: cmpOr(ch.PolicyARN, ch.PolicyName), Roles: roles, Reports: alerting, Before: before, UsedBy: usedBy,
	})
	if err != nil {
		return fail("publish alert", err)
	}
	id, err := h.send(ctx, msg)
	if err != nil {
		return fail("publish alert", err)
	}
	out.Alerted, out.MessageID = true, id
	return out, nil
}

// beforeChange is the role as it was before an attach or an inline put,
// when the event says what was added: the role without that policy. Other
// changes (detach, delete, trust, boundary, a new policy version) do not
// carry the state before.
func beforeChange(ch trail.Change, role *rules.Role) (*rules.Role, bool) {
	var name string
	switch ch.EventName {
	case "AttachRolePolicy":
		name = ch.PolicyARN
	case "PutRolePolicy":
		name = "inline:" + ch.PolicyName
	default:
		return nil, false
	}
	b := *role
	b.Policies = slices.DeleteFunc(slices.Clone(role.Policies), func(p iampolicy.Policy) bool { return p.Name == name })
	b.Attached = slices.DeleteFunc(slices.Clone(role.Attached), func(a string) bool { return a == name })
	return &b, true
}

func maps(m map[string]*rules.Role, key string, v *rules.Role) map[string]*rules.Role {
	out := make(map[string]*rules.Role, len(m))
	for k, r := range m {
		out[k] = r
		if strings.EqualFold(roleName(k), roleName(key)) {
			out[k] = v
		}
	}
	return out
}

func roleName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func unsuppressed(r rules.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		if !f.Suppressed && !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	return ids
}

// openFindings is the report's unsuppressed findings.
func openFindings(r rules.Report) []rules.Finding {
	var out []rules.Finding
	for _, f := range r.Findings {
		if !f.Suppressed {
			out = append(out, f)
		}
	}
	return out
}

// brought lists the rules of the findings in now that before had no
// finding of at their severity or above, as the alert marks them new.
func brought(now, before []rules.Finding) []string {
	var ids []string
	for _, f := range now {
		raised := !slices.ContainsFunc(before, func(b rules.Finding) bool { return b.Rule == f.Rule && b.Severity >= f.Severity })
		if raised && !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	return ids
}

func countUnsuppressed(r rules.Report) int {
	n := 0
	for _, f := range r.Findings {
		if !f.Suppressed {
			n++
		}
	}
	return n
}

func (h *Handler) uses() RoleUses {
	if h.Index != nil {
		return h.Index
	}
	return h.Scan
}

// forget drops a stale index entry; failing to is harmless (the next
// lookup skips the revision again), so it is only logged.
func (h *Handler) forget(ctx context.Context, role, arn string) {
	if h.Index == nil {
		return
	}
	if err := h.Index.Forget(ctx, role, arn); err != nil && h.Log != nil {
		h.Log.Warn("could not drop a stale index entry", "role", role, "taskDefinition", arn, "error", err.Error())
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (h *Handler) logChange(out ChangeOutcome, err error, took time.Duration) {
	if h.Log == nil {
		return
	}
	subjects, _ := json.Marshal(out.Subjects)
	attrs := []any{
		"eventId", out.EventID, "eventName", out.EventName, "result", out.Result, "roles", out.Roles,
		"subjects", json.RawMessage(subjects), "findings", out.Findings, "alerted", out.Alerted,
		"awsCalls", out.Calls, "ms", took.Milliseconds(),
	}
	switch {
	case err != nil:
		h.Log.Error("invocation failed, EventBridge will retry", append(attrs, "error", err.Error())...)
	case out.Result == ResultDropped:
		h.Log.Warn("event dropped", append(attrs, "reason", out.Reason)...)
	default:
		h.Log.Info("role change handled", append(attrs, "reason", out.Reason)...)
	}
}
