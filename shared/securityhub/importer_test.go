package securityhub_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
	shub "github.com/ecsguard/ecsguard/shared/securityhub"
)

var moto *emulator.Moto

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m, "securityhub", &moto)) }

type env struct {
	account string
	hub     *securityhub.Client // straight to the emulator
	im      *shub.Importer      // through the fault proxy
	proxy   *emulator.FaultProxy
}

func setup(t *testing.T) *env {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	account := emulator.NewAccount()
	cfg := moto.Config(ctx, account)
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	pcfg := cfg.Copy()
	pcfg.BaseEndpoint = aws.String(proxy.URL())
	db := dynamodb.NewFromConfig(pcfg)
	if err := ledger.CreateTable(ctx, db, "ecsguard-events"); err != nil {
		t.Fatal(err)
	}
	im := &shub.Importer{Hub: securityhub.NewFromConfig(pcfg), DB: db, Table: "ecsguard-events"}
	return &env{account: account, hub: securityhub.NewFromConfig(cfg), im: im, proxy: proxy}
}

// findings builds n findings of n task definitions of the account.
func (e *env) findings(n int) []asff.Finding {
	var reports []rules.Report
	for i := range n {
		reports = append(reports, rules.Report{Account: e.account, Region: "us-east-1", Complete: true,
			Subject:  rules.Subject{Type: rules.SubjectTaskDefinition, ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/app-%d:1", e.account, i)},
			Findings: []rules.Finding{{Rule: "TD-007", Severity: rules.Medium, Title: "no task role", Evidence: []rules.Evidence{{Detail: "no taskRoleArn"}}}}})
	}
	return asff.Findings(reports, time.Now(), "")
}

// stored reads every finding the emulator holds, by Id.
func (e *env) stored(t *testing.T) map[string]types.AwsSecurityFinding {
	t.Helper()
	out := map[string]types.AwsSecurityFinding{}
	var token *string
	for {
		got, err := e.hub.GetFindings(context.Background(), &securityhub.GetFindingsInput{NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range got.Findings {
			out[aws.ToString(f.Id)] = f
		}
		if token = got.NextToken; aws.ToString(token) == "" {
			return out
		}
	}
}

// More than a batch goes in several calls of at most 100 findings, and
// every finding arrives as built.
func TestImportBatches(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fs := e.findings(250)
	if err := e.im.Import(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	if n := e.proxy.Calls("BatchImportFindings"); n != 3 {
		t.Errorf("%d BatchImportFindings calls for 250 findings, want 3", n)
	}
	got := e.stored(t)
	if len(got) != 250 {
		t.Fatalf("%d findings stored, want 250", len(got))
	}
	f := got[fs[7].ID]
	if aws.ToString(f.GeneratorId) != "TD-007" || f.Severity == nil || f.Severity.Label != types.SeverityLabelMedium ||
		len(f.Resources) != 1 || aws.ToString(f.Resources[0].Type) != "AwsEcsTaskDefinition" || f.RecordState != types.RecordStateActive {
		t.Errorf("stored finding differs from the one built: %+v", f)
	}
}

// A finding Security Hub refuses is sent once more, then named in the
// error; the others of its batch are imported.
func TestImportPartialFailure(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fs := e.findings(3)
	bad := fs[1]
	bad.Resources = nil // the emulator, as Security Hub, refuses a finding without resources
	fs[1] = bad
	err := e.im.Import(context.Background(), fs)
	var ie *shub.ImportError
	if !errors.As(err, &ie) || len(ie.Failed) != 1 || aws.ToString(ie.Failed[0].Id) != bad.ID || !strings.Contains(err.Error(), bad.ID) {
		t.Fatalf("error %v, want an ImportError naming %s", err, bad.ID)
	}
	if n := e.proxy.Calls("BatchImportFindings"); n != 2 {
		t.Errorf("%d calls, want 2: the batch, then the failed finding once more", n)
	}
	got := e.stored(t)
	if _, ok := got[fs[0].ID]; !ok || len(got) != 2 {
		t.Errorf("stored %d findings, want the 2 valid ones", len(got))
	}
}

// A call that fails outright (throttled beyond the SDK's retries) is an
// error, and nothing is reported imported.
func TestImportCallFails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.proxy.Fail("BatchImportFindings", -1, emulator.AccessDenied)
	err := e.im.Import(context.Background(), e.findings(2))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("error %v, want the AccessDenied of the call", err)
	}
}

// What an import left active is read back as saved; an empty state
// removes it.
func TestState(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	a, b := "arn:aws:ecs:us-east-1:111122223333:task-definition/a:1", "arn:aws:ecs:us-east-1:111122223333:task-definition/b:1"
	want := asff.State{"TD-014": {Severity: rules.High, CreatedAt: at}, "TD-010/arn:aws:iam::111122223333:role/x": {Severity: rules.Critical, CreatedAt: at}}
	if err := e.im.Save(ctx, a, want); err != nil {
		t.Fatal(err)
	}
	got, err := e.im.States(ctx, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[a]) != 2 || got[a]["TD-014"] != want["TD-014"] || got[a]["TD-010/arn:aws:iam::111122223333:role/x"].Severity != rules.Critical || len(got[b]) != 0 {
		t.Errorf("states %v, want %v for a and nothing for b", got, want)
	}
	if err := e.im.Save(ctx, a, asff.State{}); err != nil {
		t.Fatal(err)
	}
	if got, err = e.im.States(ctx, []string{a}); err != nil || len(got[a]) != 0 || len(got) != 1 {
		t.Errorf("after clearing: %v, %v", got, err)
	}
}
