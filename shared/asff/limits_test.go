package asff_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// TestLimits holds a report far over ASFF's limits to them: 300 lines of
// evidence, a resource whose ARN would push the Id over 512 characters.
func TestLimits(t *testing.T) {
	long := "arn:aws:iam::111122223333:role/" + strings.Repeat("p/", 200) + "r"
	var ev []rules.Evidence
	for range 300 {
		ev = append(ev, rules.Evidence{Detail: "statement allows iam:PassRole on * — " + strings.Repeat("é", 20)})
	}
	r := rules.Report{Account: "111122223333", Region: "us-east-1", Complete: true,
		Subject:  rules.Subject{Type: rules.SubjectTaskDefinition, ARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/big:1"},
		Findings: []rules.Finding{{Rule: "TD-009", Severity: rules.High, Title: "task role allows privilege escalation", Resource: long, Evidence: ev}}}
	got := asff.Findings([]rules.Report{r}, now, "")
	if len(got) != 1 {
		t.Fatalf("got %d findings", len(got))
	}
	f := got[0]
	if n := utf8.RuneCountInString(f.Description); n > 1024 || !utf8.ValidString(f.Description) {
		t.Errorf("description: %d characters, valid UTF-8 %v", n, utf8.ValidString(f.Description))
	}
	if !strings.HasSuffix(f.Description, "more lines in ecsguard's report") {
		t.Errorf("description does not say what it left out: …%s", f.Description[len(f.Description)-60:])
	}
	if len(f.ID) > 512 || !strings.HasPrefix(f.ID, r.Subject.ARN+"/TD-009/") {
		t.Errorf("id %q (%d bytes)", f.ID, len(f.ID))
	}
	again := asff.Findings([]rules.Report{r}, now, "")
	if again[0].ID != f.ID {
		t.Errorf("the id is not stable: %q, then %q", f.ID, again[0].ID)
	}
}
