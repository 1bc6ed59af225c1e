package inventory

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// DefaultPoolLabels are the node labels that name a node's pool, in order.
var DefaultPoolLabels = []string{"node.berth.io/pool", "nodeType"}

// DefaultPoolName is the pool of nodes that carry none of the pool labels.
const DefaultPoolName = "default"

// TrackedResources are the resources NodePools sums.
var TrackedResources = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
}

// perNodeLabels are never reported as pool labels: they identify one node.
var perNodeLabels = map[string]bool{corev1.LabelHostname: true}

// stateTaintPrefix marks the taints Kubernetes adds and removes to reflect a
// node's condition (not-ready, unreachable, memory-pressure, ...). They say
// how a node is doing, not what the pool is for, so pools do not report them.
const stateTaintPrefix = "node.kubernetes.io/"

// PoolName returns the value of the first of poolLabels that node carries
// with a non-empty value, else DefaultPoolName.
func PoolName(node *corev1.Node, poolLabels []string) string {
	for _, l := range poolLabels {
		if v := node.Labels[l]; v != "" {
			return v
		}
	}
	return DefaultPoolName
}

// NodePools groups nodes into pools and sums the requests of pods bound to
// them. Pods that are Succeeded or Failed, unbound, or bound to a node not in
// nodes are not counted. The result is sorted by pool name.
func NodePools(nodes []*corev1.Node, pods []*corev1.Pod, poolLabels []string) []fleetv1alpha1.NodePool {
	type acc struct {
		pool        fleetv1alpha1.NodePool
		labels      map[string]string
		taints      []corev1.Taint
		allocatable amounts
		requested   amounts
	}
	pools := map[string]*acc{}
	poolOf := make(map[string]string, len(nodes))
	for _, n := range nodes {
		name := PoolName(n, poolLabels)
		poolOf[n.Name] = name
		a := pools[name]
		if a == nil {
			a = &acc{
				pool:   fleetv1alpha1.NodePool{Name: name},
				labels: nodeLabels(n),
				taints: nodeTaints(n),
			}
			pools[name] = a
		} else {
			a.labels = commonLabels(a.labels, n.Labels)
			a.taints = commonTaints(a.taints, n.Spec.Taints)
		}
		a.pool.NodeCount++
		a.allocatable.add(listAmounts(n.Status.Allocatable))
	}
	for _, p := range pods {
		if p.Spec.NodeName == "" || terminal(p) {
			continue
		}
		name, ok := poolOf[p.Spec.NodeName]
		if !ok {
			continue
		}
		pools[name].requested.add(podAmounts(p))
	}
	out := make([]fleetv1alpha1.NodePool, 0, len(pools))
	for _, a := range pools {
		a.pool.Allocatable = a.allocatable.list()
		a.pool.Requested = a.requested.list()
		if len(a.labels) > 0 {
			a.pool.Labels = a.labels
		}
		if len(a.taints) > 0 {
			a.pool.Taints = a.taints
		}
		out = append(out, a.pool)
	}
	slices.SortFunc(out, func(a, b fleetv1alpha1.NodePool) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func nodeLabels(n *corev1.Node) map[string]string {
	out := make(map[string]string, len(n.Labels))
	for k, v := range n.Labels {
		if !perNodeLabels[k] {
			out[k] = v
		}
	}
	return out
}

// commonLabels keeps the entries of have that labels has with the same value.
func commonLabels(have, labels map[string]string) map[string]string {
	for k, v := range have {
		if w, ok := labels[k]; !ok || w != v {
			delete(have, k)
		}
	}
	return have
}

func nodeTaints(n *corev1.Node) []corev1.Taint {
	out := make([]corev1.Taint, 0, len(n.Spec.Taints))
	for _, t := range n.Spec.Taints {
		if strings.HasPrefix(t.Key, stateTaintPrefix) {
			continue
		}
		out = append(out, corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
	}
	slices.SortFunc(out, compareTaints)
	return slices.CompactFunc(out, func(a, b corev1.Taint) bool { return compareTaints(a, b) == 0 })
}

// commonTaints keeps the taints of have that taints also holds.
func commonTaints(have, taints []corev1.Taint) []corev1.Taint {
	return slices.DeleteFunc(have, func(h corev1.Taint) bool {
		return !slices.ContainsFunc(taints, func(t corev1.Taint) bool {
			return t.Key == h.Key && t.Value == h.Value && t.Effect == h.Effect
		})
	})
}

func compareTaints(a, b corev1.Taint) int {
	return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Effect, b.Effect), cmp.Compare(a.Value, b.Value))
}
