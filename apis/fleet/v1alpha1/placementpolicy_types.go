package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PluginConfig enables a filter plugin with optional arguments.
type PluginConfig struct {
	// Name of the plugin in the hub's registry.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9]*$`
	Name string `json:"name"`
	// Args of the plugin; their shape is the plugin's own.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	Args *runtime.RawExtension `json:"args,omitempty"`
}

// WeightedPluginConfig enables a score plugin with a weight.
type WeightedPluginConfig struct {
	PluginConfig `json:",inline"`
	// Weight multiplies the plugin's 0..100 score.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight,omitempty"`
}

// PlacementPolicySpec is a placement profile.
//
// +kubebuilder:validation:XValidation:rule="!has(self.fallback) || !(self.strategy in self.fallback)",message="fallback must not repeat the base strategy",fieldPath=".fallback"
type PlacementPolicySpec struct {
	// Default makes this the policy for services without a policyRef. At
	// most one policy may be the default: the hub marks every default policy
	// Accepted=False (reason MultipleDefaults) while there are several, and
	// services then fall back to the built-in profiles.
	// +optional
	Default bool `json:"default,omitempty"`
	// Strategy is the base strategy whose built-in profile this policy
	// refines. Services that name this policy are placed with it.
	// +kubebuilder:default=Workload
	Strategy Strategy `json:"strategy,omitempty"`
	// Fallback lists strategies tried in order when the base strategy finds
	// no cluster. Empty means no fallback: an unplaceable service stays
	// Placed=False.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	Fallback []Strategy `json:"fallback,omitempty"`
	// Filters replace the strategy's filter plugins when set.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Filters []PluginConfig `json:"filters,omitempty"`
	// Scores replace the strategy's score plugins when set.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Scores []WeightedPluginConfig `json:"scores,omitempty"`
	// CandidatesToRecord is how many candidates status keeps.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	CandidatesToRecord int32 `json:"candidatesToRecord,omitempty"`
}

// PlacementPolicyStatus is what the hub observed.
type PlacementPolicyStatus struct {
	// ObservedGeneration is the generation last validated.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Accepted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PlacementPolicy is a named placement profile.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=pp,categories=berth
// +kubebuilder:printcolumn:name="Strategy",type=string,JSONPath=`.spec.strategy`
// +kubebuilder:printcolumn:name="Default",type=boolean,JSONPath=`.spec.default`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label"
type PlacementPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PlacementPolicySpec   `json:"spec,omitempty"`
	Status PlacementPolicyStatus `json:"status,omitempty"`
}

// PlacementPolicyList is a list of PlacementPolicies.
//
// +kubebuilder:object:root=true
type PlacementPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PlacementPolicy `json:"items"`
}
