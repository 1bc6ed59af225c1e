package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Engine is the kind of managed service.
// +kubebuilder:validation:Enum=PostgreSQL;Redis;RabbitMQ
type Engine string

// Engines berth can run.
const (
	EnginePostgreSQL Engine = "PostgreSQL"
	EngineRedis      Engine = "Redis"
	EngineRabbitMQ   Engine = "RabbitMQ"
)

// Strategy names where a service goes.
// +kubebuilder:validation:Enum=Workload;Management;Dedicated
type Strategy string

// Placement strategies. Workload is the default, per the decision record.
const (
	// StrategyWorkload co-locates the service with its consumer.
	StrategyWorkload Strategy = "Workload"
	// StrategyManagement places the service in the management cluster.
	StrategyManagement Strategy = "Management"
	// StrategyDedicated places the service in a services cluster.
	StrategyDedicated Strategy = "Dedicated"
)

// DeletionPolicy says what happens to a service's data when it is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

// Deletion policies.
const (
	// DeletionPolicyRetain keeps PVCs and the credentials Secret, labelled
	// as retained.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete removes everything.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// StorageSpec sizes the persistent volume of each replica.
type StorageSpec struct {
	// Size of each replica's volume.
	// +required
	Size resource.Quantity `json:"size"`
	// StorageClassName of the volume; empty uses the cluster default.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClassName string `json:"storageClassName,omitempty"`
}

// ConsumerSpec says who uses a service.
type ConsumerSpec struct {
	// Cluster is the MemberCluster where the consuming app runs. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="consumer.cluster is immutable"
	Cluster string `json:"cluster"`
	// Namespaces in the consumer cluster whose apps may use the service.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespaces []string `json:"namespaces"`
}

// NodePoolSpec pins a service to dedicated nodes.
type NodePoolSpec struct {
	// Tolerations added to the service's pods.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// NodeSelector added to the service's pods; placement only considers
	// node pools whose labels match it.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// Endpoint is where a consumer reaches a service.
type Endpoint struct {
	// Host is a DNS name or IP address.
	Host string `json:"host"`
	// Port is the TCP port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// SecretName is the Secret with the connection credentials, in the
	// consumer's namespaces.
	// +optional
	SecretName string `json:"secretName,omitempty"`
}
