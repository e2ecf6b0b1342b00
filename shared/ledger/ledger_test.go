package ledger_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/ledger"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "ledger", &moto)) }

func newLedger(t *testing.T, now *time.Time) *ledger.Ledger {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	db := dynamodb.NewFromConfig(moto.Config(ctx, emulator.NewAccount()))
	if err := ledger.CreateTable(ctx, db, "ecsguard-events"); err != nil {
		t.Fatal(err)
	}
	return &ledger.Ledger{DB: db, Table: "ecsguard-events", Lease: time.Minute, Now: func() time.Time { return *now }}
}

// One delivery claims the event; a second one at the same time is told to
// come back; after a failure the retry takes over and sees what was done;
// once done, a duplicate does nothing.
func TestExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := newLedger(t, &now)

	first, err := l.Begin(ctx, "111122223333/e-1")
	if err != nil || first.Done {
		t.Fatalf("first claim: %+v, %v", first, err)
	}
	if _, err := l.Begin(ctx, "111122223333/e-1"); !errors.Is(err, ledger.ErrBusy) {
		t.Fatalf("concurrent claim: %v, want ErrBusy", err)
	}
	if err := first.AddDeregistered(ctx, "arn:td:1"); err != nil {
		t.Fatal(err)
	}
	if err := first.AddPublished(ctx, "part-a"); err != nil {
		t.Fatal(err)
	}
	// The first delivery fails and releases its claim: the retry takes over.
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	retry, err := l.Begin(ctx, "111122223333/e-1")
	if err != nil || retry.Done || !retry.HasDeregistered("arn:td:1") || !retry.HasPublished("part-a") || retry.HasPublished("part-b") {
		t.Fatalf("retry: %+v, %v", retry, err)
	}
	// The retry publishes the last part: finishing records it.
	if err := retry.Finish(ctx, "part-b"); err != nil {
		t.Fatal(err)
	}
	dup, err := l.Begin(ctx, "111122223333/e-1")
	if err != nil || !dup.Done || !dup.HasPublished("part-a") || !dup.HasPublished("part-b") {
		t.Fatalf("duplicate: %+v, %v", dup, err)
	}
	// Another event is its own record.
	other, err := l.Begin(ctx, "111122223333/e-2")
	if err != nil || other.Done || len(other.Deregistered) != 0 {
		t.Fatalf("other event: %+v, %v", other, err)
	}
}

// A delivery that crashed without releasing is taken over once its lease
// runs out, not before.
func TestLeaseTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := newLedger(t, &now)
	if _, err := l.Begin(ctx, "e-crash"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	if _, err := l.Begin(ctx, "e-crash"); !errors.Is(err, ledger.ErrBusy) {
		t.Fatalf("within the lease: %v, want ErrBusy", err)
	}
	now = now.Add(time.Minute)
	if r, err := l.Begin(ctx, "e-crash"); err != nil || r.Done {
		t.Fatalf("after the lease: %+v, %v", r, err)
	}
}

// Without a table nothing is kept and every delivery acts.
func TestNoTable(t *testing.T) {
	t.Parallel()
	var l *ledger.Ledger
	r, err := l.Begin(context.Background(), "e")
	if err != nil || r.Done {
		t.Fatalf("%+v, %v", r, err)
	}
	if err := r.AddDeregistered(context.Background(), "x"); err != nil || !r.HasDeregistered("x") {
		t.Fatalf("in memory: %v", err)
	}
	if err := r.Finish(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}
