package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SupportedVersions lists, per engine, the versions the schema accepts. The
// CEL rules on ManagedServiceSpec spell out the same table; a unit test keeps
// them in step.
var SupportedVersions = map[Engine][]string{
	EnginePostgreSQL: {"14", "15", "16", "17"},
	EngineRedis:      {"6.2", "7.0", "7.2", "7.4"},
	EngineRabbitMQ:   {"3.12", "3.13", "4.0", "4.1"},
}

// PolicyReference names a PlacementPolicy.
type PolicyReference struct {
	// Name of the PlacementPolicy.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ServicePlacement says how to choose the cluster.
// +kubebuilder:validation:XValidation:rule="!has(self.clusterSelector) || self.strategy == 'Dedicated'",message="placement.clusterSelector is only allowed with strategy Dedicated",fieldPath=".clusterSelector"
type ServicePlacement struct {
	// Strategy is where the service goes. Workload (the default) puts it in
	// the consumer's own cluster.
	// +kubebuilder:default=Workload
	Strategy Strategy `json:"strategy,omitempty"`
	// PolicyRef names a PlacementPolicy that refines the strategy. Without
	// it the default policy, if any, applies.
	// +optional
	PolicyRef *PolicyReference `json:"policyRef,omitempty"`
	// ClusterSelector narrows the Dedicated candidates by member labels.
	// +optional
	ClusterSelector *metav1.LabelSelector `json:"clusterSelector,omitempty"`
	// MaxLatency is the highest p99 round-trip time to the consumer
	// cluster a candidate may have, e.g. "2ms".
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	MaxLatency *metav1.Duration `json:"maxLatency,omitempty"`
}

// ManagedServiceSpec is the service an app team asks for.
//
// +kubebuilder:validation:XValidation:rule="self.engine != 'PostgreSQL' || self.version in ['14', '15', '16', '17']",message="version must be one of 14, 15, 16, 17 for engine PostgreSQL",fieldPath=".version"
// +kubebuilder:validation:XValidation:rule="self.engine != 'Redis' || self.version in ['6.2', '7.0', '7.2', '7.4']",message="version must be one of 6.2, 7.0, 7.2, 7.4 for engine Redis",fieldPath=".version"
// +kubebuilder:validation:XValidation:rule="self.engine != 'RabbitMQ' || self.version in ['3.12', '3.13', '4.0', '4.1']",message="version must be one of 3.12, 3.13, 4.0, 4.1 for engine RabbitMQ",fieldPath=".version"
// +kubebuilder:validation:XValidation:rule="self.engine != 'RabbitMQ' || self.replicas % 2 == 1",message="replicas must be odd for engine RabbitMQ (quorum)",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="self.engine != 'PostgreSQL' || self.replicas <= 5",message="replicas must be at most 5 for engine PostgreSQL",fieldPath=".replicas"
type ManagedServiceSpec struct {
	// Engine of the service. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="engine is immutable"
	Engine Engine `json:"engine"`
	// Version of the engine; the allowed values depend on the engine.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16
	Version string `json:"version"`
	// Replicas of the service.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9
	Replicas int32 `json:"replicas,omitempty"`
	// Resources of each replica.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Storage of each replica.
	// +required
	Storage StorageSpec `json:"storage"`
	// Consumer is who uses the service.
	// +required
	Consumer ConsumerSpec `json:"consumer"`
	// Placement says where the service goes.
	// +optional
	// +kubebuilder:default={}
	Placement ServicePlacement `json:"placement,omitempty"`
	// NodePool pins the service to dedicated nodes.
	// +optional
	NodePool *NodePoolSpec `json:"nodePool,omitempty"`
	// DeletionPolicy says what happens to the data on deletion.
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// PluginScore is one scorer's verdict on one candidate.
type PluginScore struct {
	// Plugin name.
	Plugin string `json:"plugin"`
	// Score is the normalised score, 0..100.
	Score int64 `json:"score"`
	// Weighted is Score times the plugin's weight.
	Weighted int64 `json:"weighted"`
}

// Candidate is one cluster the placement considered.
type Candidate struct {
	// Cluster is the member's name.
	Cluster string `json:"cluster"`
	// Feasible is true when every filter passed.
	Feasible bool `json:"feasible"`
	// Score is the weighted sum of the scores; 0 when not feasible.
	// +optional
	Score int64 `json:"score,omitempty"`
	// Reason says which filter rejected the cluster and why.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Scores per plugin.
	// +optional
	// +listType=atomic
	Scores []PluginScore `json:"scores,omitempty"`
}

// PlacementDecision is where a service was placed and why.
//
// Status is not the only record of the decision. The decision a service runs
// under lives in the hub's etcd as its provider ServiceWork (the binding, as
// Karmada keeps its decision in ResourceBinding.spec): the work's namespace
// names the cluster, and its fleet.berth.io/placement-strategy,
// fleet.berth.io/placement-policy and fleet.berth.io/decided-at annotations
// the rest. When status.placement is empty (status lost in a restore, or
// wiped) the placement controller restores the decision from that work
// (during a move, from the move target's work) instead of deciding again, and
// the propagation controller neither writes nor deletes any ServiceWork while
// there is no decision (status.placement.cluster empty or Placed not True).
type PlacementDecision struct {
	// Cluster is the chosen member; empty while unplaced.
	// +optional
	Cluster string `json:"cluster,omitempty"`
	// Strategy that produced the decision; differs from the spec's when a
	// fallback was used.
	// +optional
	Strategy Strategy `json:"strategy,omitempty"`
	// Policy is the PlacementPolicy used, if any.
	// +optional
	Policy string `json:"policy,omitempty"`
	// Score of the chosen cluster.
	// +optional
	Score int64 `json:"score,omitempty"`
	// DecidedAt is when the cluster was chosen.
	// +optional
	DecidedAt *metav1.Time `json:"decidedAt,omitempty"`
	// BetterCandidate names a feasible cluster that now scores higher than
	// the current one. Placement is sticky: the service moves only when the
	// fleet.berth.io/replace annotation asks for it.
	// +optional
	BetterCandidate string `json:"betterCandidate,omitempty"`
	// Candidates are the top clusters considered, best first.
	// +optional
	// +listType=atomic
	Candidates []Candidate `json:"candidates,omitempty"`
}

// ManagedServiceStatus is what the hub observed.
type ManagedServiceStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Placed, Propagated, Ready, and Moving while (and after)
	// the service moves to another cluster.
	//
	// A move happens when the placement names a cluster other than the
	// provider the consumers use (the fleet.berth.io/replace annotation, a
	// policy change). The hub creates the new provider's ServiceWork and
	// keeps the old one; consumers keep the old endpoint and credentials.
	// Moving=True says what the move waits for: MoveWaitingForTarget (the
	// new provider is not Available yet) or MoveWaitingForAcknowledgement
	// (set the fleet.berth.io/accept-move annotation to the target cluster
	// to accept an empty database there). Then the consumers are switched,
	// the old provider's ServiceWork is deleted (MoveRemovingOldProvider;
	// its spoke honours deletionPolicy, Retain keeps the data there), the
	// annotation is removed and Moving becomes False with reason
	// MoveCompleted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Placement is the decision.
	// +optional
	Placement PlacementDecision `json:"placement,omitempty"`
	// Endpoint as seen from the consumer cluster.
	// +optional
	Endpoint *Endpoint `json:"endpoint,omitempty"`
	// ReadyReplicas reported by the provider spoke.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
}

// ManagedService is a database, cache or queue an app team uses.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ms,categories=berth
// +kubebuilder:printcolumn:name="Engine",type=string,JSONPath=`.spec.engine`
// +kubebuilder:printcolumn:name="Strategy",type=string,JSONPath=`.spec.placement.strategy`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.status.placement.cluster`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label starting with a letter, at most 40 characters (it names Services and Secrets)"
type ManagedService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ManagedServiceSpec   `json:"spec,omitempty"`
	Status ManagedServiceStatus `json:"status,omitempty"`
}

// ManagedServiceList is a list of ManagedServices.
//
// +kubebuilder:object:root=true
type ManagedServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedService `json:"items"`
}
