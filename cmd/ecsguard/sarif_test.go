package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/sarif/sariftest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, which -update rewrites.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// runSARIF runs check with --format sarif, validates the log against the
// SARIF 2.1.0 schema and returns it with the tool's version, which
// depends on the build, as VERSION.
func runSARIF(t *testing.T, args ...string) (int, []byte) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"check", "--format", "sarif"}, args...)...)
	if stderr != "" {
		t.Errorf("stderr = %q", stderr)
	}
	if err := sariftest.Validate([]byte(stdout)); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	v, _ := json.Marshal(version())
	return code, []byte(strings.Replace(stdout, `"version": `+string(v), `"version": "VERSION"`, 1))
}

func TestCheckSARIFGolden(t *testing.T) {
	t.Parallel()
	code, got := runSARIF(t, "--task-definition", tdSameExempt, "--task-definition", tdSameRole, "--task-definition", tdMissingRole,
		"--task-definition", tdNoExecutionRole, "--iam", iamExport, "--all-roles")
	if code != exitFindings {
		t.Errorf("exit %d, want %d", code, exitFindings)
	}
	golden(t, "check.sarif.golden", got)
}

type checkLog struct {
	Runs []struct {
		Results []struct {
			RuleID       string                                 `json:"ruleId"`
			Level        string                                 `json:"level"`
			Message      struct{ Text string }                  `json:"message"`
			Suppressions []struct{ Kind, Justification string } `json:"suppressions"`
			Locations    []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string }                 `json:"artifactLocation"`
					Region           struct{ StartLine, StartColumn int } `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
		Invocations []struct {
			Notifications []struct {
				Level   string
				Message struct{ Text string }
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
	} `json:"runs"`
}

// Results point at the line and column of the input that defines their
// resource: the role's "Arn" in the export, the task definition's
// "taskDefinitionArn".
func TestCheckSARIFLocations(t *testing.T) {
	t.Parallel()
	type want struct {
		rule, level, uri  string
		line, column      int
		suppressed, words string
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []want
	}{
		{
			name: "exempted",
			args: []string{"--task-definition", tdSameExempt},
			code: exitOK,
			want: []want{{rule: "TD-001", level: "error", uri: iamExport, line: 111, column: 13, suppressed: "split roles planned in PLAT-1234"}},
		},
		{
			name: "incomplete",
			args: []string{"--task-definition", tdMissingRole},
			code: exitFindings,
			want: []want{{rule: "ECSG-001", level: "error", uri: tdMissingRole, line: 3, column: 9, words: "reports-task: role ARN not found"}},
		},
		{
			name: "every-evidence",
			args: []string{"--task-definition", tdNoExecutionRole},
			code: exitFindings,
			want: []want{{rule: "TD-006", level: "error", uri: tdNoExecutionRole, line: 3, column: 9, words: "ssm:GetParameters on arn:aws:ssm:us-east-1:111122223333:parameter/web-api/db-password"}},
		},
		{
			name: "secondary-role",
			args: []string{"--all-roles", "--fail-on", "low"},
			code: exitFindings,
			want: []want{{rule: "SR-001", level: "note", uri: iamExport, line: 153, column: 13}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out := runSARIF(t, append(tc.args, "--iam", iamExport)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			var log checkLog
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatal(err)
			}
			results := log.Runs[0].Results
			if len(results) != len(tc.want) {
				t.Fatalf("%d results, want %d:\n%s", len(results), len(tc.want), out)
			}
			for i, w := range tc.want {
				r := results[i]
				if r.RuleID != w.rule || r.Level != w.level {
					t.Errorf("result %d: %s %s, want %s %s", i, r.RuleID, r.Level, w.rule, w.level)
				}
				if p := r.Locations[0].PhysicalLocation; p == nil || p.ArtifactLocation.URI != w.uri || p.Region.StartLine != w.line || p.Region.StartColumn != w.column {
					t.Errorf("result %d: location %+v, want %s:%d:%d", i, p, w.uri, w.line, w.column)
				}
				if got := len(r.Suppressions) > 0; got != (w.suppressed != "") || got && (r.Suppressions[0].Kind != "external" || r.Suppressions[0].Justification != w.suppressed) {
					t.Errorf("result %d: suppressions %+v, want %q", i, r.Suppressions, w.suppressed)
				}
				if !strings.Contains(r.Message.Text, w.words) {
					t.Errorf("result %d: message %q lacks %q", i, r.Message.Text, w.words)
				}
			}
			notes := log.Runs[0].Invocations[0].Notifications
			if incomplete := tc.name == "incomplete"; incomplete != (len(notes) == 1 && notes[0].Level == "error") {
				t.Errorf("notifications %+v", notes)
			}
		})
	}
}

// scan --format sarif writes the same log of a live account: schema-valid,
// a result per finding of the sample account, located by ARN only.
func TestScanSARIF(t *testing.T) {
	_, _, env := seeded(t)
	env(moto.URL())
	code, stdout, stderr := runScan(t, "--endpoint-url", moto.URL(), "--format", "SARIF")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, exitFindings, stderr)
	}
	if err := sariftest.Validate([]byte(stdout)); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var log checkLog
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, rs := range sampleWants {
		want = append(want, rs...)
	}
	var got []string
	for _, r := range log.Runs[0].Results {
		got = append(got, r.RuleID)
		if r.Locations[0].PhysicalLocation != nil {
			t.Errorf("%s: located in a file: %+v", r.RuleID, r.Locations[0].PhysicalLocation)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
}
