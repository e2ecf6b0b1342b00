package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	tdWebAPI          = "testdata/td-web-api.json"
	tdWorker          = "testdata/td-web-api-worker.json"
	tdSameRole        = "testdata/td-same-role.json"
	tdSameExempt      = "testdata/td-same-role-exempt.json"
	tdMissingRole     = "testdata/td-missing-role.json"
	tdTruncated       = "testdata/td-truncated.json"
	tdNoExecutionRole = "testdata/td-no-execution-role.json"
	iamExport         = "testdata/iam.json"

	arnWebAPI      = "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:42"
	arnWorker      = "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api-worker:7"
	arnSameRole    = "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:12"
	arnSameExempt  = "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:13"
	arnMissingRole = "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:3"
	roleBilling    = "arn:aws:iam::111122223333:role/billing-app"
	roleEvents     = "arn:aws:iam::111122223333:role/ecsEventsRole"
	roleInstance   = "arn:aws:iam::111122223333:role/ecsInstanceRole"
	roleWebAPITask = "arn:aws:iam::111122223333:role/web-api-task"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runJSON runs check with --format json and decodes the reports strictly:
// the output must have the report's shape and nothing else.
func runJSON(t *testing.T, args ...string) (int, []rules.Report) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"check", "--format", "json"}, args...)...)
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var reports []rules.Report
	if err := dec.Decode(&reports); err != nil {
		t.Fatalf("output is not a JSON array of reports: %v\n%s", err, stdout)
	}
	for _, r := range reports {
		if r.SchemaVersion != "1" {
			t.Errorf("report %s: schemaVersion = %q, want \"1\"", r.Subject.ARN, r.SchemaVersion)
		}
	}
	return code, reports
}

func subjects(reports []rules.Report) []string {
	var out []string
	for _, r := range reports {
		out = append(out, r.Subject.Type+" "+r.Subject.ARN)
	}
	return out
}

func findings(r rules.Report, rule string) []rules.Finding {
	var out []rules.Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // the whole of stderr; every bad input gives one line
	}{
		{
			name: "task-role-equals-execution-role",
			args: []string{"check", "--task-definition", tdSameRole, "--iam", iamExport},
			code: 1,
		},
		{
			name: "exempted-finding",
			args: []string{"check", "--task-definition", tdSameExempt, "--iam", iamExport},
			code: 0,
		},
		{
			name: "fail-on-above-the-finding",
			args: []string{"check", "--task-definition", tdSameRole, "--iam", iamExport, "--fail-on", "critical"},
			code: 0,
		},
		{
			name: "role-not-in-export",
			args: []string{"check", "--task-definition", tdMissingRole, "--iam", iamExport},
			code: 1,
		},
		{
			name: "incomplete-fails-whatever-the-threshold",
			args: []string{"check", "--task-definition", tdMissingRole, "--iam", iamExport, "--fail-on", "critical"},
			code: 1,
		},
		{
			name: "help",
			args: []string{"help"},
			code: 0,
		},
		{
			name: "check-help",
			args: []string{"check", "-h"},
			code: 0,
		},
		{
			name:   "truncated-json",
			args:   []string{"check", "--task-definition", tdTruncated, "--iam", iamExport},
			code:   2,
			stderr: "ecsguard: testdata/td-truncated.json: line 18 col 34: not valid JSON: unexpected end of JSON input\n",
		},
		{
			name:   "swapped-files",
			args:   []string{"check", "--task-definition", iamExport, "--iam", tdWebAPI},
			code:   2,
			stderr: "ecsguard: testdata/iam.json: not a describe-task-definition output: no \"taskDefinition\" object (it looks like a get-account-authorization-details output)\n",
		},
		{
			name:   "task-definition-as-iam-export",
			args:   []string{"check", "--task-definition", tdWebAPI, "--iam", tdWebAPI},
			code:   2,
			stderr: "ecsguard: testdata/td-web-api.json: not a get-account-authorization-details output: no \"RoleDetailList\" (it looks like a describe-task-definition output)\n",
		},
		{
			name:   "missing-file",
			args:   []string{"check", "--task-definition", "testdata/no-such.json", "--iam", iamExport},
			code:   2,
			stderr: "ecsguard: testdata/no-such.json: no such file or directory\n",
		},
		{
			name:   "missing-iam-file",
			args:   []string{"check", "--iam", "testdata/no-such-iam.json"},
			code:   2,
			stderr: "ecsguard: testdata/no-such-iam.json: no such file or directory\n",
		},
		{
			name:   "unknown-flag",
			args:   []string{"check", "--task-defintion", tdWebAPI, "--iam", iamExport},
			code:   2,
			stderr: "ecsguard: check: flag provided but not defined: -task-defintion (run \"ecsguard help\")\n",
		},
		{
			name:   "flag-without-value",
			args:   []string{"check", "--iam"},
			code:   2,
			stderr: "ecsguard: check: flag needs an argument: -iam (run \"ecsguard help\")\n",
		},
		{
			name:   "no-iam-export",
			args:   []string{"check", "--task-definition", tdWebAPI},
			code:   2,
			stderr: "ecsguard: check: --iam or --template is required (run \"ecsguard help\")\n",
		},
		{
			name:   "unknown-severity",
			args:   []string{"check", "--iam", iamExport, "--fail-on", "URGENT"},
			code:   2,
			stderr: "ecsguard: check: --fail-on: unknown severity \"URGENT\" (want INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL)\n",
		},
		{
			name:   "unknown-format",
			args:   []string{"check", "--iam", iamExport, "--format", "yaml"},
			code:   2,
			stderr: "ecsguard: check: --format: unknown format \"yaml\" (want text, json, sarif or asff)\n",
		},
		{
			name:   "stray-argument",
			args:   []string{"check", "--iam", iamExport, tdWebAPI},
			code:   2,
			stderr: "ecsguard: check: unexpected argument \"testdata/td-web-api.json\" (run \"ecsguard help\")\n",
		},
		{
			name:   "unknown-command",
			args:   []string{"scna"},
			code:   2,
			stderr: "ecsguard: unknown command \"scna\" (run \"ecsguard help\")\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, stdout, stderr)
			}
			if stderr != tc.stderr {
				t.Errorf("run(%q) stderr:\n got %q\nwant %q", tc.args, stderr, tc.stderr)
			}
			if tc.code == 2 && stdout != "" {
				t.Errorf("run(%q) wrote to stdout on bad input:\n%s", tc.args, stdout)
			}
			if tc.code != 2 && stdout == "" {
				t.Errorf("run(%q) wrote nothing to stdout", tc.args)
			}
		})
	}
}

