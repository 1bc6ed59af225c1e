package inventory

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

func TestPodRequests(t *testing.T) {
	testCases := []struct {
		name string
		pod  *corev1.Pod
		want corev1.ResourceList
	}{
		{
			name: "no requests",
			pod:  newPod("p", "n").container(nil).build(),
			want: corev1.ResourceList{},
		},
		{
			name: "containers add up",
			pod:  newPod("p", "n").container(rl("100m", "128Mi", "")).container(rl("200m", "", "1Gi")).build(),
			want: rl("300m", "128Mi", "1Gi"),
		},
		{
			name: "an init container larger than the containers sets the figure, per resource",
			pod:  newPod("p", "n").initContainer(rl("2", "64Mi", "")).container(rl("500m", "1Gi", "")).build(),
			want: rl("2", "1Gi", ""),
		},
		{
			name: "init containers run one at a time: the largest counts, not the sum",
			pod:  newPod("p", "n").initContainer(rl("1", "", "")).initContainer(rl("1", "", "")).container(rl("500m", "", "")).build(),
			want: rl("1", "", ""),
		},
		{
			name: "sidecars add to the containers",
			pod:  newPod("p", "n").sidecar(rl("100m", "64Mi", "")).container(rl("500m", "256Mi", "")).build(),
			want: rl("600m", "320Mi", ""),
		},
		{
			name: "an init container after a sidecar runs next to it",
			pod: newPod("p", "n").sidecar(rl("500m", "", "")).initContainer(rl("2", "", "")).
				container(rl("100m", "", "")).build(),
			want: rl("2500m", "", ""),
		},
		{
			name: "an init container before a sidecar does not run next to it",
			pod: newPod("p", "n").initContainer(rl("2", "", "")).sidecar(rl("500m", "", "")).
				container(rl("100m", "", "")).build(),
			want: rl("2", "", ""),
		},
		{
			name: "pod overhead is added",
			pod:  newPod("p", "n").container(rl("1", "1Gi", "")).overhead(rl("250m", "120Mi", "")).build(),
			want: rl("1250m", "1144Mi", ""),
		},
		{
			name: "pod-level requests replace container figures for what they name",
			pod:  newPod("p", "n").container(rl("1", "1Gi", "5Gi")).podLevel(rl("3", "", "")).build(),
			want: rl("3", "1Gi", "5Gi"),
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := PodRequests(tc.pod)
			g.Expect(equality.Semantic.DeepEqual(got, tc.want)).To(BeTrue(), "got %v, want %v", got, tc.want)
		})
	}
}

func TestPodRequestsDoesNotModifyThePod(t *testing.T) {
	g := NewWithT(t)
	pod := newPod("p", "n").container(rl("1", "", "")).initContainer(rl("2", "", "")).overhead(rl("1", "", "")).build()
	before := pod.DeepCopy()
	_ = PodRequests(pod)
	_ = PodRequests(pod)
	g.Expect(equality.Semantic.DeepEqual(pod, before)).To(BeTrue())
}
