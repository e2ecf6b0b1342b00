package rules_test

import (
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// BenchmarkEvaluateTaskDefinition: the compliant Fargate service of
// baseline, facts in memory: every TD rule over both roles.
func BenchmarkEvaluateTaskDefinition(b *testing.B) {
	f := baseline(b)
	iampolicy.AllActions() // the catalog is parsed once per process
	b.ReportAllocs()
	for b.Loop() {
		if r := rules.Evaluate(f); len(r.Findings) != 0 {
			b.Fatal("findings on the baseline")
		}
	}
}

// BenchmarkEvaluateAdminTaskRole: the worst case, a task role with
// AdministratorAccess, whose listing expands the whole action catalog.
func BenchmarkEvaluateAdminTaskRole(b *testing.B) {
	f := baseline(b)
	addPolicy(b, &f, taskARN, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	iampolicy.AllActions()
	b.ReportAllocs()
	for b.Loop() {
		if r := rules.Evaluate(f); r.Highest() != rules.Critical {
			b.Fatal("admin task role not CRITICAL")
		}
	}
}

// BenchmarkEvaluateEventsRole: a secondary role, AmazonEC2ContainerServiceEventsRole.
func BenchmarkEvaluateEventsRole(b *testing.B) {
	r := role(b, roleARN+"ecsEventsRole", trustEvents, eventsManaged)
	f := rules.Facts{Account: account, Region: region, Role: r}
	iampolicy.AllActions()
	b.ReportAllocs()
	for b.Loop() {
		if rep := rules.Evaluate(f); len(rep.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
