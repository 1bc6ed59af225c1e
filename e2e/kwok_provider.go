package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/e2e/framework/operators"
)

// KwokProvider runs the local fleet with the hub and the spokes as host
// processes.
type KwokProvider struct {
	// Logf logs progress; nil discards it.
	Logf func(string, ...any)
	// FleetName names the fleet; empty derives one from the pid.
	FleetName string
	// BinDir holds berth-hub and berth-spoke; empty builds them.
	BinDir string

	fleet *framework.Fleet
	dir   string
	mu    sync.Mutex
	hub   *framework.HostProcess
	// spokes by member name.
	spokes map[string]*framework.HostProcess
	env    *Env
	// stopVolumes ends the volume provisioners.
	stopVolumes context.CancelFunc
	// stopOperators stop the operator emulators, by member.
	stopOperators map[string]func() error
}

var _ Provider = &KwokProvider{}

// Name is "kwok".
func (p *KwokProvider) Name() string { return "kwok" }

func (p *KwokProvider) logf(format string, args ...any) {
	if p.Logf != nil {
		p.Logf(format, args...)
	}
}

// Up starts the default fleet (mgmt, workload-1, workload-2, services-1), the
// hub, and a spoke per member once the hub registered it.
func (p *KwokProvider) Up(ctx context.Context) (*Env, error) {
	dir, err := os.MkdirTemp("", "berth-e2e-")
	if err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	p.dir = dir
	p.spokes = map[string]*framework.HostProcess{}
	if p.BinDir == "" {
		p.BinDir = filepath.Join(dir, "bin")
		if err := framework.BuildBinaries(ctx, p.BinDir); err != nil {
			return nil, err
		}
	}
	spec := framework.DevFleetSpec(0)
	spec.Name = p.FleetName
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("e2e-%d", os.Getpid())
	}
	spec.BasePort = 0
	spec.Persistent = false
	spec.Logf = p.logf
	p.fleet, err = framework.StartFleet(ctx, spec)
	if err != nil {
		return nil, err
	}
	env := &Env{Members: map[string]*Member{}, Controls: p}
	for _, c := range p.fleet.Clusters {
		cl, err := c.Client()
		if err != nil {
			return nil, err
		}
		env.Members[c.Name] = &Member{Name: c.Name, Client: cl, KubeconfigPath: c.KubeconfigPath}
	}
	env.Hub = env.Members[framework.DevManagementCluster].Client
	p.env = env
	// kwok clusters have no storage driver; play one for the StatefulSets.
	vctx, cancel := context.WithCancel(context.Background())
	p.stopVolumes = cancel
	for _, m := range env.Members {
		go func() {
			if err := framework.ProvisionVolumes(vctx, m.Client, time.Second); err != nil {
				p.logf("Volume provisioner for %s stopped: %v", m.Name, err)
			}
		}()
	}
	if err := p.StartHub(ctx); err != nil {
		return nil, err
	}
	for name := range env.Members {
		if err := p.StartSpoke(ctx, name); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// Down stops the processes and the fleet.
func (p *KwokProvider) Down(ctx context.Context) error {
	p.mu.Lock()
	procs := []*framework.HostProcess{p.hub}
	for _, s := range p.spokes {
		procs = append(procs, s)
	}
	p.mu.Unlock()
	for _, pr := range procs {
		pr.Stop()
	}
	var errs []error
	p.mu.Lock()
	stops := p.stopOperators
	p.stopOperators = nil
	p.mu.Unlock()
	for member, stop := range stops {
		if err := stop(); err != nil {
			errs = append(errs, fmt.Errorf("operator emulators of %s: %w", member, err))
		}
	}
	if p.stopVolumes != nil {
		p.stopVolumes()
	}
	if p.fleet != nil {
		errs = append(errs, p.fleet.Stop(ctx))
	}
	if p.dir != "" && os.Getenv("BERTH_E2E_KEEP_LOGS") == "" {
		errs = append(errs, os.RemoveAll(p.dir))
	}
	return errors.Join(errs...)
}

// LogDir holds the hub's and the spokes' logs.
func (p *KwokProvider) LogDir() string { return p.dir }

// StartHub starts berth-hub against mgmt.
func (p *KwokProvider) StartHub(ctx context.Context) error {
	mgmt, err := p.fleet.Cluster(framework.DevManagementCluster)
	if err != nil {
		return err
	}
	pr, err := framework.StartHostProcess(filepath.Join(p.BinDir, "berth-hub"), filepath.Join(p.dir, "hub.log"),
		"--kubeconfig", mgmt.KubeconfigPath,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--spoke-image", "berth-spoke:e2e",
	)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.hub = pr
	p.mu.Unlock()
	p.logf("Started berth-hub (pid %d), log %s", pr.Pid(), pr.Log)
	return nil
}

// KillHub sends SIGKILL to the hub.
func (p *KwokProvider) KillHub(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hub == nil {
		return errors.New("the hub is not running")
	}
	p.hub.Kill()
	p.hub = nil
	return nil
}

// StartSpoke waits until the hub installed member's hub kubeconfig into the
// member cluster, then runs berth-spoke with it.
func (p *KwokProvider) StartSpoke(ctx context.Context, member string) error {
	m, ok := p.env.Members[member]
	if !ok {
		return fmt.Errorf("unknown member %q", member)
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: "berth-system", Name: "hub-kubeconfig"}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := m.Client.Get(ctx, key, secret); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return len(secret.Data["kubeconfig"]) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the hub to install %s/%s in %s: %w", key.Namespace, key.Name, member, err)
	}
	hubKubeconfig := filepath.Join(p.dir, member+"-hub.kubeconfig")
	if err := os.WriteFile(hubKubeconfig, secret.Data["kubeconfig"], 0o600); err != nil {
		return fmt.Errorf("writing hub kubeconfig: %w", err)
	}
	pr, err := framework.StartHostProcess(filepath.Join(p.BinDir, "berth-spoke"), filepath.Join(p.dir, member+"-spoke.log"),
		"--member-name", member,
		"--hub-kubeconfig", hubKubeconfig,
		"--kubeconfig", m.KubeconfigPath,
		"--probe-listen", "127.0.0.1:0",
		// kwok nodes have no addresses and EndpointSlices refuse loopback:
		// each member gets one from TEST-NET-2. Nothing connects to it;
		// the e2e suite checks the control path only.
		"--node-address", nodeAddress(member),
		"--lease-duration", "6s",
		"--probe-interval", "2s",
		"--status-interval", "1s",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
	)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.spokes[member] = pr
	p.mu.Unlock()
	p.logf("Started berth-spoke for %s (pid %d), log %s", member, pr.Pid(), pr.Log)
	return nil
}

