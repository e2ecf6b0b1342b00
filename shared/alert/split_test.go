package alert_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// fanOut is AttachRolePolicy AdministratorAccess on a task role used by n
// task definitions, in enforce mode: each revision has a TD-008 CRITICAL
// finding the change brought and was deregistered.
func fanOut(tb testing.TB, n int) assess.Assessment {
	tb.Helper()
	a := attachAdmin(tb, rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: enforceMin + " (ENFORCE_ON_ROLE_CHANGE=true)"})
	v := a.Verdicts[0]
	a.Verdicts = make([]assess.Verdict, n)
	for i := range a.Verdicts {
		w := v
		w.Report.Subject.ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task-definition/service-%04d:%d", i, 1+i%97)
		a.Verdicts[i] = w
	}
	a.Notes = []string{"the role index was not updated: ThrottlingException: Rate exceeded"}
	return a
}

// checkParts checks a split alert: every part a complete message, numbered,
// within the limits, with the attributes of its own verdicts; every
// alerting subject in exactly one part, its report whole but for the
// statements, or summarised when it does not fit alone.
func checkParts(t *testing.T, a assess.Assessment, msgs []alert.Message) (docs []alert.ChangeDocument) {
	t.Helper()
	alerting := a.Alerting()
	byARN := map[string]assess.Verdict{}
	for _, v := range alerting {
		byARN[v.Report.Subject.ARN] = v
	}
	seen := map[string]int{}
	n := len(msgs)
	next := 0 // the index in alerting of the next subject: parts are in verdict order
	for k, m := range msgs {
		p := checkMessage(t, m, "event", "part")
		doc := decodeDocument(t, p.Default)
		docs = append(docs, doc)
		if doc.Part != k+1 || doc.Parts != n {
			t.Errorf("message %d: document part %d of %d, want %d of %d", k, doc.Part, doc.Parts, k+1, n)
		}
		if suffix := fmt.Sprintf(" (%d/%d)", k+1, n); !strings.HasSuffix(m.Subject, suffix) {
			t.Errorf("subject %q does not end with %q", m.Subject, suffix)
		}
		if !strings.Contains(p.Email, fmt.Sprintf("Part:            %d of %d:", k+1, n)) {
			t.Errorf("part %d: the email does not say which part it is", k+1)
		}
		var vs []assess.Verdict
		for _, r := range doc.Reports {
			seen[r.Subject.ARN]++
			v, ok := byARN[r.Subject.ARN]
			if !ok {
				t.Fatalf("part %d announces %s, which needs no alert", k+1, r.Subject.ARN)
			}
			if next < len(alerting) && alerting[next].Report.Subject.ARN != r.Subject.ARN {
				t.Errorf("part %d: %s out of verdict order", k+1, r.Subject.ARN)
			}
			next++
			vs = append(vs, v)
			if _, ok := doc.Summaries[r.Subject.ARN]; !ok && !reflect.DeepEqual(r, withoutStatements(v.Report)) {
				t.Errorf("part %d: the report of %s differs from the verdict's", k+1, r.Subject.ARN)
			}
			label := r.Subject.ARN[strings.LastIndexByte(r.Subject.ARN, '/')+1:]
			if !strings.Contains(p.Email, label) {
				t.Errorf("part %d: the email does not name %s", k+1, label)
			}
		}
		checkChangeAttributes(t, m, a, vs, "part", fmt.Sprintf("%d/%d", k+1, n))
		notes := a.Notes
		if notes == nil {
			notes = []string{}
		}
		if !reflect.DeepEqual(doc.Notes, notes) {
			t.Errorf("part %d: notes %q, want %q", k+1, doc.Notes, notes)
		}
		for _, note := range a.Notes {
			if !strings.Contains(flat(p.Email), note) || !strings.Contains(p.HTTPS, note) {
				t.Errorf("part %d: the texts lack the note %q", k+1, note)
			}
		}
	}
	for arn := range byARN {
		if seen[arn] != 1 {
			t.Errorf("%s is in %d parts, want 1", arn, seen[arn])
		}
	}
	return docs
}

func TestRenderSplit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			a := fanOut(t, n)
			msgs, err := alert.Render(a)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(msgs) < 2 {
				t.Fatalf("Render gave %d messages for %d subjects, want several", len(msgs), n)
			}
			largest := 0
			for _, m := range msgs {
				largest = max(largest, len(m.Body))
			}
			t.Logf("%d subjects in %d parts, largest body %d bytes; first subject %q", n, len(msgs), largest, msgs[0].Subject)
			checkParts(t, a, msgs)
			for k, m := range msgs {
				if m.Attributes["severity"] != "CRITICAL" || m.Attributes["rules"] != `["TD-008"]` {
					t.Errorf("part %d: attributes %v", k+1, m.Attributes)
				}
				if !strings.HasPrefix(m.Subject, "[CRITICAL] ecsguard: AttachRolePolicy on ") || !strings.Contains(m.Subject, " task definitions, deregistered ") {
					t.Errorf("part %d: subject %q", k+1, m.Subject)
				}
			}
			checkDeterministic(t, a, msgs)
		})
	}
}

