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
