package framework

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/yaml"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hack/clustertools"
)

func validSpec() FleetSpec {
	return FleetSpec{
		Name: "unit",
		CAPI: &CAPISpec{ManagementCluster: "mgmt", Namespace: "fleet"},
		Clusters: []ClusterSpec{
			{Name: "mgmt", Role: fleetv1alpha1.RoleManagement, NodePools: []NodePool{GeneralPool(1)}},
			{Name: "workload-1", NodePools: []NodePool{GeneralPool(2), DatabasePool(1)}},
		},
	}
}

func TestFleetSpecValidate(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(*FleetSpec)
		wantErr string
	}{
		{name: "valid", mutate: func(*FleetSpec) {}},
		{name: "dev fleet", mutate: func(s *FleetSpec) { *s = DevFleetSpec(0) }},
		{name: "bad fleet name", mutate: func(s *FleetSpec) { s.Name = "Bad_Name" }, wantErr: `name: "Bad_Name"`},
		{name: "no clusters", mutate: func(s *FleetSpec) { s.Clusters = nil; s.CAPI = nil }, wantErr: "clusters: at least one"},
		{name: "low base port", mutate: func(s *FleetSpec) { s.BasePort = 80 }, wantErr: "basePort: 80"},
		{name: "bad cluster name", mutate: func(s *FleetSpec) { s.Clusters[1].Name = "w.1" }, wantErr: `clusters[1].name: "w.1"`},
		{name: "long cluster name", mutate: func(s *FleetSpec) { s.Clusters[1].Name = strings.Repeat("a", 41) }, wantErr: "clusters[1].name"},
		{name: "duplicate cluster", mutate: func(s *FleetSpec) { s.Clusters[1].Name = "mgmt" }, wantErr: `clusters[1].name: "mgmt" is used twice`},
		{name: "bad role", mutate: func(s *FleetSpec) { s.Clusters[0].Role = "Boss" }, wantErr: `clusters[0].role: "Boss"`},
		{name: "duplicate pool", mutate: func(s *FleetSpec) { s.Clusters[1].NodePools[1].Name = "general" }, wantErr: `clusters[1].nodePools[1].name: "general" is used twice`},
		{name: "no nodes", mutate: func(s *FleetSpec) { s.Clusters[1].NodePools[0].Nodes = 0 }, wantErr: "clusters[1].nodePools[0].nodes: 0"},
		{name: "negative cpu", mutate: func(s *FleetSpec) { s.Clusters[1].NodePools[0].CPU = resource.MustParse("-1") }, wantErr: "clusters[1].nodePools[0].cpu"},
		{name: "bad taint effect", mutate: func(s *FleetSpec) { s.Clusters[1].NodePools[1].Taints[0].Effect = "Never" }, wantErr: `clusters[1].nodePools[1].taints[0].effect: "Never"`},
		{name: "empty taint key", mutate: func(s *FleetSpec) { s.Clusters[1].NodePools[1].Taints[0].Key = "" }, wantErr: "clusters[1].nodePools[1].taints[0].key"},
		{name: "unknown management cluster", mutate: func(s *FleetSpec) { s.CAPI.ManagementCluster = "hub" }, wantErr: `capi.managementCluster: "hub"`},
		{name: "bad CAPI namespace", mutate: func(s *FleetSpec) { s.CAPI.Namespace = "" }, wantErr: "capi.namespace"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := validSpec()
			tc.mutate(&s)
			err := s.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestFleetSpecDefaults(t *testing.T) {
	g := NewWithT(t)
	s := FleetSpec{Name: "d", Clusters: []ClusterSpec{{Name: "a", NodePools: []NodePool{{Name: "p", Nodes: 1}}}}}.withDefaults()
	g.Expect(s.Clusters[0].Role).To(Equal(fleetv1alpha1.RoleWorkload))
	p := s.Clusters[0].NodePools[0]
	g.Expect(p.NodeType).To(Equal("p"))
	g.Expect(p.CPU.String()).To(Equal("8"))
	g.Expect(p.Memory.String()).To(Equal("32Gi"))
	g.Expect(p.EphemeralStorage.String()).To(Equal("100Gi"))
	g.Expect(p.Pods).To(Equal(110))
	g.Expect(s.ReadyTimeout).To(Equal(3 * time.Minute))
	g.Expect(s.Logf).NotTo(BeNil())
}

func TestAllocatePorts(t *testing.T) {
	busy := map[int]bool{30003: true, 31014: true}
	free := func(p int) bool { return !busy[p] }
	twoClusters := FleetSpec{Clusters: []ClusterSpec{{Name: "a"}, {Name: "b"}}}
	testCases := []struct {
		name      string
		basePort  int
		reserved  map[int]bool
		wantBases []int
		wantClash *PortInUseError
	}{
		{name: "fixed base", basePort: 32000, wantBases: []int{32000, 32010}},
		{name: "fixed base clashes", basePort: 31000, wantClash: &PortInUseError{Port: 31014, Component: "kube-controller-manager", Cluster: "b"}},
		{name: "fixed base reserved by another fleet", basePort: 32000, reserved: map[int]bool{32000: true},
			wantClash: &PortInUseError{Port: 32000, Component: "kube-apiserver", Cluster: "a"}},
		{name: "auto skips busy and reserved ranges", reserved: map[int]bool{30011: true}, wantBases: []int{30020, 30030}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			spec := twoClusters
			spec.BasePort = tc.basePort
			ports, err := allocatePortsWith(spec, tc.reserved, free)
			if tc.wantClash != nil {
				clash, ok := errors.AsType[*PortInUseError](err)
				g.Expect(ok).To(BeTrue(), "error %v", err)
				g.Expect(clash).To(Equal(tc.wantClash))
				g.Expect(err.Error()).To(Equal(tc.wantClash.Error()))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ports).To(HaveLen(len(tc.wantBases)))
			for i, base := range tc.wantBases {
				g.Expect(ports[i]).To(Equal(portsFrom(base)))
			}
		})
	}
}

func TestPortsFromAreDistinct(t *testing.T) {
	g := NewWithT(t)
	seen := map[int]bool{}
	for _, p := range portsFrom(40000).list() {
		g.Expect(seen[p.port]).To(BeFalse())
		g.Expect(p.port).To(BeNumerically("<", 40000+portsPerCluster))
		seen[p.port] = true
	}
}

func TestPoolNodes(t *testing.T) {
	g := NewWithT(t)
	pool := DatabasePool(3)
	pool.Labels = map[string]string{"disk": "ssd", LabelNodePool: "overridden"}
	nodes := PoolNodes("workload-1", pool)
	g.Expect(nodes).To(HaveLen(3))
	for i, n := range nodes {
		g.Expect(n.Name).To(Equal("workload-1-database-" + string(rune('0'+i))))
		g.Expect(n.Labels).To(HaveKeyWithValue(LabelNodePool, "database"))
		g.Expect(n.Labels).To(HaveKeyWithValue(LabelNodeType, "database"))
		g.Expect(n.Labels).To(HaveKeyWithValue("disk", "ssd"))
		g.Expect(n.Labels).To(HaveKeyWithValue("kubernetes.io/hostname", n.Name))
		g.Expect(n.Annotations).To(HaveKeyWithValue(kwokNodeAnnotation, "fake"))
		g.Expect(n.Spec.Taints).To(ConsistOf(DatabaseTaint))
		g.Expect(n.Status.Allocatable.Cpu().String()).To(Equal("16"))
		g.Expect(n.Status.Allocatable.Memory().String()).To(Equal("64Gi"))
		g.Expect(n.Status.Allocatable.StorageEphemeral().String()).To(Equal("500Gi"))
		g.Expect(n.Status.Allocatable.Pods().Value()).To(BeEquivalentTo(110))
		g.Expect(n.Status.Capacity).To(Equal(n.Status.Allocatable))
	}
	// The nodes do not share taint slices with the pool.
	nodes[0].Spec.Taints[0].Value = "changed"
	g.Expect(pool.Taints[0].Value).To(Equal("database"))
}

func TestSummarizePools(t *testing.T) {
	g := NewWithT(t)
	nodes := append(PoolNodes("c", GeneralPool(2)), PoolNodes("c", DatabasePool(2))...)
	nodes = append(nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "stray"}})
	nodes[0].Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	nodes[2].Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	nodes[3].Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}
	// A taint only one node has is not a pool taint.
	nodes[3].Spec.Taints = append(nodes[3].Spec.Taints, corev1.Taint{Key: "extra", Effect: corev1.TaintEffectNoExecute})

	pools := SummarizePools(nodes)
	g.Expect(pools).To(HaveLen(3))
	g.Expect(pools[0].Name).To(Equal("-"))
	g.Expect(pools[1]).To(And(
		HaveField("Name", "database"), HaveField("NodeType", "database"), HaveField("Nodes", 2), HaveField("Ready", 1),
		HaveField("Taints", ConsistOf("nodeType=database:NoSchedule")),
	))
	g.Expect(pools[1].CPU.String()).To(Equal("32"))
	g.Expect(pools[1].Memory.String()).To(Equal("128Gi"))
	g.Expect(pools[2]).To(And(HaveField("Name", "general"), HaveField("Nodes", 2), HaveField("Ready", 1), HaveField("Taints", BeEmpty())))
}

