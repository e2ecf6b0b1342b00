package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

// BenchmarkColdStart is a new Lambda execution environment per iteration:
// the Runtime Interface Emulator starts the bootstrap on the first
// invocation, so first-invoke-ms is init (configuration, SDK clients) plus
// one evaluation of a compliant revision against the emulator.
func BenchmarkColdStart(b *testing.B) {
	f := start(b, "MODE=alert") // builds the bootstrap and seeds the account once
	event := f.eventBytes("ecs-registertaskdefinition-fargate-compliant.json")
	ctx := context.Background()
	var first time.Duration
	for b.Loop() {
		rie, err := emulator.StartRIE(ctx, emulator.DefaultRIE(), f.bootstrap, f.env)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		_, err = rie.Invoke(ctx, event)
		first += time.Since(t0)
		rie.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(first.Seconds()*1000/float64(b.N), "first-invoke-ms")
}

// BenchmarkWarmInvoke is one invocation of a running function.
func BenchmarkWarmInvoke(b *testing.B) {
	f := start(b, "MODE=alert")
	event := f.eventBytes("ecs-registertaskdefinition-fargate-compliant.json")
	ctx := context.Background()
	if _, err := f.rie.Invoke(ctx, event); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.rie.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBinarySize reports the size of the deployed bootstrap: linux
// arm64, built as make build does.
func BenchmarkBinarySize(b *testing.B) {
	out := filepath.Join(b.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, strings.TrimSpace(string(msg)))
	}
	fi, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "arm64-MiB")
}
