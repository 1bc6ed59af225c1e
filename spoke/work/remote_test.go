package work_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// TestRemoteProviderPublishesAndConsumerBinds runs both halves of a remote
// placement through this spoke: a provider work for a consumer in another
// cluster, and a consumer work for a provider in another cluster.
func TestRemoteProviderPublishesAndConsumerBinds(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()

	provider := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNS, Name: "team.queue", Finalizers: []string{fleetv1alpha1.FinalizerWork}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team", Name: "queue", Generation: 1},
			Service: &fleetv1alpha1.ServiceTemplate{
				Engine: fleetv1alpha1.EnginePostgreSQL, Version: "16", Replicas: 1,
				Storage: fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
			},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: "w2", Namespaces: []string{"orders"}},
		},
	}
	g.Expect(k8sClient.Create(ctx, provider)).To(Succeed())
	pkey := client.ObjectKeyFromObject(provider)
	pns := platformNS("queue")
	g.Eventually(workCondition(pkey, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))

	// No LoadBalancer reported: the exposure is a NodePort Service.
	exposure := &corev1.Service{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: render.ExposureServiceName(provider.Spec.ServiceRef)}, exposure)
	}, timeout, interval).Should(Succeed())
	g.Expect(exposure.Spec.Type).To(Equal(corev1.ServiceTypeNodePort))

	markStatefulSetReady(g, client.ObjectKey{Namespace: pns, Name: "queue"})
	got := &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, pkey, got)
		return got.Status.CredentialsSecret
	}, timeout, interval).Should(Equal("team.queue.published"))
	g.Expect(got.Status.Endpoint).NotTo(BeNil())
	g.Expect(got.Status.Endpoint.Host).To(Equal("10.0.0.1"), "the node address of the NodePort exposure")
	g.Expect(got.Status.Endpoint.Port).To(Equal(exposure.Spec.Ports[0].NodePort))
	published := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: hubNS, Name: "team.queue.published"}, published)).To(Succeed())
	g.Expect(string(published.Data[render.KeyHost])).To(Equal("10.0.0.1"))
	g.Expect(published.Data).To(HaveKey(render.KeyPassword))

	// The consumer side, as the hub would write it after copying the Secret.
	ensureNamespace(g, "web")
	copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hubNS, Name: "team.cart.credentials"}, Data: published.Data}
	g.Expect(k8sClient.Create(ctx, copied)).To(Succeed())
	consumer := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNS, Name: "team.cart", Finalizers: []string{fleetv1alpha1.FinalizerWork}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team", Name: "cart", Generation: 1},
			Consumer:   fleetv1alpha1.ConsumerSpec{Cluster: member, Namespaces: []string{"web"}},
			Provider: &fleetv1alpha1.ProviderReference{
				Cluster: "s1", CredentialsSecret: copied.Name,
				Endpoint: &fleetv1alpha1.Endpoint{Host: "10.0.0.1", Port: exposure.Spec.Ports[0].NodePort},
			},
		},
	}
	g.Expect(k8sClient.Create(ctx, consumer)).To(Succeed())
	ckey := client.ObjectKeyFromObject(consumer)
	g.Eventually(workCondition(ckey, fleetv1alpha1.ConditionAvailable), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, ckey, got)).To(Succeed())
	g.Expect(got.Status.Endpoint.Host).To(Equal("cart"))
	g.Expect(got.Status.Endpoint.Port).To(Equal(int32(5432)), "the engine's standard port, whatever the exposure")

	svc := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "web", Name: "cart"}, svc)).To(Succeed())
	g.Expect(svc.Spec.Selector).To(BeEmpty(), "a selector-less Service")
	slices := &discoveryv1.EndpointSliceList{}
	g.Expect(k8sClient.List(ctx, slices, client.InNamespace("web"))).To(Succeed())
	g.Expect(slices.Items).To(HaveLen(1), "%+v", got.Status.Objects)
	g.Expect(slices.Items[0].Endpoints[0].Addresses).To(ConsistOf("10.0.0.1"))
	bound := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "web", Name: render.BindingSecretName(consumer.Spec.ServiceRef)}, bound)).To(Succeed())
	g.Expect(bound.Data[render.KeyPassword]).To(Equal(published.Data[render.KeyPassword]))
}
