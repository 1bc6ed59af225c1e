package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hack/clustertools"
)

// Node labels the local fleet sets on every kwok node.
const (
	// LabelNodePool names the node pool a node belongs to.
	LabelNodePool = "node.berth.io/pool"
	// LabelNodeType is the node's type, e.g. general or database. Dedicated
	// pools are tainted with the same key: nodeType=database:NoSchedule.
	LabelNodeType = "nodeType"
)

// ErrFleetNotRunning is returned by LoadFleet when no fleet of that name is
// up.
var ErrFleetNotRunning = errors.New("local fleet is not running")

// ErrUnknownCluster is returned by Fleet.Cluster for a name the fleet does
// not have.
var ErrUnknownCluster = errors.New("unknown cluster")

// NodePool is a group of identical kwok nodes in one cluster.
type NodePool struct {
	// Name of the pool; the value of the node.berth.io/pool label.
	Name string `json:"name"`
	// Nodes is how many nodes the pool has (at least 1).
	Nodes int `json:"nodes"`
	// NodeType is the value of the nodeType label; defaults to Name.
	NodeType string `json:"nodeType,omitempty"`
	// Labels are extra node labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints of every node of the pool.
	Taints []corev1.Taint `json:"taints,omitempty"`
	// CPU allocatable per node; defaults to 8.
	CPU resource.Quantity `json:"cpu,omitzero"`
	// Memory allocatable per node; defaults to 32Gi.
	Memory resource.Quantity `json:"memory,omitzero"`
	// EphemeralStorage allocatable per node; defaults to 100Gi.
	EphemeralStorage resource.Quantity `json:"ephemeralStorage,omitzero"`
	// Pods is the pod capacity per node; defaults to 110.
	Pods int `json:"pods,omitempty"`
}

// ClusterSpec is one cluster of a fleet.
type ClusterSpec struct {
	// Name of the cluster: a DNS-1123 label of at most 40 characters.
	Name string `json:"name"`
	// Role the cluster plays in berth; defaults to Workload.
	Role fleetv1alpha1.MemberRole `json:"role,omitempty"`
	// NodePools of kwok nodes.
	NodePools []NodePool `json:"nodePools,omitempty"`
	// CRDPaths are CRD files or directories installed once the cluster is
	// up, e.g. CRDPaths() for a management cluster.
	CRDPaths []string `json:"crdPaths,omitempty"`
}

// CAPISpec asks the fleet to register its clusters in a management cluster as
// a Cluster API infrastructure provider would.
type CAPISpec struct {
	// ManagementCluster is the cluster that gets the CAPI Cluster objects and
	// kubeconfig Secrets; it needs CRDPaths() installed.
	ManagementCluster string `json:"managementCluster"`
	// Namespace holds the Cluster objects; created if missing.
	Namespace string `json:"namespace"`
}

// FleetSpec describes a local fleet.
type FleetSpec struct {
	// Name of the fleet: it owns the state directory
	// <clustertools.CacheDir()>/fleets/<Name>.
	Name string `json:"name"`
	// Clusters to run; at least one.
	Clusters []ClusterSpec `json:"clusters"`
	// BasePort is the first port of the fleet: cluster i uses the ten ports
	// from BasePort+10*i (kube-apiserver first). Zero picks a free range.
	BasePort int `json:"basePort,omitempty"`
	// Persistent fleets outlive the process that started them (berthctl dev
	// up). Other fleets are removed on the next start of any fleet once the
	// process that started them is gone.
	Persistent bool `json:"persistent,omitempty"`
	// CAPI, when set, registers every cluster in the management cluster.
	CAPI *CAPISpec `json:"capi,omitempty"`
	// ReadyTimeout bounds the wait for each cluster; defaults to 3 minutes.
	ReadyTimeout time.Duration `json:"-"`
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any) `json:"-"`
}

// ClusterPorts are the loopback ports of one cluster's components.
type ClusterPorts struct {
	// APIServer is the kube-apiserver's secure port.
	APIServer int `json:"apiServer"`
	// Etcd is etcd's client port.
	Etcd int `json:"etcd"`
	// EtcdPeer is etcd's peer port.
	EtcdPeer int `json:"etcdPeer"`
	// KwokController is the kwok controller's port.
	KwokController int `json:"kwokController"`
	// ControllerManager is kube-controller-manager's secure port.
	ControllerManager int `json:"controllerManager"`
	// Scheduler is kube-scheduler's secure port.
	Scheduler int `json:"scheduler"`
}

// portsPerCluster is the size of the port range each cluster gets; the
// components use the first six.
const portsPerCluster = 10