func TestCAPIKubeconfig(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	for name, content := range map[string]string{"ca.crt": "CA", "admin.crt": "CERT", "admin.key": "KEY"} {
		g.Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)).To(Succeed())
	}
	src := clientcmdapi.NewConfig()
	src.Clusters["kwok-a"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:30000", CertificateAuthority: filepath.Join(dir, "ca.crt")}
	src.AuthInfos["kwok-a"] = &clientcmdapi.AuthInfo{ClientCertificate: filepath.Join(dir, "admin.crt"), ClientKey: filepath.Join(dir, "admin.key")}
	src.Contexts["kwok-a"] = &clientcmdapi.Context{Cluster: "kwok-a", AuthInfo: "kwok-a"}
	src.CurrentContext = "kwok-a"

	out, err := capiKubeconfig(src, "a")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.CurrentContext).To(Equal("a-admin@a"))
	g.Expect(out.Contexts).To(HaveKeyWithValue("a-admin@a", And(HaveField("Cluster", "a"), HaveField("AuthInfo", "a-admin"))))
	g.Expect(out.Clusters["a"].Server).To(Equal("https://127.0.0.1:30000"))
	g.Expect(string(out.Clusters["a"].CertificateAuthorityData)).To(Equal("CA"))
	g.Expect(out.Clusters["a"].CertificateAuthority).To(BeEmpty())
	g.Expect(string(out.AuthInfos["a-admin"].ClientCertificateData)).To(Equal("CERT"))
	g.Expect(string(out.AuthInfos["a-admin"].ClientKeyData)).To(Equal("KEY"))
	// The source is left alone.
	g.Expect(src.Clusters["kwok-a"].CertificateAuthorityData).To(BeEmpty())

	src.CurrentContext = "missing"
	_, err = capiKubeconfig(src, "a")
	g.Expect(err).To(MatchError(ContainSubstring(`no current context "missing"`)))
}

