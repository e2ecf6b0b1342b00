package guard

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// enforce decides and, unless in dry run, carries out the deregistration of
// the evaluated revision. It never deregisters on an incomplete report
// (rules.Report.ShouldDeregister). A failed deregistration is reported in
// the alert, not retried: the alert is the primary control, and running
// tasks keep running on an INACTIVE revision anyway.
func (h *Handler) enforce(ctx context.Context, r rules.Report, enabled bool) rules.Action {
	min := h.Config.EnforceMinSeverity
	switch {
	case !enabled:
		return rules.Action{Type: "none", Reason: "mode " + h.Config.Mode}
	case !r.Complete:
		return rules.Action{Type: "none", Reason: "evaluation incomplete: enforcement needs complete evidence"}
	case !r.ShouldDeregister(min):
		return rules.Action{Type: "none", Reason: fmt.Sprintf("no unsuppressed finding at or above %s", min)}
	}
	reason := fmt.Sprintf("%s finding at or above ENFORCE_MIN_SEVERITY %s", r.Highest(), min)
	if h.Config.DryRun {
		return rules.Action{Type: "deregister", Result: "would deregister (dry run)", Reason: reason}
	}
	_, err := h.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(r.Subject.ARN)})
	if err != nil {
		return rules.Action{Type: "deregister", Result: "failed: " + err.Error(), Reason: reason}
	}
	return rules.Action{Type: "deregister", Result: "deregistered", Reason: reason}
}
