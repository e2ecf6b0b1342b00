package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// Flag values are case-insensitive.
func TestFlagValuesCaseInsensitive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		check func(stdout string) bool
	}{
		{"format-JSON", []string{"--format", "JSON"}, exitFindings, func(s string) bool { return json.Valid([]byte(s)) && strings.HasPrefix(s, "[") }},
		{"format-Sarif", []string{"--format", "Sarif"}, exitFindings, func(s string) bool { return strings.Contains(s, `"version": "2.1.0"`) }},
		{"format-TEXT", []string{"--format", "TEXT"}, exitFindings, func(s string) bool { return strings.Contains(s, "1 subject judged: ") }},
		{"fail-on-critical", []string{"--fail-on", "critical"}, exitOK, func(s string) bool { return strings.Contains(s, "fail-on CRITICAL: pass") }},
		{"fail-on-High", []string{"--fail-on", "High"}, exitFindings, func(s string) bool { return strings.Contains(s, "fail-on HIGH: fail") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, append([]string{"check", "--task-definition", tdSameRole, "--iam", iamExport}, tc.args...)...)
			if code != tc.code || stderr != "" || !tc.check(stdout) {
				t.Errorf("exit %d (want %d), stderr %q, stdout:\n%s", code, tc.code, stderr, stdout)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	want := "ecsguard " + version() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK || stdout != want || stderr != "" {
			t.Errorf("run(%q) = %d, %q, %q; want 0, %q", args, code, stdout, stderr, want)
		}
	}
	if v := version(); v == "" || v == "unknown" {
		t.Errorf("version() = %q: a Go binary carries its build information", v)
	}
}

func TestVersionOf(t *testing.T) {
	t.Parallel()
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no-build-info", nil, false, "unknown"},
		{"release", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, true, "v1.4.0"},
		{"go-install-no-vcs", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261120093112-abcdef123456"}}, true, "v1.4.1-0.20261120093112-abcdef123456"},
		{"work-tree", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs", "git", "vcs.revision", "b13c6c0e", "vcs.modified", "false")}, true, "(devel) (revision b13c6c0e)"},
		{"modified", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "b13c6c0e", "vcs.modified", "true")}, true, "(devel) (revision b13c6c0e, modified)"},
		{"empty-version", &debug.BuildInfo{}, true, "(devel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := versionOf(tc.info, tc.ok); got != tc.want {
				t.Errorf("versionOf = %q, want %q", got, tc.want)
			}
		})
	}
}
