package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// BuildBinaries builds berth's commands (default: berth-hub, berth-spoke and
// berthctl) into dir with the go tool, from the repository's source.
func BuildBinaries(ctx context.Context, dir string, commands ...string) error {
	if len(commands) == 0 {
		commands = []string{"berth-hub", "berth-spoke", "berthctl"}
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, c := range commands {
		args = append(args, "./cmd/"+c)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %v: %w\n%s", commands, err, out)
	}
	return nil
}

// HostProcess is a process on the host with its output appended to a log
// file. It runs in its own process group, and the kernel kills it when the
// process that started it dies, so an interrupted test leaves no orphan.
type HostProcess struct {
	cmd *exec.Cmd
	// Log is the path of the log file.
	Log  string
	done chan struct{}
}

// StartHostProcess starts bin with args, its stdout and stderr appended to
// logPath.
func StartHostProcess(bin, logPath string, args ...string) (*HostProcess, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("starting %s: %w", filepath.Base(bin), err)
	}
	p := &HostProcess{cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *HostProcess) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *HostProcess) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits up to 10s before it kills the process. A nil
// process is a no-op.
func (p *HostProcess) Stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

// Kill sends SIGKILL and waits for the exit. A nil process is a no-op.
func (p *HostProcess) Kill() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}