func TestSetProvisionedStatus(t *testing.T) {
	g := NewWithT(t)
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
	setProvisionedStatus(c, now)
	g.Expect(c.Status.Initialization.ControlPlaneInitialized).To(HaveValue(BeTrue()))
	g.Expect(c.Status.Initialization.InfrastructureProvisioned).To(HaveValue(BeTrue()))
	g.Expect(c.Status.Phase).To(Equal(string(clusterv1.ClusterPhaseProvisioned)))
	for _, typ := range []string{
		clusterv1.ClusterAvailableCondition, clusterv1.ClusterControlPlaneInitializedCondition,
		clusterv1.ClusterInfrastructureReadyCondition, clusterv1.ClusterRemoteConnectionProbeCondition,
	} {
		g.Expect(c.Status.Conditions).To(ContainElement(And(
			HaveField("Type", typ), HaveField("Status", metav1.ConditionTrue), HaveField("ObservedGeneration", int64(4)),
			HaveField("Reason", Not(BeEmpty())), HaveField("LastTransitionTime", now),
		)), typ)
	}
	// Setting it again keeps one condition per type.
	setProvisionedStatus(c, metav1.Now())
	g.Expect(c.Status.Conditions).To(HaveLen(5))
	g.Expect(c.Status.Conditions[0].LastTransitionTime).To(Equal(now))
}

