package framework

import (
	"maps"
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
)

// NeedOn is what placing svc on m adds to m's requested figures: its total
// requests, or nothing on the cluster it is already placed on, whose
// requested figures already count its pods.
func NeedOn(svc *Service, m *Member) Resources {
	if svc.Current != "" && svc.Current == m.Name {
		return Resources{}
	}
	return svc.Requests
}

// PoolEligible reports whether the service's pods may run on the pool:
// the pool carries every label of the service's nodePool.nodeSelector, and
// the service's nodePool.tolerations tolerate each of the pool's NoSchedule
// and NoExecute taints (PreferNoSchedule taints do not exclude a pool).
func PoolEligible(svc *Service, p *Pool) bool {
	if len(svc.NodeSelector) > 0 {
		for k, v := range svc.NodeSelector {
			if pv, ok := p.Labels[k]; !ok || pv != v {
				return false
			}
		}
	}
	for i := range p.Taints {
		t := &p.Taints[i]
		if t.Effect != corev1.TaintEffectPreferNoSchedule && !tolerated(svc.Tolerations, t) {
			return false
		}
	}
	return true
}

// IneligibleReason says why PoolEligible is false, or returns "".
func IneligibleReason(svc *Service, p *Pool) string {
	if len(svc.NodeSelector) > 0 {
		keys := svc.selectorKeys
		if len(keys) != len(svc.NodeSelector) {
			keys = slices.Sorted(maps.Keys(svc.NodeSelector))
		}
		for _, k := range keys {
			v := svc.NodeSelector[k]
			if pv, ok := p.Labels[k]; !ok || pv != v {
				return "label " + k + "=" + v + " of nodePool.nodeSelector missing"
			}
		}
	}
	for i := range p.Taints {
		t := &p.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !tolerated(svc.Tolerations, t) {
			return "taint " + t.ToString() + " not tolerated"
		}
	}
	return ""
}

func tolerated(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if tols[i].ToleratesTaint(logr.Discard(), t, true) {
			return true
		}
	}
	return false
}

// Fits reports whether need fits into the pool's free resources. Storage
// counts only when checkStorage is true and the pool reports allocatable
// ephemeral-storage.
func Fits(need Resources, p *Pool, checkStorage bool) bool {
	free := p.Free()
	return need.MilliCPU <= free.MilliCPU && need.Memory <= free.Memory &&
		(!StorageChecked(p, checkStorage) || need.Storage <= free.Storage)
}

// StorageChecked reports whether Fits compares storage on the pool.
func StorageChecked(p *Pool, checkStorage bool) bool {
	return checkStorage && p.Allocatable.Storage > 0
}

// Utilisation is the mean, over cpu and memory, of the share of the pool
// that would be requested once need is added, clamped to 0..1. A resource
// the pool reports no allocatable amount of is left out; with neither, the
// pool counts as full.
func Utilisation(p *Pool, need Resources) float64 {
	var sum float64
	n := 0
	share := func(req, add, alloc int64) {
		if alloc <= 0 {
			return
		}
		n++
		sum += min(1, max(0, float64(req+add)/float64(alloc)))
	}
	share(p.Requested.MilliCPU, need.MilliCPU, p.Allocatable.MilliCPU)
	share(p.Requested.Memory, need.Memory, p.Allocatable.Memory)
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// PickPool returns the index of the eligible pool of m that svc fits into
// and that would be least utilised after placing it (the first such pool
// on a tie), or -1 when none fits.
func PickPool(svc *Service, m *Member, checkStorage bool) int {
	need := NeedOn(svc, m)
	best, bestUtil := -1, 2.0
	for i := range m.Pools {
		p := &m.Pools[i]
		if !Fits(need, p, checkStorage) || !PoolEligible(svc, p) {
			continue
		}
		if u := Utilisation(p, need); u < bestUtil {
			best, bestUtil = i, u
		}
	}
	return best
}
