package v1alpha1_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

const ns = "default"

func validService(name string) *fleetv1alpha1.ManagedService {
	return &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: fleetv1alpha1.ManagedServiceSpec{
			Engine:   fleetv1alpha1.EnginePostgreSQL,
			Version:  "16",
			Replicas: 3,
			Storage:  fleetv1alpha1.StorageSpec{Size: resource.MustParse("10Gi")},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: "workload-1", Namespaces: []string{"shop"}},
		},
	}
}

func TestManagedServiceDefaults(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := validService("defaults")
	ms.Spec.Replicas = 0 // omitted: defaulted to 1
	g.Expect(k8sClient.Create(ctx, ms)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ms) })

	got := &fleetv1alpha1.ManagedService{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), got)).To(Succeed())
	g.Expect(got.Spec.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyWorkload))
	g.Expect(got.Spec.DeletionPolicy).To(Equal(fleetv1alpha1.DeletionPolicyRetain))
	g.Expect(got.Spec.Replicas).To(Equal(int32(1)))
}

func TestManagedServiceValidation(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(*fleetv1alpha1.ManagedService)
		wantErr string // substring of the apiserver's message; empty means accepted
	}{
		{name: "valid postgres", mutate: func(*fleetv1alpha1.ManagedService) {}},
		{name: "valid redis", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.Engine, ms.Spec.Version = fleetv1alpha1.EngineRedis, "7.2"
		}},
		{name: "valid rabbitmq dedicated with selector", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.Engine, ms.Spec.Version = fleetv1alpha1.EngineRabbitMQ, "4.0"
			ms.Spec.Placement.Strategy = fleetv1alpha1.StrategyDedicated
			ms.Spec.Placement.ClusterSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"zone": "a"}}
			ms.Spec.Placement.MaxLatency = &metav1.Duration{Duration: 2 * time.Millisecond}
		}},
		{name: "unknown engine", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Engine = "MySQL" },
			wantErr: `spec.engine: Unsupported value: "MySQL"`},
		{name: "postgres version", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Version = "9.6" },
			wantErr: "spec.version: Invalid value: version must be one of 14, 15, 16, 17 for engine PostgreSQL"},
		{name: "redis version", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.Engine, ms.Spec.Version = fleetv1alpha1.EngineRedis, "16"
		}, wantErr: "spec.version: Invalid value: version must be one of 6.2, 7.0, 7.2, 7.4 for engine Redis"},
		{name: "rabbitmq even replicas", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.Engine, ms.Spec.Version, ms.Spec.Replicas = fleetv1alpha1.EngineRabbitMQ, "3.13", 2
		}, wantErr: "spec.replicas: Invalid value: replicas must be odd for engine RabbitMQ"},
		{name: "too many replicas", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Replicas = 12 },
			wantErr: "spec.replicas: Invalid value: 12: spec.replicas in body should be less than or equal to 9"},
		{name: "postgres replicas above 5", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Replicas = 7 },
			wantErr: "spec.replicas: Invalid value: replicas must be at most 5 for engine PostgreSQL"},
		{name: "consumer cluster not DNS-1123", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Consumer.Cluster = "Workload_1" },
			wantErr: "spec.consumer.cluster: Invalid value: \"Workload_1\": spec.consumer.cluster in body should match"},
		{name: "no consumer namespaces", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Consumer.Namespaces = []string{} },
			wantErr: "spec.consumer.namespaces: Invalid value: 0: spec.consumer.namespaces in body should have at least 1 items"},
		{name: "consumer namespace not DNS-1123", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Consumer.Namespaces = []string{"Shop"} },
			wantErr: "spec.consumer.namespaces[0]: Invalid value: \"Shop\""},
		{name: "duplicate consumer namespaces", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Consumer.Namespaces = []string{"a", "a"} },
			wantErr: "spec.consumer.namespaces[1]: Duplicate value: \"a\""},
		{name: "selector without Dedicated", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.Placement.ClusterSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"zone": "a"}}
		}, wantErr: "spec.placement.clusterSelector: Invalid value: placement.clusterSelector is only allowed with strategy Dedicated"},
		{name: "unknown strategy", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.Placement.Strategy = "Anywhere" },
			wantErr: `spec.placement.strategy: Unsupported value: "Anywhere"`},
		{name: "unknown deletion policy", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Spec.DeletionPolicy = "Orphan" },
			wantErr: `spec.deletionPolicy: Unsupported value: "Orphan"`},
		{name: "name not a DNS label", mutate: func(ms *fleetv1alpha1.ManagedService) { ms.Name = "9lives" },
			wantErr: "metadata.name must be a DNS-1123 label starting with a letter"},
		{name: "toleration list too long", mutate: func(ms *fleetv1alpha1.ManagedService) {
			ms.Spec.NodePool = &fleetv1alpha1.NodePoolSpec{Tolerations: make([]corev1.Toleration, 17)}
		}, wantErr: "spec.nodePool.tolerations: Too many: 17: must have at most 16 items"},
	}
	for i, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			ms := validService("svc-" + string(rune('a'+i)))
			tc.mutate(ms)
			err := k8sClient.Create(ctx, ms)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				_ = k8sClient.Delete(ctx, ms)
				return
			}
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.wantErr))
		})
	}
}

