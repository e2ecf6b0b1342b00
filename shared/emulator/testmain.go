package emulator

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// RunTests runs a package's tests with a moto server in *moto, for the
// package's TestMain: os.Exit(emulator.RunTests(m, "ledger", &moto)).
// Without the emulator installed the tests run with *moto nil and skip
// what needs it, unless ECSGUARD_REQUIRE_EMULATOR=1 (make test sets it),
// which makes a missing emulator a failure.
func RunTests(m *testing.M, pkg string, moto **Moto) int {
	srv, err := StartMoto(context.Background(), DefaultVenv())
	if err != nil {
		if os.Getenv("ECSGUARD_REQUIRE_EMULATOR") == "1" {
			fmt.Fprintln(os.Stderr, pkg+":", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, pkg+": skipping emulator tests:", err)
		return m.Run()
	}
	defer srv.Close()
	*moto = srv
	return m.Run()
}