func TestRunNoArguments(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t)
	if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "usage: ecsguard") {
		t.Errorf("run() = %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, stdout, stderr)
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	code, reports := runJSON(t, "--task-definition", tdSameExempt, "--task-definition", tdSameRole, "--task-definition", tdMissingRole, "--iam", iamExport)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	// The secondary roles of the export are not judged: no task
	// definition references them.
	want := []string{
		"taskDefinition " + arnSameExempt,
		"taskDefinition " + arnSameRole,
		"taskDefinition " + arnMissingRole,
	}
	if got := subjects(reports); !slices.Equal(got, want) {
		t.Fatalf("subjects = %q, want %q", got, want)
	}
	for _, r := range reports[:3] {
		if r.Account != "111122223333" || r.Region != "us-east-1" {
			t.Errorf("report %s: account %q region %q, want 111122223333 us-east-1", r.Subject.ARN, r.Account, r.Region)
		}
	}

	exempt, same, missing := reports[0], reports[1], reports[2]
	for _, tc := range []struct {
		report     rules.Report
		suppressed bool
	}{{exempt, true}, {same, false}} {
		f := findings(tc.report, "TD-001")
		if len(f) != 1 || f[0].Severity != rules.High || f[0].Resource != roleBilling || f[0].Suppressed != tc.suppressed {
			t.Errorf("%s: TD-001 findings = %+v, want one HIGH on %s with suppressed %v", tc.report.Subject.ARN, f, roleBilling, tc.suppressed)
		}
		if !tc.report.Complete {
			t.Errorf("%s: complete = false, errors %q", tc.report.Subject.ARN, tc.report.Errors)
		}
	}
	if f := findings(exempt, "TD-001"); len(f) == 1 && f[0].SuppressedReason != "split roles planned in PLAT-1234" {
		t.Errorf("suppressedReason = %q", f[0].SuppressedReason)
	}

	if missing.Complete {
		t.Errorf("%s: complete = true with its task role absent from the export", missing.Subject.ARN)
	}
	wantErr := "arn:aws:iam::111122223333:role/reports-task: role ARN not found in IAM export"
	if !slices.Contains(missing.Errors, wantErr) {
		t.Errorf("%s: errors = %q, want %q", missing.Subject.ARN, missing.Errors, wantErr)
	}
}

func TestRunSecondaryRolesOnly(t *testing.T) {
	t.Parallel()
	_, reports := runJSON(t, "--iam", iamExport)
	// Task and execution roles are judged with their task definitions, the
	// service-linked role never.
	want := []string{"role " + roleEvents, "role " + roleInstance}
	if got := subjects(reports); !slices.Equal(got, want) {
		t.Errorf("subjects = %q, want %q", got, want)
	}
	for _, r := range reports {
		if r.Account != "111122223333" {
			t.Errorf("report %s: account %q", r.Subject.ARN, r.Account)
		}
	}
}

func TestRunRepeatedTaskDefinition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "argument-order",
			args: []string{"--task-definition", tdWorker, "--task-definition", tdWebAPI},
			want: []string{arnWorker, arnWebAPI},
		},
		{
			name: "reversed",
			args: []string{"--task-definition", tdWebAPI, "--task-definition", tdWorker},
			want: []string{arnWebAPI, arnWorker},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reports := runJSON(t, append(tc.args, "--iam", iamExport)...)
			if len(reports) < 2 {
				t.Fatalf("got %d reports, want the 2 task definitions first", len(reports))
			}
			for i, arn := range tc.want {
				r := reports[i]
				if r.Subject.Type != rules.SubjectTaskDefinition || r.Subject.ARN != arn {
					t.Errorf("report %d is %s %s, want taskDefinition %s", i, r.Subject.Type, r.Subject.ARN, arn)
				}
				// Both families share web-api-task: TD-013 sees both.
				if f := findings(r, "TD-013"); len(f) != 1 || f[0].Resource != roleWebAPITask {
					t.Errorf("%s: TD-013 findings = %+v, want one on %s", arn, f, roleWebAPITask)
				}
			}
		})
	}
}

