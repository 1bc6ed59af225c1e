package framework

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/berth-io/berth/hack/clustertools"
)

// kwokNodeAnnotation marks a node as simulated by kwok.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// PoolNodes returns the kwok Node objects of a pool in a cluster, named
// <cluster>-<pool>-<i>.
func PoolNodes(cluster string, pool NodePool) []corev1.Node {
	pool = pool.withDefaults()
	resources := corev1.ResourceList{
		corev1.ResourceCPU:              pool.CPU,
		corev1.ResourceMemory:           pool.Memory,
		corev1.ResourceEphemeralStorage: pool.EphemeralStorage,
		corev1.ResourcePods:             *resource.NewQuantity(int64(pool.Pods), resource.DecimalSI),
	}
	nodes := make([]corev1.Node, 0, pool.Nodes)
	for i := range pool.Nodes {
		name := fmt.Sprintf("%s-%s-%d", cluster, pool.Name, i)
		labels := map[string]string{}
		maps.Copy(labels, pool.Labels)
		maps.Copy(labels, map[string]string{
			"kubernetes.io/hostname": name,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
			"kubernetes.io/role":     "agent",
			"type":                   "kwok",
			LabelNodePool:            pool.Name,
			LabelNodeType:            pool.NodeType,
		})
		nodes = append(nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      labels,
				Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			},
			Spec: corev1.NodeSpec{Taints: slices.Clone(pool.Taints)},
			Status: corev1.NodeStatus{
				Capacity:    resources.DeepCopy(),
				Allocatable: resources.DeepCopy(),
				Phase:       corev1.NodeRunning,
				NodeInfo: corev1.NodeSystemInfo{
					Architecture: "amd64", OperatingSystem: "linux",
					KubeletVersion: clustertools.Versions().Kube,
				},
			},
		})
	}
	return nodes
}

// createNodePools creates the cluster's nodes and waits until kwok reports
// them Ready and the node lifecycle controller has lifted its not-ready
// taint.
func createNodePools(ctx context.Context, c *Cluster, timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("creating clientset for %s: %w", c.Name, err)
	}
	var nodes []corev1.Node
	for _, p := range c.NodePools {
		nodes = append(nodes, PoolNodes(c.Name, p)...)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i := range nodes {
		wg.Go(func() {
			_, err := cs.CoreV1().Nodes().Create(ctx, &nodes[i], metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				errs[i] = fmt.Errorf("cluster %s: creating node %s: %w", c.Name, nodes[i].Name, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	var notReady []string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := map[string]bool{}
		for i := range list.Items {
			ready[list.Items[i].Name] = nodeReady(&list.Items[i]) && !hasNotReadyTaint(&list.Items[i])
		}
		notReady = notReady[:0]
		for _, n := range nodes {
			if !ready[n.Name] {
				notReady = append(notReady, n.Name)
			}
		}
		return len(notReady) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("cluster %s: nodes not Ready after %s: %s", c.Name, timeout, strings.Join(notReady, ", "))
	}
	return nil
}

// hasNotReadyTaint says whether the node lifecycle controller still keeps
// pods off the node, as it does for a new node until it saw it Ready.
func hasNotReadyTaint(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return true
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PoolStatus is what a cluster reports about one node pool.
type PoolStatus struct {
	// Name of the pool (node.berth.io/pool); nodes without the label are in
	// pool "-".
	Name string
	// NodeType is the pool's nodeType label.
	NodeType string
	// Nodes in the pool and how many are Ready.
	Nodes, Ready int
	// CPU, Memory and EphemeralStorage are the pool's total allocatable.
	CPU, Memory, EphemeralStorage resource.Quantity
	// Taints common to the pool's nodes, as key=value:Effect.
	Taints []string
}

// ClusterStatus is the observed state of one fleet cluster.
type ClusterStatus struct {
	// Cluster is the fleet's cluster.
	Cluster *Cluster
	// Err is set when the cluster did not answer.
	Err error
	// Pools observed from its nodes, sorted by name.
	Pools []PoolStatus
}

// Status asks every cluster for its nodes, in parallel.
func (f *Fleet) Status(ctx context.Context) []ClusterStatus {
	out := make([]ClusterStatus, len(f.Clusters))
	var wg sync.WaitGroup
	for i, c := range f.Clusters {
		out[i].Cluster = c
		wg.Go(func() {
			out[i].Pools, out[i].Err = clusterPools(ctx, c)
		})
	}
	wg.Wait()
	return out
}

func clusterPools(ctx context.Context, c *Cluster) ([]PoolStatus, error) {
	cfg := *c.Config
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		return nil, err
	}
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster %s does not answer at %s: %w", c.Name, c.Endpoint, err)
	}
	return SummarizePools(list.Items), nil
}

// SummarizePools groups nodes by their node.berth.io/pool label.
func SummarizePools(nodes []corev1.Node) []PoolStatus {
	pools := map[string]*PoolStatus{}
	for i := range nodes {
		n := &nodes[i]
		name := n.Labels[LabelNodePool]
		if name == "" {
			name = "-"
		}
		p, ok := pools[name]
		taints := taintStrings(n.Spec.Taints)
		if !ok {
			p = &PoolStatus{Name: name, NodeType: n.Labels[LabelNodeType], Taints: taints}
			pools[name] = p
		} else {
			p.Taints = intersect(p.Taints, taints)
		}
		p.Nodes++
		if nodeReady(n) {
			p.Ready++
		}
		alloc := n.Status.Allocatable
		p.CPU.Add(alloc[corev1.ResourceCPU])
		p.Memory.Add(alloc[corev1.ResourceMemory])
		p.EphemeralStorage.Add(alloc[corev1.ResourceEphemeralStorage])
	}
	out := make([]PoolStatus, 0, len(pools))
	for _, name := range sortedPoolNames(pools) {
		out = append(out, *pools[name])
	}
	return out
}

func taintStrings(taints []corev1.Taint) []string {
	out := make([]string, 0, len(taints))
	for _, t := range taints {
		out = append(out, t.ToString())
	}
	slices.Sort(out)
	return out
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// sortedPoolNames returns pool names in a stable order.
func sortedPoolNames(m map[string]*PoolStatus) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
