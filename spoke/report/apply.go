package report

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/inventory"
)

// FieldManager is the field manager of every spoke write.
const FieldManager = "berth-spoke"

// OwnedStatusFields are the status fields the spoke owns, by JSON name.
var OwnedStatusFields = []string{
	"conditions", "agentVersion", "probeEndpoint", "nodePools", "poolCount", "capabilities", "latencies",
}

// State is everything the spoke reports.
type State struct {
	// AgentVersion of the spoke.
	AgentVersion string
	// ProbeEndpoint is the advertised host:port of the probe server.
	ProbeEndpoint string
	// Inventory is the latest inventory snapshot.
	Inventory inventory.Snapshot
	// Latencies to peers, sorted by peer.
	Latencies []fleetv1alpha1.PeerLatency
	// JoinedSince is the lastTransitionTime of the Joined condition.
	JoinedSince metav1.Time
}

// JoinedCondition is the spoke's Joined condition.
func JoinedCondition(version string, since metav1.Time) metav1.Condition {
	return metav1.Condition{
		Type:               fleetv1alpha1.ConditionJoined,
		Status:             metav1.ConditionTrue,
		Reason:             fleetv1alpha1.ReasonAgentConnected,
		Message:            fmt.Sprintf("berth-spoke %s is connected and reporting", version),
		LastTransitionTime: since,
	}
}

// DesiredStatus is the spoke's part of the MemberCluster status for s: the
// Joined condition and the fields of OwnedStatusFields.
func DesiredStatus(s State) fleetv1alpha1.MemberClusterStatus {
	return fleetv1alpha1.MemberClusterStatus{
		Conditions:    []metav1.Condition{JoinedCondition(s.AgentVersion, s.JoinedSince)},
		AgentVersion:  s.AgentVersion,
		ProbeEndpoint: s.ProbeEndpoint,
		NodePools:     s.Inventory.NodePools,
		PoolCount:     int32(len(s.Inventory.NodePools)),
		Capabilities:  s.Inventory.Capabilities,
		Latencies:     s.Latencies,
	}
}

// OwnedStatus keeps the spoke's part of a MemberCluster status: its Joined
// condition and the fields of OwnedStatusFields.
func OwnedStatus(st fleetv1alpha1.MemberClusterStatus) fleetv1alpha1.MemberClusterStatus {
	out := fleetv1alpha1.MemberClusterStatus{
		AgentVersion:  st.AgentVersion,
		ProbeEndpoint: st.ProbeEndpoint,
		NodePools:     st.NodePools,
		PoolCount:     st.PoolCount,
		Capabilities:  st.Capabilities,
		Latencies:     st.Latencies,
	}
	if c := meta.FindStatusCondition(st.Conditions, fleetv1alpha1.ConditionJoined); c != nil {
		out.Conditions = []metav1.Condition{*c}
	}
	return out
}

// StatusEqual reports whether two statuses hold the same spoke-owned
// values. It compares semantically: quantities by value (1 and 1000m are
// equal), times by instant, nil and empty lists alike, so a value that only
// changed its spelling on the way through the API server is no change.
func StatusEqual(a, b fleetv1alpha1.MemberClusterStatus) bool {
	return equality.Semantic.DeepEqual(OwnedStatus(a), OwnedStatus(b))
}

// ApplyObject builds the server-side apply object for member's status: the
// MemberCluster's identity plus the owned status fields, and nothing else.
func ApplyObject(member string, s State) (*unstructured.Unstructured, error) {
	status := DesiredStatus(s)
	all, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		return nil, fmt.Errorf("converting the status of MemberCluster %s: %w", member, err)
	}
	owned := make(map[string]any, len(OwnedStatusFields))
	for _, f := range OwnedStatusFields {
		if v, ok := all[f]; ok {
			owned[f] = v
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": owned}}
	u.SetGroupVersionKind(fleetv1alpha1.GroupVersion.WithKind("MemberCluster"))
	u.SetName(member)
	return u, nil
}