func TestRunText(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "check", "--task-definition", tdSameExempt, "--task-definition", tdMissingRole, "--iam", iamExport, "--all-roles")
	if code != 1 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 1 and nothing", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	for _, want := range []string{
		"task definition " + arnSameExempt + "  complete",
		"task definition " + arnMissingRole + "  INCOMPLETE",
		"  ! arn:aws:iam::111122223333:role/reports-task: role ARN not found in IAM export",
		"role " + roleEvents + "  complete",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in:\n%s", want, stdout)
		}
	}
	var td001 string
	for _, l := range lines {
		if strings.Contains(l, "TD-001") && td001 == "" {
			td001 = l
		}
	}
	for _, want := range []string{"HIGH", "task role and execution role are the same role", roleBilling, "(suppressed: split roles planned in PLAT-1234)"} {
		if !strings.Contains(td001, want) {
			t.Errorf("TD-001 row %q lacks %q", td001, want)
		}
	}
	summary := lines[len(lines)-1]
	// ecsEventsRole has an SR-001 LOW finding; the exempted billing
	// task definition and ecsInstanceRole none open.
	wantSummary := "4 subjects judged: 1 with findings, 2 clean, 1 incomplete; 2 open findings (1 HIGH, 1 LOW), 1 suppressed; fail-on HIGH: fail"
	if summary != wantSummary {
		t.Errorf("summary line:\n got %q\nwant %q", summary, wantSummary)
	}
}

// A partial export is said so on stderr and judged with what it holds.
func TestRunTruncatedExport(t *testing.T) {
	t.Parallel()
	iam := filepath.Join(t.TempDir(), "iam.json")
	if err := os.WriteFile(iam, []byte(`{"RoleDetailList":[],"Policies":[],"IsTruncated":true,"Marker":"AAEAAW5ZVbX9"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--task-definition", tdWebAPI, "--iam", iam)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantNote := "ecsguard: " + iam + ": the export is truncated"
	if !strings.HasPrefix(stderr, wantNote) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", stderr, wantNote)
	}
	for _, want := range []string{arnWebAPI + "  INCOMPLETE", "role ARN not found in IAM export (the export is truncated)", "; IAM export truncated;"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}
