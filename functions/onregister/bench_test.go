package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
)

// registration registers a new revision of the web-api family and returns
// the compliant sample event as its registration: a new event, so that the
// event ledger does not take it for a duplicate.
func (f *function) registration(n int) []byte {
	f.t.Helper()
	ctx := context.Background()
	c := ecs.NewFromConfig(f.cfg)
	got, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(f.sample.TaskDefinitions["web-api"])})
	if err != nil {
		f.t.Fatal(err)
	}
	td := got.TaskDefinition
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: td.Family, TaskRoleArn: td.TaskRoleArn, ExecutionRoleArn: td.ExecutionRoleArn,
		NetworkMode: td.NetworkMode, RequiresCompatibilities: td.RequiresCompatibilities, Cpu: td.Cpu, Memory: td.Memory,
		ContainerDefinitions: td.ContainerDefinitions,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(f.eventBytes("ecs-registertaskdefinition-fargate-compliant.json"), &ev); err != nil {
		f.t.Fatal(err)
	}
	id := fmt.Sprintf("bench-%08d-0000-0000-0000-000000000000", n)
	ev["id"] = id
	detail := ev["detail"].(map[string]any)
	detail["eventID"] = id
	detail["responseElements"].(map[string]any)["taskDefinition"].(map[string]any)["taskDefinitionArn"] = aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	b, err := json.Marshal(ev)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// evaluated checks that an invocation evaluated the event, and returns its
// AWS calls.
func evaluated(b *testing.B, resp []byte) int64 {
	var out guard.Outcome
	if err := json.Unmarshal(resp, &out); err != nil || out.Result != guard.ResultEvaluated {
		b.Fatalf("outcome %s: %v", resp, err)
	}
	return out.Calls
}

// BenchmarkColdStart is a new Lambda execution environment per iteration:
// the Runtime Interface Emulator starts the bootstrap on the first
// invocation. init-ms is the init phase as the emulator reports it
// (process start to the first poll of the runtime API: configuration, SDK
// clients); first-invoke-ms is init plus one evaluation of a new compliant
// revision against the emulator (awscalls/op calls to moto, about 10 ms
// each).
func BenchmarkColdStart(b *testing.B) {
	f := start(b, "MODE=alert") // builds the bootstrap and seeds the account once
	ctx := context.Background()
	var first time.Duration
	var init float64
	var calls int64
	n := 0
	for b.Loop() {
		n++
		event := f.registration(n)
		rie, err := emulator.StartRIE(ctx, emulator.DefaultRIE(), f.bootstrap, f.env)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		resp, err := rie.Invoke(ctx, event)
		first += time.Since(t0)
		logs := rie.Logs()
		rie.Close()
		if err != nil {
			b.Fatal(err)
		}
		calls += evaluated(b, resp)
		m := initReport.FindStringSubmatch(logs)
		if m == nil {
			b.Fatalf("no INIT REPORT in the emulator's log:\n%s", logs)
		}
		ms, _ := strconv.ParseFloat(m[1], 64)
		init += ms
	}
	b.ReportMetric(first.Seconds()*1000/float64(b.N), "first-invoke-ms")
	b.ReportMetric(init/float64(b.N), "init-ms")
	b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// BenchmarkWarmInvoke is one invocation of a running function: a new
// compliant revision registered each time, the managed policies cached.
func BenchmarkWarmInvoke(b *testing.B) {
	f := start(b, "MODE=alert")
	ctx := context.Background()
	if _, err := f.rie.Invoke(ctx, f.registration(0)); err != nil {
		b.Fatal(err)
	}
	var calls int64
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		event := f.registration(n)
		b.StartTimer()
		resp, err := f.rie.Invoke(ctx, event)
		if err != nil {
			b.Fatal(err)
		}
		calls += evaluated(b, resp)
	}
	b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
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
