package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Principals of the exemption tests.
const (
	platformAdmins = "arn:aws:iam::111122223333:role/platform-admins"
	ciDeploy       = "arn:aws:iam::111122223333:role/ci-deploy"
	passRoleAny    = `{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}`
	reasonSEC42    = "break-glass job, ticket SEC-42"
)

var approvers = []string{platformAdmins, "arn:aws:iam::111122223333:role/sec-*"}

// approval is who set both exemption tags, to these values.
func approval(actor, exempt, reason string) rules.Approval {
	return rules.Approval{Exempt: rules.TagSetting{Value: exempt, Actor: actor}, Reason: rules.TagSetting{Value: reason, Actor: actor}}
}

// An exemption holds only with a reason and, with approvers, only when an
// approver set both of its tags to what they hold now; otherwise the
// finding stays open and its evidence says why.
func TestExemptions(t *testing.T) {
	t.Parallel()
	exempt := func(rules string) map[string]string {
		return map[string]string{"ecsguard:exempt": rules, "ecsguard:exempt-reason": reasonSEC42}
	}
	tests := []struct {
		name       string
		tdTags     map[string]string
		roleTags   map[string]string
		exemptions rules.Exemptions
		suppressed bool
		reason     string // the suppressed reason, or the evidence line of an ignored exemption
	}{
		// Without approvers: a reason is enough.
		{name: "td-tag-rule-id", tdTags: exempt("TD-009"), suppressed: true, reason: reasonSEC42},
		{name: "td-tag-list-lower-case", tdTags: exempt("td-001, td-009"), suppressed: true, reason: reasonSEC42},
		{name: "role-tag-star", roleTags: exempt("*"), suppressed: true, reason: reasonSEC42},
		{name: "star-without-reason", tdTags: map[string]string{"ecsguard:exempt": "*"}, reason: "exemption ignored: no ecsguard:exempt-reason tag"},
		{name: "blank-reason", roleTags: map[string]string{"ecsguard:exempt": "TD-009", "ecsguard:exempt-reason": "  "}, reason: "exemption ignored: no ecsguard:exempt-reason tag"},
		{name: "other-rule", tdTags: exempt("TD-001")},
		{name: "no-tags"},

		// With approvers: who set the tags, as recorded.
		{
			name: "set-by-approver", tdTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(platformAdmins, "TD-009", reasonSEC42)}},
			suppressed: true, reason: reasonSEC42 + " (set by " + platformAdmins + ")",
		},
		{
			name: "set-by-ci-not-approver", tdTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(ciDeploy, "TD-009", reasonSEC42)}},
			reason:     "exemption ignored: set by " + ciDeploy + ", not an exemption approver",
		},
		{
			name: "setter-unknown", tdTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers},
			reason:     "exemption ignored: who set it is not known",
		},
		{
			name: "no-reason-before-approval", tdTags: map[string]string{"ecsguard:exempt": "*"},
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(platformAdmins, "*", "")}},
			reason:     "exemption ignored: no ecsguard:exempt-reason tag",
		},
		{
			// The approver exempted TD-001; someone widened it to TD-009
			// with a call ecsguard did not see.
			name: "rules-changed-since-approval", tdTags: exempt("TD-001,TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(platformAdmins, "TD-001", reasonSEC42)}},
			reason:     "exemption ignored: who set it is not known",
		},
		{
			name: "reason-changed-since-approval", tdTags: map[string]string{"ecsguard:exempt": "TD-009", "ecsguard:exempt-reason": "trust me"},
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(platformAdmins, "TD-009", reasonSEC42)}},
			reason:     "exemption ignored: who set it is not known",
		},
		{
			name: "reason-set-by-someone-else", tdTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: {
				Exempt: rules.TagSetting{Value: "TD-009", Actor: platformAdmins}, Reason: rules.TagSetting{Value: reasonSEC42, Actor: ciDeploy},
			}}},
			reason: "exemption ignored: set by " + ciDeploy + ", not an exemption approver",
		},
		{
			name: "approver-by-pattern", roleTags: exempt("*"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{taskARN: approval("arn:aws:iam::111122223333:role/sec-ops", "*", reasonSEC42)}},
			suppressed: true, reason: reasonSEC42 + " (set by arn:aws:iam::111122223333:role/sec-ops)",
		},
		{
			// A caller without a session issuer is known by its session
			// ARN; it is a session of the approver role (names compare
			// case-insensitively).
			name: "session-of-approver-role", roleTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{
				taskARN: approval("arn:aws:sts::111122223333:assumed-role/Platform-Admins/alice", "TD-009", reasonSEC42),
			}},
			suppressed: true, reason: reasonSEC42 + " (set by arn:aws:sts::111122223333:assumed-role/Platform-Admins/alice)",
		},
		{
			name: "approver-role-of-another-account", tdTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{
				tdARN: approval("arn:aws:iam::444455556666:role/platform-admins", "TD-009", reasonSEC42),
			}},
			reason: "exemption ignored: set by arn:aws:iam::444455556666:role/platform-admins, not an exemption approver",
		},
		{
			// The approval of the task definition says nothing of who
			// tagged the role.
			name: "approval-of-another-resource", roleTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{tdARN: approval(platformAdmins, "TD-009", reasonSEC42)}},
			reason:     "exemption ignored: who set it is not known",
		},
		{
			// One exemption that holds is enough.
			name: "role-approved-task-definition-not", tdTags: exempt("*"), roleTags: exempt("TD-009"),
			exemptions: rules.Exemptions{Approvers: approvers, Approvals: map[string]rules.Approval{
				tdARN: approval(ciDeploy, "*", reasonSEC42), taskARN: approval(platformAdmins, "TD-009", reasonSEC42),
			}},
			suppressed: true, reason: reasonSEC42 + " (set by " + platformAdmins + ")",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := baseline(t)
			addPolicy(t, &f, taskARN, passRoleAny)
			if tc.tdTags != nil {
				f.TaskDefinition.Tags = tc.tdTags
			}
			if tc.roleTags != nil {
				f.Roles[taskARN].Tags = tc.roleTags
			}
			f.Exemptions = tc.exemptions
			r := rules.Evaluate(f)
			i := slices.IndexFunc(r.Findings, func(fd rules.Finding) bool { return fd.Rule == "TD-009" })
			if i < 0 {
				t.Fatalf("no TD-009: %+v", r.Findings)
			}
			fd := r.Findings[i]
			var ignored []string
			for _, e := range fd.Evidence {
				if strings.HasPrefix(e.Detail, "exemption ignored: ") {
					ignored = append(ignored, e.Detail)
				}
			}
			switch {
			case fd.Suppressed != tc.suppressed:
				t.Errorf("suppressed = %v, want %v (evidence %+v)", fd.Suppressed, tc.suppressed, fd.Evidence)
			case tc.suppressed && fd.SuppressedReason != tc.reason:
				t.Errorf("reason = %q, want %q", fd.SuppressedReason, tc.reason)
			case tc.suppressed && len(ignored) != 0:
				t.Errorf("a suppressed finding says its exemption was ignored: %v", ignored)
			case !tc.suppressed && tc.reason == "" && len(ignored) != 0:
				t.Errorf("evidence %v, want no exemption line", ignored)
			case !tc.suppressed && tc.reason != "" && !slices.Equal(ignored, []string{tc.reason}):
				t.Errorf("evidence lines %q, want [%q]", ignored, tc.reason)
			case !tc.suppressed && fd.SuppressedReason != "":
				t.Errorf("an open finding has a suppressed reason %q", fd.SuppressedReason)
			}
			if want := !tc.suppressed; r.ShouldDeregister(rules.High) != want {
				t.Errorf("ShouldDeregister(HIGH) = %v, want %v", !want, want)
			}
		})
	}
}

