package framework

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/hack/clustertools"
)

// kwokctlConfig renders the KwokctlConfiguration of one cluster: the binary
// runtime, the cached binaries, fixed loopback ports, and, for every binary
// the runtime could download, a local path that does not exist, so that a
// component berth did not ask for fails instead of reaching the network.
func kwokctlConfig(bins clustertools.Binaries, pins clustertools.Pins, fleetDir string, ports ClusterPorts) ([]byte, error) {
	offline := filepath.Join(fleetDir, "offline", "not-available")
	cfg := map[string]any{
		"apiVersion": "config.kwok.x-k8s.io/v1alpha1",
		"kind":       "KwokctlConfiguration",
		"options": map[string]any{
			"runtime":                     "binary",
			"kubeVersion":                 pins.Kube,
			"bindAddress":                 "127.0.0.1",
			"cacheDir":                    filepath.Join(fleetDir, "kwok", "cache"),
			"quietPull":                   true,
			"disableQPSLimits":            true,
			"kubeApiserverPort":           ports.APIServer,
			"etcdPort":                    ports.Etcd,
			"etcdPeerPort":                ports.EtcdPeer,
			"kwokControllerPort":          ports.KwokController,
			"kubeControllerManagerPort":   ports.ControllerManager,
			"kubeSchedulerPort":           ports.Scheduler,
			"kubeApiserverBinary":         bins.KubeAPIServer,
			"kubeControllerManagerBinary": bins.KubeControllerManager,
			"kubeSchedulerBinary":         bins.KubeScheduler,
			"etcdBinary":                  bins.Etcd,
			"etcdctlBinary":               bins.Etcdctl,
			"kwokControllerBinary":        bins.Kwok,
			"etcdutlBinary":               offline,
			"kubectlBinary":               offline,
			"kectlBinary":                 offline,
			"prometheusBinary":            offline,
			"jaegerBinary":                offline,
			"metricsServerBinary":         offline,
			"kindBinary":                  offline,
		},
		// Without a default route (an offline machine) kube-apiserver cannot
		// guess an address to advertise.
		"componentsPatches": []map[string]any{{
			"name":      "kube-apiserver",
			"extraArgs": []map[string]any{{"key": "advertise-address", "value": "127.0.0.1"}},
		}},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding kwokctl configuration: %w", err)
	}
	return raw, nil
}