// Subjects that do not fit one message, each small: split, not shrunk
// further.
func TestRenderSplitManySubjects(t *testing.T) {
	t.Parallel()
	a := hugeChange(150, 2, 16)
	msgs, err := alert.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 2 {
		t.Fatalf("%d messages, want several", len(msgs))
	}
	docs := checkParts(t, a, msgs)
	for _, d := range docs {
		if len(d.Summaries) != 0 {
			t.Errorf("part %d summarises %v", d.Part, d.Summaries)
		}
		for _, r := range d.Reports {
			if known := a.Verdicts[indexOf(a, r.Subject.ARN)].BeforeKnown; known != (d.NewFindings[r.Subject.ARN] != nil) {
				t.Errorf("%s: known %v, newFindings %v", r.Subject.ARN, known, d.NewFindings[r.Subject.ARN])
			}
		}
	}
	checkDeterministic(t, a, msgs)
}

func indexOf(a assess.Assessment, arn string) int {
	for i, v := range a.Verdicts {
		if v.Report.Subject.ARN == arn {
			return i
		}
	}
	return -1
}

// A subject whose report is too large even alone gets a part of its own,
// summarised; the subjects around it are not held back.
func TestRenderSplitSubjectTooLargeAlone(t *testing.T) {
	t.Parallel()
	a := hugeChange(3, 2, 16)
	big := huge(3000, 16)
	big.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/big:1"
	a.Verdicts[1].Report = big
	a.Notes = []string{"the role index was not updated: AccessDenied"}
	msgs, err := alert.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3 (the large subject alone)", len(msgs))
	}
	docs := checkParts(t, a, msgs)
	sum, ok := docs[1].Summaries[big.Subject.ARN]
	if !ok || len(docs[1].Reports) != 1 || sum.Findings != 3000 || sum.ListedFindings != len(docs[1].Reports[0].Findings) {
		t.Fatalf("part 2: reports %d, summary %+v", len(docs[1].Reports), sum)
	}
	for _, k := range []int{0, 2} {
		if len(docs[k].Summaries) != 0 || len(docs[k].Reports) != 1 {
			t.Errorf("part %d: %d reports, summaries %v", k+1, len(docs[k].Reports), docs[k].Summaries)
		}
	}
	checkDeterministic(t, a, msgs)
}

// Only the verdicts that need an alert are announced, and nothing when
// none does.
func TestRenderOnlyAlerting(t *testing.T) {
	t.Parallel()
	a := attachAdmin(t, rules.Action{Type: rules.ActionNone, Reason: noEnforceOnChange})
	clean := a.Verdicts[0]
	clean.Report.Subject.ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/clean:1"
	clean.Report.Findings = []rules.Finding{}
	a.Verdicts = append(a.Verdicts, clean)
	msgs, err := alert.Render(a)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Render = %d messages, %v", len(msgs), err)
	}
	p := checkMessage(t, msgs[0], "event")
	doc := checkChangeDocument(t, p.Default, a, a.Verdicts[:2], false)
	if len(doc.Reports) != 2 || strings.Contains(p.Email, "clean:1") {
		t.Errorf("the clean subject is announced: %d reports", len(doc.Reports))
	}
}

// A policy attached to thousands of roles: each document lists the first
// roles reached and counts the others, and every message still fits.
func TestRenderManyRolesReached(t *testing.T) {
	t.Parallel()
	a := hugeChange(400, 1, 16)
	a.Event.Roles = nil
	for i := range 3000 {
		a.Event.Roles = append(a.Event.Roles, fmt.Sprintf("a-role-with-a-rather-long-name-%04d", i))
	}
	msgs, err := alert.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	for k, m := range msgs {
		p := checkMessage(t, m, "event", "part")
		doc := decodeDocument(t, p.Default)
		if n := len(doc.Change.Roles); n == 0 || n+doc.Change.RolesOmitted != 3000 || doc.Change.RolesOmitted == 0 {
			t.Errorf("part %d: %d roles listed, %d omitted", k+1, n, doc.Change.RolesOmitted)
		}
		if !strings.Contains(p.Email, "… 2950 more (the document lists ") {
			t.Errorf("part %d: the email does not count the roles it leaves out", k+1)
		}
	}
}
