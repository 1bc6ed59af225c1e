package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MemberRole is what a member cluster is for.
// +kubebuilder:validation:Enum=Workload;Management;Services
type MemberRole string

// Member roles.
const (
	RoleWorkload   MemberRole = "Workload"
	RoleManagement MemberRole = "Management"
	RoleServices   MemberRole = "Services"
)

// TaintEffect says how placement treats a tainted member.
// +kubebuilder:validation:Enum=NoPlace;PreferNoPlace
type TaintEffect string

// Taint effects.
const (
	// TaintNoPlace keeps new services off the member unless tolerated.
	TaintNoPlace TaintEffect = "NoPlace"
	// TaintPreferNoPlace lowers the member's score.
	TaintPreferNoPlace TaintEffect = "PreferNoPlace"
)

// Operator is a service operator a member cluster has installed.
// +kubebuilder:validation:Enum=ZalandoPostgres;SpotahomeRedis;RabbitMQClusterOperator
type Operator string

// Operators berth renders for.
const (
	OperatorZalandoPostgres Operator = "ZalandoPostgres"
	OperatorSpotahomeRedis  Operator = "SpotahomeRedis"
	OperatorRabbitMQ        Operator = "RabbitMQClusterOperator"
)

// ClusterReference names the CAPI Cluster a member came from.
type ClusterReference struct {
	// Namespace of the Cluster in the management cluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the Cluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// MemberTaint repels services from a member.
type MemberTaint struct {
	// Key of the taint, a qualified name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=316
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	Key string `json:"key"`
	// Value of the taint.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Value string `json:"value,omitempty"`
	// Effect of the taint.
	Effect TaintEffect `json:"effect"`
	// Reason says why the taint exists, e.g. Unreachable.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
	// TimeAdded is when the taint was added.
	// +optional
	TimeAdded *metav1.Time `json:"timeAdded,omitempty"`
}

// MemberClusterSpec is the desired state of a member.
type MemberClusterSpec struct {
	// Role of the member.
	// +kubebuilder:default=Workload
	Role MemberRole `json:"role,omitempty"`
	// ClusterRef is the CAPI Cluster this member came from; empty for a
	// manual join. Immutable once set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef *ClusterReference `json:"clusterRef,omitempty"`
	// Taints repel services.
	// +optional
	// +listType=map
	// +listMapKey=key
	// +kubebuilder:validation:MaxItems=32
	Taints []MemberTaint `json:"taints,omitempty"`
	// Accepted is the hub's approval of a manual join. Members registered
	// from CAPI are accepted when created.
	// +optional
	Accepted bool `json:"accepted,omitempty"`
}

// NodePool is a group of nodes sharing a pool label.
type NodePool struct {
	// Name of the pool: the value of the pool label.
	Name string `json:"name"`
	// Labels common to every node of the pool.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Taints common to every node of the pool.
	// +optional
	// +listType=atomic
	Taints []corev1.Taint `json:"taints,omitempty"`
	// NodeCount is the number of nodes.
	NodeCount int32 `json:"nodeCount"`
	// Allocatable is the sum of the nodes' allocatable cpu, memory and
	// ephemeral-storage.
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`
	// Requested is the sum of the requests of non-terminal pods on them.
	// +optional
	Requested corev1.ResourceList `json:"requested,omitempty"`
}

// Capabilities is what a member can run.
type Capabilities struct {
	// Operators installed, detected from their CRDs.
	// +optional
	// +listType=set
	Operators []Operator `json:"operators,omitempty"`
	// Cilium is true when ciliumnetworkpolicies.cilium.io is served.
	// +optional
	Cilium bool `json:"cilium,omitempty"`
	// ClusterMesh is true when Cilium ClusterMesh is configured.
	// +optional
	ClusterMesh bool `json:"clusterMesh,omitempty"`
	// LoadBalancer is true when Services of type LoadBalancer get addresses.
	// +optional
	LoadBalancer bool `json:"loadBalancer,omitempty"`
	// CiliumClusterName is the io.cilium.k8s.policy.cluster of this member.
	// +optional
	CiliumClusterName string `json:"ciliumClusterName,omitempty"`
}

// PeerLatency is the measured round-trip time to one peer.
type PeerLatency struct {
	// Peer is the peer member's name.
	Peer string `json:"peer"`
	// P50 round-trip time.
	P50 metav1.Duration `json:"p50"`
	// P99 round-trip time.
	P99 metav1.Duration `json:"p99"`
	// Samples is how many probes the figures come from.
	Samples int32 `json:"samples"`
	// MeasuredAt is when the figures were computed.
	MeasuredAt metav1.Time `json:"measuredAt"`
}

// MemberClusterStatus is what the hub and the spoke observed.
type MemberClusterStatus struct {
	// ObservedGeneration is the generation the hub last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Registered, Joined, Available.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Namespace is the member's hub namespace, berth-member-<name>.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// AgentVersion is the spoke's version.
	// +optional
	AgentVersion string `json:"agentVersion,omitempty"`
	// ProbeEndpoint is host:port of the spoke's latency probe listener.
	// +optional
	ProbeEndpoint string `json:"probeEndpoint,omitempty"`
	// NodePools of the member.
	// +optional
	// +listType=map
	// +listMapKey=name
	NodePools []NodePool `json:"nodePools,omitempty"`
	// PoolCount is len(nodePools), for the printer column.
	// +optional
	PoolCount int32 `json:"poolCount,omitempty"`
	// Capabilities of the member.
	// +optional
	Capabilities Capabilities `json:"capabilities,omitempty"`
	// Latencies to peers.
	// +optional
	// +listType=map
	// +listMapKey=peer
	Latencies []PeerLatency `json:"latencies,omitempty"`
}

// MemberCluster is one registered cluster of the fleet.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=mc,categories=berth
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Available",type=string,JSONPath=`.status.conditions[?(@.type=="Available")].status`
// +kubebuilder:printcolumn:name="Pools",type=integer,JSONPath=`.status.poolCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 50 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label of at most 50 characters (it names the hub namespace berth-member-<name>)"
type MemberCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MemberClusterSpec   `json:"spec,omitempty"`
	Status MemberClusterStatus `json:"status,omitempty"`
}

// MemberClusterList is a list of MemberClusters.
//
// +kubebuilder:object:root=true
type MemberClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MemberCluster `json:"items"`
}