// list returns the ports with the component that binds each.
func (p ClusterPorts) list() []namedPort {
	return []namedPort{
		{"kube-apiserver", p.APIServer}, {"etcd", p.Etcd}, {"etcd peer", p.EtcdPeer},
		{"kwok-controller", p.KwokController}, {"kube-controller-manager", p.ControllerManager},
		{"kube-scheduler", p.Scheduler},
	}
}

type namedPort struct {
	component string
	port      int
}

// portsFrom lays out one cluster's ports from base.
func portsFrom(base int) ClusterPorts {
	return ClusterPorts{
		APIServer: base, Etcd: base + 1, EtcdPeer: base + 2,
		KwokController: base + 3, ControllerManager: base + 4, Scheduler: base + 5,
	}
}

// Cluster is one running cluster of a fleet.
type Cluster struct {
	// Name of the cluster.
	Name string `json:"name"`
	// Role of the cluster.
	Role fleetv1alpha1.MemberRole `json:"role"`
	// Endpoint is the kube-apiserver URL, https://127.0.0.1:<port>.
	Endpoint string `json:"endpoint"`
	// KubeconfigPath is a self-contained admin kubeconfig (certificates
	// embedded), the same one a CAPI kubeconfig Secret holds.
	KubeconfigPath string `json:"kubeconfig"`
	// Ports of the components.
	Ports ClusterPorts `json:"ports"`
	// NodePools the cluster was created with (defaults applied).
	NodePools []NodePool `json:"nodePools,omitempty"`
	// Config reaches the cluster as cluster-admin.
	Config *rest.Config `json:"-"`
}