func TestEndpointHostPort(t *testing.T) {
	testCases := []struct {
		endpoint string
		host     string
		port     int32
		wantErr  bool
	}{
		{endpoint: "https://127.0.0.1:31000", host: "127.0.0.1", port: 31000},
		{endpoint: "https://[::1]:6443", host: "::1", port: 6443},
		{endpoint: "https://127.0.0.1", wantErr: true},
		{endpoint: "::", wantErr: true},
	}
	for _, tc := range testCases {
		t.Run(tc.endpoint, func(t *testing.T) {
			g := NewWithT(t)
			host, port, err := endpointHostPort(tc.endpoint)
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(host).To(Equal(tc.host))
			g.Expect(port).To(Equal(tc.port))
		})
	}
}

func TestIsStale(t *testing.T) {
	alive := func(o *ownerRef) bool { return o.PID == 1 }
	testCases := []struct {
		name    string
		st      *fleetState
		readErr error
		want    bool
	}{
		{name: "no state file", readErr: os.ErrNotExist, want: true},
		{name: "owner running", st: &fleetState{Owner: &ownerRef{PID: 1}, Phase: phaseRunning}, want: false},
		{name: "owner gone", st: &fleetState{Owner: &ownerRef{PID: 2}, Phase: phaseRunning}, want: true},
		{name: "persistent start killed", st: &fleetState{Persistent: true, Owner: &ownerRef{PID: 2}, Phase: phaseStarting}, want: true},
		{name: "persistent start in progress", st: &fleetState{Persistent: true, Owner: &ownerRef{PID: 1}, Phase: phaseStarting}, want: false},
		{name: "persistent and running", st: &fleetState{Persistent: true, Phase: phaseRunning}, want: false},
		{name: "ownerless test fleet", st: &fleetState{Phase: phaseRunning}, want: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(isStale(tc.st, tc.readErr, alive)).To(Equal(tc.want))
		})
	}
}

