package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one running process of a fleet.
type Process struct {
	// PID of the process.
	PID int
	// Name is the binary's base name, e.g. kube-apiserver.
	Name string
	// Cluster is the fleet cluster the process belongs to, if known.
	Cluster string
	// RSS is the resident set size in bytes.
	RSS int64
}

// processesUnder lists the live processes of a fleet directory: those whose
// binary runs from inside it (kwokctl starts every component from a link in
// <dir>/kwok/clusters/<name>/bin), and kwokctl itself while it works on it.
// A process that merely names a file there (say, `tail` of a log) is not
// one. Zombies are not counted.
func processesUnder(dir string) ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	prefix := []byte(filepath.Clean(dir) + "/")
	self := os.Getpid()
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !ownedCommand(string(prefix), string(cmdline)) {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		state, threads, rss := parseProcStatus(string(status))
		// A multi-threaded process whose leader is a zombie may still
		// hold its sockets until its other threads have exited.
		if (state == "Z" || state == "X") && threads <= 1 {
			continue
		}
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		out = append(out, Process{
			PID: pid, Name: filepath.Base(string(argv0)), RSS: rss,
			Cluster: clusterOfPath(string(prefix), string(cmdline)),
		})
	}
	return out, nil
}

// ownedCommand says whether a NUL-separated command line belongs to the fleet
// whose directory is fleetPrefix (with a trailing slash).
func ownedCommand(fleetPrefix, cmdline string) bool {
	argv0, _, _ := strings.Cut(cmdline, "\x00")
	if strings.HasPrefix(argv0, fleetPrefix) {
		return true
	}
	return filepath.Base(argv0) == "kwokctl" && strings.Contains(cmdline, fleetPrefix)
}

// parseProcStatus reads the state letter, the thread count and VmRSS (in
// bytes) from /proc/<pid>/status.
func parseProcStatus(status string) (state string, threads int, rss int64) {
	for line := range strings.SplitSeq(status, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "State":
			state = fields[0]
		case "Threads":
			threads, _ = strconv.Atoi(fields[0])
		case "VmRSS":
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err == nil {
				rss = kb * 1024
			}
		}
	}
	return state, threads, rss
}

// clusterOfPath finds the cluster name in a command line that refers to
// <fleet dir>/kwok/clusters/<name>/...
func clusterOfPath(fleetPrefix, cmdline string) string {
	marker := fleetPrefix + "kwok/clusters/"
	_, rest, ok := strings.Cut(cmdline, marker)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// processStartTime is the start time of a process in clock ticks since boot
// (field 22 of /proc/<pid>/stat).
func processStartTime(pid int) (uint64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatStartTime(string(raw))
}

// parseStatStartTime parses /proc/<pid>/stat, whose second field (the
// command) may itself hold spaces and parentheses.
func parseStatStartTime(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no command")
	}
	fields := strings.Fields(stat[i+1:])
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 {
		return 0, errors.New("malformed /proc stat: too few fields")
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, errors.New("process has exited")
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// removeFleetDir stops every kwok cluster of a fleet directory, kills what
// is left of its processes and removes the directory. It does nothing when
// the directory and its processes are gone. Without kwokctl (an empty path)
// it only kills and removes.
func removeFleetDir(ctx context.Context, kwokctl, dir string) error {
	clusters, _ := os.ReadDir(filepath.Join(dir, "kwok", "clusters"))
	for _, c := range clusters {
		if !c.IsDir() || kwokctl == "" {
			continue
		}
		// kwokctl kills the components from their pid files and removes the
		// cluster's directory. Its failure is not fatal: the sweep below
		// kills whatever it missed.
		cmd := exec.CommandContext(ctx, kwokctl, "delete", "cluster", "--name", c.Name())
		cmd.Env = kwokEnv(dir)
		_ = cmd.Run()
	}
	if err := killProcessesUnder(ctx, dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// killProcessesUnder kills every process of a fleet directory and waits until
// they are gone.
func killProcessesUnder(ctx context.Context, dir string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		procs, err := processesUnder(dir)
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("processes of %s did not exit: %s", dir, describeProcesses(procs))
		}
		for _, p := range procs {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describeProcesses(procs []Process) string {
	parts := make([]string, 0, len(procs))
	for _, p := range procs {
		parts = append(parts, fmt.Sprintf("%s(%d)", p.Name, p.PID))
	}
	return strings.Join(parts, ", ")
}

// kwokEnv is the environment for kwokctl: this process's, without any KWOK_
// setting of the user, with the fleet's private work directory, and with
// the fleet's kubectl stand-in first on PATH (see kubectlShim).
func kwokEnv(dir string) []string {
	env := make([]string, 0, len(os.Environ())+2)
	path := filepath.Join(dir, "offline", "bin")
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "KWOK_"):
		case strings.HasPrefix(kv, "PATH="):
			path += string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		default:
			env = append(env, kv)
		}
	}
	return append(env, "KWOK_WORKDIR="+filepath.Join(dir, "kwok"), "PATH="+path)
}

// kubectlShim stands in for kubectl, which kwokctl's binary runtime runs only
// to poll `get --raw /version` after starting the components. Without it
// kwokctl would run whatever kubectl is on PATH (writing ~/.kube/cache), or
// try to download one and poll for two minutes when it cannot. berth waits
// for /readyz itself, so the stand-in answers that one call and refuses the
// rest.
const kubectlShim = `#!/bin/sh
# Written by berth's local fleet (e2e/framework); see kubectlShim.
for arg in "$@"; do
  if [ "$arg" = "/version" ]; then exit 0; fi
done
echo "kubectl is not available to kwokctl in berth's local fleet" >&2
exit 1
`

// writeKubectlShim writes kubectlShim to <dir>/offline/bin/kubectl.
func writeKubectlShim(dir string) error {
	bin := filepath.Join(dir, "offline", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", bin, err)
	}
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(kubectlShim), 0o755); err != nil {
		return fmt.Errorf("writing the kubectl stand-in: %w", err)
	}
	return nil
}

// failedLogsDir keeps the logs of a fleet whose start failed.
func failedLogsDir(name string) string {
	return filepath.Join(FleetsDir(), ".logs-"+name)
}

// keepLogs copies the component and kwokctl logs of a fleet that failed to
// start to failedLogsDir, replacing older ones, and returns that directory.
func keepLogs(f *Fleet) (string, error) {
	dest := failedLogsDir(f.Name)
	if err := os.RemoveAll(dest); err != nil {
		return "", err
	}
	for _, c := range f.Clusters {
		dir := filepath.Join(dest, c.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		srcs := map[string]string{"kwokctl.log": filepath.Join(f.Dir, "logs", "kwokctl-"+c.Name+".log")}
		logs, _ := os.ReadDir(filepath.Join(f.Dir, "kwok", "clusters", c.Name, "logs"))
		for _, l := range logs {
			srcs[l.Name()] = filepath.Join(f.Dir, "kwok", "clusters", c.Name, "logs", l.Name())
		}
		for name, src := range srcs {
			raw, err := os.ReadFile(src)
			if err != nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
				return "", err
			}
		}
	}
	return dest, nil
}