// A CRITICAL finding is hidden only by an exemption that holds.
func TestExemptCriticalWithoutReason(t *testing.T) {
	t.Parallel()
	f := baseline(t)
	addPolicy(t, &f, taskARN, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	f.TaskDefinition.Tags = map[string]string{"ecsguard:exempt": "*"}
	r := rules.Evaluate(f)
	if r.Highest() != rules.Critical || !r.ShouldDeregister(rules.High) {
		t.Fatalf("highest %s: the CRITICAL finding was hidden: %+v", r.Highest(), r.Findings)
	}
	if fd := r.Findings[0]; fd.Rule != "TD-008" || fd.Evidence[len(fd.Evidence)-1].Detail != "exemption ignored: no ecsguard:exempt-reason tag" {
		t.Errorf("finding %+v", fd)
	}
}

// Exemption tags naming rules the catalog does not have are reported
// (ECSG-003, INFORMATIONAL, never exempted), and the known IDs still work.
func TestUnknownRulesInExemptionTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tdTags   map[string]string
		roleTags map[string]string
		want     map[string]string // resource → the unknown IDs, as the evidence lists them
	}{
		{"typo-on-task-definition", map[string]string{"ecsguard:exempt": "TD-009, TD-09,td-001,, XX-1,TD-09", "ecsguard:exempt-reason": reasonSEC42}, nil, map[string]string{tdARN: "TD-09, XX-1"}},
		{"on-role", nil, map[string]string{"ecsguard:exempt": "*,SR-010", "ecsguard:exempt-reason": reasonSEC42}, map[string]string{taskARN: "SR-010"}},
		{"without-reason-still-reported", map[string]string{"ecsguard:exempt": "TD-100"}, nil, map[string]string{tdARN: "TD-100"}},
		{"star-alone", map[string]string{"ecsguard:exempt": "*", "ecsguard:exempt-reason": reasonSEC42}, nil, nil},
		{"known-ids", map[string]string{"ecsguard:exempt": "td-009, ECSG-001", "ecsguard:exempt-reason": reasonSEC42}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := baseline(t)
			addPolicy(t, &f, taskARN, passRoleAny)
			if tc.tdTags != nil {
				f.TaskDefinition.Tags = tc.tdTags
			}
			if tc.roleTags != nil {
				f.Roles[taskARN].Tags = tc.roleTags
			}
			r := rules.Evaluate(f)
			got := map[string]string{}
			for _, fd := range r.Findings {
				if fd.Rule != rules.UnknownExemptionRule {
					continue
				}
				if fd.Severity != rules.Informational || fd.Suppressed || len(fd.Evidence) != 1 {
					t.Errorf("finding %+v", fd)
				}
				_, ids, _ := strings.Cut(fd.Evidence[0].Detail, ": ")
				got[fd.Resource] = ids
			}
			if len(got) != len(tc.want) {
				t.Fatalf("unknown-rule findings %v, want %v", got, tc.want)
			}
			for res, ids := range tc.want {
				if got[res] != ids {
					t.Errorf("%s: unknown IDs %q, want %q", res, got[res], ids)
				}
			}
			// The known IDs exempt as before.
			i := slices.IndexFunc(r.Findings, func(fd rules.Finding) bool { return fd.Rule == "TD-009" })
			if want := tc.name != "without-reason-still-reported"; r.Findings[i].Suppressed != want {
				t.Errorf("TD-009 suppressed = %v, want %v", r.Findings[i].Suppressed, want)
			}
		})
	}
	t.Run("secondary-role", func(t *testing.T) {
		t.Parallel()
		events := role(t, "arn:aws:iam::111122223333:role/ecsEventsRole",
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, passRoleAny)
		events.Tags = map[string]string{"ecsguard:exempt": "SR-1", "ecsguard:exempt-reason": reasonSEC42}
		r := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: events})
		if !slices.ContainsFunc(r.Findings, func(fd rules.Finding) bool {
			return fd.Rule == rules.UnknownExemptionRule && fd.Resource == events.ARN && strings.HasSuffix(fd.Evidence[0].Detail, ": SR-1")
		}) {
			t.Errorf("findings %+v", r.Findings)
		}
	})
}

