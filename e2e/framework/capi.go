package framework

import (
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// CAPIGroupVersion is the Cluster API version the local fleet serves; its
// CRDs are generated from sigs.k8s.io/cluster-api/api into testdata/capi-crds.
var CAPIGroupVersion = clusterv1.GroupVersion
