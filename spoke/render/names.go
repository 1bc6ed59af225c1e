package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// maxNameLength is the length limit of DNS labels and label values.
const maxNameLength = 63

// shortHash is the first 8 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

// fitName returns name when it fits in 63 characters, else a prefix of it
// and "-" plus a hash of the whole of key, so distinct keys stay distinct.
func fitName(name, key string) string {
	if len(name) <= maxNameLength {
		return name
	}
	prefix := strings.TrimRight(name[:maxNameLength-9], "-._")
	return prefix + "-" + shortHash(key)
}

// PlatformNamespace is the platform-owned namespace of a service:
// berth-<managedservice namespace>-<managedservice name>-<hash>, where hash
// is the first 8 hex digits of the SHA-256 of "<namespace>/<name>". The hash
// keeps services apart whose names join to the same string (shop/orders-db
// and shop-orders/db). When the whole is longer than 63 characters the
// readable part is cut so that it fits. The name only depends on the
// ManagedService, so a provider and a ClusterMesh consumer agree on it.
func PlatformNamespace(ref fleetv1alpha1.ServiceReference) string {
	suffix := "-" + shortHash(ref.Namespace+"/"+ref.Name)
	prefix := "berth-" + ref.Namespace + "-" + ref.Name
	if len(prefix)+len(suffix) > maxNameLength {
		prefix = strings.TrimRight(prefix[:maxNameLength-len(suffix)], "-._")
	}
	return prefix + suffix
}

// LegacyPlatformNamespace is the platform namespace older spokes used:
// berth-<namespace>-<name>, cut to 54 characters and suffixed with "-" and
// the hash of "<namespace>/<name>" when longer than 63. A spoke keeps using
// it for a service whose data already lives there (see
// Inputs.PlatformNamespace); new services never get it.
func LegacyPlatformNamespace(ref fleetv1alpha1.ServiceReference) string {
	return fitName("berth-"+ref.Namespace+"-"+ref.Name, ref.Namespace+"/"+ref.Name)
}

// ServiceOwnerValue is the value of AnnotationServiceOwner for a
// ManagedService: "<namespace>/<name>/<uid>" (the UID may be empty).
func ServiceOwnerValue(ref fleetv1alpha1.ServiceReference) string {
	return ref.Namespace + "/" + ref.Name + "/" + ref.UID
}

// ServiceOwnerMatches reports whether an AnnotationServiceOwner value names
// the ManagedService ref: namespace and name must be equal, and the UIDs too
// when both are known.
func ServiceOwnerMatches(value string, ref fleetv1alpha1.ServiceReference) bool {
	parts := strings.SplitN(value, "/", 3)
	if len(parts) != 3 || parts[0] != ref.Namespace || parts[1] != ref.Name {
		return false
	}
	return parts[2] == "" || ref.UID == "" || parts[2] == ref.UID
}

// ServiceKey is "<namespace>/<name>" of a ManagedService, the value of
// AnnotationRetainedService.
func ServiceKey(ref fleetv1alpha1.ServiceReference) string { return ref.Namespace + "/" + ref.Name }

// WorkLabelValue is the value of the fleet.berth.io/servicework label for a
// work: "<namespace>.<name>", cut and hashed like PlatformNamespace when
// longer than the 63 characters a label value may have.
func WorkLabelValue(work *fleetv1alpha1.ServiceWork) string {
	v := work.Namespace + "." + work.Name
	return fitName(v, v)
}

// BindingServiceName is the Service an app finds in each consumer namespace:
// the ManagedService's name, whatever the placement.
func BindingServiceName(ref fleetv1alpha1.ServiceReference) string { return ref.Name }

// BindingSecretName is the Secret an app finds in each consumer namespace:
// "<managedservice>-credentials", whatever the placement.
func BindingSecretName(ref fleetv1alpha1.ServiceReference) string {
	return ref.Name + "-credentials"
}

// ExposureServiceName is the provider Service that exposes the engine to a
// remote consumer (LoadBalancer, NodePort, or ClusterMesh global service).
// A ClusterMesh consumer renders a stub with the same name and namespace.
func ExposureServiceName(ref fleetv1alpha1.ServiceReference) string { return ref.Name + "-external" }

// GeneratedSecretName is the Secret the renderer generates credentials into
// (built-in flavour, and the Spotahome auth Secret), in the platform
// namespace. Read it and pass its data as Inputs.GeneratedCredentials.
// The namespace is PlatformNamespace; a service kept in its
// LegacyPlatformNamespace has the Secret there, under the same name.
func GeneratedSecretName(ref fleetv1alpha1.ServiceReference) types.NamespacedName {
	return types.NamespacedName{Namespace: PlatformNamespace(ref), Name: ref.Name + "-credentials"}
}

// GlobalServiceHost is the host a ClusterMesh consumer reaches the exposure
// under: the global service's name in the platform namespace.
func GlobalServiceHost(ref fleetv1alpha1.ServiceReference) string {
	return ExposureServiceName(ref) + "." + PlatformNamespace(ref) + ".svc"
}

// Ownership marks the spoke keeps on member objects. Values of the
// retained annotations are set when the spoke orphans an object under
// deletionPolicy Retain (see package spoke/work).
const (
	// AnnotationServiceOwner on a platform Namespace names the ManagedService
	// that owns it (ServiceOwnerValue). A spoke applies nothing into a
	// platform namespace owned by another service.
	AnnotationServiceOwner = "fleet.berth.io/service-owner"
	// AnnotationRetainedService on a retained object is ServiceKey of the
	// ManagedService it was kept for; a new ManagedService of the same
	// namespace and name adopts it again.
	AnnotationRetainedService = "fleet.berth.io/retained-service"
	// AnnotationRetainedEngine on a retained object is the engine of the
	// service it was kept for; adoption requires the same engine.
	AnnotationRetainedEngine = "fleet.berth.io/retained-engine"
	// AnnotationRetainedBy on a retained object is "<hub namespace>/<work>"
	// of the ServiceWork whose deletion retained it.
	AnnotationRetainedBy = "fleet.berth.io/retained-by"
	// AnnotationRetainedAt on a retained object is when it was retained
	// (RFC 3339).
	AnnotationRetainedAt = "fleet.berth.io/retained-at"
)

// Names of the guard-rail objects in the platform namespace.
const (
	networkPolicyName = "berth-ingress"
	quotaName         = "berth-quota"
	limitRangeName    = "berth-limits"
	appTeamRoleName   = "berth-app-team-read"
	// zalandoTeamID is the teamId of every Zalando cluster berth renders;
	// cluster names are "<teamId>-<managedservice>".
	zalandoTeamID = "berth"
	// appUser and appDatabase are the application user and database.
	appUser     = "app"
	appDatabase = "app"
)

// AppTeamGroup is the group of the app team of a consumer namespace, given
// read-only access to the service's connection Secret and status objects.
// berth assumes the cluster's OIDC or impersonation maps team members to it.
func AppTeamGroup(namespace string) string { return "berth:app-team:" + namespace }
