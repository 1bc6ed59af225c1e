package inventory

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkNodePools measures one inventory recomputation: grouping nodes
// and summing the requests of ten pods per node.
func BenchmarkNodePools(b *testing.B) {
	for _, nodes := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("nodes=%d,pods=%d", nodes, nodes*10), func(b *testing.B) {
			ns := make([]*corev1.Node, nodes)
			pods := make([]*corev1.Pod, 0, nodes*10)
			for i := range ns {
				name := fmt.Sprintf("node-%d", i)
				ns[i] = newNode(name).label("node.berth.io/pool", fmt.Sprintf("pool-%d", i%8)).label("zone", "a").
					taint("dedicated", "x", corev1.TaintEffectNoSchedule).allocatable("16", "64Gi", "200Gi").build()
				for j := range 10 {
					pods = append(pods, newPod(fmt.Sprintf("%s-%d", name, j), name).
						initContainer(rl("1", "128Mi", "")).container(rl("250m", "512Mi", "1Gi")).build())
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if got := NodePools(ns, pods, DefaultPoolLabels); len(got) != 8 {
					b.Fatalf("got %d pools", len(got))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/recompute")
		})
	}
}
