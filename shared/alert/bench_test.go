package alert_test

import (
	"testing"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// BenchmarkRender renders a typical registration alert (two HIGH findings
// from the rules engine), a report too large for SNS, which takes the
// shrinking path, a typical change alert (AdministratorAccess on a task
// role shared by two families), one shrunk, and changes that reach 1,000
// and 5,000 task definitions, which are split.
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		a    assess.Assessment
	}{
		{"typical", caseAssessment(b, "task-definition-high")},
		{"shrunk", registered(huge(300, 2048))},
		{"change-typical", attachAdmin(b, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})},
		{"change-shrunk", hugeChange(12, 25, 2048)},
		{"change-1000", fanOut(b, 1000)},
		{"change-5000", fanOut(b, 5000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var parts, bytes int
			for b.Loop() {
				msgs, err := alert.Render(bc.a)
				if err != nil {
					b.Fatal(err)
				}
				parts, bytes = len(msgs), 0
				for _, m := range msgs {
					bytes += len(m.Body)
				}
			}
			b.ReportMetric(float64(parts), "msgs/op")
			b.ReportMetric(float64(bytes), "body-bytes/op")
		})
	}
}
