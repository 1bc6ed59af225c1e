package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// TestLocalFleet brings up two kwok clusters, checks that the real scheduler
// places a tolerating StatefulSet on the tainted database pool (and keeps a
// non-tolerating pod off it), that both clusters are registered in the
// management cluster as CAPI would register them, and that Stop leaves no
// process or directory.
func TestLocalFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two control planes")
	}
	start := time.Now()
	f := StartTestFleet(t, FleetSpec{
		CAPI: &CAPISpec{ManagementCluster: "alpha", Namespace: "fleet"},
		Clusters: []ClusterSpec{
			{Name: "alpha", Role: fleetv1alpha1.RoleManagement, CRDPaths: CRDPaths(), NodePools: []NodePool{GeneralPool(1), DatabasePool(3)}},
			{Name: "beta", Role: fleetv1alpha1.RoleServices, NodePools: []NodePool{GeneralPool(1), DatabasePool(3)}},
		},
	})
	t.Logf("Two clusters up in %s", time.Since(start).Round(100*time.Millisecond))

	t.Run("clusters", func(t *testing.T) {
		for _, c := range f.Clusters {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				statefulSetOnTaintedPool(t, c)
			})
		}
		t.Run("capi", func(t *testing.T) {
			t.Parallel()
			registeredInCAPI(t, f)
		})
	})

	g := NewWithT(t)
	procs, err := f.Processes()
	g.Expect(err).NotTo(HaveOccurred())
	// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
	// kwok-controller per cluster.
	g.Expect(procs).To(HaveLen(10), "fleet processes: %s", describeProcesses(procs))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g.Expect(f.Stop(ctx)).To(Succeed())
	procs, err = processesUnder(f.Dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(procs).To(BeEmpty(), "processes left: %s", describeProcesses(procs))
	_, err = os.Stat(f.Dir)
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "fleet directory %s is left: %v", f.Dir, err)
	t.Logf("Whole test took %s", time.Since(start).Round(100*time.Millisecond))
}

// registeredInCAPI checks the Cluster objects and kubeconfig Secrets in the
// management cluster, and that each Secret's kubeconfig reaches its cluster.
func registeredInCAPI(t *testing.T, f *Fleet) {
	g := NewWithT(t)
	ctx := t.Context()
	mgmt, err := f.Cluster(f.CAPI.ManagementCluster)
	g.Expect(err).NotTo(HaveOccurred())
	cl, err := mgmt.Client()
	g.Expect(err).NotTo(HaveOccurred())
	for _, member := range f.Clusters {
		cluster := &clusterv1.Cluster{}
		g.Expect(cl.Get(ctx, client.ObjectKey{Namespace: f.CAPI.Namespace, Name: member.Name}, cluster)).To(Succeed())
		g.Expect(cluster.Labels).To(HaveKeyWithValue(fleetv1alpha1.LabelRole, string(member.Role)))
		g.Expect(cluster.Spec.ControlPlaneEndpoint).To(Equal(clusterv1.APIEndpoint{Host: "127.0.0.1", Port: int32(member.Ports.APIServer)}))
		g.Expect(cluster.Status.Initialization.ControlPlaneInitialized).To(HaveValue(BeTrue()))
		for _, typ := range []string{clusterv1.ClusterControlPlaneInitializedCondition, clusterv1.ClusterAvailableCondition} {
			g.Expect(apimeta.IsStatusConditionTrue(cluster.Status.Conditions, typ)).To(BeTrue(), "%s of %s", typ, member.Name)
		}

		secret := &corev1.Secret{}
		g.Expect(cl.Get(ctx, client.ObjectKey{Namespace: f.CAPI.Namespace, Name: KubeconfigSecretName(member.Name)}, secret)).To(Succeed())
		g.Expect(secret.Type).To(Equal(clusterv1.ClusterSecretType))
		g.Expect(secret.Labels).To(HaveKeyWithValue(clusterv1.ClusterNameLabel, member.Name))
		g.Expect(metav1.IsControlledBy(secret, cluster)).To(BeTrue())
		cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data["value"])
		g.Expect(err).NotTo(HaveOccurred())
		memberClient, err := client.New(cfg, client.Options{})
		g.Expect(err).NotTo(HaveOccurred())
		nodes := &corev1.NodeList{}
		g.Expect(memberClient.List(ctx, nodes)).To(Succeed())
		g.Expect(nodes.Items).To(HaveLen(4))
		g.Expect(nodes.Items[0].Name).To(HavePrefix(member.Name + "-"))
	}
}

