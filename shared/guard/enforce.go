package guard

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// enforce decides, for every verdict, what enforcement does, and carries
// it out unless in dry run. It never deregisters on an incomplete report
// (assess.Verdict.Enforceable), nor twice for one event: what an earlier
// delivery deregistered is in the event's record, each deregistration
// recorded there before ECS is asked. A deregistration
// refused for good (access denied) is reported in the alert; a transient
// failure that outlasted the SDK's retries is returned, so the invocation
// fails before alerting and EventBridge retries it.
func (h *Handler) enforce(ctx context.Context, a *assess.Assessment, rec *ledger.Record) error {
	enabled := h.Config.Mode == ModeEnforce && (a.Event.Kind == assess.Registration || h.Config.EnforceOnRoleChange)
	for i := range a.Verdicts {
		v := &a.Verdicts[i]
		if !v.Report.Action.Result.IsZero() || v.Report.Action.Reason != "" {
			continue // decided before: by an earlier delivery, or INACTIVE already
		}
		act, err := h.decide(ctx, *v, enabled, a.Event.Kind, rec)
		if err != nil {
			return err
		}
		v.Report.Action = act
	}
	return nil
}

func (h *Handler) decide(ctx context.Context, v assess.Verdict, enabled bool, kind assess.Kind, rec *ledger.Record) (rules.Action, error) {
	act := h.policy(v, enabled, kind)
	arn := v.Report.Subject.ARN
	begun := v.Report.Subject.Type == rules.SubjectTaskDefinition && rec.HasDeregistered(arn)
	switch {
	case begun && (v.Status == "INACTIVE" || v.Status == "DELETE_IN_PROGRESS"):
		// An earlier delivery of this event deregistered it: reported as
		// that delivery did when the verdict is the same, so the alert
		// renders alike and is not published twice.
		if act.Type != rules.ActionDeregister {
			act.Reason = "by an earlier delivery of this event"
		}
		act.Type, act.Result = rules.ActionDeregister, rules.ActionResult{Kind: rules.Deregistered}
		return act, nil
	case act.Type != rules.ActionDeregister:
		return act, nil
	case h.Config.DryRun:
		act.Result = rules.ActionResult{Kind: rules.WouldDeregister}
		return act, nil
	}
	// The record names the revision before ECS is asked: a retry after a
	// failure in between knows the INACTIVE revision as this event's, and
	// one whose call did not go through (still ACTIVE) asks again.
	if !begun {
		if err := rec.AddDeregistered(ctx, arn); err != nil {
			return rules.Action{}, err
		}
	}
	rd, err := h.in(ctx, arnAccount(arn))
	if err == nil {
		_, err = rd.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}, awsfacts.InRegionOf(arn))
	}
	switch {
	case err == nil:
		act.Result = rules.ActionResult{Kind: rules.Deregistered}
		return act, nil
	case awsfacts.Permanent(err):
		act.Result = rules.ActionResult{Kind: rules.Failed, Detail: err.Error()}
		return act, nil
	}
	return rules.Action{}, err
}

// policy is what the settings and the verdict call for, before anything is
// done: deregister, with why, or nothing, with why not.
func (h *Handler) policy(v assess.Verdict, enabled bool, kind assess.Kind) rules.Action {
	min := h.Config.EnforceMinSeverity
	r := v.Report
	switch {
	case r.Subject.Type != rules.SubjectTaskDefinition:
		return rules.Action{Type: rules.ActionNone}
	case h.Config.Mode != ModeEnforce:
		return rules.Action{Type: rules.ActionNone, Reason: "mode " + h.Config.Mode}
	case !enabled && kind == assess.RoleChange:
		return rules.Action{Type: rules.ActionNone, Reason: "a role change never deregisters unless ENFORCE_ON_ROLE_CHANGE=true"}
	case !r.Complete:
		return rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"}
	case !v.Enforceable(min):
		return rules.Action{Type: rules.ActionNone, Reason: fmt.Sprintf("no unsuppressed finding at or above %s", min)}
	}
	reason := fmt.Sprintf("%s finding at or above ENFORCE_MIN_SEVERITY %s", r.Highest(), min)
	if kind == assess.RoleChange {
		reason += " (ENFORCE_ON_ROLE_CHANGE=true)"
	}
	return rules.Action{Type: rules.ActionDeregister, Reason: reason}
}
