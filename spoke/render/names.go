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
// berth-<managedservice namespace>-<managedservice name>. When that is
// longer than 63 characters it is cut to 54 and suffixed with "-" and the
// first 8 hex digits of the SHA-256 of "<namespace>/<name>". The name only
// depends on the ManagedService, so a provider and a ClusterMesh consumer
// agree on it.
func PlatformNamespace(ref fleetv1alpha1.ServiceReference) string {
	return fitName("berth-"+ref.Namespace+"-"+ref.Name, ref.Namespace+"/"+ref.Name)
}

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
func GeneratedSecretName(ref fleetv1alpha1.ServiceReference) types.NamespacedName {
	return types.NamespacedName{Namespace: PlatformNamespace(ref), Name: ref.Name + "-credentials"}
}

// GlobalServiceHost is the host a ClusterMesh consumer reaches the exposure
// under: the global service's name in the platform namespace.
func GlobalServiceHost(ref fleetv1alpha1.ServiceReference) string {
	return ExposureServiceName(ref) + "." + PlatformNamespace(ref) + ".svc"
}

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
