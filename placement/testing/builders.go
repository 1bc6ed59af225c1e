package testing

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// MeasuredAt is the timestamp builders put on latencies and conditions.
var MeasuredAt = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

// MemberBuilder builds a MemberCluster.
type MemberBuilder struct {
	mc fleetv1alpha1.MemberCluster
}

// NewMember starts an Available, Workload-role member without pools.
func NewMember(name string) *MemberBuilder {
	b := &MemberBuilder{}
	b.mc.Name = name
	b.mc.Spec.Role = fleetv1alpha1.RoleWorkload
	b.mc.Spec.Accepted = true
	return b.Available(true)
}

// Role sets spec.role.
func (b *MemberBuilder) Role(r fleetv1alpha1.MemberRole) *MemberBuilder {
	b.mc.Spec.Role = r
	return b
}

// Label adds a label.
func (b *MemberBuilder) Label(k, v string) *MemberBuilder {
	if b.mc.Labels == nil {
		b.mc.Labels = map[string]string{}
	}
	b.mc.Labels[k] = v
	return b
}

// Available sets the Available condition True (LeaseFresh) or False
// (LeaseExpired).
func (b *MemberBuilder) Available(ok bool) *MemberBuilder {
	c := metav1.Condition{
		Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonLeaseFresh,
		Message: "Lease renewed", LastTransitionTime: MeasuredAt,
	}
	if !ok {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, fleetv1alpha1.ReasonLeaseExpired, "Lease expired"
	}
	conds := b.mc.Status.Conditions[:0]
	for _, x := range b.mc.Status.Conditions {
		if x.Type != c.Type {
			conds = append(conds, x)
		}
	}
	b.mc.Status.Conditions = append(conds, c)
	return b
}

// Taint adds a member taint.
func (b *MemberBuilder) Taint(key, value string, effect fleetv1alpha1.TaintEffect) *MemberBuilder {
	b.mc.Spec.Taints = append(b.mc.Spec.Taints, fleetv1alpha1.MemberTaint{Key: key, Value: value, Effect: effect})
	return b
}

// Operators sets the installed operators.
func (b *MemberBuilder) Operators(ops ...fleetv1alpha1.Operator) *MemberBuilder {
	b.mc.Status.Capabilities.Operators = ops
	return b
}

// PoolOption refines a node pool.
type PoolOption func(*fleetv1alpha1.NodePool)

// Requested sets the pool's requested cpu and memory.
func Requested(cpu, memory string) PoolOption {
	return func(p *fleetv1alpha1.NodePool) {
		p.Requested[corev1.ResourceCPU] = resource.MustParse(cpu)
		p.Requested[corev1.ResourceMemory] = resource.MustParse(memory)
	}
}

// EphemeralStorage sets the pool's allocatable and requested
// ephemeral-storage.
func EphemeralStorage(allocatable, requested string) PoolOption {
	return func(p *fleetv1alpha1.NodePool) {
		p.Allocatable[corev1.ResourceEphemeralStorage] = resource.MustParse(allocatable)
		p.Requested[corev1.ResourceEphemeralStorage] = resource.MustParse(requested)
	}
}

// PoolLabel adds a label to the pool.
func PoolLabel(k, v string) PoolOption {
	return func(p *fleetv1alpha1.NodePool) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
}

// PoolTaint adds a node taint to the pool.
func PoolTaint(key, value string, effect corev1.TaintEffect) PoolOption {
	return func(p *fleetv1alpha1.NodePool) {
		p.Taints = append(p.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

// Pool adds a node pool of three nodes with the given allocatable cpu and
// memory and nothing requested.
func (b *MemberBuilder) Pool(name, cpu, memory string, opts ...PoolOption) *MemberBuilder {
	p := fleetv1alpha1.NodePool{
		Name:      name,
		NodeCount: 3,
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory),
		},
		Requested: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("0"), corev1.ResourceMemory: resource.MustParse("0"),
		},
	}
	for _, o := range opts {
		o(&p)
	}
	b.mc.Status.NodePools = append(b.mc.Status.NodePools, p)
	b.mc.Status.PoolCount = int32(len(b.mc.Status.NodePools))
	return b
}

// Latency adds this member's measured RTT to a peer.
func (b *MemberBuilder) Latency(peer string, p50, p99 time.Duration) *MemberBuilder {
	b.mc.Status.Latencies = append(b.mc.Status.Latencies, fleetv1alpha1.PeerLatency{
		Peer: peer, P50: metav1.Duration{Duration: p50}, P99: metav1.Duration{Duration: p99}, Samples: 100, MeasuredAt: MeasuredAt,
	})
	return b
}

// Build returns the MemberCluster.
func (b *MemberBuilder) Build() *fleetv1alpha1.MemberCluster { return b.mc.DeepCopy() }

// ServiceBuilder builds a ManagedService.
type ServiceBuilder struct {
	ms fleetv1alpha1.ManagedService
}

// NewService starts a one-replica PostgreSQL 16 service with 1Gi of
// storage, consumed from cluster "c1" namespace "app", strategy Workload.
func NewService(namespace, name string) *ServiceBuilder {
	b := &ServiceBuilder{}
	b.ms.Namespace, b.ms.Name = namespace, name
	b.ms.Spec = fleetv1alpha1.ManagedServiceSpec{
		Engine:         fleetv1alpha1.EnginePostgreSQL,
		Version:        "16",
		Replicas:       1,
		Storage:        fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
		Consumer:       fleetv1alpha1.ConsumerSpec{Cluster: "c1", Namespaces: []string{"app"}},
		Placement:      fleetv1alpha1.ServicePlacement{Strategy: fleetv1alpha1.StrategyWorkload},
		DeletionPolicy: fleetv1alpha1.DeletionPolicyRetain,
	}
	return b
}

