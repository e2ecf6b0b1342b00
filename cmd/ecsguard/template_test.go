package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckTemplate checks the text reports of templates against golden
// files (go test -run TestCheckTemplate -update rewrites them).
func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	const dir = "testdata/templates/"
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		// Roles, log group, secret and bucket of the template, YAML short
		// forms, parameters with defaults, a mapping: complete.
		{"web", []string{"--template", dir + "web.yaml"}, exitOK},
		// Fn::ImportValue, a parameter without Default, a customer managed
		// policy not in the template: incomplete, never compliant.
		{"imported", []string{"--template", dir + "imported.json"}, exitFindings},
		// Task role == execution role with AdministratorAccess from the
		// snapshot, a managed policy of the template, an events role.
		{"shared-role", []string{"--template", dir + "shared-role.yaml"}, exitFindings},
		// Roles the template references by ARN and by name, read from the
		// export, in the export's account.
		{"account-roles", []string{"--template", dir + "account-roles.yaml", "--iam", iamExport}, exitOK},
		// Without the export the same roles are unknown.
		{"account-roles-no-iam", []string{"--template", dir + "account-roles.yaml"}, exitFindings},
		// Several templates, with an export's task definition.
		{"several", []string{"--template", dir + "web.yaml", "--template", dir + "shared-role.yaml",
			"--iam", iamExport, "--task-definition", tdWebAPI}, exitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, append([]string{"check"}, tt.args...)...)
			if code != tt.wantCode || stderr != "" {
				t.Errorf("exit %d, stderr %q; want exit %d, no stderr", code, stderr, tt.wantCode)
			}
			golden(t, filepath.Join("templates", tt.name+".golden"), []byte(stdout))
		})
	}
}

func TestCheckTemplateJSON(t *testing.T) {
	t.Parallel()
	code, reports := runJSON(t, "--template", "testdata/templates/imported.json")
	if code != exitFindings || len(reports) != 1 {
		t.Fatalf("exit %d, %d reports; want exit 1, 1 report", code, len(reports))
	}
	r := reports[0]
	if r.Complete || r.Subject.ARN != "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1" {
		t.Errorf("report of %s complete=%v, want the worker task definition, incomplete", r.Subject.ARN, r.Complete)
	}
	for _, want := range []string{`{"Fn::ImportValue":"platform-worker-task-role-arn"}`, "parameter DbPasswordParameter has no Default", "policy/platform-ssm-read"} {
		if !strings.Contains(strings.Join(r.Errors, "\n"), want) {
			t.Errorf("errors %q do not mention %s", r.Errors, want)
		}
	}
}

func TestCheckTemplateBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("Resources:\n  A: [1,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noResources := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(noResources, []byte(`{"Description": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"syntax", []string{"--template", bad}, bad + ": not a CloudFormation template: yaml: line 2"},
		{"no-resources", []string{"--template", noResources}, noResources + ": not a CloudFormation template: no Resources section"},
		{"missing-file", []string{"--template", filepath.Join(dir, "none.yaml")}, "none.yaml: no such file or directory"},
		{"neither", []string{}, "--iam or --template is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, append([]string{"check"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.wantStderr)
			}
		})
	}
}

// TestCheckTemplateSARIF checks that results are located at the logical
// ID of the resource they are about.
func TestCheckTemplateSARIF(t *testing.T) {
	t.Parallel()
	path := "testdata/templates/shared-role.yaml"
	code, stdout, _ := runCLI(t, "check", "--template", path, "--format", "sarif")
	if code != exitFindings {
		t.Errorf("exit %d, want 1", code)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("not a SARIF log of one run: %v", err)
	}
	// AppRole (line 4) is the subject of TD-001; EventsRole (line 43) of SR-001.
	want := map[string]int{"TD-001": 4, "SR-001": 43}
	for _, r := range log.Runs[0].Results {
		line, ok := want[r.RuleID]
		if !ok {
			continue
		}
		delete(want, r.RuleID)
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI != path || pl.Region.StartLine != line || pl.Region.StartColumn != 3 {
			t.Errorf("%s at %s:%d:%d, want %s:%d:3", r.RuleID, pl.ArtifactLocation.URI, pl.Region.StartLine, pl.Region.StartColumn, path, line)
		}
	}
	if len(want) > 0 {
		t.Errorf("no results for %v", want)
	}
}