func TestManagedServiceImmutableFields(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := validService("immutable")
	g.Expect(k8sClient.Create(ctx, ms)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ms) })

	engine := ms.DeepCopy()
	engine.Spec.Engine, engine.Spec.Version = fleetv1alpha1.EngineRedis, "7.2"
	err := k8sClient.Update(ctx, engine)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.engine: Invalid value: \"Redis\": engine is immutable"))

	consumer := ms.DeepCopy()
	consumer.Spec.Consumer.Cluster = "workload-2"
	err = k8sClient.Update(ctx, consumer)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.consumer.cluster: Invalid value: \"workload-2\": consumer.cluster is immutable"))

	scale := ms.DeepCopy()
	scale.Spec.Replicas = 5
	g.Expect(k8sClient.Update(ctx, scale)).To(Succeed())
}

func TestMemberClusterValidation(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()

	mc := &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "workload-9"}}
	g.Expect(k8sClient.Create(ctx, mc)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, mc) })
	g.Expect(mc.Spec.Role).To(Equal(fleetv1alpha1.RoleWorkload), "role defaults to Workload")

	bad := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "bad-role"},
		Spec:       fleetv1alpha1.MemberClusterSpec{Role: "Edge"},
	}
	err := k8sClient.Create(ctx, bad)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring(`spec.role: Unsupported value: "Edge"`))

	taint := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "bad-taint"},
		Spec: fleetv1alpha1.MemberClusterSpec{Taints: []fleetv1alpha1.MemberTaint{
			{Key: "maintenance", Effect: "NoSchedule"},
		}},
	}
	err = k8sClient.Create(ctx, taint)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring(`spec.taints[0].effect: Unsupported value: "NoSchedule"`))

	long := &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "a-very-long-member-name-that-cannot-fit-in-a-namespace-x"}}
	err = k8sClient.Create(ctx, long)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("metadata.name must be a DNS-1123 label of at most 50 characters"))

	withRef := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "capi-member"},
		Spec:       fleetv1alpha1.MemberClusterSpec{ClusterRef: &fleetv1alpha1.ClusterReference{Namespace: "fleet", Name: "w1"}},
	}
	g.Expect(k8sClient.Create(ctx, withRef)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, withRef) })
	withRef.Spec.ClusterRef.Name = "w2"
	err = k8sClient.Update(ctx, withRef)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.clusterRef: Invalid value: clusterRef is immutable"))
}

func TestPlacementPolicyValidation(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()

	ok := &fleetv1alpha1.PlacementPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "co-located-or-dedicated"},
		Spec: fleetv1alpha1.PlacementPolicySpec{
			Fallback: []fleetv1alpha1.Strategy{fleetv1alpha1.StrategyDedicated},
			Scores: []fleetv1alpha1.WeightedPluginConfig{{
				PluginConfig: fleetv1alpha1.PluginConfig{Name: "Latency", Args: &runtime.RawExtension{Raw: []byte(`{"anything":1}`)}},
			}},
		},
	}
	g.Expect(k8sClient.Create(ctx, ok)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ok) })
	g.Expect(ok.Spec.Strategy).To(Equal(fleetv1alpha1.StrategyWorkload))
	g.Expect(ok.Spec.CandidatesToRecord).To(Equal(int32(5)))
	g.Expect(ok.Spec.Scores[0].Weight).To(Equal(int32(1)))
	g.Expect(string(ok.Spec.Scores[0].Args.Raw)).To(MatchJSON(`{"anything":1}`), "args survive pruning")

	testCases := []struct {
		name    string
		spec    fleetv1alpha1.PlacementPolicySpec
		wantErr string
	}{
		{name: "fallback repeats strategy", spec: fleetv1alpha1.PlacementPolicySpec{
			Strategy: fleetv1alpha1.StrategyDedicated, Fallback: []fleetv1alpha1.Strategy{fleetv1alpha1.StrategyDedicated},
		}, wantErr: "spec.fallback: Invalid value: fallback must not repeat the base strategy"},
		{name: "weight out of range", spec: fleetv1alpha1.PlacementPolicySpec{
			Scores: []fleetv1alpha1.WeightedPluginConfig{{PluginConfig: fleetv1alpha1.PluginConfig{Name: "Latency"}, Weight: 500}},
		}, wantErr: "spec.scores[0].weight: Invalid value: 500: spec.scores[0].weight in body should be less than or equal to 100"},
		{name: "duplicate filter", spec: fleetv1alpha1.PlacementPolicySpec{
			Filters: []fleetv1alpha1.PluginConfig{{Name: "Available"}, {Name: "Available"}},
		}, wantErr: `spec.filters[1]: Duplicate value: {"name":"Available"}`},
		{name: "plugin name with spaces", spec: fleetv1alpha1.PlacementPolicySpec{
			Filters: []fleetv1alpha1.PluginConfig{{Name: "my plugin"}},
		}, wantErr: "spec.filters[0].name: Invalid value: \"my plugin\""},
	}
	for i, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			pp := &fleetv1alpha1.PlacementPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bad-" + string(rune('a'+i))}, Spec: tc.spec}
			err := k8sClient.Create(ctx, pp)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.wantErr))
		})
	}
}

func TestServiceWorkValidation(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sw := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Name: "provider-without-service", Namespace: ns},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team", Name: "db"},
			Consumer:   fleetv1alpha1.ConsumerSpec{Cluster: "workload-1", Namespaces: []string{"shop"}},
		},
	}
	err := k8sClient.Create(ctx, sw)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.service: Invalid value: service is required for role Provider"))

	sw.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer}
	sw.Spec.Service = &fleetv1alpha1.ServiceTemplate{
		Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 1,
		Storage: fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
	}
	sw.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: "workload-1"}
	g.Expect(k8sClient.Create(ctx, sw)).To(Succeed())
	g.Expect(sw.Spec.Service.DeletionPolicy).To(Equal(fleetv1alpha1.DeletionPolicyRetain))
	_ = k8sClient.Delete(ctx, sw)
}