func statefulSetOnTaintedPool(t *testing.T, c *Cluster) {
	g := NewWithT(t)
	ctx := t.Context()
	cl, err := c.Client()
	g.Expect(err).NotTo(HaveOccurred())

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "db"}}
	g.Expect(cl.Create(ctx, ns)).To(Succeed())
	labels := map[string]string{"app": "db"}
	podSpec := corev1.PodSpec{
		NodeSelector: map[string]string{LabelNodeType: "database"},
		Tolerations: []corev1.Toleration{{
			Key: DatabaseTaint.Key, Operator: corev1.TolerationOpEqual, Value: DatabaseTaint.Value, Effect: DatabaseTaint.Effect,
		}},
		Containers: []corev1.Container{{
			Name: "db", Image: "postgres:17",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"),
			}},
		}},
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns.Name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To[int32](3),
			ServiceName:         "db",
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template:            corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec},
		},
	}
	g.Expect(cl.Create(ctx, sts)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(cl.Get(ctx, client.ObjectKeyFromObject(sts), sts)).To(Succeed())
		g.Expect(sts.Status.ReadyReplicas).To(BeNumerically("==", 3))
	}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())

	pods := &corev1.PodList{}
	g.Expect(cl.List(ctx, pods, client.InNamespace(ns.Name), client.MatchingLabels(labels))).To(Succeed())
	g.Expect(pods.Items).To(HaveLen(3))
	for _, p := range pods.Items {
		g.Expect(p.Spec.NodeName).NotTo(BeEmpty(), "pod %s is not scheduled", p.Name)
		node := &corev1.Node{}
		g.Expect(cl.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, node)).To(Succeed())
		g.Expect(node.Labels).To(HaveKeyWithValue(LabelNodePool, "database"), "pod %s runs on %s", p.Name, node.Name)
		g.Expect(node.Spec.Taints).To(ContainElement(HaveField("Key", LabelNodeType)))
	}

	// The same pod without the toleration must not fit: the database pool
	// is tainted and the selector excludes every other node.
	untolerating := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "no-toleration", Namespace: ns.Name},
		Spec:       *podSpec.DeepCopy(),
	}
	untolerating.Spec.Tolerations = nil
	g.Eventually(func() error { return cl.Create(ctx, untolerating) }).WithTimeout(time.Minute).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(cl.Get(ctx, client.ObjectKeyFromObject(untolerating), untolerating)).To(Succeed())
		g.Expect(untolerating.Spec.NodeName).To(BeEmpty())
		g.Expect(untolerating.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.PodScheduled),
			HaveField("Reason", corev1.PodReasonUnschedulable),
			HaveField("Message", ContainSubstring("untolerated taint")),
		)))
	}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
}

// TestStartFleetFailureRemovesEverything makes a start fail after the
// control plane is up and checks that nothing of the fleet is left but its
// logs.
func TestStartFleetFailureRemovesEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	g := NewWithT(t)
	spec := FleetSpec{
		Name:     testFleetName(t.Name(), os.Getpid()),
		Clusters: []ClusterSpec{{Name: "broken", CRDPaths: []string{"/nonexistent/crds"}, NodePools: []NodePool{GeneralPool(1)}}},
		Logf:     t.Logf,
	}
	t.Cleanup(func() { _ = os.RemoveAll(failedLogsDir(spec.Name)) })
	_, err := StartFleet(t.Context(), spec)
	g.Expect(err).To(MatchError(ContainSubstring("cluster broken: installing CRDs")))
	g.Expect(err).To(MatchError(ContainSubstring("logs: " + failedLogsDir(spec.Name))))

	dir := filepath.Join(FleetsDir(), spec.Name)
	procs, err := processesUnder(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(procs).To(BeEmpty())
	g.Expect(dir).NotTo(BeADirectory())
	g.Expect(filepath.Join(failedLogsDir(spec.Name), "broken", "kube-apiserver.log")).To(BeARegularFile())
	g.Expect(filepath.Join(failedLogsDir(spec.Name), "broken", "kwokctl.log")).To(BeARegularFile())
}

// TestStartFleetPortInUse checks that a fixed port range that is taken fails
// at once with an error naming the port, component and cluster.
func TestStartFleetPortInUse(t *testing.T) {
	g := NewWithT(t)
	spec := FleetSpec{
		Name:     testFleetName(t.Name(), os.Getpid()),
		Clusters: []ClusterSpec{{Name: "first"}, {Name: "second"}},
	}
	free, err := allocatePorts(spec, reservedPorts())
	g.Expect(err).NotTo(HaveOccurred())
	if free[1].APIServer != free[0].APIServer+portsPerCluster {
		t.Skip("No two adjacent free port ranges")
	}
	// Take the second cluster's apiserver port.
	port := free[1].APIServer
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	spec.BasePort = free[0].APIServer
	_, err = StartFleet(t.Context(), spec)
	clash, ok := errors.AsType[*PortInUseError](err)
	g.Expect(ok).To(BeTrue(), "error %v", err)
	g.Expect(*clash).To(Equal(PortInUseError{Port: port, Component: "kube-apiserver", Cluster: "second"}))
	g.Expect(filepath.Join(FleetsDir(), spec.Name)).NotTo(BeADirectory())
}
