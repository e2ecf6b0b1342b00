package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Every piece of evidence of a finding is printed, not only the first:
// here the SSM parameter the task cannot read without an execution role.
func TestTextEveryEvidence(t *testing.T) {
	t.Parallel()
	_, reports := runJSON(t, "--task-definition", tdNoExecutionRole, "--iam", iamExport)
	f := findings(reports[0], "TD-006")
	if len(f) != 1 || len(f[0].Evidence) < 3 {
		t.Fatalf("TD-006 findings = %+v, want one with several pieces of evidence", f)
	}
	_, stdout, _ := runCLI(t, "check", "--task-definition", tdNoExecutionRole, "--iam", iamExport)
	for _, e := range f[0].Evidence {
		if !strings.Contains(stdout, e.Detail+"\n") {
			t.Errorf("text lacks the evidence line %q:\n%s", e.Detail, stdout)
		}
	}
	if !strings.Contains(stdout, "ssm:GetParameters on arn:aws:ssm:us-east-1:111122223333:parameter/web-api/db-password") {
		t.Errorf("text lacks the SSM parameter:\n%s", stdout)
	}
}

func TestJudged(t *testing.T) {
	t.Parallel()
	finding := func(s rules.Severity, suppressed bool) rules.Finding {
		return rules.Finding{Rule: "TD-001", Severity: s, Suppressed: suppressed}
	}
	clean := rules.Report{Complete: true}
	exempted := rules.Report{Complete: true, Findings: []rules.Finding{finding(rules.High, true)}}
	high := rules.Report{Complete: true, Findings: []rules.Finding{finding(rules.High, false), finding(rules.High, false), finding(rules.Low, false)}}
	incomplete := rules.Report{Complete: false, Findings: []rules.Finding{finding(rules.High, false)}}
	for _, tc := range []struct {
		name    string
		reports []rules.Report
		want    string
	}{
		{"none", nil, "0 subjects judged: 0 with findings, 0 clean, 0 incomplete; 0 open findings, 0 suppressed"},
		{"one-clean", []rules.Report{clean}, "1 subject judged: 0 with findings, 1 clean, 0 incomplete; 0 open findings, 0 suppressed"},
		{"exempted-is-clean", []rules.Report{exempted, clean}, "2 subjects judged: 0 with findings, 2 clean, 0 incomplete; 0 open findings, 1 suppressed"},
		{"findings", []rules.Report{high, clean, clean}, "3 subjects judged: 1 with findings, 2 clean, 0 incomplete; 3 open findings (2 HIGH, 1 LOW), 0 suppressed"},
		{"incomplete-counts-once", []rules.Report{incomplete, high, exempted}, "3 subjects judged: 1 with findings, 1 clean, 1 incomplete; 4 open findings (3 HIGH, 1 LOW), 1 suppressed"},
		{"one-finding", []rules.Report{{Complete: true, Findings: []rules.Finding{finding(rules.Critical, false)}}}, "1 subject judged: 1 with findings, 0 clean, 0 incomplete; 1 open finding (1 CRITICAL), 0 suppressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := judged(tc.reports); got != tc.want {
				t.Errorf("judged:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTerminalSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "role/web-api\tHIGH\n", "role/web-api\tHIGH\n"},
		{"utf8", "équipe 支払い\n", "équipe 支払い\n"},
		{"csi-colour", "\x1b[31mred\x1b[0m", "red"},
		{"csi-clear", "a\x1b[2J\x1b[Hb", "ab"},
		{"osc-title-bel", "\x1b]0;owned\x07ok", "ok"},
		{"osc-title-st", "\x1b]0;owned\x1b\\ok", "ok"},
		{"osc-hyperlink", "\x1b]8;;https://example.com\x07link\x1b]8;;\x07", "link"},
		{"osc-unterminated-stops-at-line", "x\x1b]0;title\nnext line\n", "x\nnext line\n"},
		{"dcs", "\x1bPq#0;2;0;0;0\x1b\\after", "after"},
		{"two-char-escape", "\x1bcreset", "reset"},
		{"c0", "a\rb\x08c\x00d\x07e", "abcde"},
		{"del", "a\x7fb", "ab"},
		{"c1-csi", "a\u009b31mb", "ab"},
		{"c1-osc", "a\u009d0;t\u009cb", "ab"},
		{"c1-other", "a\u0085b\u008dc", "abc"},
		{"raw-c1-byte", "a\x9b31mb", "a\uFFFD31mb"},
		{"escape-at-end", "a\x1b", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(terminalSafe([]byte(tc.in))); got != tc.want {
				t.Errorf("terminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// A hostile export cannot drive the terminal through the text report: its
// escape sequences are gone and its words stay.
func TestTextHostileInput(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(tdSameExempt)
	if err != nil {
		t.Fatal(err)
	}
	const hostile = `split roles \u001b]0;owned\u0007\u001b[2J\u001b[31mplanned\u009b1A\r in PLAT-1234`
	td := bytes.Replace(b, []byte("split roles planned in PLAT-1234"), []byte(hostile), 1)
	if bytes.Equal(td, b) {
		t.Fatal("the exemption reason is not in the test file")
	}
	path := filepath.Join(t.TempDir(), "td.json")
	if err := os.WriteFile(path, td, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout, _ := runCLI(t, "check", "--task-definition", path, "--iam", iamExport)
	for i, r := range stdout {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r == utf8.RuneError {
			t.Fatalf("control character %U at %d of the text report:\n%q", r, i, stdout)
		}
	}
	if !strings.Contains(stdout, "(suppressed: split roles planned in PLAT-1234)") {
		t.Errorf("the reason's words are lost:\n%s", stdout)
	}
	_, jsonOut, _ := runCLI(t, "check", "--task-definition", path, "--iam", iamExport, "--format", "json")
	if !strings.Contains(jsonOut, `\u001b]0;owned`) {
		t.Errorf("JSON must keep the reason as it is, escaped:\n%s", jsonOut)
	}
}
