package roleuse_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/roleuse"
	"github.com/ecsguard/ecsguard/shared/rules"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "roleuse", &moto)) }

// account is an empty emulator account with an index table, and its id.
func account(t testing.TB) (aws.Config, *roleuse.Index, *roleuse.Scan, string) {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	id := emulator.NewAccount()
	cfg := moto.Config(ctx, id)
	db := dynamodb.NewFromConfig(cfg)
	if err := roleuse.CreateTable(ctx, db, "index"); err != nil {
		t.Fatal(err)
	}
	return cfg, &roleuse.Index{DB: db, Table: "index"}, &roleuse.Scan{ECS: ecs.NewFromConfig(cfg)}, id
}

func register(t testing.TB, cfg aws.Config, family, taskRole, execRole string) string {
	t.Helper()
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox:1.36")}},
	}
	if taskRole != "" {
		in.TaskRoleArn = aws.String(taskRole)
	}
	if execRole != "" {
		in.ExecutionRoleArn = aws.String(execRole)
	}
	out, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func TestIndexAndScanAgree(t *testing.T) {
	t.Parallel()
	cfg, ix, scan, acct := account(t)
	ctx := context.Background()
	app := "arn:aws:iam::" + acct + ":role/service/App"
	web := register(t, cfg, "web", app, "arn:aws:iam::"+acct+":role/exec")
	worker := register(t, cfg, "worker", "App", "") // a short name, another case
	register(t, cfg, "other", "arn:aws:iam::"+acct+":role/other", "arn:aws:iam::"+acct+":role/exec")
	if swept, err := ix.Swept(ctx, acct); err != nil || swept {
		t.Fatalf("swept before the sweep: %v, %v", swept, err)
	}
	n, err := roleuse.Rebuild(ctx, acct, scan, ix)
	if err != nil || n != 3 {
		t.Fatalf("rebuild: %d, %v", n, err)
	}
	fresh := &roleuse.Index{DB: ix.DB, Table: ix.Table} // another process
	if swept, err := fresh.Swept(ctx, acct); err != nil || !swept {
		t.Errorf("swept after the sweep: %v, %v", swept, err)
	}
	if swept, err := fresh.Swept(ctx, emulator.NewAccount()); err != nil || swept {
		t.Errorf("another account swept: %v, %v", swept, err)
	}
	if at, err := fresh.SweptAt(ctx); err != nil || len(at) != 1 || time.Since(at[acct]) > time.Minute {
		t.Errorf("sweep marks: %v, %v", at, err)
	}
	for _, role := range []string{"app", "App", app} {
		fromIndex, err := ix.TaskDefinitions(ctx, acct, role)
		if err != nil {
			t.Fatal(err)
		}
		fromScan, err := scan.TaskDefinitions(ctx, role)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(fromIndex)
		slices.Sort(fromScan)
		want := []string{web, worker}
		slices.Sort(want)
		if !slices.Equal(fromIndex, want) || !slices.Equal(fromScan, want) {
			t.Errorf("%s: index %v, scan %v, want %v", role, fromIndex, fromScan, want)
		}
	}
	if got, _ := ix.TaskDefinitions(ctx, emulator.NewAccount(), "app"); len(got) != 0 {
		t.Errorf("the role of that name in another account: %v", got)
	}
	if err := ix.Forget(ctx, acct, app, web); err != nil {
		t.Fatal(err)
	}
	if got, _ := ix.TaskDefinitions(ctx, acct, "app"); !slices.Equal(got, []string{worker}) {
		t.Errorf("after Forget: %v", got)
	}
	if got, _ := ix.TaskDefinitions(ctx, acct, "nobody"); len(got) != 0 {
		t.Errorf("unknown role: %v", got)
	}
}

// A scan over several regions finds and records the revisions of each,
// described in their own region.
func TestScanRegions(t *testing.T) {
	t.Parallel()
	cfg, ix, scan, acct := account(t)
	ctx := context.Background()
	other := cfg.Copy()
	other.Region = "eu-west-1"
	app := "arn:aws:iam::" + acct + ":role/app"
	here := register(t, cfg, "web", app, "")
	there := register(t, other, "web", app, "")
	if here == there || !strings.Contains(there, ":eu-west-1:") {
		t.Fatalf("revisions %s and %s", here, there)
	}
	if got, err := scan.TaskDefinitions(ctx, "app"); err != nil || !slices.Equal(got, []string{here}) {
		t.Fatalf("one region: %v, %v", got, err)
	}
	scan.Regions = []string{"us-east-1", "eu-west-1"}
	got, err := scan.TaskDefinitions(ctx, "app")
	if err != nil || !slices.Equal(got, []string{here, there}) {
		t.Fatalf("two regions: %v, %v", got, err)
	}
	if n, err := roleuse.Rebuild(ctx, acct, scan, ix); err != nil || n != 2 {
		t.Fatalf("rebuild: %d, %v", n, err)
	}
	fromIndex, err := ix.TaskDefinitions(ctx, acct, "app")
	slices.Sort(fromIndex)
	want := []string{here, there}
	slices.Sort(want)
	if err != nil || !slices.Equal(fromIndex, want) {
		t.Errorf("index: %v, %v", fromIndex, err)
	}
}

