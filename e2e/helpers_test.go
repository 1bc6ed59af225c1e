package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

const (
	readyTimeout = 4 * time.Minute
	poll         = time.Second
)

var allMembers = []string{"mgmt", "workload-1", "workload-2", "services-1"}

func ensureNamespace(g Gomega, c client.Client, name string) {
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if !apierrors.IsAlreadyExists(err) {
		g.Expect(err).NotTo(HaveOccurred())
	}
}

// service builds a ManagedService in team namespace "team".
func service(name string, engine fleetv1alpha1.Engine, version, consumer string, strategy fleetv1alpha1.Strategy, consumerNS string) *fleetv1alpha1.ManagedService {
	return &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec: fleetv1alpha1.ManagedServiceSpec{
			Engine: engine, Version: version, Replicas: 1,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
			}},
			Storage:   fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
			Consumer:  fleetv1alpha1.ConsumerSpec{Cluster: consumer, Namespaces: []string{consumerNS}},
			Placement: fleetv1alpha1.ServicePlacement{Strategy: strategy},
		},
	}
}

// waitReady waits for ms to be Ready and returns it; on timeout it fails
// with the service's conditions.
func waitReady(t *testing.T, g Gomega, ms *fleetv1alpha1.ManagedService) *fleetv1alpha1.ManagedService {
	t.Helper()
	got := &fleetv1alpha1.ManagedService{}
	g.Eventually(func() error {
		if err := env.Hub.Get(context.Background(), client.ObjectKeyFromObject(ms), got); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionReady) {
			return fmt.Errorf("not Ready: cluster %q, conditions %+v", got.Status.Placement.Cluster, got.Status.Conditions)
		}
		return nil
	}, readyTimeout, poll).Should(Succeed())
	return got
}

// expectBinding checks that the app finds the Service and the Secret under
// the service's name in its namespace of the consumer cluster.
func expectBinding(g Gomega, consumer, ns, name string) {
	c := env.Members[consumer].Client
	ctx := context.Background()
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.Service{})).To(Succeed())
	sec := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-credentials"}, sec)).To(Succeed())
	g.Expect(sec.Data).To(HaveKey("password"))
	g.Expect(sec.Data).To(HaveKey("host"))
}

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }
