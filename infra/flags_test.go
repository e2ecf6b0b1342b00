package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// featureFlags are the CDK feature flags cdk.json sets (every context key
// that is not one of ecsguard's settings), for the tests' apps: the
// templates under test are those make synth and make deploy produce.
func featureFlags() (*map[string]any, error) {
	b, err := os.ReadFile("cdk.json")
	if err != nil {
		return nil, err
	}
	var f struct{ Context map[string]any }
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	flags := map[string]any{}
	for k, v := range f.Context {
		if !strings.HasPrefix(k, "ecsguard:") {
			flags[k] = v
		}
	}
	return &flags, nil
}

// recommendedFlags reads the flags `cdk init` writes for the pinned
// aws-cdk-lib, from the library's own recommended-feature-flags.json (in
// the jsii bundle of the Go module).
func recommendedFlags(t *testing.T) map[string]any {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list awscdk: %v", err)
	}
	bundles, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "jsii", "aws-cdk-lib-*.tgz"))
	if err != nil || len(bundles) != 1 {
		t.Fatalf("the aws-cdk-lib bundle: %v %v", bundles, err)
	}
	f, err := os.Open(bundles[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no package/recommended-feature-flags.json", bundles[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "package/recommended-feature-flags.json" {
			var flags map[string]any
			if err := json.NewDecoder(tr).Decode(&flags); err != nil {
				t.Fatal(err)
			}
			return flags
		}
	}
}

// cdk.json sets every feature flag the pinned aws-cdk-lib recommends, to
// the value it recommends (what `cdk init` writes; see
// https://docs.aws.amazon.com/cdk/latest/guide/featureflags.html): none is
// left to its old default, and an upgrade that adds flags fails here
// until they are set.
func TestFeatureFlagsAreRecommended(t *testing.T) {
	got, err := featureFlags()
	if err != nil {
		t.Fatal(err)
	}
	want := recommendedFlags(t)
	if len(want) < 50 {
		t.Fatalf("only %d recommended flags read", len(want))
	}
	for k, v := range want {
		if g, ok := (*got)[k]; !ok || !reflect.DeepEqual(g, v) {
			t.Errorf("cdk.json %s = %v, want %v", k, g, v)
		}
	}
}
