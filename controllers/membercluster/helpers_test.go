package membercluster

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
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

// createMember creates a MemberCluster and deletes it when the test ends.
func createMember(t *testing.T, name string, accepted bool) {
	t.Helper()
	g := NewWithT(t)
	m := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       fleetv1alpha1.MemberClusterSpec{Role: fleetv1alpha1.RoleWorkload, Accepted: accepted},
	}
	g.Expect(k8s.Create(context.Background(), m)).To(Succeed())
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
}

func getMember(g Gomega, name string) *fleetv1alpha1.MemberCluster {
	m := &fleetv1alpha1.MemberCluster{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, m)).To(Succeed())
	return m
}

// eventuallyCondition waits for a member condition and returns the member.
func eventuallyCondition(t *testing.T, name, condType string, status metav1.ConditionStatus, reason string) *fleetv1alpha1.MemberCluster {
	t.Helper()
	var m *fleetv1alpha1.MemberCluster
	NewWithT(t).Eventually(func(g Gomega) {
		m = getMember(g, name)
		c := meta.FindStatusCondition(m.Status.Conditions, condType)
		g.Expect(c).NotTo(BeNil(), "condition %s", condType)
		g.Expect(c.Status).To(Equal(status), "condition %s: %s", condType, c.Message)
		g.Expect(c.Reason).To(Equal(reason), "condition %s: %s", condType, c.Message)
	}, timeout, interval).Should(Succeed())
	return m
}

// spokeClient returns a client that authenticates as the member's spoke,
// with the kubeconfig the hub wrote for it.
func spokeClient(t *testing.T, member string) client.Client {
	t.Helper()
	g := NewWithT(t)
	secret := &corev1.Secret{}
	g.Eventually(func() error {
		return k8s.Get(context.Background(), client.ObjectKey{Namespace: NamespaceFor(member), Name: HubKubeconfigSecret}, secret)
	}, timeout, interval).Should(Succeed())
	cfg, err := kubeconfig.RESTConfig(secret.Data[kubeconfig.SecretKey])
	g.Expect(err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// eventuallyEvent waits for an Event about a member with the given reason
// and returns its note.
func eventuallyEvent(t *testing.T, regardingName, reason string) string {
	t.Helper()
	var note string
	NewWithT(t).Eventually(func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(k8s.List(context.Background(), list)).To(Succeed())
		found := false
		for _, e := range list.Items {
			if e.Regarding.Name == regardingName && e.Reason == reason {
				note, found = e.Note, true
			}
		}
		g.Expect(found).To(BeTrue(), "event %s for %s", reason, regardingName)
	}, timeout, interval).Should(Succeed())
	return note
}

func eventuallyGone(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err)
	}, timeout, interval).Should(BeTrue(), "%T %s should be gone", obj, obj.GetName())
}
