package asff_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	now     = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	earlier = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
)

const execRole = "arn:aws:iam::111122223333:role/web-api-exec"

// report reads one of the testdata reports, written by ecsguard check and
// by the alert renderer's tests.
func report(t *testing.T, name string) rules.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r rules.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

type planCase struct {
	name, report string
	change       func(*rules.Report)
	gone         bool
	before       asff.State
	region       string
	// sent and kept are the record states sent, by Id suffix (the key),
	// and the keys left active.
	sent map[string]string
	kept []string
}

var planCases = []planCase{
	{
		name: "first-import", report: "task-definition-two-findings",
		sent: map[string]string{"TD-001/" + execRole: "ACTIVE", "TD-014": "ACTIVE"},
		kept: []string{"TD-001/" + execRole, "TD-014"},
	},
	{
		name: "fixed-one-resolved", report: "task-definition-two-findings",
		change: func(r *rules.Report) { r.Findings = r.Findings[1:] },
		before: asff.State{"TD-001/" + execRole: {Severity: rules.High, CreatedAt: earlier}, "TD-014": {Severity: rules.High, CreatedAt: earlier}},
		sent:   map[string]string{"TD-001/" + execRole: "ARCHIVED", "TD-014": "ACTIVE"},
		kept:   []string{"TD-014"},
	},
	{
		name: "deregistered-all-resolved", report: "task-definition-two-findings", gone: true,
		change: func(r *rules.Report) {
			r.Action = rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}}
		},
		before: asff.State{"TD-009/arn:aws:iam::111122223333:role/web-api-task": {Severity: rules.High, CreatedAt: earlier}},
		sent: map[string]string{"TD-001/" + execRole: "ARCHIVED", "TD-014": "ARCHIVED",
			"TD-009/arn:aws:iam::111122223333:role/web-api-task": "ARCHIVED"},
	},
	{
		name: "incomplete-resolves-nothing", report: "incomplete-with-findings",
		before: asff.State{"TD-001/" + execRole: {Severity: rules.High, CreatedAt: earlier}},
		sent:   map[string]string{"ECSG-001": "ACTIVE", "TD-009/arn:aws:iam::111122223333:role/web-api-task": "ACTIVE"},
		kept:   []string{"ECSG-001", "TD-001/" + execRole, "TD-009/arn:aws:iam::111122223333:role/web-api-task"},
	},
	{
		name: "exempted-archived", report: "exempted",
		before: asff.State{"TD-001/arn:aws:iam::111122223333:role/billing-app": {Severity: rules.High, CreatedAt: earlier}},
		sent:   map[string]string{"TD-001/arn:aws:iam::111122223333:role/billing-app": "ARCHIVED"},
	},
	{
		name: "role-rule-twice-one-finding", report: "events-role",
		sent: map[string]string{"SR-001": "ACTIVE"}, kept: []string{"SR-001"},
	},
	{
		name: "role-offline-region", report: "events-role-offline", region: "eu-west-1",
		sent: map[string]string{"SR-001": "ACTIVE"}, kept: []string{"SR-001"},
	},
}

func TestPlan(t *testing.T) {
	anchors := ruleAnchors(t)
	for _, c := range planCases {
		t.Run(c.name, func(t *testing.T) {
			r := report(t, c.report)
			if c.change != nil {
				c.change(&r)
			}
			got, after := asff.Plan(asff.Evaluation{Report: r, Gone: c.gone, Before: c.before, Now: now, Region: c.region})
			sent := map[string]string{}
			for _, f := range got {
				key := strings.TrimPrefix(f.ID, r.Subject.ARN+"/")
				if _, dup := sent[key]; dup {
					t.Errorf("finding %s sent twice", f.ID)
				}
				sent[key] = f.RecordState
				checkFinding(t, f, anchors)
			}
			if !equalMaps(sent, c.sent) {
				t.Errorf("sent %v, want %v", sent, c.sent)
			}
			var kept []string
			for k := range after {
				kept = append(kept, k)
			}
			if !sameSet(kept, c.kept) {
				t.Errorf("kept active %v, want %v", kept, c.kept)
			}
			golden(t, c.name, map[string]any{"findings": got, "after": after})
		})
	}
}

// checkFinding holds every finding to the format: required attributes,
// lengths, the product of the account's default integration, a rule page
// that exists, workflow and record state that go together.
func checkFinding(t *testing.T, f asff.Finding, anchors map[string]bool) {
	t.Helper()
	product := regexp.MustCompile(`^arn:aws:securityhub:[a-z0-9-]+:(\d{12}):product/(\d{12})/default$`)
	m := product.FindStringSubmatch(f.ProductARN)
	switch {
	case m == nil || m[1] != f.AwsAccountID || m[2] != f.AwsAccountID:
		t.Errorf("%s: ProductArn %q is not the default product of account %q", f.ID, f.ProductARN, f.AwsAccountID)
	case f.SchemaVersion != asff.SchemaVersion || f.GeneratorID == "" || len(f.Types) == 0:
		t.Errorf("%s: missing required attributes: %+v", f.ID, f)
	case utf8.RuneCountInString(f.Title) > 256 || utf8.RuneCountInString(f.Description) > 1024 || f.Description == "":
		t.Errorf("%s: title or description out of ASFF's limits", f.ID)
	case utf8.RuneCountInString(f.Remediation.Recommendation.Text) > 512 || len(f.ID) > 512:
		t.Errorf("%s: remediation or id out of ASFF's limits", f.ID)
	case !anchors[f.SourceURL[strings.IndexByte(f.SourceURL, '#')+1:]]:
		t.Errorf("%s: SourceUrl %s names no heading of docs/rules.md", f.ID, f.SourceURL)
	case f.Resources[0].Type == "Other" || f.Resources[0].Region == "" || f.Resources[0].Partition != "aws":
		t.Errorf("%s: subject resource %+v", f.ID, f.Resources[0])
	case f.FindingProviderFields.Severity != f.Severity:
		t.Errorf("%s: provider severity %v differs from %v", f.ID, f.FindingProviderFields.Severity, f.Severity)
	}
	want := map[string]string{asff.WorkflowNew: asff.RecordActive, asff.WorkflowSuppressed: asff.RecordArchived, asff.WorkflowResolved: asff.RecordArchived}
	if want[f.Workflow.Status] != f.RecordState {
		t.Errorf("%s: workflow %s with record state %s", f.ID, f.Workflow.Status, f.RecordState)
	}
	for _, ts := range []string{f.CreatedAt, f.UpdatedAt} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("%s: timestamp: %v", f.ID, err)
		}
	}
}

// ruleAnchors are the anchors of docs/rules.md's headings, as GitHub
// makes them: lower case.
func ruleAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## ([A-Z]+-\d+)$`).FindAllStringSubmatch(string(b), -1) {
		out[strings.ToLower(m[1])] = true
	}
	if len(out) < 20 {
		t.Fatalf("docs/rules.md has %d rule headings", len(out))
	}
	return out
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", path, got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}
