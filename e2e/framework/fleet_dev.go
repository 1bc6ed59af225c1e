package framework

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// The default development fleet (berthctl dev, make demo).
const (
	// DevFleetName names the development fleet's state directory.
	DevFleetName = "dev"
	// DevBasePort is the development fleet's first port: mgmt's
	// kube-apiserver listens on 127.0.0.1:31000, workload-1's on 31010, ...
	DevBasePort = 31000
	// DevCAPINamespace holds the CAPI Cluster objects in mgmt.
	DevCAPINamespace = "fleet"
	// DevManagementCluster is the development fleet's management cluster.
	DevManagementCluster = "mgmt"
)

// DatabaseTaint keeps everything but tolerating workloads off dedicated
// database nodes.
var DatabaseTaint = corev1.Taint{Key: LabelNodeType, Value: "database", Effect: corev1.TaintEffectNoSchedule}

// GeneralPool is an untainted pool of general-purpose nodes.
func GeneralPool(nodes int) NodePool {
	return NodePool{
		Name: "general", Nodes: nodes, NodeType: "general",
		CPU: resource.MustParse("8"), Memory: resource.MustParse("32Gi"), EphemeralStorage: resource.MustParse("100Gi"), Pods: 110,
	}
}

// DatabasePool is a pool of large nodes tainted nodeType=database:NoSchedule.
func DatabasePool(nodes int) NodePool {
	return NodePool{
		Name: "database", Nodes: nodes, NodeType: "database", Taints: []corev1.Taint{DatabaseTaint},
		CPU: resource.MustParse("16"), Memory: resource.MustParse("64Gi"), EphemeralStorage: resource.MustParse("500Gi"), Pods: 110,
	}
}

// DevFleetSpec is the default local fleet: mgmt (Management, with berth's
// and CAPI's CRDs), workload-1 and workload-2 (Workload) and services-1
// (Services), each with a general and a tainted database pool, registered as
// CAPI Clusters in mgmt's namespace "fleet". It outlives the process that
// starts it. basePort 0 means DevBasePort.
func DevFleetSpec(basePort int) FleetSpec {
	if basePort == 0 {
		basePort = DevBasePort
	}
	return FleetSpec{
		Name:       DevFleetName,
		BasePort:   basePort,
		Persistent: true,
		CAPI:       &CAPISpec{ManagementCluster: DevManagementCluster, Namespace: DevCAPINamespace},
		Clusters: []ClusterSpec{
			{Name: DevManagementCluster, Role: fleetv1alpha1.RoleManagement, CRDPaths: CRDPaths(), NodePools: []NodePool{GeneralPool(2), DatabasePool(1)}},
			{Name: "workload-1", Role: fleetv1alpha1.RoleWorkload, NodePools: []NodePool{GeneralPool(3), DatabasePool(2)}},
			{Name: "workload-2", Role: fleetv1alpha1.RoleWorkload, NodePools: []NodePool{GeneralPool(3), DatabasePool(2)}},
			{Name: "services-1", Role: fleetv1alpha1.RoleServices, NodePools: []NodePool{GeneralPool(1), DatabasePool(3)}},
		},
	}
}

// EnsureFleet returns the fleet of spec.Name when it already runs with the
// same clusters and every cluster answers (reported by the bool); otherwise
// it removes what is left of it and starts it.
func EnsureFleet(ctx context.Context, spec FleetSpec) (*Fleet, bool, error) {
	if err := spec.Validate(); err != nil {
		return nil, false, fmt.Errorf("invalid fleet spec: %w", err)
	}
	if f, err := LoadFleet(spec.Name); err == nil {
		if sameClusters(f, spec) && healthy(f.Status(ctx)) {
			return f, true, nil
		}
		if spec.Logf != nil {
			spec.Logf("Fleet %s is incomplete or does not answer; starting it again", spec.Name)
		}
	} else if !errors.Is(err, ErrFleetNotRunning) {
		return nil, false, err
	}
	f, err := StartFleet(ctx, spec)
	return f, false, err
}

func sameClusters(f *Fleet, spec FleetSpec) bool {
	want := make([]string, 0, len(spec.Clusters))
	for _, c := range spec.Clusters {
		want = append(want, c.Name)
	}
	return slices.Equal(f.ClusterNames(), want)
}

func healthy(statuses []ClusterStatus) bool {
	for _, s := range statuses {
		if s.Err != nil {
			return false
		}
	}
	return true
}