// StopSpoke stops member's spoke with SIGTERM.
func (p *KwokProvider) StopSpoke(_ context.Context, member string) error {
	p.mu.Lock()
	pr := p.spokes[member]
	delete(p.spokes, member)
	p.mu.Unlock()
	if pr == nil {
		return fmt.Errorf("no spoke runs for %q", member)
	}
	pr.Stop()
	return nil
}

// InstallOperators installs the three operators into member
// (operators.Install) and starts their emulators (operators.Start with the
// operators' default options), which run until Down. Calling it again for
// the same member reinstalls and keeps the running emulators.
func (p *KwokProvider) InstallOperators(ctx context.Context, member string) error {
	if p.env == nil {
		return errors.New("the kwok environment is not up")
	}
	m, ok := p.env.Members[member]
	if !ok {
		return fmt.Errorf("unknown member %q", member)
	}
	c, err := p.fleet.Cluster(member)
	if err != nil {
		return err
	}
	if err := operators.Install(ctx, m.Client, operators.All()...); err != nil {
		return fmt.Errorf("installing the operators into %s: %w", member, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopOperators == nil {
		p.stopOperators = map[string]func() error{}
	}
	if _, running := p.stopOperators[member]; running {
		return nil
	}
	// The emulators outlive ctx, which may be one test's.
	p.stopOperators[member] = operators.Start(context.WithoutCancel(ctx), c.Config, operators.Options{})
	p.logf("Installed the Zalando, Spotahome and RabbitMQ operators into %s, emulators running", member)
	return nil
}

// nodeAddress is a documentation-range address standing for member's nodes.
func nodeAddress(member string) string {
	sum := 0
	for _, r := range member {
		sum += int(r)
	}
	return fmt.Sprintf("198.51.100.%d", 10+sum%200)
}

// WaitForMembersAvailable waits until every named member is Available.
func WaitForMembersAvailable(ctx context.Context, hub client.Client, names []string, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			mc := &fleetv1alpha1.MemberCluster{}
			if err := hub.Get(ctx, client.ObjectKey{Name: n}, mc); err != nil {
				last = fmt.Sprintf("member %s: %v", n, err)
				return false, nil
			}
			if !meta.IsStatusConditionTrue(mc.Status.Conditions, fleetv1alpha1.ConditionAvailable) {
				last = fmt.Sprintf("member %s not Available: %+v", n, mc.Status.Conditions)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%w; last: %s", err, last)
	}
	return nil
}
