package guard

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/roleuse"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// Handler runs the guardrail. Build it once per process (main does) so that
// clients and the facts cache live across invocations.
type Handler struct {
	Facts  *awsfacts.Loader
	SNS    *sns.Client
	ECS    *ecs.Client
	Config Config
	Log    *slog.Logger
	// Calls, when set, counts the AWS calls of each invocation.
	Calls *awsfacts.Calls
	// Index, when set, records each evaluated revision's roles (onregister)
	// and answers which revisions use a role (onrolechange); without it,
	// onrolechange falls back to Scan.
	Index *roleuse.Index
	Scan  *roleuse.Scan
	// Uses, when set, finds what references a changed role besides task
	// definitions (onrolechange): EventBridge rules and schedules, scalable
	// targets, instance profiles. Without it, secondary roles are known by
	// trust and name only.
	Uses *awsfacts.UseFinder
}

// OnRegister handles an EventBridge event for an ECS RegisterTaskDefinition
// call: it evaluates the new revision and its roles, alerts, and in enforce
// mode deregisters it. It takes the raw event so that a malformed one is
// dropped with a message naming it rather than failing in the decoder.
func (h *Handler) OnRegister(ctx context.Context, event json.RawMessage) (Outcome, error) {
	start := time.Now()
	var calls0 int64
	if h.Calls != nil {
		calls0 = h.Calls.Total()
	}
	out, err := h.onRegister(ctx, event)
	if h.Calls != nil {
		out.Calls = h.Calls.Total() - calls0
	}
	h.logOutcome(out, err, time.Since(start))
	return out, err
}

func (h *Handler) onRegister(ctx context.Context, event json.RawMessage) (Outcome, error) {
	ch, err := trail.ParseJSON(event)
	out := Outcome{EventID: ch.EventID, EventName: ch.EventName}
	if err != nil {
		out.Result, out.Reason = ResultDropped, err.Error()
		return out, nil
	}
	if ch.EventName != "RegisterTaskDefinition" || ch.TaskDefinitionARN == "" {
		out.Result, out.Reason = ResultDropped, "event "+ch.EventID+": not a RegisterTaskDefinition event ("+ch.Source+" "+ch.EventName+")"
		return out, nil
	}
	out.Subject = ch.TaskDefinitionARN
	if h.causedByItself(ch) {
		out.Result, out.Reason = ResultIgnored, "caused by ecsguard's own role "+ch.Actor
		return out, nil
	}

	facts, err := h.Facts.TaskDefinitionFacts(ctx, ch.TaskDefinitionARN)
	if err != nil {
		out.Result, out.Reason = ResultFailed, err.Error()
		return out, &RetryableError{Stage: "load facts", Err: err}
	}
	// Index the revision before anything is published, so a failure to do
	// so is retried with the whole event rather than leaving onrolechange
	// blind to it.
	if h.Index != nil && facts.TaskDefinition.Status == "ACTIVE" {
		if err := h.Index.Record(ctx, facts.TaskDefinition); err != nil {
			out.Result, out.Reason = ResultFailed, err.Error()
			return out, &RetryableError{Stage: "index", Err: err}
		}
	}
	facts.Trigger = rules.Trigger{EventID: ch.EventID, EventName: ch.EventName, Actor: ch.Actor}
	if facts.Account == "" {
		facts.Account = ch.Account
	}
	if facts.Region == "" {
		facts.Region = ch.Region
	}
	report := rules.Evaluate(facts)
	report.Action, err = h.enforce(ctx, report, h.Config.Mode == ModeEnforce)
	if err != nil {
		out.Result, out.Reason = ResultFailed, err.Error()
		return out, &RetryableError{Stage: "deregister", Err: err}
	}
	return h.alert(ctx, out, report)
}

func (h *Handler) causedByItself(ch trail.Change) bool {
	return slices.ContainsFunc(h.Config.OwnRoleARNs, ch.CausedBy)
}

// alert publishes the report when it has something to say (an unsuppressed
// finding, an incomplete evaluation, or an action) and fills the outcome.
func (h *Handler) alert(ctx context.Context, out Outcome, r rules.Report) (Outcome, error) {
	out.Result = ResultEvaluated
	out.Subject = r.Subject.ARN
	out.Complete = r.Complete
	out.Action = r.Action
	for _, f := range r.Findings {
		if !f.Suppressed {
			out.Findings++
			if !slices.Contains(out.Rules, f.Rule) {
				out.Rules = append(out.Rules, f.Rule)
			}
		}
	}
	if s := r.Highest(); s > 0 {
		out.Highest = s.String()
	}
	if out.Findings == 0 && r.Complete && r.Action.Type != rules.ActionDeregister {
		return out, nil
	}
	id, err := h.publish(ctx, r)
	if err != nil {
		out.Result, out.Reason = ResultFailed, err.Error()
		return out, &RetryableError{Stage: "publish alert", Err: err}
	}
	out.Alerted, out.MessageID = true, id
	return out, nil
}

func (h *Handler) logOutcome(out Outcome, err error, took time.Duration) {
	if h.Log == nil {
		return
	}
	attrs := []any{
		"eventId", out.EventID, "eventName", out.EventName, "subject", out.Subject,
		"result", out.Result, "findings", out.Findings, "highest", out.Highest,
		"rules", out.Rules, "complete", out.Complete, "alerted", out.Alerted,
		"action", out.Action.Type, "actionResult", out.Action.Result,
		"awsCalls", out.Calls, "ms", took.Milliseconds(),
	}
	switch {
	case err != nil:
		h.Log.Error("invocation failed, EventBridge will retry", append(attrs, "error", err.Error())...)
	case out.Result == ResultDropped:
		h.Log.Warn("event dropped", append(attrs, "reason", out.Reason)...)
	default:
		h.Log.Info("event handled", append(attrs, "reason", out.Reason)...)
	}
}