// Engine sets the engine and version.
func (b *ServiceBuilder) Engine(e fleetv1alpha1.Engine, version string) *ServiceBuilder {
	b.ms.Spec.Engine, b.ms.Spec.Version = e, version
	return b
}

// Replicas sets spec.replicas.
func (b *ServiceBuilder) Replicas(n int32) *ServiceBuilder {
	b.ms.Spec.Replicas = n
	return b
}

// Requests sets each replica's cpu and memory requests.
func (b *ServiceBuilder) Requests(cpu, memory string) *ServiceBuilder {
	b.ms.Spec.Resources.Requests = corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory),
	}
	return b
}

// Storage sets each replica's volume size.
func (b *ServiceBuilder) Storage(size string) *ServiceBuilder {
	b.ms.Spec.Storage.Size = resource.MustParse(size)
	return b
}

// Consumer sets the consumer cluster.
func (b *ServiceBuilder) Consumer(cluster string) *ServiceBuilder {
	b.ms.Spec.Consumer.Cluster = cluster
	return b
}

// Strategy sets spec.placement.strategy.
func (b *ServiceBuilder) Strategy(s fleetv1alpha1.Strategy) *ServiceBuilder {
	b.ms.Spec.Placement.Strategy = s
	return b
}

// Policy sets spec.placement.policyRef.
func (b *ServiceBuilder) Policy(name string) *ServiceBuilder {
	b.ms.Spec.Placement.PolicyRef = &fleetv1alpha1.PolicyReference{Name: name}
	return b
}

// ClusterSelector sets spec.placement.clusterSelector to match labels.
func (b *ServiceBuilder) ClusterSelector(kv ...string) *ServiceBuilder {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		sel.MatchLabels[kv[i]] = kv[i+1]
	}
	b.ms.Spec.Placement.ClusterSelector = sel
	return b
}

// MaxLatency sets spec.placement.maxLatency.
func (b *ServiceBuilder) MaxLatency(d time.Duration) *ServiceBuilder {
	b.ms.Spec.Placement.MaxLatency = &metav1.Duration{Duration: d}
	return b
}

// NodePool sets spec.nodePool.
func (b *ServiceBuilder) NodePool(selector map[string]string, tolerations ...corev1.Toleration) *ServiceBuilder {
	b.ms.Spec.NodePool = &fleetv1alpha1.NodePoolSpec{NodeSelector: selector, Tolerations: tolerations}
	return b
}

// PlacedOn fills status.placement as if the service were placed.
func (b *ServiceBuilder) PlacedOn(cluster string, s fleetv1alpha1.Strategy) *ServiceBuilder {
	b.ms.Status.Placement.Cluster = cluster
	b.ms.Status.Placement.Strategy = s
	b.ms.Status.Placement.DecidedAt = &MeasuredAt
	return b
}

// Annotation adds an annotation.
func (b *ServiceBuilder) Annotation(k, v string) *ServiceBuilder {
	if b.ms.Annotations == nil {
		b.ms.Annotations = map[string]string{}
	}
	b.ms.Annotations[k] = v
	return b
}

// Build returns the ManagedService.
func (b *ServiceBuilder) Build() *fleetv1alpha1.ManagedService { return b.ms.DeepCopy() }

// PolicyBuilder builds a PlacementPolicy.
type PolicyBuilder struct {
	pp fleetv1alpha1.PlacementPolicy
}

// NewPolicy starts a Workload policy that records 5 candidates.
func NewPolicy(name string) *PolicyBuilder {
	b := &PolicyBuilder{}
	b.pp.Name = name
	b.pp.Spec.Strategy = fleetv1alpha1.StrategyWorkload
	b.pp.Spec.CandidatesToRecord = 5
	return b
}

// Strategy sets the base strategy.
func (b *PolicyBuilder) Strategy(s fleetv1alpha1.Strategy) *PolicyBuilder {
	b.pp.Spec.Strategy = s
	return b
}

// Default marks the policy as the default.
func (b *PolicyBuilder) Default() *PolicyBuilder {
	b.pp.Spec.Default = true
	return b
}

// Fallback sets the fallback chain.
func (b *PolicyBuilder) Fallback(s ...fleetv1alpha1.Strategy) *PolicyBuilder {
	b.pp.Spec.Fallback = s
	return b
}

// Filter appends a filter; args, when not nil, are marshalled to JSON.
func (b *PolicyBuilder) Filter(name string, args any) *PolicyBuilder {
	b.pp.Spec.Filters = append(b.pp.Spec.Filters, fleetv1alpha1.PluginConfig{Name: name, Args: rawExtension(args)})
	return b
}

// Score appends a scorer with a weight.
func (b *PolicyBuilder) Score(name string, weight int32) *PolicyBuilder {
	b.pp.Spec.Scores = append(b.pp.Spec.Scores, fleetv1alpha1.WeightedPluginConfig{
		PluginConfig: fleetv1alpha1.PluginConfig{Name: name}, Weight: weight,
	})
	return b
}

// Candidates sets spec.candidatesToRecord.
func (b *PolicyBuilder) Candidates(n int32) *PolicyBuilder {
	b.pp.Spec.CandidatesToRecord = n
	return b
}

// Build returns the PlacementPolicy.
func (b *PolicyBuilder) Build() *fleetv1alpha1.PlacementPolicy { return b.pp.DeepCopy() }

func rawExtension(v any) *runtime.RawExtension {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &runtime.RawExtension{Raw: raw}
}
