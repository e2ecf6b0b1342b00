package guard

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// importFindings sends the findings of every verdict to Security Hub:
// those raised, and those of the subject's last import that are gone
// (resolved by a fix, or by the revision's deregistration), then records
// what each subject has active. Only the deployment's own account is
// imported: BatchImportFindings with the default product takes the
// findings of the calling account alone
// (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html);
// a member account's verdicts get a note instead.
func (h *Handler) importFindings(ctx context.Context, r *run) error {
	if h.Hub == nil || len(r.a.Verdicts) == 0 {
		return nil
	}
	verdicts, err := h.ownVerdicts(ctx, &r.a)
	if err != nil || len(verdicts) == 0 {
		return err
	}
	subjects := make([]string, 0, len(verdicts))
	for _, v := range verdicts {
		subjects = append(subjects, v.Report.Subject.ARN)
	}
	before, err := h.Hub.States(ctx, subjects)
	if err != nil {
		return err
	}
	now := time.Now()
	var send []asff.Finding
	after := map[string]asff.State{}
	for _, v := range verdicts {
		arn := v.Report.Subject.ARN
		fs, st := asff.Plan(asff.Evaluation{Report: v.Report, Gone: gone(v), Before: before[arn], Now: now})
		send = append(send, fs...)
		after[arn] = st
	}
	if err := h.Hub.Import(ctx, send); err != nil {
		return err
	}
	r.imported = len(send)
	for arn, st := range after {
		if sameState(before[arn], st) {
			continue
		}
		if err := h.Hub.Save(ctx, arn, st); err != nil {
			return err
		}
	}
	return nil
}

// ownVerdicts are the verdicts on the deployment's own account; the
// others are noted as not imported.
func (h *Handler) ownVerdicts(ctx context.Context, a *assess.Assessment) ([]assess.Verdict, error) {
	if h.Config.MemberRoleName == "" || h.Accounts == nil {
		return a.Verdicts, nil
	}
	self, err := h.Accounts.Self(ctx)
	if err != nil {
		return nil, err
	}
	var own []assess.Verdict
	skipped := map[string]bool{}
	for _, v := range a.Verdicts {
		acct := cmpOr(v.Report.Account, arnAccount(v.Report.Subject.ARN))
		if acct == self || acct == "" {
			own = append(own, v)
		} else if !skipped[acct] {
			skipped[acct] = true
			a.Notes = append(a.Notes, fmt.Sprintf("Security Hub: the findings of account %s were not imported: it takes the findings of the deployment's own account only", acct))
		}
	}
	return own, nil
}

// gone says the verdict's revision is deregistered, by this event or
// before it: its findings are resolved.
func gone(v assess.Verdict) bool {
	if v.Report.Subject.Type != rules.SubjectTaskDefinition {
		return false
	}
	return v.Report.Action.Result.Kind == rules.Deregistered || v.Status == "INACTIVE" || v.Status == "DELETE_IN_PROGRESS"
}

func sameState(a, b asff.State) bool {
	return maps.EqualFunc(a, b, func(x, y asff.Seen) bool { return x.Severity == y.Severity && x.CreatedAt.Equal(y.CreatedAt) })
}
