package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/hub/kubeconfig"
	"github.com/berth-io/berth/hub/spokeinstall"
)

// The agents of a local fleet are host processes, because kwok pods run no
// containers. They run from copies of the binaries inside the fleet's
// directory (<fleet dir>/berth/bin), so `berth-dev dev down`, which kills
// every process whose binary lives there, removes them with the fleet.
//
//   - berth-dev demo agents (hidden, the supervisor): started detached by
//     `berth-dev demo`. It keeps the rest running: it starts berth-hub,
//     copies each member's hub kubeconfig (the Secret
//     berth-system/hub-kubeconfig the hub installs into the member) to a
//     file and starts berth-spoke with it, rewrites the file when the hub
//     rotates the token, restarts a process that exits, and plays the
//     storage driver kwok clusters lack (framework.ProvisionVolumes).
//   - berth-hub against the management cluster.
//   - berth-spoke per member, with the credentials the hub issued.
//
// Logs go to <fleet dir>/berth/<agent>.log.
const (
	agentSupervisor = "berth-dev"
	agentHub        = "berth-hub"
	agentSpoke      = "berth-spoke"
	// spokeImage is what the hub records in the spoke Deployment it
	// installs into members; kwok never runs it, the host process does
	// the work.
	demoSpokeImage = "berth-spoke:demo"
	// restartBackoff is the least time between two starts of one agent.
	restartBackoff = 10 * time.Second
	// superviseInterval is how often the supervisor checks its agents.
	superviseInterval = 3 * time.Second
)

// agentsDir is where the agents' binaries, logs and hub kubeconfigs live.
func agentsDir(f *framework.Fleet) string {
	return filepath.Join(f.Dir, "berth")
}

// agentKey names one agent process: berth-dev (the supervisor), berth-hub,
// or berth-spoke/<member>.
func agentKey(name string, args []string) string {
	if name != agentSpoke {
		return name
	}
	for i, a := range args {
		if a == "--member-name" && i+1 < len(args) {
			return agentSpoke + "/" + args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--member-name="); ok {
			return agentSpoke + "/" + v
		}
	}
	return agentSpoke + "/?"
}

// agentProcess is a running agent.
type agentProcess struct {
	PID int
	// Stale is true when its binary was replaced since it started.
	Stale bool
}

// runningAgents lists the agents of a fleet that run from its agents
// directory, by agentKey.
func runningAgents(f *framework.Fleet) (map[string]agentProcess, error) {
	procs, err := f.Processes()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Join(agentsDir(f), "bin") + "/"
	out := map[string]agentProcess{}
	for _, p := range procs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if !strings.HasPrefix(args[0], binDir) {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
		out[agentKey(filepath.Base(args[0]), args[1:])] = agentProcess{PID: p.PID, Stale: strings.HasSuffix(exe, " (deleted)")}
	}
	return out, nil
}

