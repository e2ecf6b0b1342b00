package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// The organization of these tests: a management account, where the CLI
// runs, and the members team-a and team-b, each holding the sample
// account. It is built once and only read: the tests that fail calls do
// so in a fault proxy of their own.
var (
	orgOnce   sync.Once
	sharedOrg emulator.Organization
	orgErr    error
)

func seededOrganization(t *testing.T) emulator.Organization {
	t.Helper()
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	orgOnce.Do(func() {
		ctx := context.Background()
		sharedOrg, orgErr = emulator.NewOrganization(ctx, moto.URL(), emulator.NewAccount(), "team-a", "team-b")
		if orgErr != nil {
			return
		}
		for _, id := range append([]string{sharedOrg.Management}, memberIDs(sharedOrg)...) {
			if _, orgErr = emulator.Seed(ctx, emulator.Config(moto.URL(), id)); orgErr != nil {
				return
			}
		}
	})
	if orgErr != nil {
		t.Fatal(orgErr)
	}
	return sharedOrg
}

func memberIDs(org emulator.Organization) []string {
	var ids []string
	for _, m := range org.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

// runAs sets the environment the CLI reads: credentials of a session in
// account, as the auditor running it would have, and no shared
// configuration of the machine's user.
func runAs(t *testing.T, account string) {
	t.Helper()
	env, err := emulator.FunctionEnv(context.Background(), moto.URL(), account, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "AWS_ENDPOINT_URL" && k != "AWS_LAMBDA_FUNCTION_NAME" {
			t.Setenv(k, v)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
}

func startProxy(t *testing.T) *emulator.FaultProxy {
	t.Helper()
	proxy, err := emulator.StartFaultProxy(moto.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	return proxy
}

func decodeOrganization(t *testing.T, stdout string) organizationResult {
	t.Helper()
	var res organizationResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("scan --format json: %v\n%s", err, stdout)
	}
	return res
}

// accountByID is the summary of each account.
func accountByID(res organizationResult) map[string]accountSummary {
	out := map[string]accountSummary{}
	for _, a := range res.Accounts {
		out[a.Account] = a
	}
	return out
}

// checkSample checks that the reports of account are the sample
// account's, each in that account.
func checkSample(t *testing.T, account string, reports []rules.Report) {
	t.Helper()
	var mine []rules.Report
	for _, r := range reports {
		if r.Account == account {
			mine = append(mine, r)
		}
	}
	got := byEnd(mine)
	if !maps.EqualFunc(got, sampleWants, func(r rules.Report, want []string) bool { return r.Complete }) {
		t.Errorf("account %s: subjects %v, want %v", account, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(sampleWants)))
	}
	for _, r := range mine {
		if arnAccount(r.Subject.ARN) != account {
			t.Errorf("account %s: report on %s", account, r.Subject.ARN)
		}
	}
	for subject, want := range sampleWants {
		var found []string
		for _, f := range got[subject].Findings {
			if !f.Suppressed && !slices.Contains(found, f.Rule) {
				found = append(found, f.Rule)
			}
		}
		if !slices.Equal(found, want) {
			t.Errorf("account %s: %s: rules %v, want %v", account, subject, found, want)
		}
	}
}

// scan --organization covers every account: the management account with
// the caller's own credentials, each member through its member role; each
// account's task definitions and roles are found in that account.
func TestScanOrganization(t *testing.T) {
	org := seededOrganization(t)
	runAs(t, org.Management)
	proxy := startProxy(t)
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--organization", "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (HIGH findings)\n%s", code, exitFindings, stderr)
	}
	res := decodeOrganization(t, stdout)
	want := map[string]string{org.Management: "", org.Members[0].ID: "team-a", org.Members[1].ID: "team-b"}
	got := accountByID(res)
	if len(got) != len(want) {
		t.Fatalf("accounts %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for id, name := range want {
		a := got[id]
		if a.Status != statusScanned || a.State != "ACTIVE" || a.Error != "" || (name != "" && a.Name != name) ||
			a.TaskDefinitions != 5 || a.Roles != 4 || a.Subjects != 9 || a.AWSCalls == 0 || a.Region != emulator.Region {
			t.Errorf("account %s: %+v", id, a)
		}
		checkSample(t, id, res.Reports)
	}
	s := res.Summary
	if s.Accounts != 3 || s.Scanned != 3 || s.Failed != 0 || s.Skipped != 0 || s.TaskDefinitions != 15 || s.Roles != 12 || s.Subjects != 27 {
		t.Errorf("summary %+v", s)
	}
	var perAccount int64
	for _, a := range res.Accounts {
		perAccount += a.AWSCalls
	}
	if s.AWSCalls <= perAccount {
		t.Errorf("overall %d AWS calls, not more than the accounts' %d (ListAccounts, AssumeRole)", s.AWSCalls, perAccount)
	}
	if n := proxy.Calls("AssumeRole"); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2: one per member, none for the own account", n)
	}
	if len(res.UsedBy) != 3*4 {
		t.Errorf("usedBy has %d roles, want the 4 of each account", len(res.UsedBy))
	}
	if !strings.Contains(stderr, "scanned 3 of 3 accounts (0 failed, 0 skipped): 15 task definitions and 12 roles in us-east-1") {
		t.Errorf("stderr %q", stderr)
	}

	// The text report: a section per account, the table, the line over all.
	code, stdout, _ = runScan(t, "--endpoint-url", proxy.URL(), "--organization")
	if code != exitFindings {
		t.Errorf("text: exit %d", code)
	}
	for _, want := range []string{
		"== account " + org.Members[0].ID + " (team-a): scanned\n",
		"task definition arn:aws:ecs:us-east-1:" + org.Members[1].ID + ":task-definition/billing:1  complete",
		"ACCOUNT ", org.Members[1].ID + "  team-b  scanned  9 ",
		"\n3 accounts: 3 scanned, 0 failed, 0 skipped; 27 subjects judged: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
}

// --accounts scans the accounts listed, and only them, without asking
// Organizations.
func TestScanAccountsListed(t *testing.T) {
	org := seededOrganization(t)
	runAs(t, org.Management)
	proxy := startProxy(t)
	a := org.Members[0].ID
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--accounts", a, "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decodeOrganization(t, stdout)
	if len(res.Accounts) != 1 || res.Accounts[0].Account != a || res.Accounts[0].Status != statusScanned {
		t.Fatalf("accounts %+v", res.Accounts)
	}
	for _, r := range res.Reports {
		if r.Account != a {
			t.Errorf("report of another account: %s", r.Subject.ARN)
		}
	}
	checkSample(t, a, res.Reports)
	if n := proxy.Calls("ListAccounts"); n != 0 {
		t.Errorf("%d ListAccounts calls without --organization", n)
	}
}

// A member whose role cannot be assumed is reported failed with the
// error; the other accounts are scanned; the exit status is 3.
func TestScanOrganizationAssumeDenied(t *testing.T) {
	org := seededOrganization(t)
	runAs(t, org.Management)
	proxy := startProxy(t)
	b := org.Members[1].ID
	proxy.FailMatching("AssumeRole", b, -1, emulator.AccessDenied)
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--organization", "--format", "json")
	if code != exitAWS {
		t.Fatalf("exit %d, want %d\n%s", code, exitAWS, stderr)
	}
	res := decodeOrganization(t, stdout)
	got := accountByID(res)
	if f := got[b]; f.Status != statusFailed || f.Name != "team-b" || !strings.Contains(f.Error, "cannot assume arn:aws:iam::"+b+":role/ecsguard-audit") ||
		!strings.Contains(f.Error, "AccessDenied") || f.Subjects != 0 {
		t.Errorf("team-b: %+v", f)
	}
	for _, id := range []string{org.Management, org.Members[0].ID} {
		if got[id].Status != statusScanned {
			t.Errorf("account %s: %+v", id, got[id])
		}
		checkSample(t, id, res.Reports)
	}
	if s := res.Summary; s.Scanned != 2 || s.Failed != 1 || s.Subjects != 18 {
		t.Errorf("summary %+v", s)
	}
	if !strings.Contains(stderr, "ecsguard: account "+b+" (team-b) failed: account "+b+": cannot assume") {
		t.Errorf("stderr %q", stderr)
	}

	// The same in text, and with the role name given.
	code, stdout, _ = runScan(t, "--endpoint-url", proxy.URL(), "--organization", "--role-name", "ecsguard-member", "--account-workers", "1")
	if code != exitAWS || !strings.Contains(stdout, "== account "+b+" (team-b): FAILED\n  ! account "+b+": cannot assume") ||
		!strings.Contains(stdout, "3 accounts: 2 scanned, 1 failed, 0 skipped") {
		t.Errorf("text: exit %d\n%s", code, stdout)
	}
}

// An account whose calls are denied is reported failed with the error;
// the other accounts are scanned.
func TestScanOrganizationReadDenied(t *testing.T) {
	org := seededOrganization(t)
	runAs(t, org.Management)
	proxy := startProxy(t)
	proxy.Fail("GetAccountAuthorizationDetails", 1, emulator.AccessDenied) // whichever account asks first
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--organization", "--format", "json")
	if code != exitAWS {
		t.Fatalf("exit %d, want %d\n%s", code, exitAWS, stderr)
	}
	res := decodeOrganization(t, stdout)
	var failedAccounts []string
	for _, a := range res.Accounts {
		switch {
		case a.Status == statusFailed && strings.Contains(a.Error, "account authorization details") && strings.Contains(a.Error, "AccessDenied"):
			failedAccounts = append(failedAccounts, a.Account)
		case a.Status == statusScanned:
			checkSample(t, a.Account, res.Reports)
		default:
			t.Errorf("account %s: %+v", a.Account, a)
		}
	}
	if len(failedAccounts) != 1 || res.Summary.Scanned != 2 {
		t.Errorf("failed %v, summary %+v", failedAccounts, res.Summary)
	}
}

// An account that Organizations reports SUSPENDED is skipped and
// reported with its state; an account of --accounts outside the
// organization is skipped too.
func TestScanOrganizationSkipsSuspended(t *testing.T) {
	if moto == nil {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	org, err := emulator.NewOrganization(ctx, moto.URL(), emulator.NewAccount(), "live", "closed")
	if err != nil {
		t.Fatal(err)
	}
	live, closed := org.Members[0].ID, org.Members[1].ID
	if _, err := organizations.NewFromConfig(emulator.Config(moto.URL(), org.Management)).CloseAccount(ctx,
		&organizations.CloseAccountInput{AccountId: aws.String(closed)}); err != nil {
		t.Fatal(err)
	}
	runAs(t, org.Management)
	code, stdout, stderr := runScan(t, "--endpoint-url", moto.URL(), "--organization", "--format", "json")
	if code != exitOK { // the accounts are empty
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	got := accountByID(decodeOrganization(t, stdout))
	if c := got[closed]; c.Status != statusSkipped || c.State != "SUSPENDED" || c.Name != "closed" {
		t.Errorf("closed account: %+v", c)
	}
	if got[live].Status != statusScanned || got[org.Management].Status != statusScanned {
		t.Errorf("accounts %+v", got)
	}

	outsider := emulator.NewAccount()
	code, stdout, _ = runScan(t, "--endpoint-url", moto.URL(), "--organization", "--accounts", closed+","+outsider+","+live)
	for _, want := range []string{
		"== account " + closed + " (closed): skipped: SUSPENDED\n",
		"== account " + outsider + ": skipped: not an account of the organization\n",
		"== account " + live + " (live): scanned\n",
		"3 accounts: 1 scanned, 0 failed, 2 skipped; 0 subjects judged: 0 with findings, 0 clean, 0 incomplete; 0 open findings, 0 suppressed; fail-on HIGH: pass\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitOK || strings.Contains(stdout, org.Management) {
		t.Errorf("exit %d; only the accounts listed:\n%s", code, stdout)
	}
}

// Bad account flags stop the scan before any AWS call, with one line.
func TestScanAccountFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--accounts", "12345"}, `ecsguard: scan: --accounts: "12345" is not a 12-digit account id` + "\n"},
		{[]string{"--accounts", "123456789012,12345678901x"}, `ecsguard: scan: --accounts: "12345678901x" is not a 12-digit account id` + "\n"},
		{[]string{"--accounts", ""}, `ecsguard: scan: --accounts: "" is not a 12-digit account id` + "\n"},
		{[]string{"--organization", "--account-workers", "0"}, "ecsguard: scan: --account-workers: 0 is not between 1 and 64\n"},
		{[]string{"--organization", "--role-name", ""}, "ecsguard: scan: --role-name: empty\n"},
		{[]string{"--role-name", "auditor"}, "ecsguard: scan: --role-name and --account-workers need --organization or --accounts (run \"ecsguard help\")\n"},
	} {
		code, stdout, stderr := runScan(t, tc.args...)
		if code != exitUsage || stdout != "" || stderr != tc.want {
			t.Errorf("scan %q: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	opts, err := parseScanFlags([]string{"--accounts", " 111122223333,444455556666,111122223333"})
	if err != nil || !slices.Equal(opts.accounts, []string{"111122223333", "444455556666"}) || opts.roleName != "ecsguard-audit" || opts.accountWorkers != 4 {
		t.Errorf("--accounts: %+v, %v", opts, err)
	}
}

func TestAccountsProgressBar(t *testing.T) {
	var b bytes.Buffer
	bar := labelledBar(&b, "scanning accounts")
	bar(3, 3)
	if want := "\rscanning accounts [==============================] 3/3\n"; b.String() != want {
		t.Errorf("progress bar %q, want %q", b.String(), want)
	}
}