func TestApproves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, actor string
		want           bool
	}{
		{platformAdmins, platformAdmins, true},
		{platformAdmins, "arn:aws:iam::111122223333:role/Platform-Admins", true},               // role names are case-insensitive
		{platformAdmins, "arn:aws:iam::111122223333:role/teams/platform-admins", true},         // the path is not compared
		{"arn:aws:iam::111122223333:role/teams/platform-admins", platformAdmins, true},         // on either side
		{platformAdmins, "arn:aws:sts::111122223333:assumed-role/platform-admins/alice", true}, // a session of the role
		{platformAdmins, "arn:aws:iam::111122223333:role/platform-admins-dev", false},          // the whole name
		{platformAdmins, "arn:aws:iam::444455556666:role/platform-admins", false},              // another account
		{platformAdmins, "arn:aws-us-gov:iam::111122223333:role/platform-admins", false},       // another partition
		{platformAdmins, "arn:aws:iam::111122223333:user/platform-admins", false},              // a user of the same name
		{platformAdmins, "", false}, // nobody known
		{"arn:aws:iam::111122223333:role/sec-*", "arn:aws:iam::111122223333:role/sec-ops", true}, // * in the name
		{"arn:aws:iam::111122223333:role/sec-*", "arn:aws:iam::111122223333:role/sec-", true},    // an empty run
		{"arn:aws:iam::111122223333:role/sec-*", "arn:aws:iam::111122223333:role/secops", false}, // not the prefix
		{"arn:aws:iam::111122223333:role/*-admins", "arn:aws:iam::111122223333:role/platform-admins", true},
		{"arn:aws:iam::111122223333:role/*", ciDeploy, true},
		// A session pattern: the session, or the role when any session will do.
		{"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecurityAdmin_*/*", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_SecurityAdmin_0123456789abcdef", true},
		{"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecurityAdmin_*/*", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecurityAdmin_0123/alice@example.com", true},
		{"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", "arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", true},
		{"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", "arn:aws:sts::111122223333:assumed-role/Break-Glass/alice@example.com", true},
		{"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", "arn:aws:sts::111122223333:assumed-role/break-glass/Alice@example.com", false}, // session names are exact
		{"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", "arn:aws:sts::111122223333:assumed-role/break-glass/mallory", false},
		{"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com", "arn:aws:iam::111122223333:role/break-glass", false}, // which session is not known
		// Users and roots: exactly, * aside; * never crosses / or :.
		{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice", true},
		{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/Alice", false},
		{"arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/alice", true},
		{"arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/ops/alice", false},
		{"arn:aws:iam::111122223333:user/*/alice", "arn:aws:iam::111122223333:user/ops/alice", true},
		{"arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:root", true},
		{"arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/root", false},
		{"arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root", false},
	}
	for _, tc := range tests {
		if got := rules.Approves([]string{tc.pattern}, tc.actor); got != tc.want {
			t.Errorf("Approves([%s], %q) = %v, want %v", tc.pattern, tc.actor, got, tc.want)
		}
	}
	if rules.Approves(nil, platformAdmins) {
		t.Error("no approver approves anyone")
	}
	if !rules.Approves([]string{ciDeploy, "arn:aws:iam::111122223333:role/sec-*"}, "arn:aws:iam::111122223333:role/sec-ops") {
		t.Error("the second approver of a list is not read")
	}
}

// ECSG-001, ECSG-002 and ECSG-003 are never exempted.
func TestNotExemptable(t *testing.T) {
	t.Parallel()
	for _, id := range []string{rules.IncompleteRule, rules.TamperingRule, rules.UnknownExemptionRule} {
		if rules.Exemptable(id) {
			t.Errorf("%s is exemptable", id)
		}
	}
	if !rules.Exemptable("TD-008") {
		t.Error("TD-008 is not exemptable")
	}
	f := baseline(t)
	f.TaskDefinition.Tags = map[string]string{"ecsguard:exempt": "*,TD-777", "ecsguard:exempt-reason": reasonSEC42}
	for _, fd := range rules.Evaluate(f).Findings {
		if fd.Suppressed && !rules.Exemptable(fd.Rule) {
			t.Errorf("%s suppressed", fd.Rule)
		}
	}
}