// installAgentBinaries copies berth-hub, berth-spoke and berth-dev from
// srcDir into the fleet's agents directory. A file is replaced (by rename,
// so a running copy keeps its binary) only when its size or modification
// time differ.
func installAgentBinaries(f *framework.Fleet, srcDir string) error {
	dst := filepath.Join(agentsDir(f), "bin")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	for _, name := range []string{agentHub, agentSpoke, agentSupervisor} {
		if err := copyIfChanged(filepath.Join(srcDir, name), filepath.Join(dst, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyIfChanged(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("--bin-dir: %s is missing (run `make build`): %w", filepath.Base(src), err)
	}
	if di, err := os.Stat(dst); err == nil && di.Size() == si.Size() && di.ModTime().Equal(si.ModTime()) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp := dst + ".new"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Chtimes(tmp, si.ModTime(), si.ModTime()); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("installing %s: %w", dst, err)
	}
	return nil
}

// startDetached starts bin in a session of its own with its output
// appended to logPath, so it outlives the process that starts it.
func startDetached(bin, logPath string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening log %s: %w", logPath, err)
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = filepath.Dir(logPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", filepath.Base(bin), err)
	}
	return cmd, nil
}

// newDemoAgentsCommand is the hidden `berth-dev demo agents`, the supervisor
// that `berth-dev demo` starts.
func newDemoAgentsCommand() *cobra.Command {
	var fleet string
	cmd := &cobra.Command{
		Use:    "agents",
		Short:  "Run and keep running the hub, the spokes and the volume provisioner of a local fleet (started by berth-dev demo)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := loadFleet(fleet)
			if err != nil {
				return err
			}
			s := &supervisor{
				fleet: f,
				dir:   agentsDir(f),
				log:   log.New(cmd.ErrOrStderr(), "", log.LstdFlags),
			}
			return s.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&fleet, "fleet", framework.DevFleetName, "the local fleet")
	return cmd
}

// supervisor keeps a fleet's agents running.
type supervisor struct {
	fleet *framework.Fleet
	dir   string
	log   *log.Logger

	clients   map[string]client.Client
	lastStart map[string]time.Time
}

func (s *supervisor) run(ctx context.Context) error {
	s.clients = map[string]client.Client{}
	s.lastStart = map[string]time.Time{}
	for _, c := range s.fleet.Clusters {
		cl, err := c.Client()
		if err != nil {
			return err
		}
		s.clients[c.Name] = cl
	}
	s.log.Printf("Supervising the agents of fleet %s (pid %d)", s.fleet.Name, os.Getpid())

	var wg sync.WaitGroup
	defer wg.Wait()
	for _, c := range s.fleet.Clusters {
		cl := s.clients[c.Name]
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := framework.ProvisionVolumes(ctx, cl, 2*time.Second); err != nil {
					s.log.Printf("Volume provisioner for %s: %v; retrying", c.Name, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
		})
	}

	t := time.NewTicker(superviseInterval)
	defer t.Stop()
	for {
		if _, err := framework.LoadFleet(s.fleet.Name); errors.Is(err, framework.ErrFleetNotRunning) {
			s.log.Printf("Fleet %s is gone; stopping", s.fleet.Name)
			return nil
		}
		if err := s.reconcile(ctx); err != nil {
			s.log.Printf("%v", err)
		}
		select {
		case <-ctx.Done():
			s.log.Printf("Stopping the supervisor; the agents keep running")
			return nil
		case <-t.C:
		}
	}
}

// reconcile starts what is missing: the hub, and a spoke for every member
// whose hub kubeconfig the hub installed.
func (s *supervisor) reconcile(ctx context.Context) error {
	running, err := runningAgents(s.fleet)
	if err != nil {
		return err
	}
	mgmtName := framework.DevManagementCluster
	if s.fleet.CAPI != nil {
		mgmtName = s.fleet.CAPI.ManagementCluster
	}
	mgmt, err := s.fleet.Cluster(mgmtName)
	if err != nil {
		return err
	}
	if _, ok := running[agentHub]; !ok {
		s.start(agentHub, agentHub,
			"--kubeconfig", mgmt.KubeconfigPath,
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
			"--spoke-image", demoSpokeImage,
		)
	}
	var errs []error
	for i, c := range s.fleet.Clusters {
		path, err := s.syncHubKubeconfig(ctx, c.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := agentSpoke + "/" + c.Name
		if _, ok := running[key]; ok || path == "" {
			continue
		}
		s.start(key, agentSpoke,
			"--member-name", c.Name,
			"--hub-kubeconfig", path,
			"--kubeconfig", c.KubeconfigPath,
			"--probe-listen", "127.0.0.1:0",
			// kwok nodes have no addresses and EndpointSlices refuse
			// loopback: each member's NodePort exposures get a
			// TEST-NET-3 address nothing connects to.
			"--node-address", fmt.Sprintf("203.0.113.%d", 10+i),
			"--probe-interval", "10s",
			"--status-interval", "3s",
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		)
	}
	return errors.Join(errs...)
}

// start starts one agent unless it was started less than restartBackoff
// ago.
func (s *supervisor) start(key, binary string, args ...string) {
	if last, ok := s.lastStart[key]; ok {
		if time.Since(last) < restartBackoff {
			return
		}
		s.log.Printf("%s is not running; starting it again", key)
	}
	s.lastStart[key] = time.Now()
	logName := strings.ReplaceAll(key, "/", "-") + ".log"
	cmd, err := startDetached(filepath.Join(s.dir, "bin", binary), filepath.Join(s.dir, logName), args...)
	if err != nil {
		s.log.Printf("Starting %s: %v", key, err)
		return
	}
	s.log.Printf("Started %s (pid %d), log %s", key, cmd.Process.Pid, filepath.Join(s.dir, logName))
	// Reap it when it exits, so it does not linger as a zombie.
	go func() { _ = cmd.Wait() }()
}

// syncHubKubeconfig writes the member's hub kubeconfig, from the Secret the
// hub installed into the member, to <dir>/<member>-hub.kubeconfig when it
// changed, and returns the path; "" while the hub has not installed it.
func (s *supervisor) syncHubKubeconfig(ctx context.Context, member string) (string, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.SecretName}
	if err := s.clients[member].Get(ctx, key, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("reading %s in %s: %w", key, member, err)
	}
	data := sec.Data[kubeconfig.SecretKey]
	if len(data) == 0 {
		return "", nil
	}
	path := filepath.Join(s.dir, member+"-hub.kubeconfig")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, nil
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	s.log.Printf("Wrote the hub kubeconfig of %s to %s", member, path)
	return path, nil
}
