package render

import (
	"context"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Flavour is how an engine is run on a member: by an operator, or by berth's
// built-in StatefulSet.
type Flavour string

// Flavours berth renders.
const (
	// FlavourBuiltIn is a StatefulSet, Services and a generated Secret.
	FlavourBuiltIn Flavour = "BuiltIn"
	// FlavourZalando is a Zalando postgres-operator `postgresql`.
	FlavourZalando Flavour = "Zalando"
	// FlavourSpotahome is a Spotahome redis-operator `RedisFailover`.
	FlavourSpotahome Flavour = "Spotahome"
	// FlavourRabbitMQOperator is a RabbitMQ cluster-operator `RabbitmqCluster`.
	FlavourRabbitMQOperator Flavour = "RabbitMQOperator"
)

// Exposure is how a provider makes its service reachable from a consumer in
// another cluster.
type Exposure string

// Exposures, in the order berth prefers them.
const (
	// ExposureNone is used when the consumer is co-located.
	ExposureNone Exposure = ""
	// ExposureClusterMesh is a Cilium global service.
	ExposureClusterMesh Exposure = "ClusterMesh"
	// ExposureLoadBalancer is a Service of type LoadBalancer.
	ExposureLoadBalancer Exposure = "LoadBalancer"
	// ExposureNodePort is a Service of type NodePort.
	ExposureNodePort Exposure = "NodePort"
)

// Labels and annotations the renderer sets. The ServiceWork label and the
// managed-by label are on every rendered object.
const (
	// LabelManagedBy is the recommended managed-by label.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByBerth is the value of LabelManagedBy.
	ManagedByBerth = "berth"
	// LabelPlatformOwned marks the platform namespace and every provider
	// object in it.
	LabelPlatformOwned = "fleet.berth.io/platform-owned"
	// LabelShared marks cluster-scoped objects shared by every service (the
	// PriorityClass). They carry no ServiceWork label and are never deleted
	// with a work.
	LabelShared = "fleet.berth.io/shared"
	// AnnotationFlavour on the platform Namespace records the flavour the
	// service was created with, so that installing an operator later never
	// moves a running service; pass it back as Inputs.Flavour.
	AnnotationFlavour = "fleet.berth.io/flavour"
	// AnnotationCreateOnly marks objects the apply layer must create when
	// missing and never update: the generated credentials Secret.
	AnnotationCreateOnly = "fleet.berth.io/create-only"
	// AnnotationKeepOnRetain marks objects kept when the service is deleted
	// with deletionPolicy Retain: the platform Namespace and the generated
	// credentials Secret (PVCs are created by StatefulSets, not rendered).
	AnnotationKeepOnRetain = "fleet.berth.io/keep-on-retain"
	// AnnotationLogicalBackup on a ServiceWork set to "true" turns on the
	// Zalando operator's logical backups.
	AnnotationLogicalBackup = "fleet.berth.io/logical-backup"
	// CiliumGlobalServiceAnnotation makes a Service a Cilium ClusterMesh
	// global service.
	CiliumGlobalServiceAnnotation = "service.cilium.io/global"
	// PriorityClassName is the PriorityClass every managed service's pods use.
	PriorityClassName = "berth-managed-service"
	// FieldManager is the server-side apply field manager of the spoke.
	FieldManager = "berth-spoke"
)

// Keys of the normalised connection data, in the consumer's
// `<managedservice>-credentials` Secret and in the Secret a provider spoke
// publishes to the hub.
const (
	KeyEngine             = "engine"
	KeyHost               = "host"
	KeyPort               = "port"
	KeyUsername           = "username"
	KeyPassword           = "password"
	KeyDatabase           = "database"
	KeyVhost              = "vhost"
	KeyURI                = "uri"
	KeyMode               = "mode"
	KeySentinelMasterName = "sentinelMasterName"
)

// Redis connection modes, in KeyMode.
const (
	// RedisModeSentinel: connect to the sentinels at host:port and ask for
	// the master named in KeySentinelMasterName.
	RedisModeSentinel = "sentinel"
	// RedisModeDirect: host:port is the master.
	RedisModeDirect = "direct"
)

// Inputs is everything Render needs: the ServiceWork and what the spoke knows
// about its own cluster.
type Inputs struct {
	// Work is the ServiceWork to render. Required.
	Work *fleetv1alpha1.ServiceWork
	// Member is the name of the member cluster this spoke runs in. The
	// consumer is co-located when Work.Spec.Consumer.Cluster equals it.
	Member string
	// Capabilities of this member.
	Capabilities fleetv1alpha1.Capabilities
	// Flavour, when set, pins the flavour: pass the AnnotationFlavour of the
	// live platform Namespace so a running service never changes flavour.
	// Empty chooses from Capabilities with SelectFlavour.
	Flavour Flavour
	// ConsumerCiliumClusterName is the io.cilium.k8s.policy.cluster of the
	// consumer member, used in Cilium policies for a remote consumer.
	// Defaults to Work.Spec.Consumer.Cluster.
	ConsumerCiliumClusterName string
	// ExposureSourceCIDRs may reach a remote exposure (LoadBalancer or
	// NodePort). Include the node CIDRs when the Service SNATs (the default
	// externalTrafficPolicy Cluster). Empty allows every source.
	ExposureSourceCIDRs []string
	// OperatorNamespaces are the namespaces each installed operator runs in
	// (see inventory.Collector.OperatorNamespaces). The guard rails admit the
	// namespaces of the flavour's operator on exactly the ports that operator
	// calls (Patroni API and SQL, redis and sentinel, management API). A
	// missing or empty entry adds no such rule.
	OperatorNamespaces map[fleetv1alpha1.Operator][]string
	// MonitoringNamespaces are the namespaces allowed to scrape the engine's
	// metrics ports. Empty adds no such rule.
	MonitoringNamespaces []string
	// NodeAddress is the node address reported as the endpoint host of a
	// NodePort exposure.
	NodeAddress string
	// ClusterDomain of this cluster; defaults to cluster.local.
	ClusterDomain string
	// PlatformNamespace overrides PlatformNamespace(ref) as the namespace of
	// the provider's objects (guard rails, engine, generated Secret,
	// exposure) and the target of a co-located binding. Only
	// LegacyPlatformNamespace(ref) is accepted: a spoke sets it when the
	// service's data already lives in the namespace an older spoke created.
	// Empty uses PlatformNamespace(ref).
	PlatformNamespace string
	// GeneratedCredentials is the data of the live generated credentials
	// Secret (see GeneratedSecretName), when it exists. The renderer reuses
	// it so that a password is generated exactly once.
	GeneratedCredentials map[string][]byte
	// Connection is the normalised connection data (see ConnectionData) for
	// the consumer binding Secrets. Nil leaves the binding Secrets out and
	// lists them in Result.Pending.
	Connection map[string][]byte
	// Rand is the source of generated passwords; defaults to crypto/rand.
	Rand io.Reader
}

// Result is the rendered desired state of one ServiceWork.
type Result struct {
	// Flavour the provider runs with; empty for a consumer-only work.
	Flavour Flavour
	// Exposure of the provider for a remote consumer.
	Exposure Exposure
	// Namespace is the platform namespace of the service.
	Namespace string
	// Objects to server-side apply, in order: namespaces and cluster-scoped
	// objects first, then guard rails, credentials, services, workloads and
	// the consumer binding.
	Objects []*unstructured.Unstructured
	// Pending names the objects that could not be rendered yet and why,
	// e.g. binding Secrets waiting for the provider's credentials.
	Pending []string
}

// Getter reads one live object. Implementations return an error for which
// apierrors.IsNotFound is true when the object does not exist.
type Getter interface {
	Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error)
}

// Observed is the state of a service read from its live objects.
type Observed struct {
	// Ready is true when the engine serves and, for a remote consumer, the
	// exposure has an address.
	Ready bool
	// ReadyReplicas of the engine.
	ReadyReplicas int32
	// Endpoint is the address reachable from the consumer cluster; nil
	// until known.
	Endpoint *fleetv1alpha1.Endpoint
	// CredentialsSecret is the provider-side Secret holding the engine's
	// credentials; feed its data to ConnectionData.
	CredentialsSecret types.NamespacedName
	// Message explains a not-ready state.
	Message string
}
