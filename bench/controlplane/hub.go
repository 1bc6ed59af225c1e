package controlplane

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-io/berth/e2e/framework"
)

// hubProcess is berth-hub running against the bench's apiserver.
type hubProcess struct {
	*framework.HostProcess
	metricsURL string
}

// startHub starts berth-hub with an admin kubeconfig for env and waits
// until its health endpoint answers.
func startHub(ctx context.Context, env *framework.Envtest, bin, dir string, n int, qps float32) (*hubProcess, error) {
	kc := filepath.Join(dir, fmt.Sprintf("hub-%d.kubeconfig", n))
	if err := env.WriteKubeconfig(kc, "berth-hub"); err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--kubeconfig", kc, "--metrics-bind-address", metricsAddr, "--health-probe-bind-address", addr,
		"--zap-time-encoding", "rfc3339nano"}
	if qps > 0 {
		args = append(args, "--kube-api-qps", strconv.FormatFloat(float64(qps), 'f', -1, 32))
	}
	p, err := framework.StartHostProcess(bin, filepath.Join(dir, fmt.Sprintf("hub-%d.log", n)), args...)
	if err != nil {
		return nil, err
	}
	h := &hubProcess{HostProcess: p, metricsURL: "http://" + metricsAddr + "/metrics"}
	url := "http://" + addr + "/readyz"
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url) //nolint:gosec,noctx // loopback health check of our own child
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h, nil
			}
		}
		select {
		case <-p.Done():
			return nil, fmt.Errorf("berth-hub exited during start; see %s", p.Log)
		case <-ctx.Done():
			p.Kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("berth-hub not ready within a minute; see %s", p.Log)
		}
	}
}

// freeLoopbackAddr returns a loopback address with a port nobody listens on.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// procStatus reads VmRSS and VmHWM of pid in bytes.
func procStatus(pid int) (rss, hwm uint64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, sc.Err()
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times; it is 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procCPUSeconds reads utime+stime of pid.
func procCPUSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields follow its ")".
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is the state (field 3); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks uint64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return float64(ticks) / clockTicks, nil
}

// memory returns the hub's current resident set size and its high-water
// mark since it started.
func (h *hubProcess) memory() (rss, peak uint64, err error) {
	return procStatus(h.Pid())
}

// reconciles reads controller-runtime's reconcile counter from the hub's
// metrics endpoint: reconciliations per controller, all results together.
func (h *hubProcess) reconciles(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the hub's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the hub's metrics: %s", resp.Status)
	}
	return parseReconciles(resp.Body)
}

// parseReconciles sums controller_runtime_reconcile_total by controller
// from the Prometheus text format.
func parseReconciles(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	const metric = "controller_runtime_reconcile_total{"
	for sc.Scan() {
		line := sc.Text()
		labels, ok := strings.CutPrefix(line, metric)
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(labels, "} ")
		if !ok {
			return nil, fmt.Errorf("malformed metric line %q", line)
		}
		_, ctrl, ok := strings.Cut(labels, `controller="`)
		if !ok {
			continue
		}
		ctrl, _, _ = strings.Cut(ctrl, `"`)
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		out[ctrl] += int64(v)
	}
	return out, sc.Err()
}
