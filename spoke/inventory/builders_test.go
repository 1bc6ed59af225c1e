package inventory

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeBuilder builds test Nodes.
type nodeBuilder struct{ n *corev1.Node }

func newNode(name string) *nodeBuilder {
	return &nodeBuilder{n: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}}
}

func (b *nodeBuilder) label(k, v string) *nodeBuilder { b.n.Labels[k] = v; return b }

func (b *nodeBuilder) taint(k, v string, e corev1.TaintEffect) *nodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, corev1.Taint{Key: k, Value: v, Effect: e})
	return b
}

func (b *nodeBuilder) allocatable(cpu, mem, storage string) *nodeBuilder {
	b.n.Status.Allocatable = rl(cpu, mem, storage)
	return b
}

func (b *nodeBuilder) build() *corev1.Node { return b.n }

// rl builds a ResourceList of cpu, memory and ephemeral-storage; empty
// strings are left out.
func rl(cpu, mem, storage string) corev1.ResourceList {
	out := corev1.ResourceList{}
	if cpu != "" {
		out[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		out[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	if storage != "" {
		out[corev1.ResourceEphemeralStorage] = resource.MustParse(storage)
	}
	return out
}

// podBuilder builds test Pods.
type podBuilder struct{ p *corev1.Pod }

func newPod(name, node string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}}
}

func (b *podBuilder) container(req corev1.ResourceList) *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}})
	return b
}

func (b *podBuilder) initContainer(req corev1.ResourceList) *podBuilder {
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: "i", Resources: corev1.ResourceRequirements{Requests: req}})
	return b
}

func (b *podBuilder) sidecar(req corev1.ResourceList) *podBuilder {
	always := corev1.ContainerRestartPolicyAlways
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: "s", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: req}})
	return b
}

func (b *podBuilder) overhead(req corev1.ResourceList) *podBuilder {
	b.p.Spec.Overhead = req
	return b
}

func (b *podBuilder) podLevel(req corev1.ResourceList) *podBuilder {
	b.p.Spec.Resources = &corev1.ResourceRequirements{Requests: req}
	return b
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.p.Status.Phase = p; return b }

func (b *podBuilder) build() *corev1.Pod { return b.p }
