package framework

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Resources is an amount of cpu, memory and storage in integer units.
type Resources struct {
	// MilliCPU is cpu in thousandths of a core.
	MilliCPU int64
	// Memory in bytes.
	Memory int64
	// Storage in bytes. For node pools it is ephemeral-storage.
	Storage int64
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU + o.MilliCPU, Memory: r.Memory + o.Memory, Storage: r.Storage + o.Storage}
}

// Sub returns r - o; fields may become negative.
func (r Resources) Sub(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU - o.MilliCPU, Memory: r.Memory - o.Memory, Storage: r.Storage - o.Storage}
}

// ResourcesFromList reads cpu, memory and ephemeral-storage from a
// ResourceList.
func ResourcesFromList(l corev1.ResourceList) Resources {
	var r Resources
	if q, ok := l[corev1.ResourceCPU]; ok {
		r.MilliCPU = q.MilliValue()
	}
	if q, ok := l[corev1.ResourceMemory]; ok {
		r.Memory = q.Value()
	}
	if q, ok := l[corev1.ResourceEphemeralStorage]; ok {
		r.Storage = q.Value()
	}
	return r
}

// OperatorSet is a bit set of installed operators.
type OperatorSet uint8

// Operator bits.
const (
	// OpZalandoPostgres is fleetv1alpha1.OperatorZalandoPostgres.
	OpZalandoPostgres OperatorSet = 1 << iota
	// OpSpotahomeRedis is fleetv1alpha1.OperatorSpotahomeRedis.
	OpSpotahomeRedis
	// OpRabbitMQ is fleetv1alpha1.OperatorRabbitMQ.
	OpRabbitMQ
)

// OperatorBit returns the bit of an operator, 0 for an unknown one.
func OperatorBit(op fleetv1alpha1.Operator) OperatorSet {
	switch op {
	case fleetv1alpha1.OperatorZalandoPostgres:
		return OpZalandoPostgres
	case fleetv1alpha1.OperatorSpotahomeRedis:
		return OpSpotahomeRedis
	case fleetv1alpha1.OperatorRabbitMQ:
		return OpRabbitMQ
	default:
		return 0
	}
}

// Has reports whether every bit of o is in s.
func (s OperatorSet) Has(o OperatorSet) bool { return o != 0 && s&o == o }

// Pool is a member's node pool with parsed capacity.
type Pool struct {
	// Name of the pool.
	Name string
	// Labels common to the pool's nodes.
	Labels map[string]string
	// Taints common to the pool's nodes.
	Taints []corev1.Taint
	// NodeCount is the number of nodes.
	NodeCount int32
	// Allocatable is the pool's allocatable cpu, memory, ephemeral-storage.
	Allocatable Resources
	// Requested is what pods on the pool already request.
	Requested Resources
}

// Free is Allocatable minus Requested.
func (p *Pool) Free() Resources { return p.Allocatable.Sub(p.Requested) }

// RTT is a measured round-trip time between two members.
type RTT struct {
	// P50 round-trip time.
	P50 time.Duration
	// P99 round-trip time.
	P99 time.Duration
	// Known is false when neither side measured the other.
	Known bool
}

// Member is a MemberCluster as the plugins see it. Members in a Snapshot
// are read-only.
type Member struct {
	// Object is the MemberCluster; plugins must not modify it.
	Object *fleetv1alpha1.MemberCluster
	// Name of the member.
	Name string
	// Index is the member's position in its Snapshot (name order).
	Index int
	// Role of the member.
	Role fleetv1alpha1.MemberRole
	// Labels of the MemberCluster object.
	Labels labels.Set
	// Available is true when the Available condition is True, that is the
	// spoke's Lease is fresh.
	Available bool
	// Taints of the member.
	Taints []fleetv1alpha1.MemberTaint
	// Operators installed on the member.
	Operators OperatorSet
	// Pools are the node pools, in the order the spoke reported them.
	Pools []Pool

	latencies []fleetv1alpha1.PeerLatency
}

