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
// delivery deregistered is in the event's record, and each new
// deregistration is recorded before the alert goes out. A deregistration
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
	min := h.Config.EnforceMinSeverity
	r := v.Report
	switch {
	case r.Subject.Type != rules.SubjectTaskDefinition:
		return rules.Action{Type: rules.ActionNone}, nil
	case h.Config.Mode != ModeEnforce:
		return rules.Action{Type: rules.ActionNone, Reason: "mode " + h.Config.Mode}, nil
	case !enabled && kind == assess.RoleChange:
		return rules.Action{Type: rules.ActionNone, Reason: "a role change never deregisters unless ENFORCE_ON_ROLE_CHANGE=true"}, nil
	case !r.Complete:
		return rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"}, nil
	case !v.Enforceable(min):
		return rules.Action{Type: rules.ActionNone, Reason: fmt.Sprintf("no unsuppressed finding at or above %s", min)}, nil
	}
	reason := fmt.Sprintf("%s finding at or above ENFORCE_MIN_SEVERITY %s", r.Highest(), min)
	if kind == assess.RoleChange {
		reason += " (ENFORCE_ON_ROLE_CHANGE=true)"
	}
	if h.Config.DryRun {
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}, Reason: reason}, nil
	}
	_, err := h.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(r.Subject.ARN)}, awsfacts.InRegionOf(r.Subject.ARN))
	switch {
	case err == nil:
		if err := rec.AddDeregistered(ctx, r.Subject.ARN); err != nil {
			return rules.Action{}, err
		}
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: reason}, nil
	case awsfacts.Permanent(err):
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: err.Error()}, Reason: reason}, nil
	}
	return rules.Action{}, err
}
