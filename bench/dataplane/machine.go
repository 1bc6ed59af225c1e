package dataplane

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-io/berth/bench/results"
)

// describeMachine reads what a reader needs to reproduce a run.
func describeMachine() results.Machine {
	m := results.Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	m.OS = keyValue("/etc/os-release", "PRETTY_NAME=", "")
	m.CPU = keyValue("/proc/cpuinfo", "model name", ":")
	if kb := keyValue("/proc/meminfo", "MemTotal:", ""); kb != "" {
		if v, err := strconv.ParseUint(strings.Fields(kb)[0], 10, 64); err == nil {
			m.MemoryBytes = v * 1024
		}
	}
	m.Revision = revision()
	return m
}

// keyValue returns the rest of the first line of path starting with prefix,
// after sep when sep is set, trimmed and unquoted.
func keyValue(path, prefix, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v := strings.TrimPrefix(line, prefix)
		if sep != "" {
			_, v, _ = strings.Cut(v, sep)
		}
		return strings.Trim(strings.TrimSpace(v), `"`)
	}
	return ""
}

// clientVersions lists the Go client libraries compiled in.
func clientVersions() map[string]string {
	v := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/redis/go-redis/v9", "github.com/jackc/pgx/v5", "github.com/rabbitmq/amqp091-go", "github.com/HdrHistogram/hdrhistogram-go":
			v[d.Path] = d.Version
		}
	}
	return v
}

// commandVersion returns the first line a version command prints.
func commandVersion(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// revision is the berth commit: from the build's VCS stamp, else from git in
// the working directory; "-dirty" marks uncommitted changes.
func revision() string {
	rev, dirty := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev == "" {
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			return ""
		}
		rev = strings.TrimSpace(string(out))
		status, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
		dirty = err == nil && len(strings.TrimSpace(string(status))) > 0
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
