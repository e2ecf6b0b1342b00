package main

import (
	"encoding/json"
	"strings"
	"testing"
)

var withSecurityHub = lazySynth(map[string]any{"ecsguard:securityHub": true})

// ecsguard:securityHub sets SECURITY_HUB on both functions and grants
// BatchImportFindings on the account's default product alone; without
// it, neither the variable nor any Security Hub action; cdk-nag stays
// clean.
func TestSecurityHubSetting(t *testing.T) {
	const product = `arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default`
	for _, tc := range []struct {
		app *synthesized
		on  bool
	}{{defaults(t), false}, {withSecurityHub(t), true}} {
		home := tc.app.templates["Ecsguard"]
		for name, errs := range tc.app.errors {
			if len(errs) > 0 {
				t.Errorf("securityHub=%v: %s: %s", tc.on, name, strings.Join(errs, "\n"))
			}
		}
		for fn, id := range map[string]string{"onregister": "OnRegister", "onrolechange": "OnRoleChange"} {
			if got, want := env(t, home, fn)["SECURITY_HUB"], map[bool]any{true: "true", false: nil}[tc.on]; got != want {
				t.Errorf("%s: SECURITY_HUB = %v, want %v", fn, got, want)
			}
			acts := statements(t, home, id)
			for a := range acts {
				if strings.HasPrefix(a, "securityhub:") && a != "securityhub:BatchImportFindings" {
					t.Errorf("%s: grants %s", fn, a)
				}
			}
			res, ok := acts["securityhub:BatchImportFindings"]
			switch {
			case ok != tc.on:
				t.Errorf("%s: BatchImportFindings granted %v, want %v", fn, ok, tc.on)
			case ok && (len(res) != 1 || !strings.Contains(res[0], jsonString(product))):
				t.Errorf("%s: BatchImportFindings on %v, want only %s", fn, res, product)
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