// Client returns a controller-runtime client for the cluster with NewScheme.
func (c *Cluster) Client() (client.Client, error) {
	cl, err := client.New(c.Config, client.Options{Scheme: NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("creating client for cluster %s: %w", c.Name, err)
	}
	return cl, nil
}

// Fleet is a set of running clusters.
type Fleet struct {
	// Name of the fleet.
	Name string
	// Dir is the fleet's state directory; every process of the fleet runs
	// from it and Stop removes it.
	Dir string
	// KubeconfigPath holds one context per cluster, named after it.
	KubeconfigPath string
	// Clusters in the order of the spec.
	Clusters []*Cluster
	// CAPI is the registration the fleet was started with, if any.
	CAPI *CAPISpec
}

// Cluster returns the named cluster, or an error wrapping ErrUnknownCluster
// that lists the known names.
func (f *Fleet) Cluster(name string) (*Cluster, error) {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w %q in fleet %s (known: %s)", ErrUnknownCluster, name, f.Name, strings.Join(f.ClusterNames(), ", "))
}

// ClusterNames lists the clusters' names in spec order.
func (f *Fleet) ClusterNames() []string {
	names := make([]string, 0, len(f.Clusters))
	for _, c := range f.Clusters {
		names = append(names, c.Name)
	}
	return names
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Defaults for node pools.
var (
	defaultPoolCPU     = resource.MustParse("8")
	defaultPoolMemory  = resource.MustParse("32Gi")
	defaultPoolStorage = resource.MustParse("100Gi")
)

const defaultPoolPods = 110

// withDefaults returns a copy of the spec with defaults applied.
func (s FleetSpec) withDefaults() FleetSpec {
	out := s
	out.Clusters = make([]ClusterSpec, len(s.Clusters))
	for i, c := range s.Clusters {
		if c.Role == "" {
			c.Role = fleetv1alpha1.RoleWorkload
		}
		pools := make([]NodePool, len(c.NodePools))
		for j, p := range c.NodePools {
			pools[j] = p.withDefaults()
		}
		c.NodePools = pools
		out.Clusters[i] = c
	}
	if out.ReadyTimeout == 0 {
		out.ReadyTimeout = 3 * time.Minute
	}
	if out.Logf == nil {
		out.Logf = func(string, ...any) {}
	}
	return out
}

func (p NodePool) withDefaults() NodePool {
	if p.NodeType == "" {
		p.NodeType = p.Name
	}
	if p.CPU.IsZero() {
		p.CPU = defaultPoolCPU.DeepCopy()
	}
	if p.Memory.IsZero() {
		p.Memory = defaultPoolMemory.DeepCopy()
	}
	if p.EphemeralStorage.IsZero() {
		p.EphemeralStorage = defaultPoolStorage.DeepCopy()
	}
	if p.Pods == 0 {
		p.Pods = defaultPoolPods
	}
	return p
}

// Validate checks the spec; each error names the offending field.
func (s FleetSpec) Validate() error {
	var errs []error
	if !dns1123Label.MatchString(s.Name) || len(s.Name) > 63 {
		errs = append(errs, fmt.Errorf("name: %q must be a DNS-1123 label", s.Name))
	}
	if len(s.Clusters) == 0 {
		errs = append(errs, errors.New("clusters: at least one cluster is required"))
	}
	if s.BasePort < 0 || (s.BasePort > 0 && (s.BasePort < 1024 || s.BasePort+portsPerCluster*len(s.Clusters) > 65535)) {
		errs = append(errs, fmt.Errorf("basePort: %d must be 0 (pick free ports) or between 1024 and %d", s.BasePort, 65535-portsPerCluster*len(s.Clusters)))
	}
	seen := map[string]bool{}
	for i, c := range s.Clusters {
		field := fmt.Sprintf("clusters[%d]", i)
		if !dns1123Label.MatchString(c.Name) || len(c.Name) > 40 {
			errs = append(errs, fmt.Errorf("%s.name: %q must be a DNS-1123 label of at most 40 characters", field, c.Name))
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", field, c.Name))
		}
		seen[c.Name] = true
		switch c.Role {
		case "", fleetv1alpha1.RoleWorkload, fleetv1alpha1.RoleManagement, fleetv1alpha1.RoleServices:
		default:
			errs = append(errs, fmt.Errorf("%s.role: %q must be Workload, Management or Services", field, c.Role))
		}
		pools := map[string]bool{}
		for j, p := range c.NodePools {
			pf := fmt.Sprintf("%s.nodePools[%d]", field, j)
			if !dns1123Label.MatchString(p.Name) {
				errs = append(errs, fmt.Errorf("%s.name: %q must be a DNS-1123 label", pf, p.Name))
			}
			if pools[p.Name] {
				errs = append(errs, fmt.Errorf("%s.name: %q is used twice", pf, p.Name))
			}
			pools[p.Name] = true
			if p.Nodes < 1 || p.Nodes > 100 {
				errs = append(errs, fmt.Errorf("%s.nodes: %d must be between 1 and 100", pf, p.Nodes))
			}
			for k, q := range map[string]resource.Quantity{"cpu": p.CPU, "memory": p.Memory, "ephemeralStorage": p.EphemeralStorage} {
				if q.Sign() < 0 {
					errs = append(errs, fmt.Errorf("%s.%s: %s must not be negative", pf, k, q.String()))
				}
			}
			if p.Pods < 0 {
				errs = append(errs, fmt.Errorf("%s.pods: %d must not be negative", pf, p.Pods))
			}
			for k, t := range p.Taints {
				switch t.Effect {
				case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
				default:
					errs = append(errs, fmt.Errorf("%s.taints[%d].effect: %q must be NoSchedule, PreferNoSchedule or NoExecute", pf, k, t.Effect))
				}
				if t.Key == "" {
					errs = append(errs, fmt.Errorf("%s.taints[%d].key: must not be empty", pf, k))
				}
			}
		}
	}
	if s.CAPI != nil {
		if !seen[s.CAPI.ManagementCluster] {
			errs = append(errs, fmt.Errorf("capi.managementCluster: %q is not a cluster of the fleet", s.CAPI.ManagementCluster))
		}
		if !dns1123Label.MatchString(s.CAPI.Namespace) {
			errs = append(errs, fmt.Errorf("capi.namespace: %q must be a DNS-1123 label", s.CAPI.Namespace))
		}
	}
	return errors.Join(errs...)
}

// FleetsDir holds the state directories of all local fleets.
func FleetsDir() string {
	return filepath.Join(clustertools.CacheDir(), "fleets")
}

// StartFleet starts every cluster of the spec with kwokctl's binary runtime
// and the cached binaries, creates the node pools, installs CRDs, registers
// the clusters in CAPI when asked, and returns once every cluster answers and
// all nodes are Ready. Leftovers of fleets whose process died are removed
// first. On error everything started is removed again.
func StartFleet(ctx context.Context, spec FleetSpec) (_ *Fleet, reterr error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("invalid fleet spec: %w", err)
	}
	spec = spec.withDefaults()
	bins, err := clustertools.Locate()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	st, err := reserveFleet(ctx, spec)
	if err != nil {
		return nil, err
	}
	f := st.fleet()
	ok := false
	defer func() {
		if ok {
			return
		}
		logs, keepErr := keepLogs(f)
		if err := withFleetsLock(func() error { return removeFleetDir(context.WithoutCancel(ctx), bins.Kwokctl, f.Dir) }); err != nil {
			spec.Logf("Removing the failed fleet %s: %v", f.Name, err)
		}
		if keepErr == nil {
			reterr = fmt.Errorf("%w (logs: %s)", reterr, logs)
		}
	}()

	var wg sync.WaitGroup
	errs := make([]error, len(spec.Clusters))
	for i := range spec.Clusters {
		wg.Go(func() {
			errs[i] = startCluster(ctx, bins, f.Dir, spec.Clusters[i], f.Clusters[i], spec.ReadyTimeout, spec.Logf)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := writeMergedKubeconfig(f); err != nil {
		return nil, err
	}
	if spec.CAPI != nil {
		mgmt, err := f.Cluster(spec.CAPI.ManagementCluster)
		if err != nil {
			return nil, err
		}
		if err := RegisterCAPIClusters(ctx, mgmt, spec.CAPI.Namespace, f.Clusters); err != nil {
			return nil, err
		}
		spec.Logf("Registered %d CAPI Clusters in %s/%s", len(f.Clusters), mgmt.Name, spec.CAPI.Namespace)
	}
	st.Phase = phaseRunning
	if spec.Persistent {
		st.Owner = nil
	}
	if err := writeState(f.Dir, st); err != nil {
		return nil, err
	}
	ok = true
	spec.Logf("Fleet %s is up in %s", f.Name, time.Since(start).Round(100*time.Millisecond))
	return f, nil
}

// StartTestFleet starts a fleet for a test and removes it in t.Cleanup, also
// when the test fails. An empty spec.Name becomes one derived from the test
// name and the process id; spec.Logf defaults to t.Logf.
func StartTestFleet(t testing.TB, spec FleetSpec) *Fleet {
	t.Helper()
	if spec.Name == "" {
		spec.Name = testFleetName(t.Name(), os.Getpid())
	}
	if spec.Logf == nil {
		spec.Logf = t.Logf
	}
	spec.Persistent = false
	f, err := StartFleet(t.Context(), spec)
	if err != nil {
		t.Fatalf("Starting the local fleet: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := f.Stop(ctx); err != nil {
			t.Errorf("Stopping the local fleet: %v", err)
		}
	})
	return f
}

// testFleetName makes a DNS-1123 fleet name from a test name and a pid.
func testFleetName(testName string, pid int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(b.String(), "-")
	suffix := fmt.Sprintf("-%d", pid)
	if limit := 63 - len(suffix); len(name) > limit {
		name = strings.TrimRight(name[:limit], "-")
	}
	if name == "" {
		name = "test"
	}
	return name + suffix
}

// Stop removes every process and file of the fleet. It is safe to call more
// than once.
func (f *Fleet) Stop(ctx context.Context) error {
	// Without the tools cache the processes are still killed.
	bins, _ := clustertools.Locate()
	return withFleetsLock(func() error {
		return removeFleetDir(ctx, bins.Kwokctl, f.Dir)
	})
}

// LoadFleet returns the running fleet of that name, as started by another
// process (e.g. berthctl dev up), or an error wrapping ErrFleetNotRunning.
func LoadFleet(name string) (*Fleet, error) {
	if err := checkFleetName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(FleetsDir(), name)
	st, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: no fleet %q in %s", ErrFleetNotRunning, name, FleetsDir())
		}
		return nil, err
	}
	if st.Phase != phaseRunning {
		return nil, fmt.Errorf("%w: fleet %q is %s", ErrFleetNotRunning, name, st.Phase)
	}
	f := st.fleet()
	for _, c := range f.Clusters {
		cfg, err := restConfigFromFile(c.KubeconfigPath)
		if err != nil {
			return nil, fmt.Errorf("%w: cluster %s: %w", ErrFleetNotRunning, c.Name, err)
		}
		c.Config = cfg
	}
	return f, nil
}

// StopFleet removes the named fleet and any leftovers of it, and the
// leftovers of fleets whose starting process died. It reports whether the
// named fleet had anything to remove.
func StopFleet(ctx context.Context, name string) (bool, error) {
	if err := checkFleetName(name); err != nil {
		return false, err
	}
	bins, _ := clustertools.Locate()
	dir := filepath.Join(FleetsDir(), name)
	found := false
	err := withFleetsLock(func() error {
		_, statErr := os.Stat(dir)
		procs, err := processesUnder(dir)
		if err != nil {
			return err
		}
		found = statErr == nil || len(procs) > 0
		if err := removeFleetDir(ctx, bins.Kwokctl, dir); err != nil {
			return err
		}
		if err := os.RemoveAll(failedLogsDir(name)); err != nil {
			return fmt.Errorf("removing logs of a failed start: %w", err)
		}
		return sweepLeftovers(ctx, bins.Kwokctl, func(string, ...any) {})
	})
	return found, err
}

func checkFleetName(name string) error {
	if !dns1123Label.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("fleet name %q must be a DNS-1123 label", name)
	}
	return nil
}

// Processes lists the fleet's running processes.
func (f *Fleet) Processes() ([]Process, error) {
	return processesUnder(f.Dir)
}
