package results

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DescribeMachine reads what a reader needs to reproduce a run.
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
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

// ModuleVersions lists the versions of the named Go modules compiled into
// this binary, plus the Kubernetes client and controller-runtime.
func ModuleVersions(paths ...string) map[string]string {
	v := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	want := append([]string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime"}, paths...)
	for _, d := range bi.Deps {
		if slices.Contains(want, d.Path) {
			v[d.Path] = d.Version
		}
	}
	return v
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
