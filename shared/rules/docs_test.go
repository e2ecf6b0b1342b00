package rules_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

const rulesDoc = "../../docs/rules.md"

func TestRulesDocIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := rules.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(rulesDoc, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatalf("%v (run make docs)", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is stale: run make docs", rulesDoc)
	}
}

func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	want := []string{"TD-001", "TD-002", "TD-003", "TD-004", "TD-005", "TD-006", "TD-007", "TD-008", "TD-009", "TD-010", "TD-011", "TD-012", "TD-013", "TD-014", "SR-001", "SR-002", "SR-003", "SR-004", "SR-005", "SR-006", rules.IncompleteRule, rules.TamperingRule, rules.UnknownExemptionRule}
	for _, id := range want {
		r, ok := rules.Lookup(id)
		if !ok {
			t.Errorf("rule %s missing from the catalog", id)
			continue
		}
		if r.Title == "" || r.Why == "" || r.Remediation == "" || len(r.Severities) == 0 || r.Severity == 0 {
			t.Errorf("rule %s incomplete: %+v", id, r)
		}
	}
	if n := len(rules.Catalog()); n != len(want) {
		t.Errorf("catalog has %d rules, want %d", n, len(want))
	}
}
