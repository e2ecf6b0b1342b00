package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/asff"
)

func decodeASFF(t *testing.T, stdout string) []asff.Finding {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var out []asff.Finding
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("output is not a JSON array of ASFF findings: %v\n%s", err, stdout)
	}
	return out
}

// check --format asff (any case) prints the findings as Security Hub
// would import them: the open one ACTIVE, the exempted one archived and
// suppressed, the incomplete evaluation's ECSG-001 active.
func TestCheckASFF(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "check", "--format", "ASFF", "--iam", iamExport,
		"--task-definition", tdSameExempt, "--task-definition", tdSameRole, "--task-definition", tdMissingRole)
	if code != exitFindings || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	got := map[string]asff.Finding{}
	for _, f := range decodeASFF(t, stdout) {
		got[f.ID] = f
	}
	want := map[string][2]string{ // Id → record state, workflow
		arnSameExempt + "/TD-001/" + roleBilling: {asff.RecordArchived, asff.WorkflowSuppressed},
		arnSameRole + "/TD-001/" + roleBilling:   {asff.RecordActive, asff.WorkflowNew},
		arnMissingRole + "/ECSG-001":             {asff.RecordActive, asff.WorkflowNew},
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d: %v", len(got), len(want), stdout)
	}
	for id, w := range want {
		f, ok := got[id]
		if !ok || f.RecordState != w[0] || f.Workflow.Status != w[1] {
			t.Errorf("%s: %+v, want %v", id, f, w)
			continue
		}
		if f.ProductARN != "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default" || f.Resources[0].Type != "AwsEcsTaskDefinition" {
			t.Errorf("%s: product %s, resources %+v", id, f.ProductARN, f.Resources)
		}
	}
}

// scan --format asff prints the same builder's findings for a live
// account.
func TestScanASFF(t *testing.T) {
	sample, _, env := seeded(t)
	env(moto.URL())
	code, stdout, stderr := runScan(t, "--endpoint-url", moto.URL(), "--format", "asff")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, exitFindings, stderr)
	}
	fs := decodeASFF(t, stdout)
	rulesSeen := map[string]bool{}
	for _, f := range fs {
		if f.AwsAccountID != sample.Account || !strings.HasPrefix(f.ID, "arn:aws:") {
			t.Errorf("%s: account %s", f.ID, f.AwsAccountID)
		}
		rulesSeen[f.GeneratorID] = true
	}
	if !rulesSeen["TD-008"] || !rulesSeen["SR-001"] {
		t.Errorf("rules %v, want TD-008 and SR-001 of the sample account among them", rulesSeen)
	}
}