// Record keeps one item per role: a role that is both task and execution
// role of a revision is one entry.
func TestRecordSameRoleTwice(t *testing.T) {
	t.Parallel()
	_, ix, _, _ := account(t)
	ctx := context.Background()
	td := &rules.TaskDefinition{ARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:1",
		TaskRoleARN: "arn:aws:iam::111122223333:role/billing-app", ExecutionRoleARN: "billing-app"}
	if err := ix.Record(ctx, td); err != nil {
		t.Fatal(err)
	}
	got, err := ix.TaskDefinitions(ctx, "111122223333", "billing-app")
	if err != nil || !slices.Equal(got, []string{td.ARN}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

// BenchmarkLookup finds the revisions that use one role in an account of
// 1,000 ACTIVE revisions (300 families, 200 roles; the role looked up is
// used by 5), through the index and through the scan. awscalls/op is what
// each costs; the scan's list pages are counted at ECS's real page size of
// 100 (moto returns one page).
func BenchmarkLookup(b *testing.B) {
	cfg, ix, _, acct := account(b)
	ctx := context.Background()
	const revisions, families, roles = 1000, 300, 200
	role := func(i int) string { return fmt.Sprintf("arn:aws:iam::%s:role/app-%03d", acct, i) }
	exec := "arn:aws:iam::" + acct + ":role/exec"
	for i := range revisions {
		r := i%(roles-1) + 1 // roles 1 to 199 ...
		if i >= revisions-5 {
			r = 0 // ... and role 0 for the last 5 revisions
		}
		arn := register(b, cfg, fmt.Sprintf("family-%03d", i%families), role(r), exec)
		if err := ix.Record(ctx, &rules.TaskDefinition{ARN: arn, TaskRoleARN: role(r), ExecutionRoleARN: exec}); err != nil {
			b.Fatal(err)
		}
	}
	for _, indexed := range []bool{true, false} {
		name := "scan"
		if indexed {
			name = "index"
		}
		b.Run(name, func(b *testing.B) {
			calls := &awsfacts.Calls{}
			c := cfg.Copy()
			calls.Count(&c)
			index := &roleuse.Index{DB: dynamodb.NewFromConfig(c), Table: ix.Table}
			scan := &roleuse.Scan{ECS: ecs.NewFromConfig(c), PageSize: 100}
			find := func() ([]string, error) { return scan.TaskDefinitions(ctx, role(0)) }
			if indexed {
				find = func() ([]string, error) { return index.TaskDefinitions(ctx, acct, role(0)) }
			}
			var found int
			for b.Loop() {
				got, err := find()
				if err != nil {
					b.Fatal(err)
				}
				found = len(got)
			}
			if found != 5 {
				b.Fatalf("found %d revisions, want 5", found)
			}
			perOp := float64(calls.Total()) / float64(b.N)
			if !indexed {
				// One list page per 100 revisions on ECS, where moto answers in one.
				perOp += float64(revisions/100 - 1)
			}
			b.ReportMetric(perOp, "awscalls/op")
		})
	}
}

// Families lists the families whose revisions use a role as their task
// role, not as their execution role; recording a revision twice in one
// process writes it once.
func TestFamilies(t *testing.T) {
	t.Parallel()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	db := dynamodb.NewFromConfig(moto.Config(ctx, emulator.NewAccount()))
	if err := roleuse.CreateTable(ctx, db, "idx"); err != nil {
		t.Fatal(err)
	}
	ix := &roleuse.Index{DB: db, Table: "idx"}
	td := func(family, task, exec string) *rules.TaskDefinition {
		return &rules.TaskDefinition{ARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/" + family + ":1", Family: family,
			TaskRoleARN: "arn:aws:iam::111122223333:role/" + task, ExecutionRoleARN: "arn:aws:iam::111122223333:role/" + exec}
	}
	for _, d := range []*rules.TaskDefinition{td("web", "shared", "exec"), td("worker", "shared", "exec"), td("batch", "other", "shared"), td("web", "shared", "exec")} {
		if err := ix.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ix.Families(ctx, "", "arn:aws:iam::111122223333:role/shared")
	if err != nil || strings.Join(got, ",") != "web,worker" {
		t.Errorf("Families(shared) = %v, %v; want web,worker", got, err)
	}
}
