package registration

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

// memberKubeconfig is a kubeconfig for the envtest apiserver, as a CAPI
// provider would write for a new cluster.
func memberKubeconfig(t testing.TB) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["member"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData}
	cfg.Contexts["admin@member"] = &clientcmdapi.Context{Cluster: "member", AuthInfo: "admin"}
	cfg.CurrentContext = "admin@member"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func ensureNamespace(t testing.TB, name string) {
	t.Helper()
	err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// clusterBuilder builds a CAPI Cluster.
type clusterBuilder struct {
	c *clusterv1.Cluster
}

func newCluster(namespace, name string) *clusterBuilder {
	return &clusterBuilder{c: &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: clusterv1.ClusterSpec{
			ControlPlaneEndpoint: clusterv1.APIEndpoint{Host: "10.0.0.1", Port: 6443},
		},
	}}
}

func (b *clusterBuilder) withLabel(k, v string) *clusterBuilder {
	if b.c.Labels == nil {
		b.c.Labels = map[string]string{}
	}
	b.c.Labels[k] = v
	return b
}

func (b *clusterBuilder) withAnnotation(k, v string) *clusterBuilder {
	if b.c.Annotations == nil {
		b.c.Annotations = map[string]string{}
	}
	b.c.Annotations[k] = v
	return b
}

func (b *clusterBuilder) paused() *clusterBuilder {
	b.c.Spec.Paused = ptr.To(true)
	return b
}

func (b *clusterBuilder) withFinalizer(f string) *clusterBuilder {
	b.c.Finalizers = append(b.c.Finalizers, f)
	return b
}

// create creates the Cluster and deletes it when the test ends.
func (b *clusterBuilder) create(t testing.TB) *clusterv1.Cluster {
	t.Helper()
	ensureNamespace(t, b.c.Namespace)
	c := b.c.DeepCopy()
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cur := &clusterv1.Cluster{}
		if k8s.Get(context.Background(), client.ObjectKeyFromObject(c), cur) == nil && len(cur.Finalizers) > 0 {
			cur.Finalizers = nil
			_ = k8s.Update(context.Background(), cur)
		}
		_ = k8s.Delete(context.Background(), c)
	})
	return c
}

// initialize marks the control plane initialized, as CAPI does.
func initialize(t testing.TB, c *clusterv1.Cluster) {
	t.Helper()
	if err := markInitialized(c); err != nil {
		t.Fatal(err)
	}
}

// markInitialized sets status.initialization.controlPlaneInitialized and
// the ControlPlaneInitialized condition.
func markInitialized(c *clusterv1.Cluster) error {
	cur := &clusterv1.Cluster{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(c), cur); err != nil {
		return err
	}
	cur.Status.Initialization.ControlPlaneInitialized = ptr.To(true)
	meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{
		Type: clusterv1.ClusterControlPlaneInitializedCondition, Status: metav1.ConditionTrue,
		Reason: clusterv1.ClusterControlPlaneInitializedReason,
	})
	return k8s.Status().Update(context.Background(), cur)
}

// createKubeconfigSecret writes <cluster>-kubeconfig as CAPI does.
func createKubeconfigSecret(t testing.TB, c *clusterv1.Cluster, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: c.Namespace, Name: c.Name + "-kubeconfig",
			Labels: map[string]string{clusterv1.ClusterNameLabel: c.Name},
		},
		Type: clusterv1.ClusterSecretType,
		Data: data,
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), s) })
}

func eventuallyMemberCondition(t testing.TB, name, condType string, status metav1.ConditionStatus, reason string) *fleetv1alpha1.MemberCluster {
	t.Helper()
	var m *fleetv1alpha1.MemberCluster
	NewWithT(t).Eventually(func(g Gomega) {
		m = &fleetv1alpha1.MemberCluster{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, m)).To(Succeed())
		c := meta.FindStatusCondition(m.Status.Conditions, condType)
		g.Expect(c).NotTo(BeNil(), "condition %s", condType)
		g.Expect(c.Status).To(Equal(status), "condition %s: %s", condType, c.Message)
		g.Expect(c.Reason).To(Equal(reason), "condition %s: %s", condType, c.Message)
	}, timeout, interval).Should(Succeed())
	return m
}

// clusterEvents returns the Events about a Cluster.
func clusterEvents(g Gomega, c *clusterv1.Cluster) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(c.Namespace))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "Cluster" && e.Regarding.Name == c.Name {
			out = append(out, e)
		}
	}
	return out
}

// eventuallyClusterEvent waits for an Event with reason on the Cluster and
// returns its note.
func eventuallyClusterEvent(t testing.TB, c *clusterv1.Cluster, reason string) string {
	t.Helper()
	var note string
	NewWithT(t).Eventually(func(g Gomega) {
		found := false
		for _, e := range clusterEvents(g, c) {
			if e.Reason == reason {
				note, found = e.Note, true
			}
		}
		g.Expect(found).To(BeTrue(), "event %s on Cluster %s", reason, c.Name)
	}, timeout, interval).Should(Succeed())
	return note
}

func memberExists(name string) bool {
	err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, &fleetv1alpha1.MemberCluster{})
	return err == nil
}
