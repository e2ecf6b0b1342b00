// Package emulator runs a local AWS for ecsguard's integration tests and
// demo: the moto server (installed by `make emulator-tools` into .venv) with
// the AWS managed policies loaded, a fault proxy that answers chosen
// operations with the errors AWS sends (throttling, access denied, server
// errors) so the real SDK retry and error paths run, the sample account the
// events-testdata corpus describes, and the Lambda Runtime Interface
// Emulator that runs a function's bootstrap as Lambda does.
//
// Each test gets its own account ([NewAccount], sent to moto in the
// x-moto-account-id header by the clients [Moto.Config] builds), so tests run
// in parallel on one server without resetting it.
package emulator
