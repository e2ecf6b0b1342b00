package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

// BenchmarkColdStart is a new Lambda execution environment per iteration:
// the Runtime Interface Emulator starts the bootstrap on the first
// invocation. init-ms is the init phase as the emulator reports it
// (process start to the first poll of the runtime API: configuration, SDK
// clients); first-invoke-ms is init plus one evaluation of a compliant
// revision against the emulator (12 calls to moto, about 10 ms each).
func BenchmarkColdStart(b *testing.B) {
	f := start(b, "MODE=alert") // builds the bootstrap and seeds the account once
	event := f.eventBytes("ecs-registertaskdefinition-fargate-compliant.json")
	ctx := context.Background()
	var first time.Duration
	var init float64
	for b.Loop() {
		rie, err := emulator.StartRIE(ctx, emulator.DefaultRIE(), f.bootstrap, f.env)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		_, err = rie.Invoke(ctx, event)
		first += time.Since(t0)
		logs := rie.Logs()
		rie.Close()
		if err != nil {
			b.Fatal(err)
		}
		m := initReport.FindStringSubmatch(logs)
		if m == nil {
			b.Fatalf("no INIT REPORT in the emulator's log:\n%s", logs)
		}
		ms, _ := strconv.ParseFloat(m[1], 64)
		init += ms
	}
	b.ReportMetric(first.Seconds()*1000/float64(b.N), "first-invoke-ms")
	b.ReportMetric(init/float64(b.N), "init-ms")
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

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
