package guard

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// enforce decides and, unless in dry run, carries out the deregistration of
// the evaluated revision. It never deregisters on an incomplete report
// (rules.Report.ShouldDeregister). A deregistration refused for good (access
// denied) is reported in the alert; a transient failure that outlasted the
// SDK's retries is returned, so the invocation fails before alerting and
// EventBridge retries the whole evaluation.
func (h *Handler) enforce(ctx context.Context, r rules.Report, enabled bool) (rules.Action, error) {
	min := h.Config.EnforceMinSeverity
	switch {
	case !enabled:
		return rules.Action{Type: rules.ActionNone, Reason: "mode " + h.Config.Mode}, nil
	case !r.Complete:
		return rules.Action{Type: rules.ActionNone, Reason: "evaluation incomplete: enforcement needs complete evidence"}, nil
	case !r.ShouldDeregister(min):
		return rules.Action{Type: rules.ActionNone, Reason: fmt.Sprintf("no unsuppressed finding at or above %s", min)}, nil
	}
	reason := fmt.Sprintf("%s finding at or above ENFORCE_MIN_SEVERITY %s", r.Highest(), min)
	if h.Config.DryRun {
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}, Reason: reason}, nil
	}
	_, err := h.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(r.Subject.ARN)}, awsfacts.InRegionOf(r.Subject.ARN))
	switch {
	case err == nil:
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: reason}, nil
	case awsfacts.Permanent(err):
		return rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: err.Error()}, Reason: reason}, nil
	}
	return rules.Action{}, err
}
