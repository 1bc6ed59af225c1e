package inventory

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// amounts holds one figure per TrackedResources entry: cpu in millicores,
// memory and ephemeral-storage in bytes. Summing int64s keeps a
// recomputation over a large cluster cheap (see BenchmarkNodePools).
type amounts [3]int64

func (a *amounts) add(b amounts) {
	for i := range a {
		a[i] += b[i]
	}
}

// list converts a to a ResourceList holding every tracked resource.
func (a amounts) list() corev1.ResourceList {
	out := make(corev1.ResourceList, len(TrackedResources))
	for i, r := range TrackedResources {
		out[r] = quantity(i, a[i])
	}
	return out
}

func quantity(i int, v int64) resource.Quantity {
	if TrackedResources[i] == corev1.ResourceCPU {
		return *resource.NewMilliQuantity(v, resource.DecimalSI)
	}
	return *resource.NewQuantity(v, resource.BinarySI)
}

// amountOf reads the i-th tracked resource of l.
func amountOf(l corev1.ResourceList, i int) int64 {
	q, ok := l[TrackedResources[i]]
	if !ok {
		return 0
	}
	if TrackedResources[i] == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

func listAmounts(l corev1.ResourceList) amounts {
	var a amounts
	for i := range a {
		a[i] = amountOf(l, i)
	}
	return a
}

// PodRequests returns the tracked resources the scheduler reserves for pod
// (see the package documentation for the rule); resources with nothing
// requested are left out.
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	a := podAmounts(pod)
	out := corev1.ResourceList{}
	for i, r := range TrackedResources {
		if a[i] != 0 {
			out[r] = quantity(i, a[i])
		}
	}
	return out
}

func podAmounts(pod *corev1.Pod) amounts {
	var a amounts
	for i := range a {
		a[i] = podAmount(pod, i)
	}
	return a
}

// podAmount applies the scheduler's rule to the i-th tracked resource.
func podAmount(pod *corev1.Pod, i int) int64 {
	var running int64
	for c := range pod.Spec.Containers {
		running += amountOf(pod.Spec.Containers[c].Resources.Requests, i)
	}
	// Sidecars run for the pod's whole life, next to the containers. While
	// init containers run one by one, each needs its own request plus the
	// sidecars started before it.
	var sidecars, initPeak int64
	for c := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[c]
		v := amountOf(ic.Resources.Requests, i)
		if ic.RestartPolicy != nil && *ic.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			running += v
			sidecars += v
			initPeak = max(initPeak, sidecars)
			continue
		}
		initPeak = max(initPeak, v+sidecars)
	}
	total := max(running, initPeak)
	if pod.Spec.Resources != nil {
		if _, ok := pod.Spec.Resources.Requests[TrackedResources[i]]; ok {
			total = amountOf(pod.Spec.Resources.Requests, i)
		}
	}
	return total + amountOf(pod.Spec.Overhead, i)
}
