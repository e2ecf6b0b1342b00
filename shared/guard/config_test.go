package guard_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	const topic = "arn:aws:sns:us-east-1:111122223333:ecsguard-findings"
	tests := []struct {
		name    string
		env     map[string]string
		want    guard.Config
		wantErr string
	}{
		{"defaults", map[string]string{"TOPIC_ARN": topic}, guard.Config{TopicARN: topic, Mode: "alert", EnforceMinSeverity: rules.High}, ""},
		{"enforce-critical-dry-run", map[string]string{"TOPIC_ARN": topic, "MODE": "Enforce", "ENFORCE_MIN_SEVERITY": "critical", "DRY_RUN": "true", "ENFORCE_ON_ROLE_CHANGE": "1", "ECSGUARD_ROLE_ARNS": " arn:aws:iam::1:role/a , arn:aws:iam::1:role/b"},
			guard.Config{TopicARN: topic, Mode: "enforce", EnforceMinSeverity: rules.Critical, DryRun: true, EnforceOnRoleChange: true, OwnRoleARNs: []string{"arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"}}, ""},
		{"regions", map[string]string{"TOPIC_ARN": topic, "REGIONS": "us-east-1, eu-west-1,,us-east-1"}, guard.Config{TopicARN: topic, Mode: "alert", EnforceMinSeverity: rules.High, Regions: []string{"us-east-1", "eu-west-1"}}, ""},
		{"bad-region", map[string]string{"TOPIC_ARN": topic, "REGIONS": "us-east-1,Europe"}, guard.Config{}, `REGIONS: "Europe" is not a region`},
		{"no-topic", map[string]string{}, guard.Config{}, "TOPIC_ARN is required"},
		{"bad-mode", map[string]string{"TOPIC_ARN": topic, "MODE": "block"}, guard.Config{}, `MODE "block"`},
		{"bad-severity", map[string]string{"TOPIC_ARN": topic, "ENFORCE_MIN_SEVERITY": "urgent"}, guard.Config{}, "ENFORCE_MIN_SEVERITY"},
		{"bad-bool", map[string]string{"TOPIC_ARN": topic, "DRY_RUN": "maybe"}, guard.Config{}, `DRY_RUN "maybe"`},
		{"security-hub", map[string]string{"TOPIC_ARN": topic, "SECURITY_HUB": "true", "IDEMPOTENCY_TABLE": "events"},
			guard.Config{TopicARN: topic, Mode: "alert", EnforceMinSeverity: rules.High, SecurityHub: true, LedgerTable: "events"}, ""},
		{"security-hub-without-ledger", map[string]string{"TOPIC_ARN": topic, "SECURITY_HUB": "true"}, guard.Config{}, "SECURITY_HUB needs IDEMPOTENCY_TABLE"},
		{"every-error-at-once", map[string]string{"MODE": "x", "DRY_RUN": "y"}, guard.Config{}, "TOPIC_ARN is required: the SNS topic for alerts\nMODE \"x\": want \"alert\" or \"enforce\"\nDRY_RUN \"y\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := guard.ConfigFromEnv(getenv(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TopicARN != tc.want.TopicARN || got.Mode != tc.want.Mode || got.EnforceMinSeverity != tc.want.EnforceMinSeverity ||
				got.DryRun != tc.want.DryRun || got.EnforceOnRoleChange != tc.want.EnforceOnRoleChange || !slices.Equal(got.OwnRoleARNs, tc.want.OwnRoleARNs) ||
				!slices.Equal(got.Regions, tc.want.Regions) {
				t.Errorf("ConfigFromEnv = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The functions retry throttled calls in the SDK's adaptive mode, which
// slows a fan-out down instead of failing it.
func TestLoadAWSConfigAdaptiveRetry(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg, err := guard.LoadAWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Retryer()
	if _, ok := r.(*retry.AdaptiveMode); !ok {
		t.Fatalf("retryer %T, want *retry.AdaptiveMode", r)
	}
	if n := r.MaxAttempts(); n != guard.MaxAttempts {
		t.Errorf("max attempts %d, want %d", n, guard.MaxAttempts)
	}
}