func TestProcHelpers(t *testing.T) {
	g := NewWithT(t)
	// The command (field 2) may hold spaces and parentheses.
	stat := "123 (kube apiserver (x)) S 1 123 123 0 -1 4194560 1 0 0 0 5 6 0 0 20 0 7 0 98765 1000 200"
	start, err := parseStatStartTime(stat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(start).To(BeEquivalentTo(98765))
	_, err = parseStatStartTime("123 (etcd) Z 1 123 123 0 -1 4194560 1 0 0 0 5 6 0 0 20 0 7 0 98765 1000 200")
	g.Expect(err).To(HaveOccurred())
	_, err = parseStatStartTime("garbage")
	g.Expect(err).To(HaveOccurred())

	state, threads, rss := parseProcStatus("Name:\tetcd\nState:\tS (sleeping)\nVmRSS:\t  2048 kB\nThreads:\t12\n")
	g.Expect(state).To(Equal("S"))
	g.Expect(threads).To(Equal(12))
	g.Expect(rss).To(BeEquivalentTo(2048 * 1024))

	// This process is alive and its start time is stable.
	self := selfOwner()
	g.Expect(self.alive()).To(BeTrue())
	g.Expect((&ownerRef{PID: self.PID, StartTime: self.StartTime + 1}).alive()).To(BeFalse())

	cmdline := "/f/dev/kwok/clusters/mgmt/bin/etcd\x00--data-dir=/f/dev/kwok/clusters/mgmt/etcd"
	g.Expect(clusterOfPath("/f/dev/", cmdline)).To(Equal("mgmt"))
	g.Expect(clusterOfPath("/f/other/", cmdline)).To(BeEmpty())

	g.Expect(ownedCommand("/f/dev/", cmdline)).To(BeTrue())
	g.Expect(ownedCommand("/f/dev-2/", cmdline)).To(BeFalse())
	g.Expect(ownedCommand("/f/dev/", "/c/kwok-v0.8.0/kwokctl\x00create\x00cluster\x00--config\x00/f/dev/config/a.yaml")).To(BeTrue())
	g.Expect(ownedCommand("/f/dev/", "tail\x00-f\x00/f/dev/kwok/clusters/mgmt/logs/etcd.log")).To(BeFalse())
}

func TestTestFleetName(t *testing.T) {
	testCases := []struct {
		test string
		want string
	}{
		{test: "TestLocalFleet", want: "testlocalfleet-42"},
		{test: "TestX/sub_case#01", want: "testx-sub-case-01-42"},
		{test: "///", want: "test-42"},
		{test: strings.Repeat("Long", 30), want: strings.Repeat("long", 15)[:60] + "-42"},
	}
	for _, tc := range testCases {
		t.Run(tc.want, func(t *testing.T) {
			g := NewWithT(t)
			got := testFleetName(tc.test, 42)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(dns1123Label.MatchString(got)).To(BeTrue())
			g.Expect(len(got)).To(BeNumerically("<=", 63))
		})
	}
}

// TestKwokctlConfigIsOffline checks that every binary kwokctl could fetch
// is a local path, so no cluster start ever downloads anything.
func TestKwokctlConfigIsOffline(t *testing.T) {
	g := NewWithT(t)
	bins := clustertools.Binaries{
		KubeAPIServer: "/c/kube-apiserver", KubeControllerManager: "/c/kube-controller-manager", KubeScheduler: "/c/kube-scheduler",
		Etcd: "/c/etcd", Etcdctl: "/c/etcdctl", Kwok: "/c/kwok", Kwokctl: "/c/kwokctl",
	}
	raw, err := kwokctlConfig(bins, clustertools.Pins{Kube: "v1.36.3"}, "/f/dev", portsFrom(31000))
	g.Expect(err).NotTo(HaveOccurred())
	var cfg struct {
		Kind    string         `json:"kind"`
		Options map[string]any `json:"options"`
	}
	g.Expect(yaml.Unmarshal(raw, &cfg)).To(Succeed())
	g.Expect(cfg.Kind).To(Equal("KwokctlConfiguration"))
	g.Expect(cfg.Options).To(HaveKeyWithValue("runtime", "binary"))
	g.Expect(cfg.Options).To(HaveKeyWithValue("kubeVersion", "v1.36.3"))
	g.Expect(cfg.Options).To(HaveKeyWithValue("bindAddress", "127.0.0.1"))
	g.Expect(cfg.Options).To(HaveKeyWithValue("kubeApiserverPort", BeEquivalentTo(31000)))
	g.Expect(cfg.Options).To(HaveKeyWithValue("kubeApiserverBinary", "/c/kube-apiserver"))
	g.Expect(cfg.Options).To(HaveKeyWithValue("kwokControllerBinary", "/c/kwok"))
	binaries := 0
	for key, val := range cfg.Options {
		if !strings.HasSuffix(key, "Binary") {
			continue
		}
		binaries++
		g.Expect(val).To(HavePrefix("/"), "%s must be a local path", key)
	}
	g.Expect(binaries).To(BeNumerically(">=", 13))
}

func TestHasNotReadyTaint(t *testing.T) {
	testCases := []struct {
		name   string
		taints []corev1.Taint
		want   bool
	}{
		{name: "none"},
		{name: "pool taint only", taints: []corev1.Taint{DatabaseTaint}},
		{name: "not ready", taints: []corev1.Taint{DatabaseTaint, {Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}, want: true},
		{name: "unreachable", taints: []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}, want: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Taints: tc.taints}}
			NewWithT(t).Expect(hasNotReadyTaint(n)).To(Equal(tc.want))
		})
	}
}

func TestKwokEnv(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("KWOK_RUNTIME", "docker")
	t.Setenv("KWOK_WORKDIR", "/elsewhere")
	t.Setenv("PATH", "/usr/bin")
	env := kwokEnv("/f/dev")
	g.Expect(env).To(ContainElement("KWOK_WORKDIR=/f/dev/kwok"))
	g.Expect(env).To(ContainElement("PATH=/f/dev/offline/bin:/usr/bin"))
	g.Expect(env).NotTo(ContainElement(HavePrefix("KWOK_RUNTIME=")))
	g.Expect(env).NotTo(ContainElement("KWOK_WORKDIR=/elsewhere"))
}

func TestKubectlShim(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(writeKubectlShim(dir)).To(Succeed())
	shim := filepath.Join(dir, "offline", "bin", "kubectl")
	g.Expect(exec.Command(shim, "--kubeconfig", "/x", "get", "--raw", "/version").Run()).To(Succeed())
	out, err := exec.Command(shim, "get", "pods").CombinedOutput()
	g.Expect(err).To(HaveOccurred())
	g.Expect(string(out)).To(ContainSubstring("kubectl is not available"))
}
