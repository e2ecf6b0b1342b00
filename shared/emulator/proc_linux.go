package emulator

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in its own process group, so stopProcess ends
// its children too, and kills it if this process dies first: a test binary
// that crashes leaves no server behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func stopProcess(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
}
