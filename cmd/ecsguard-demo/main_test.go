package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

// TestDemo runs what make demo runs and checks its account of the sample:
// every event handled, the four bad revisions alerted in each mode, the
// three at HIGH or above deregistered in enforce mode, the others left.
func TestDemo(t *testing.T) {
	if _, err := os.Stat(emulator.DefaultVenv()); err != nil && os.Getenv("ECSGUARD_REQUIRE_EMULATOR") != "1" {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, emulator.DefaultVenv(), emulator.DefaultRIE(), false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	const want = `{"events":18,"roleChanges":0,"findings":8,"alerts":8,"deregistered":3}`
	if got := lines[len(lines)-1]; got != want {
		t.Errorf("summary = %s, want %s\n%s", got, want, text)
	}
	for _, s := range []string{
		"billing:1        INACTIVE", "payments:1       INACTIVE", "reports:1        INACTIVE",
		"legacy-worker:1  ACTIVE", "web-api:1        ACTIVE",
		"[CRITICAL] ecsguard: reports:1 deregistered",
		"action: deregister: deregistered",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("the demo does not show %q\n%s", s, text)
		}
	}
}
