package hub

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// CacheOptions bound what the hub's informers hold, so that the hub's memory
// follows the fleet, not the management cluster: a Cluster API management
// cluster holds thousands of Secrets (Helm releases, certificates,
// bootstrap data), ConfigMaps and RBAC objects the hub never reads.
//
//   - Every object: managedFields are dropped.
//   - ConfigMaps, Roles, RoleBindings, ClusterRoles and ClusterRoleBindings:
//     only those labelled fleet.berth.io/member are cached, which is every
//     one the hub creates (the peers ConfigMap, the spoke's RBAC in its hub
//     namespace and its ClusterRole). The hub's other RBAC writes go through
//     an uncached client.
//   - Secrets: all are cached, because the hub reads Cluster API's
//     <cluster>-kubeconfig Secrets by name and CAPI does not promise a label
//     on user-provided ones; but only berth's and Cluster API's Secrets keep
//     their data (see keepsSecretData). Of the others the cache holds the
//     metadata: their data, the bulk of their size, is dropped.
func CacheOptions() cache.Options {
	owned := labels.NewSelector()
	if req, err := labels.NewRequirement(fleetv1alpha1.LabelMember, selection.Exists, nil); err == nil {
		owned = owned.Add(*req)
	}
	strip := cache.TransformStripManagedFields()
	return cache.Options{
		DefaultTransform: strip,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}:          {Label: owned},
			&rbacv1.Role{}:               {Label: owned},
			&rbacv1.RoleBinding{}:        {Label: owned},
			&rbacv1.ClusterRole{}:        {Label: owned},
			&rbacv1.ClusterRoleBinding{}: {Label: owned},
			&corev1.Secret{}:             {Transform: chain(strip, stripForeignSecretData)},
		},
	}
}

// chain applies transforms in order.
func chain(fns ...toolscache.TransformFunc) toolscache.TransformFunc {
	return func(in any) (any, error) {
		var err error
		for _, fn := range fns {
			if in, err = fn(in); err != nil {
				return nil, err
			}
		}
		return in, nil
	}
}

// secretDataLabels mark the Secrets whose data the hub reads: the hub's
// own (the spoke's hub kubeconfig), the credentials spokes publish and the
// hub copies, and Cluster API's kubeconfig Secrets.
var secretDataLabels = []string{
	fleetv1alpha1.LabelMember,
	fleetv1alpha1.LabelManagedService,
	fleetv1alpha1.LabelServiceWork,
	clusterv1.ClusterNameLabel,
}

// keepsSecretData reports whether the cache keeps a Secret's data: it
// carries one of secretDataLabels, is of Cluster API's Secret type, or is
// named like a Cluster API kubeconfig Secret (<cluster>-kubeconfig), which
// is how the hub finds those.
func keepsSecretData(s *corev1.Secret) bool {
	for _, l := range secretDataLabels {
		if _, ok := s.Labels[l]; ok {
			return true
		}
	}
	return s.Type == clusterv1.ClusterSecretType || strings.HasSuffix(s.Name, "-kubeconfig")
}

// lastApplied is kubectl's annotation that repeats an applied object,
// data included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// stripForeignSecretData drops the data of Secrets berth never reads.
func stripForeignSecretData(in any) (any, error) {
	s, ok := in.(*corev1.Secret)
	if !ok || keepsSecretData(s) {
		return in, nil
	}
	s.Data, s.StringData = nil, nil
	delete(s.Annotations, lastApplied)
	return s, nil
}
