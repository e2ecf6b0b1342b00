package iampolicy_test

import (
	"os"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

func benchSet(b *testing.B, docs ...string) *iampolicy.Set {
	b.Helper()
	var ps []iampolicy.Policy
	for _, d := range docs {
		ps = append(ps, iampolicy.Policy{Name: "p", Document: mustParse(b, d)})
	}
	return iampolicy.NewSet(ps, nil)
}

func execPolicy(b *testing.B) string {
	raw, err := os.ReadFile("testdata/documents/task-execution-role-policy.json")
	if err != nil {
		b.Fatal(err)
	}
	return string(raw)
}

// BenchmarkMatchAction: the decision for one action against the six actions
// of AmazonECSTaskExecutionRolePolicy, matched case-insensitively.
func BenchmarkMatchAction(b *testing.B) {
	s := benchSet(b, execPolicy(b))
	b.ReportAllocs()
	for b.Loop() {
		if s.Decide("logs:PutLogEvents", "*") != iampolicy.Allowed {
			b.Fatal("not allowed")
		}
	}
}

// BenchmarkMatchResource: prefix and '?' globs against a long ARN.
func BenchmarkMatchResource(b *testing.B) {
	s := benchSet(b, `{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":["arn:aws:logs:*:*:log-group:/ecs/other*","arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web-???:log-stream:*"]}}`)
	const arn = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web-api:log-stream:web/web/0123456789abcdef0123456789abcdef"
	b.ReportAllocs()
	for b.Loop() {
		if s.Decide("logs:PutLogEvents", arn) != iampolicy.Allowed {
			b.Fatal("not allowed")
		}
	}
}

// BenchmarkEvaluate: a decision with evidence over allow, deny and boundary.
func BenchmarkEvaluate(b *testing.B) {
	ps := []iampolicy.Policy{
		{Name: "exec", Document: mustParse(b, execPolicy(b))},
		{Name: "secrets", Document: mustParse(b, `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web/*"},{"Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:admin/*"}]}`)},
	}
	boundary := &iampolicy.Policy{Name: "boundary", Document: mustParse(b, `{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`)}
	s := iampolicy.NewSet(ps, boundary)
	b.ReportAllocs()
	for b.Loop() {
		r := s.Evaluate("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web/db-AbCdEf")
		if r.Decision != iampolicy.Allowed {
			b.Fatal(r.Decision)
		}
	}
}

// BenchmarkGrantsAdmin: expanding Action "*" over the whole catalog, the
// worst case of a role listing.
func BenchmarkGrantsAdmin(b *testing.B) {
	s := benchSet(b, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	iampolicy.AllActions() // parse the catalog outside the loop
	b.ReportAllocs()
	for b.Loop() {
		if len(s.Grants(nil)) < 20000 {
			b.Fatal("too few grants")
		}
	}
}

// BenchmarkGrantsExecutionRole: the typical listing of an execution role.
func BenchmarkGrantsExecutionRole(b *testing.B) {
	s := benchSet(b, execPolicy(b))
	iampolicy.AllActions()
	b.ReportAllocs()
	for b.Loop() {
		if len(s.Grants(nil)) != 6 {
			b.Fatal("want 6 grants")
		}
	}
}
