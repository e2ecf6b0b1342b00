package guard

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// The exemption tags an approval records.
var exemptionTags = []string{rules.TagExempt, rules.TagExemptReason}

// recordApproval records, in the event ledger, who set the exemption tags
// the call set: the registration whose request carried them, an ECS
// TagResource of the revision, an IAM TagRole or CreateRole of the role.
// It runs for every such call, with EXEMPTION_APPROVERS set or not, so
// that approvers set later find who set the tags already there. It returns
// what it recorded, for the log.
func (h *Handler) recordApproval(ctx context.Context, ch trail.Change) (string, error) {
	tags := map[string]string{}
	for _, k := range exemptionTags {
		if v, ok := ch.Tags[k]; ok {
			tags[k] = v
		}
	}
	if len(tags) == 0 || h.Ledger == nil {
		return "", nil
	}
	var resource string
	switch {
	case ch.TaskDefinitionARN != "":
		resource = ch.TaskDefinitionARN
	case ch.Source == trail.SourceIAM && ch.RoleName != "":
		resource = roleApprovalKey(cmpOr(arnPartition(ch.Actor), "aws"), ch.Account, ch.RoleName)
	default:
		return "", nil
	}
	if err := h.Ledger.RecordApproval(ctx, approvalKey(resource), tags, ch.Actor, ch.EventID); err != nil {
		return "", err
	}
	keys := slices.Sorted(maps.Keys(tags))
	return fmt.Sprintf("%s set on %s by %s", strings.Join(keys, " and "), resource, cmpOr(ch.Actor, "an unknown caller")), nil
}

// exemptions gives every subject the exemption approvers and, when there
// are approvers, the approvals of the task definitions and roles that carry
// an exemption tag, read from the event ledger in one batch. Approvals that
// cannot be read for good (access denied) make no exemption hold, and a
// note says so; a transient failure is returned, to be retried.
func (h *Handler) exemptions(ctx context.Context, subjects []assess.Subject) ([]string, error) {
	approvers := h.Config.ExemptionApprovers
	if len(approvers) == 0 {
		return nil, nil
	}
	var keys []string
	for _, s := range subjects {
		for _, t := range exemptionTagged(s.Facts) {
			keys = append(keys, approvalKey(t))
		}
	}
	var got map[string]ledger.Approval
	var notes []string
	if len(keys) > 0 {
		var err error
		got, err = h.Ledger.Approvals(ctx, keys)
		switch {
		case err != nil && !awsfacts.Permanent(err):
			return nil, err
		case err != nil:
			notes = append(notes, "the exemption approvals could not be read, so no exemption holds (EXEMPTION_APPROVERS is set): "+err.Error())
		}
	}
	set := func(f *rules.Facts) {
		f.Exemptions = rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{}}
		for _, arn := range exemptionTagged(*f) {
			if a, ok := got[approvalKey(arn)]; ok {
				f.Exemptions.Approvals[arn] = rules.Approval{Exempt: setting(a[rules.TagExempt]), Reason: setting(a[rules.TagExemptReason])}
			}
		}
	}
	for i := range subjects {
		set(&subjects[i].Facts)
		if subjects[i].Before != nil {
			set(subjects[i].Before)
		}
	}
	return notes, nil
}

func setting(s ledger.TagSetting) rules.TagSetting {
	return rules.TagSetting{Value: s.Value, Actor: s.Actor}
}

// exemptionTagged lists the ARNs, as the facts name them, of the subject
// and its roles that carry an exemption tag.
func exemptionTagged(f rules.Facts) []string {
	var out []string
	add := func(arn string, tags map[string]string) {
		if _, ok := tags[rules.TagExempt]; ok && arn != "" && !slices.Contains(out, arn) {
			out = append(out, arn)
		}
	}
	if td := f.TaskDefinition; td != nil {
		add(td.ARN, td.Tags)
	}
	for _, arn := range slices.Sorted(maps.Keys(f.Roles)) {
		if r := f.Roles[arn]; r != nil {
			add(arn, r.Tags)
			add(r.ARN, r.Tags)
		}
	}
	if f.Role != nil {
		add(f.Role.ARN, f.Role.Tags)
	}
	return out
}

// approvalKey names a resource in the approval items: a task definition
// revision by its ARN, a role by partition, account and lower-cased name,
// its path left out. IAM events name a role by its name alone, and IAM
// keeps role names unique in an account whatever their case and path.
func approvalKey(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) == 6 && p[2] == "iam" && strings.HasPrefix(p[5], "role/") {
		return roleApprovalKey(p[1], p[4], p[5][strings.LastIndexByte(p[5], '/')+1:])
	}
	return arn
}

func roleApprovalKey(partition, account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + strings.ToLower(name)
}

// arnPartition is the partition of an ARN, "" for none.
func arnPartition(arn string) string {
	if p := strings.SplitN(arn, ":", 6); len(p) == 6 {
		return p[1]
	}
	return ""
}

// ignoredExemptions lists, for the log line, the open findings whose
// exemption did not hold, with why.
func (r *run) ignoredExemptions() []string {
	var out []string
	for _, v := range r.a.Verdicts {
		for _, f := range v.Open() {
			for _, e := range f.Evidence {
				if strings.HasPrefix(e.Detail, "exemption ignored: ") {
					out = append(out, fmt.Sprintf("%s %s on %s: %s", f.Rule, f.Severity, f.Resource, e.Detail))
				}
			}
		}
	}
	return out
}
