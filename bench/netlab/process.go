package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a server started inside a namespace.
type Process struct {
	// Name labels the process in errors and logs.
	Name string
	// LogPath holds the process's stdout and stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// ProcessSpec says how to start a process.
type ProcessSpec struct {
	// Name labels the process; the log file is <WorkDir>/<Name>.log.
	Name string
	// Argv is the command and its arguments.
	Argv []string
	// Env is appended to a minimal environment (PATH, HOME=WorkDir).
	Env []string
	// Dir is the working directory (default: the lab's WorkDir).
	Dir string
}

// Start runs spec inside ns with `ip netns exec`. The process is stopped by
// Close, and gets SIGKILL if this process dies first.
func (l *Lab) Start(ns *NetNS, spec ProcessSpec) (*Process, error) {
	if spec.Name == "" || len(spec.Argv) == 0 {
		return nil, errors.New("process spec needs a name and a command")
	}
	logPath := filepath.Join(l.WorkDir, spec.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log for %s: %w", spec.Name, err)
	}
	defer logFile.Close()
	argv := append([]string{"netns", "exec", ns.Name}, spec.Argv...)
	// Not CommandContext: the lab, not a context, decides when servers stop.
	cmd := exec.Command("ip", argv...)
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = l.WorkDir
	}
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + l.WorkDir, "LANG=C.UTF-8"}, spec.Env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	closed := l.closed
	l.mu.Unlock()
	if closed {
		p.Stop(time.Second)
		return nil, errors.New("the lab is closed")
	}
	return p, nil
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// WaitReady polls check until it succeeds, the process exits, or timeout
// passes. Errors carry the tail of the process log.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited during startup (%v); log %s ends with: %s", p.Name, err, p.LogPath, p.LogTail(5))
		}
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w; log %s ends with: %s", p.Name, timeout, last, p.LogPath, p.LogTail(5))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LogTail returns the last n lines of the log, joined with " | ".
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Kill sends SIGKILL to the process group at once, as a crash would, and
// waits for the process to end.
func (p *Process) Kill() error {
	if exited, _ := p.Exited(); exited {
		return nil
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s did not exit within 5s of SIGKILL", p.Name)
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	if exited, _ := p.Exited(); exited {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
}