// NewMember parses a MemberCluster. The Member keeps a reference to mc.
func NewMember(mc *fleetv1alpha1.MemberCluster) *Member {
	m := &Member{
		Object:    mc,
		Name:      mc.Name,
		Role:      mc.Spec.Role,
		Labels:    labels.Set(mc.Labels),
		Available: meta.IsStatusConditionTrue(mc.Status.Conditions, fleetv1alpha1.ConditionAvailable),
		Taints:    mc.Spec.Taints,
		latencies: mc.Status.Latencies,
	}
	if m.Role == "" {
		m.Role = fleetv1alpha1.RoleWorkload
	}
	for _, op := range mc.Status.Capabilities.Operators {
		m.Operators |= OperatorBit(op)
	}
	m.Pools = make([]Pool, len(mc.Status.NodePools))
	for i := range mc.Status.NodePools {
		np := &mc.Status.NodePools[i]
		m.Pools[i] = Pool{
			Name:        np.Name,
			Labels:      np.Labels,
			Taints:      np.Taints,
			NodeCount:   np.NodeCount,
			Allocatable: ResourcesFromList(np.Allocatable),
			Requested:   ResourcesFromList(np.Requested),
		}
	}
	return m
}

// Snapshot is the fleet at one moment, members sorted by name. It is safe
// for concurrent reads; Assume must not run concurrently with anything else.
type Snapshot struct {
	members []*Member
	byName  map[string]*Member
	owned   []bool

	mu  sync.Mutex
	rtt map[string][]RTT
	// measuredBy maps a peer to the members' measurements of it; built on
	// first use.
	measuredBy map[string][]measurement
}

type measurement struct {
	member int32
	rtt    RTT
}

// NewSnapshot builds a snapshot of the given members. The order of mcs does
// not matter; a repeated name keeps the first object. The Snapshot keeps
// references to the objects, which must not change while it is used.
func NewSnapshot(mcs []*fleetv1alpha1.MemberCluster) *Snapshot {
	members := make([]*Member, 0, len(mcs))
	for _, mc := range mcs {
		members = append(members, NewMember(mc))
	}
	return NewSnapshotOf(members)
}

// NewSnapshotOf builds a snapshot from parsed members, which it re-indexes.
// Members must not be shared with another live Snapshot.
func NewSnapshotOf(members []*Member) *Snapshot {
	members = slices.Clone(members)
	slices.SortStableFunc(members, func(a, b *Member) int { return cmp.Compare(a.Name, b.Name) })
	members = slices.CompactFunc(members, func(a, b *Member) bool { return a.Name == b.Name })
	s := &Snapshot{
		members: members,
		byName:  make(map[string]*Member, len(members)),
		owned:   make([]bool, len(members)),
		rtt:     map[string][]RTT{},
	}
	for i, m := range members {
		m.Index = i
		s.byName[m.Name] = m
	}
	return s
}

// Members returns the members in name order. Callers must not modify it.
func (s *Snapshot) Members() []*Member { return s.members }

// Len is the number of members.
func (s *Snapshot) Len() int { return len(s.members) }

// Get returns the member called name, or nil.
func (s *Snapshot) Get(name string) *Member { return s.byName[name] }

// RTTsTo returns, indexed by Member.Index, each member's round-trip time to
// the consumer cluster. A member's own measurement wins over the consumer's
// measurement of it; the consumer itself has an RTT of 0. The slice is
// cached per consumer and shared: callers must not modify it.
func (s *Snapshot) RTTsTo(consumer string) []RTT {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rtt[consumer]; ok {
		return r
	}
	if s.measuredBy == nil {
		s.measuredBy = map[string][]measurement{}
		for i, m := range s.members {
			for j := range m.latencies {
				l := &m.latencies[j]
				s.measuredBy[l.Peer] = append(s.measuredBy[l.Peer], measurement{
					member: int32(i), rtt: RTT{P50: l.P50.Duration, P99: l.P99.Duration, Known: true},
				})
			}
		}
	}
	out := make([]RTT, len(s.members))
	c := s.byName[consumer]
	if c != nil {
		// The consumer's measurements first, so that the members' own
		// measurements of the consumer overwrite them.
		for j := range c.latencies {
			l := &c.latencies[j]
			if m := s.byName[l.Peer]; m != nil {
				out[m.Index] = RTT{P50: l.P50.Duration, P99: l.P99.Duration, Known: true}
			}
		}
	}
	for _, e := range s.measuredBy[consumer] {
		out[e.member] = e.rtt
	}
	if c != nil {
		out[c.Index] = RTT{Known: true}
	}
	s.rtt[consumer] = out
	return out
}

