package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		context map[string]any
		check   func(t *testing.T, s Settings)
		errs    []string // substrings of the error; none: valid
	}{
		{"defaults are safe", nil, func(t *testing.T, s Settings) {
			if s.Mode != "alert" || s.EnforceMinSeverity != "HIGH" || s.DryRun || s.EnforceOnRoleChange || s.HomeRegion != "us-east-1" ||
				!slices.Equal(s.Regions, []string{"us-east-1"}) || s.LogRetentionDays != 365 || s.SweepSchedule != "rate(1 day)" || s.AssetDir != "../bin" || len(s.Emails) != 0 ||
				s.EmailMinSeverity != "" || len(s.ExemptionApprovers) != 0 {
				t.Errorf("defaults = %+v", s)
			}
			if f := s.ForwardingRegions(); len(f) != 0 {
				t.Errorf("forwarding regions = %v", f)
			}
		}, nil},
		{"cdk.json values", map[string]any{
			"ecsguard:mode": "enforce", "ecsguard:enforceMinSeverity": "critical", "ecsguard:dryRun": true,
			"ecsguard:emails": []any{"sec@example.com", " ops@example.com ", "sec@example.com"}, "ecsguard:logRetentionDays": float64(90),
			"ecsguard:homeRegion": "eu-west-1", "ecsguard:regions": []any{"us-east-1", "ap-southeast-2"},
		}, func(t *testing.T, s Settings) {
			if s.Mode != "enforce" || s.EnforceMinSeverity != "CRITICAL" || !s.DryRun || s.LogRetentionDays != 90 {
				t.Errorf("settings = %+v", s)
			}
			if !slices.Equal(s.Emails, []string{"sec@example.com", "ops@example.com"}) {
				t.Errorf("emails = %v", s.Emails)
			}
			if !slices.Equal(s.Regions, []string{"eu-west-1", "us-east-1", "ap-southeast-2"}) {
				t.Errorf("regions = %v", s.Regions)
			}
			if f := s.ForwardingRegions(); !slices.Equal(f, []string{"us-east-1", "ap-southeast-2"}) {
				t.Errorf("forwarding regions = %v", f)
			}
		}, nil},
		{"-c strings", map[string]any{
			"ecsguard:mode": "ENFORCE", "ecsguard:enforceOnRoleChange": "true", "ecsguard:emails": "a@example.com,b@example.com",
			"ecsguard:regions": "us-east-1, eu-central-1", "ecsguard:logRetentionDays": "30",
			"ecsguard:slackWorkspaceId": "T012ABCDEF3", "ecsguard:slackChannelId": "C012ABCDEF3",
		}, func(t *testing.T, s Settings) {
			if s.Mode != "enforce" || !s.EnforceOnRoleChange || len(s.Emails) != 2 || s.LogRetentionDays != 30 || s.SlackChannelID != "C012ABCDEF3" {
				t.Errorf("settings = %+v", s)
			}
			// IAM events arrive in us-east-1, the home region: only
			// eu-central-1 forwards.
			if f := s.ForwardingRegions(); !slices.Equal(f, []string{"eu-central-1"}) {
				t.Errorf("forwarding regions = %v", f)
			}
		}, nil},
		{"home elsewhere forwards IAM from us-east-1", map[string]any{"ecsguard:homeRegion": "eu-west-1"}, func(t *testing.T, s Settings) {
			if !slices.Equal(s.Regions, []string{"eu-west-1"}) || !slices.Equal(s.ForwardingRegions(), []string{"us-east-1"}) {
				t.Errorf("regions %v, forwarding %v", s.Regions, s.ForwardingRegions())
			}
		}, nil},
		{"every problem reported", map[string]any{
			"ecsguard:mode": "block", "ecsguard:enforceMinSeverity": "SEVERE", "ecsguard:dryRun": "maybe",
			"ecsguard:emails": []any{"not-an-address"}, "ecsguard:slackWorkspaceId": "T012ABCDEF3",
			"ecsguard:homeRegion": "Europe", "ecsguard:regions": []any{"us-east-1", 7.0}, "ecsguard:logRetentionDays": float64(100),
			"ecsguard:sweepSchedule": "daily",
		}, nil, []string{
			`ecsguard:mode: want alert or enforce, got "block"`, "SEVERE", `want true or false, got "maybe"`,
			`"not-an-address" is not an email address`, "set both ecsguard:slackWorkspaceId and ecsguard:slackChannelId",
			`"Europe" is not a region`, "want a list of strings, got 7", "not 100", `got "daily"`,
		}},
		{"exemption approvers and email severity", map[string]any{
			"ecsguard:emailMinSeverity": "medium",
			"ecsguard:exemptionApprovers": []any{
				"arn:aws:iam::111122223333:role/platform-admins", "arn:aws:iam::111122223333:role/sec-*",
				"arn:aws:iam::111122223333:role/teams/security/auditor", "arn:aws:iam::111122223333:user/alice",
				"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_*/*",
				"arn:aws:sts::111122223333:assumed-role/break-glass/alice@example.com",
				"arn:aws:iam::111122223333:root", "arn:aws-us-gov:iam::111122223333:role/sec-*",
			},
		}, func(t *testing.T, s Settings) {
			if s.EmailMinSeverity != "MEDIUM" || len(s.ExemptionApprovers) != 8 || s.ExemptionApprovers[1] != "arn:aws:iam::111122223333:role/sec-*" {
				t.Errorf("settings = %+v", s)
			}
		}, nil},
		{"exemption approvers from -c", map[string]any{
			"ecsguard:exemptionApprovers": "arn:aws:iam::111122223333:role/a, arn:aws:iam::111122223333:role/b",
		}, func(t *testing.T, s Settings) {
			if !slices.Equal(s.ExemptionApprovers, []string{"arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"}) {
				t.Errorf("approvers = %v", s.ExemptionApprovers)
			}
		}, nil},
		{"every bad approver reported", map[string]any{
			"ecsguard:emailMinSeverity": "urgent",
			"ecsguard:exemptionApprovers": []any{
				"platform-admins", "*", "arn:aws:iam::*:role/admin", "arn:aws:iam::111122223333:group/admins",
				"arn:aws:iam::111122223333:policy/admin", "arn:aws:s3:::bucket", "arn:aws:sts::111122223333:assumed-role/admin",
				"arn:aws:iam::111122223333:role/a,b", "arn:aws:iam::111122223333:role/", "arn:aws:iam::111122223333:root/x",
			},
		}, nil, []string{
			`ecsguard:emailMinSeverity: want one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, got "URGENT"`,
			`"platform-admins" is not the ARN`, `"*" is not the ARN`, `"arn:aws:iam::*:role/admin" is not`,
			`"arn:aws:iam::111122223333:group/admins" is not`, `"arn:aws:iam::111122223333:policy/admin" is not`,
			`"arn:aws:s3:::bucket" is not`, `"arn:aws:sts::111122223333:assumed-role/admin" is not`,
			`"arn:aws:iam::111122223333:role/a,b" holds a comma`, `"arn:aws:iam::111122223333:role/" is not`,
			`"arn:aws:iam::111122223333:root/x" is not`,
		}},
		{"too many approvers", map[string]any{
			"ecsguard:exemptionApprovers": func() string {
				var b strings.Builder
				for i := range 40 {
					fmt.Fprintf(&b, "arn:aws:iam::111122223333:role/approver-with-a-long-name-%02d,", i)
				}
				return b.String()
			}(),
		}, nil, []string{"Lambda holds 4 KB of environment"}},
		{"enforcement settings need enforce mode", map[string]any{"ecsguard:dryRun": true}, nil, []string{"only apply with mode enforce"}},
		{"bad Slack ids", map[string]any{"ecsguard:slackWorkspaceId": "workspace", "ecsguard:slackChannelId": "C1"}, nil, []string{"not a Slack workspace id"}},
		{"wrong types", map[string]any{"ecsguard:mode": 1.0, "ecsguard:emails": true, "ecsguard:logRetentionDays": []any{}}, nil,
			[]string{"ecsguard:mode: want a string", "ecsguard:emails: want a list", "ecsguard:logRetentionDays: want a number"}},
		{"account mode by default", nil, func(t *testing.T, s Settings) {
			if s.Deployment != "account" || s.OrganizationMode() || fmt.Sprint(s.Organization) != fmt.Sprint(Organization{}) {
				t.Errorf("deployment %q, organization %+v", s.Deployment, s.Organization)
			}
		}, nil},
		{"organization defaults", map[string]any{
			"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-a1b2c3d4e5", "ecsguard:targetOus": []any{"r-ab12"},
		}, func(t *testing.T, s Settings) {
			want := Organization{ID: "o-a1b2c3d4e5", MemberRoleName: "ecsguard-member", TargetOUs: []string{"r-ab12"},
				MemberRegions: []string{"us-east-1"}, StackSetCallAs: "DELEGATED_ADMIN"}
			if !s.OrganizationMode() || fmt.Sprint(s.Organization) != fmt.Sprint(want) {
				t.Errorf("organization %+v, want %+v", s.Organization, want)
			}
			if !slices.Equal(s.Regions, []string{"us-east-1"}) || len(s.ForwardingRegions()) != 0 {
				t.Errorf("regions %v, forwarding %v", s.Regions, s.ForwardingRegions())
			}
		}, nil},
		{"organization from -c strings", map[string]any{
			"ecsguard:deployment": "Organization", "ecsguard:organizationId": "o-zz99yy88xx77",
			"ecsguard:targetOus": "ou-ab12-cdef3456, r-ab12", "ecsguard:memberRoleName": "sec+ecsguard@reader",
			"ecsguard:homeRegion": "eu-west-1", "ecsguard:memberRegions": "eu-west-1,ap-southeast-2",
			"ecsguard:accounts": "111122223333, 444455556666", "ecsguard:stackSetCallAs": "self",
		}, func(t *testing.T, s Settings) {
			org := s.Organization
			if org.MemberRoleName != "sec+ecsguard@reader" || org.StackSetCallAs != "SELF" || !slices.Equal(org.TargetOUs, []string{"ou-ab12-cdef3456", "r-ab12"}) ||
				!slices.Equal(org.Accounts, []string{"111122223333", "444455556666"}) {
				t.Errorf("organization %+v", org)
			}
			// IAM events arrive in us-east-1: it is always a member
			// region, and the home account is watched where the members
			// are.
			if !slices.Equal(org.MemberRegions, []string{"eu-west-1", "ap-southeast-2", "us-east-1"}) {
				t.Errorf("member regions %v", org.MemberRegions)
			}
			if !slices.Equal(s.Regions, []string{"eu-west-1", "ap-southeast-2", "us-east-1"}) || !slices.Equal(s.ForwardingRegions(), []string{"ap-southeast-2", "us-east-1"}) {
				t.Errorf("regions %v, forwarding %v", s.Regions, s.ForwardingRegions())
			}
		}, nil},
		{"member regions default to the watched regions", map[string]any{
			"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-a1b2c3d4e5", "ecsguard:targetOus": "r-ab12",
			"ecsguard:homeRegion": "eu-west-1", "ecsguard:regions": []any{"eu-central-1"},
		}, func(t *testing.T, s Settings) {
			if !slices.Equal(s.Organization.MemberRegions, []string{"eu-west-1", "eu-central-1", "us-east-1"}) {
				t.Errorf("member regions %v", s.Organization.MemberRegions)
			}
		}, nil},
		{"organization: every problem reported", map[string]any{
			"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-ABC", "ecsguard:memberRoleName": "ecsguard member",
			"ecsguard:targetOus": []any{"ou-ab12", "111122223333", "r-ab12"}, "ecsguard:memberRegions": []any{"Mars"},
			"ecsguard:accounts": []any{"12345", "111122223333"}, "ecsguard:stackSetCallAs": "ADMIN",
		}, nil, []string{
			`ecsguard:organizationId: "o-ABC" is not an organization id`, `ecsguard:memberRoleName: "ecsguard member" is not an IAM role name`,
			`ecsguard:targetOus: "ou-ab12" is not an OU id`, `ecsguard:targetOus: "111122223333" is not an OU id`,
			`ecsguard:memberRegions: "Mars" is not a region`, `ecsguard:accounts: "12345" is not an account id`,
			`ecsguard:stackSetCallAs: want SELF (the management account) or DELEGATED_ADMIN (a delegated administrator), got "ADMIN"`,
		}},
		{"organization needs its id and OUs", map[string]any{"ecsguard:deployment": "organization"}, nil, []string{
			"ecsguard:organizationId: required with ecsguard:deployment organization", "ecsguard:targetOus: required with ecsguard:deployment organization",
		}},
		{"organization settings need organization mode", map[string]any{
			"ecsguard:organizationId": "o-a1b2c3d4e5", "ecsguard:targetOus": []any{"r-ab12"}, "ecsguard:accounts": []any{},
		}, nil, []string{
			"ecsguard:organizationId: only applies with ecsguard:deployment organization", "ecsguard:targetOus: only applies with ecsguard:deployment organization",
		}},
		{"bad deployment", map[string]any{"ecsguard:deployment": "org"}, nil, []string{`ecsguard:deployment: want account or organization, got "org"`}},
		{"accounts share the approvers' room", map[string]any{
			"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-a1b2c3d4e5", "ecsguard:targetOus": "r-ab12",
			"ecsguard:accounts": func() string {
				var b strings.Builder
				for i := range 160 {
					fmt.Fprintf(&b, "%012d,", 100000000000+i)
				}
				return b.String()
			}(),
		}, nil, []string{"ecsguard:accounts: 2079 characters with ecsguard:exemptionApprovers"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSettings(func(k string) any { return tc.context[k] })
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, s)
				return
			}
			if err == nil {
				t.Fatalf("no error for %v: %+v", tc.context, s)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestSeveritiesFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min  string
		want []string
	}{
		{"CRITICAL", []string{"CRITICAL"}},
		{"HIGH", []string{"CRITICAL", "HIGH"}},
		{"INFORMATIONAL", []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}},
		{"", nil},
		{"SEVERE", nil},
	}
	for _, tc := range tests {
		if got := SeveritiesFrom(tc.min); !slices.Equal(got, tc.want) {
			t.Errorf("SeveritiesFrom(%q) = %v, want %v", tc.min, got, tc.want)
		}
	}
}
