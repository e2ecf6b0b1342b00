package alert_test

import (
	"testing"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// BenchmarkRender renders a typical alert (two HIGH findings from the rules
// engine) and a report too large for SNS, which takes the shrinking path.
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name   string
		report rules.Report
	}{
		{"typical", caseReport(b, "task-definition-high")},
		{"shrunk", huge(300, 2048)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := alert.Render(bc.report); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func caseReport(tb testing.TB, name string) rules.Report {
	tb.Helper()
	for _, tc := range cases {
		if tc.name == name {
			return tc.report(tb)
		}
	}
	tb.Fatalf("no case %q", name)
	return rules.Report{}
}

// BenchmarkRenderChange renders a typical change alert (AdministratorAccess
// on a task role shared by two families) and one too large for SNS.
func BenchmarkRenderChange(b *testing.B) {
	for _, bc := range []struct {
		name   string
		change alert.Change
	}{
		{"typical", attachAdmin(b, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})},
		{"shrunk", hugeChange(12, 25, 2048)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := alert.RenderChange(bc.change); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
