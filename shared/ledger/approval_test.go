package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ecsguard/ecsguard/shared/ledger"
)

// An approval records who set each tag: a later call that sets one tag
// replaces that tag's record only; reads see what was just written, in one
// batch for many resources, and leave out the resources never tagged.
func TestApprovals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := newLedger(t, &now)
	const (
		td       = "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:1"
		role     = "arn:aws:iam::111122223333:role/reports-admin-task"
		ci       = "arn:aws:iam::111122223333:role/ci-deploy"
		admins   = "arn:aws:iam::111122223333:role/platform-admins"
		exempt   = "ecsguard:exempt"
		reason   = "ecsguard:exempt-reason"
		untagged = "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:1"
	)
	if err := l.RecordApproval(ctx, td, map[string]string{exempt: "*", reason: "migration"}, ci, "e-1"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if err := l.RecordApproval(ctx, td, map[string]string{exempt: "TD-008"}, admins, "e-2"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordApproval(ctx, role, map[string]string{exempt: "TD-008", reason: ""}, admins, "e-3"); err != nil {
		t.Fatal(err)
	}
	got, err := l.Approvals(ctx, []string{td, role, untagged, td})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ledger.Approval{
		td: {
			exempt: {Value: "TD-008", Actor: admins, EventID: "e-2", At: now},
			reason: {Value: "migration", Actor: ci, EventID: "e-1", At: now.Add(-time.Hour)},
		},
		role: {
			exempt: {Value: "TD-008", Actor: admins, EventID: "e-3", At: now},
			reason: {Value: "", Actor: admins, EventID: "e-3", At: now},
		},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Approvals =\n%v\nwant\n%v", got, want)
	}

	// More resources than one BatchGetItem takes.
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task-definition/batch-%03d:1", i))
	}
	if err := l.RecordApproval(ctx, many[249], map[string]string{exempt: "TD-013"}, admins, "e-4"); err != nil {
		t.Fatal(err)
	}
	got, err = l.Approvals(ctx, append(many, td))
	if err != nil || len(got) != 2 || got[many[249]][exempt].Value != "TD-013" || got[td][exempt].Actor != admins {
		t.Errorf("Approvals(251 resources) = %v, %v", got, err)
	}
}

// Without a table there is nothing to record or read.
func TestApprovalsNoTable(t *testing.T) {
	t.Parallel()
	var l *ledger.Ledger
	if err := l.RecordApproval(context.Background(), "arn", map[string]string{"k": "v"}, "a", "e"); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Approvals(context.Background(), []string{"arn"}); err != nil || len(got) != 0 {
		t.Fatalf("%v, %v", got, err)
	}
}
