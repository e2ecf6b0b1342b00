//go:build !linux

package emulator

import "os/exec"

func setProcAttr(*exec.Cmd) {}

func stopProcess(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