// startCluster creates one kwok cluster, waits for its apiserver, writes its
// kubeconfig, creates its node pools and installs its CRDs.
func startCluster(ctx context.Context, bins clustertools.Binaries, fleetDir string, spec ClusterSpec, c *Cluster, timeout time.Duration, logf func(string, ...any)) error {
	start := time.Now()
	cfg, err := kwokctlConfig(bins, clustertools.Versions(), fleetDir, c.Ports)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(fleetDir, "config", c.Name+".yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return fmt.Errorf("writing kwokctl configuration: %w", err)
	}
	logPath := filepath.Join(fleetDir, "logs", "kwokctl-"+c.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating %s: %w", logPath, err)
	}
	defer func() { _ = logFile.Close() }()
	// --kubeconfig "" keeps kwokctl away from the user's ~/.kube/config.
	cmd := exec.CommandContext(ctx, bins.Kwokctl, "create", "cluster", "--name", c.Name, "--config", cfgPath, "--kubeconfig", "", "--timeout", timeout.String())
	cmd.Env = kwokEnv(fleetDir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("creating cluster %s: %s", c.Name, lastKwokError(logPath, err))
	}

	kwokKubeconfig := filepath.Join(fleetDir, "kwok", "clusters", c.Name, "kubeconfig.yaml")
	if err := writeCAPIKubeconfig(kwokKubeconfig, c.Name, c.KubeconfigPath); err != nil {
		return err
	}
	c.Config, err = restConfigFromFile(c.KubeconfigPath)
	if err != nil {
		return err
	}
	if err := waitAPIServerReady(ctx, c.Config, timeout, func() error {
		return errors.Join(componentExited(fleetDir, c.Name, "kube-apiserver"), componentExited(fleetDir, c.Name, "etcd"))
	}); err != nil {
		if clash := portClashInLogs(fleetDir, c); clash != nil {
			return clash
		}
		return fmt.Errorf("cluster %s: kube-apiserver at %s is not ready after %s: %w", c.Name, c.Endpoint, timeout, err)
	}
	logf("Cluster %s: control plane answers at %s after %s", c.Name, c.Endpoint, time.Since(start).Round(100*time.Millisecond))

	if len(spec.CRDPaths) > 0 {
		if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: spec.CRDPaths, ErrorIfPathMissing: true}); err != nil {
			return fmt.Errorf("cluster %s: installing CRDs: %w", c.Name, err)
		}
	}
	if err := createNodePools(ctx, c, timeout); err != nil {
		return err
	}
	logf("Cluster %s: ready with %d node pools after %s", c.Name, len(c.NodePools), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// lastKwokError extracts the last error kwokctl logged (it logs JSON lines
// when not on a terminal), else returns the exit error.
func lastKwokError(logPath string, runErr error) string {
	f, err := os.Open(logPath)
	if err != nil {
		return runErr.Error()
	}
	defer func() { _ = f.Close() }()
	msg := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Err   string `json:"err"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			if entry.Level == "ERROR" {
				msg = strings.TrimSpace(entry.Msg + ": " + entry.Err)
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			msg = strings.TrimSpace(line)
		}
	}
	if msg == "" {
		return runErr.Error()
	}
	return msg
}

// portClashInLogs looks through a cluster's component logs for a port
// another process took between allocation and start.
func portClashInLogs(fleetDir string, c *Cluster) error {
	logs := filepath.Join(fleetDir, "kwok", "clusters", c.Name, "logs")
	for _, p := range c.Ports.list() {
		for _, file := range []string{"kube-apiserver.log", "etcd.log", "kwok-controller.log", "kube-controller-manager.log", "kube-scheduler.log"} {
			raw, err := os.ReadFile(filepath.Join(logs, file))
			if err != nil {
				continue
			}
			if strings.Contains(string(raw), fmt.Sprintf(":%d: bind: address already in use", p.port)) {
				return &PortInUseError{Port: p.port, Component: p.component, Cluster: c.Name}
			}
		}
	}
	return nil
}

// componentExited returns an error with the last line of a component's log
// when its process is gone.
func componentExited(fleetDir, cluster, component string) error {
	clusterDir := filepath.Join(fleetDir, "kwok", "clusters", cluster)
	raw, err := os.ReadFile(filepath.Join(clusterDir, "pids", component+".pid"))
	if err != nil {
		return nil // not started yet
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil
	}
	if _, err := processStartTime(pid); err == nil {
		return nil
	}
	logPath := filepath.Join(clusterDir, "logs", component+".log")
	return fmt.Errorf("%s exited: %s", component, lastLine(logPath))
}

// lastLine returns the last non-empty line of a file.
func lastLine(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// waitAPIServerReady polls /readyz until it answers ok. exited, when not
// nil, reports a dead apiserver so the wait fails at once.
func waitAPIServerReady(ctx context.Context, cfg *rest.Config, timeout time.Duration, exited func() error) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating clientset: %w", err)
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		if err != nil {
			last = err
			if exited != nil {
				if err := exited(); err != nil {
					return false, err
				}
			}
			return false, nil
		}
		return strings.TrimSpace(string(body)) == "ok", nil
	})
	if err != nil && last != nil && wait.Interrupted(err) {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

// restConfigFromFile loads a kubeconfig file's current context.
func restConfigFromFile(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// capiKubeconfig turns kwokctl's kubeconfig (which refers to certificate
// files) into a self-contained one named as Cluster API names it: cluster
// <name>, user <name>-admin, context <name>-admin@<name>.
func capiKubeconfig(src *clientcmdapi.Config, name string) (*clientcmdapi.Config, error) {
	cur := src.DeepCopy()
	if err := clientcmdapi.FlattenConfig(cur); err != nil {
		return nil, fmt.Errorf("embedding certificates: %w", err)
	}
	ctx, ok := cur.Contexts[cur.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no current context %q", cur.CurrentContext)
	}
	cluster, ok := cur.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no cluster %q", ctx.Cluster)
	}
	user, ok := cur.AuthInfos[ctx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no user %q", ctx.AuthInfo)
	}
	userName, ctxName := name+"-admin", name+"-admin@"+name
	out := clientcmdapi.NewConfig()
	out.Clusters[name] = cluster
	out.AuthInfos[userName] = user
	out.Contexts[ctxName] = &clientcmdapi.Context{Cluster: name, AuthInfo: userName}
	out.CurrentContext = ctxName
	return out, nil
}

// writeCAPIKubeconfig writes the self-contained kubeconfig of a cluster.
func writeCAPIKubeconfig(kwokPath, name, dest string) error {
	src, err := clientcmd.LoadFromFile(kwokPath)
	if err != nil {
		return fmt.Errorf("loading kwokctl kubeconfig of %s: %w", name, err)
	}
	out, err := capiKubeconfig(src, name)
	if err != nil {
		return fmt.Errorf("kubeconfig of %s: %w", name, err)
	}
	if err := clientcmd.WriteToFile(*out, dest); err != nil {
		return fmt.Errorf("writing kubeconfig of %s: %w", name, err)
	}
	return nil
}

// writeMergedKubeconfig writes one kubeconfig with a context per cluster,
// named after the cluster; the first cluster is the current context.
func writeMergedKubeconfig(f *Fleet) error {
	merged := clientcmdapi.NewConfig()
	for i, c := range f.Clusters {
		one, err := clientcmd.LoadFromFile(c.KubeconfigPath)
		if err != nil {
			return fmt.Errorf("loading kubeconfig of %s: %w", c.Name, err)
		}
		ctx := one.Contexts[one.CurrentContext]
		if ctx == nil {
			return errors.New("kubeconfig of " + c.Name + " has no current context")
		}
		merged.Clusters[c.Name] = one.Clusters[ctx.Cluster]
		merged.AuthInfos[c.Name] = one.AuthInfos[ctx.AuthInfo]
		merged.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name}
		if i == 0 {
			merged.CurrentContext = c.Name
		}
	}
	if err := clientcmd.WriteToFile(*merged, f.KubeconfigPath); err != nil {
		return fmt.Errorf("writing %s: %w", f.KubeconfigPath, err)
	}
	return nil
}
