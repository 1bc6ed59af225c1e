package inventory

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// OperatorCRDs maps the CRD that reveals an operator to the operator.
var OperatorCRDs = map[string]fleetv1alpha1.Operator{
	"postgresqls.acid.zalan.do":              fleetv1alpha1.OperatorZalandoPostgres,
	"redisfailovers.databases.spotahome.com": fleetv1alpha1.OperatorSpotahomeRedis,
	"rabbitmqclusters.rabbitmq.com":          fleetv1alpha1.OperatorRabbitMQ,
}

// Cilium objects the inventory reads.
const (
	// CiliumCRD reveals Cilium.
	CiliumCRD = "ciliumnetworkpolicies.cilium.io"
	// ClusterMeshSecret, when it holds at least one key, reveals ClusterMesh.
	ClusterMeshSecret = "cilium-clustermesh"
	// CiliumConfigMap holds the cluster-name key.
	CiliumConfigMap = "cilium-config"
	// CiliumClusterNameKey is the key of the cluster's Cilium name.
	CiliumClusterNameKey = "cluster-name"
	// DefaultCiliumNamespace is where Cilium's Secret and ConfigMap live.
	DefaultCiliumNamespace = "kube-system"
)

// DetectCapabilities derives the capabilities from the installed CRDs and
// the Cilium objects; clusterMesh and ciliumConfig are nil when absent.
func DetectCapabilities(crds []*apiextensionsv1.CustomResourceDefinition, clusterMesh *corev1.Secret, ciliumConfig *corev1.ConfigMap) fleetv1alpha1.Capabilities {
	var caps fleetv1alpha1.Capabilities
	for _, crd := range crds {
		if !installed(crd) {
			continue
		}
		if op, ok := OperatorCRDs[crd.Name]; ok && !slices.Contains(caps.Operators, op) {
			caps.Operators = append(caps.Operators, op)
		}
		if crd.Name == CiliumCRD {
			caps.Cilium = true
		}
	}
	slices.Sort(caps.Operators)
	if caps.Cilium {
		caps.ClusterMesh = clusterMesh != nil && clusterMesh.DeletionTimestamp == nil && len(clusterMesh.Data) > 0
		if ciliumConfig != nil {
			caps.CiliumClusterName = ciliumConfig.Data[CiliumClusterNameKey]
		}
	}
	return caps
}

func installed(crd *apiextensionsv1.CustomResourceDefinition) bool {
	if crd.DeletionTimestamp != nil {
		return false
	}
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}
