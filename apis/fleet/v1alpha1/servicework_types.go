package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkRole is what a spoke does for a service.
// +kubebuilder:validation:Enum=Provider;Consumer
type WorkRole string

// Work roles. A co-located service gets one ServiceWork carrying both roles,
// so its credentials never leave the cluster.
//
// The hub keeps at most one ServiceWork per service and member, so a member
// that both runs a provider and hosts the consumer carries both roles. While
// a service moves, the old provider's work stays until the move completes
// (see ManagedServiceStatus.Conditions), so up to two members carry role
// Provider; the consumer's work names, in spec.provider.cluster, the one its
// apps use.
const (
	// RoleProvider runs and isolates the service.
	RoleProvider WorkRole = "Provider"
	// RoleConsumer binds the consumer namespaces to the service.
	RoleConsumer WorkRole = "Consumer"
)

// ServiceReference names the ManagedService a ServiceWork realises.
type ServiceReference struct {
	// Namespace of the ManagedService on the hub.
	Namespace string `json:"namespace"`
	// Name of the ManagedService.
	Name string `json:"name"`
	// UID of the ManagedService.
	// +optional
	UID string `json:"uid,omitempty"`
	// Generation of the ManagedService this work was written from.
	// +optional
	Generation int64 `json:"generation,omitempty"`
}

// ServiceTemplate is the part of a ManagedService a provider spoke renders.
type ServiceTemplate struct {
	// Engine of the service.
	Engine Engine `json:"engine"`
	// Version of the engine.
	Version string `json:"version"`
	// Replicas of the service.
	// +kubebuilder:validation:Minimum=1
	Replicas int32 `json:"replicas"`
	// Resources of each replica.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Storage of each replica.
	Storage StorageSpec `json:"storage"`
	// NodePool pins the service to dedicated nodes.
	// +optional
	NodePool *NodePoolSpec `json:"nodePool,omitempty"`
	// DeletionPolicy says what happens to the data on deletion.
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// ProviderReference tells a consumer spoke where the service runs.
type ProviderReference struct {
	// Cluster is the provider member's name: the provider the consumer's
	// apps use. It is the hub's record of the binding, and changes only when
	// a move completes. A work with both roles whose cluster names another
	// member (a move to the consumer's cluster that is not acknowledged yet)
	// runs the new provider here but binds the consumer namespaces to that
	// other member, through endpoint and credentialsSecret, exactly as a
	// consumer-only work does; once it names this member the binding is
	// local.
	Cluster string `json:"cluster"`
	// Endpoint reachable from the consumer cluster; empty until the
	// provider reported it.
	// +optional
	Endpoint *Endpoint `json:"endpoint,omitempty"`
	// CredentialsSecret is the Secret in this hub namespace holding the
	// connection credentials copied from the provider; empty for
	// co-located services, whose credentials never leave the cluster.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
}

// ServiceWorkSpec is what one spoke must realise.
//
// +kubebuilder:validation:XValidation:rule="!('Provider' in self.roles) || has(self.service)",message="service is required for role Provider",fieldPath=".service"
// +kubebuilder:validation:XValidation:rule="!('Consumer' in self.roles) || has(self.provider)",message="provider is required for role Consumer",fieldPath=".provider"
type ServiceWorkSpec struct {
	// Roles of this work: Provider, Consumer, or both when co-located.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	Roles []WorkRole `json:"roles"`
	// ServiceRef is the ManagedService on the hub.
	ServiceRef ServiceReference `json:"serviceRef"`
	// Service is what to run; set for role Provider.
	// +optional
	Service *ServiceTemplate `json:"service,omitempty"`
	// Consumer is who may use the service.
	Consumer ConsumerSpec `json:"consumer"`
	// Provider is where the service runs; set for role Consumer.
	// +optional
	Provider *ProviderReference `json:"provider,omitempty"`
}

// ObjectResult is the outcome for one rendered object.
type ObjectResult struct {
	// Group of the object.
	// +optional
	Group string `json:"group,omitempty"`
	// Version of the object.
	Version string `json:"version"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty when cluster-scoped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// Result: Applied, Conflict, Failed, Retained or Deleted.
	// +kubebuilder:validation:Enum=Applied;Conflict;Failed;Retained;Deleted
	Result string `json:"result"`
	// Message gives details for Conflict and Failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// ServiceWorkStatus is what the spoke reports.
type ServiceWorkStatus struct {
	// ObservedGeneration is the generation last applied.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Applied, Available, Degraded, Conflict.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Endpoint of the service as reachable from the consumer cluster.
	// +optional
	Endpoint *Endpoint `json:"endpoint,omitempty"`
	// ReadyReplicas of the service.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// CredentialsSecret is the Secret the provider spoke published to its
	// hub namespace for a remote consumer.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
	// Objects lists every rendered object and its result.
	// +optional
	// +listType=atomic
	Objects []ObjectResult `json:"objects,omitempty"`
}

// ServiceWork is the spec one spoke must realise for one ManagedService.
//
// A provider ServiceWork is also the hub's durable record of the placement
// decision (the binding): see PlacementDecision. Only two things make the hub
// delete a provider work: the deletion of its ManagedService, and a
// completed, acknowledged move (or the cancellation of a move whose new
// provider no consumer ever used).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sw,categories=berth
// +kubebuilder:printcolumn:name="Roles",type=string,JSONPath=`.spec.roles`
// +kubebuilder:printcolumn:name="Engine",type=string,JSONPath=`.spec.service.engine`
// +kubebuilder:printcolumn:name="Applied",type=string,JSONPath=`.status.conditions[?(@.type=="Applied")].status`
// +kubebuilder:printcolumn:name="Available",type=string,JSONPath=`.status.conditions[?(@.type=="Available")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServiceWork struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServiceWorkSpec   `json:"spec,omitempty"`
	Status ServiceWorkStatus `json:"status,omitempty"`
}

// ServiceWorkList is a list of ServiceWorks.
//
// +kubebuilder:object:root=true
type ServiceWorkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceWork `json:"items"`
}