// Assume books svc onto the cluster as if it were running there: its
// total requests are added to the pool PickPool chooses. It is for
// simulations and benchmarks that place many services in a row; the
// controller works from measured figures instead.
func (s *Snapshot) Assume(svc *Service, cluster string) {
	m := s.byName[cluster]
	if m == nil {
		return
	}
	p := PickPool(svc, m, true)
	if p < 0 {
		return
	}
	if !s.owned[m.Index] {
		c := *m
		c.Pools = slices.Clone(m.Pools)
		m = &c
		s.members[m.Index] = m
		s.byName[m.Name] = m
		s.owned[m.Index] = true
	}
	m.Pools[p].Requested = m.Pools[p].Requested.Add(svc.Requests)
}

// Service is the ManagedService being placed, with the figures the
// plugins need computed once.
type Service struct {
	// Object is the ManagedService; plugins must not modify it.
	Object *fleetv1alpha1.ManagedService
	// Namespace is the service's hub namespace, which is its tenant.
	Namespace string
	// Name of the service.
	Name string
	// Engine of the service.
	Engine fleetv1alpha1.Engine
	// Strategy asked for in the spec (Workload when empty).
	Strategy fleetv1alpha1.Strategy
	// Consumer is the consumer's member cluster.
	Consumer string
	// Current is the cluster the service is placed on; empty when unplaced
	// or when a re-placement was requested.
	Current string
	// Replacing is true when a re-placement was requested: the service is
	// still on Current (its pods count there), but Steady gives Current no
	// bonus.
	Replacing bool
	// Replicas of the service, at least 1.
	Replicas int32
	// PerReplica is what one replica requests: cpu and memory from
	// resources.requests (resources.limits when a request is missing, as
	// Kubernetes defaults it), storage from storage.size.
	PerReplica Resources
	// Requests is PerReplica times Replicas.
	Requests Resources
	// Tolerations of the service's pods, from spec.nodePool.
	Tolerations []corev1.Toleration
	// NodeSelector of the service's pods, from spec.nodePool.
	NodeSelector labels.Set
	// ClusterSelector narrows Dedicated candidates; nil selects everything.
	ClusterSelector labels.Selector
	// ClusterSelectorErr is set when spec.placement.clusterSelector does
	// not parse.
	ClusterSelectorErr error
	// MaxLatency is spec.placement.maxLatency; 0 means no limit.
	MaxLatency time.Duration
	// TenantPlacements counts, per cluster, the other services of the same
	// namespace placed there (this service excluded). Spread reads it.
	TenantPlacements map[string]int32

	selectorKeys []string
}

// NewService derives a Service from a ManagedService. Current is set from
// status.placement.cluster; TenantPlacements is left for the caller.
func NewService(ms *fleetv1alpha1.ManagedService) *Service {
	spec := &ms.Spec
	svc := &Service{
		Object:    ms,
		Namespace: ms.Namespace,
		Name:      ms.Name,
		Engine:    spec.Engine,
		Strategy:  spec.Placement.Strategy,
		Consumer:  spec.Consumer.Cluster,
		Current:   ms.Status.Placement.Cluster,
		Replicas:  max(spec.Replicas, 1),
	}
	if svc.Strategy == "" {
		svc.Strategy = fleetv1alpha1.StrategyWorkload
	}
	// Kubernetes defaults a missing request to the limit.
	perReplica := func(name corev1.ResourceName) resource.Quantity {
		if q, ok := spec.Resources.Requests[name]; ok {
			return q
		}
		return spec.Resources.Limits[name]
	}
	cpu, mem := perReplica(corev1.ResourceCPU), perReplica(corev1.ResourceMemory)
	svc.PerReplica = Resources{MilliCPU: cpu.MilliValue(), Memory: mem.Value(), Storage: spec.Storage.Size.Value()}
	n := int64(svc.Replicas)
	svc.Requests = Resources{
		MilliCPU: svc.PerReplica.MilliCPU * n,
		Memory:   svc.PerReplica.Memory * n,
		Storage:  svc.PerReplica.Storage * n,
	}
	if spec.NodePool != nil {
		svc.Tolerations = spec.NodePool.Tolerations
		svc.NodeSelector = labels.Set(spec.NodePool.NodeSelector)
		svc.selectorKeys = slices.Sorted(maps.Keys(spec.NodePool.NodeSelector))
	}
	if spec.Placement.ClusterSelector != nil {
		svc.ClusterSelector, svc.ClusterSelectorErr = metav1.LabelSelectorAsSelector(spec.Placement.ClusterSelector)
	}
	if spec.Placement.MaxLatency != nil {
		svc.MaxLatency = spec.Placement.MaxLatency.Duration
	}
	return svc
}
