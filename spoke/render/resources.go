package render

import (
	"fmt"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Default per-replica resources when the ServiceTemplate sets none. Databases
// run with requests equal to limits (Guaranteed QoS), so a missing side
// copies the other.
var (
	defaultCPU    = resource.MustParse("250m")
	defaultMemory = resource.MustParse("256Mi")
)

// allowance is what berth budgets for a container it does not size itself
// (operator sidecars and init containers); it is also the LimitRange default.
var allowance = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
	},
	Limits: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
	},
}

// effectiveResources fills the cpu and memory requests and limits of a
// replica: a missing request copies the limit, a missing limit copies the
// request, and when both are missing the defaults apply. A request above its
// limit is an error naming the field.
func effectiveResources(in corev1.ResourceRequirements) (corev1.ResourceRequirements, error) {
	out := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for name, def := range map[corev1.ResourceName]resource.Quantity{
		corev1.ResourceCPU: defaultCPU, corev1.ResourceMemory: defaultMemory,
	} {
		req, hasReq := in.Requests[name]
		lim, hasLim := in.Limits[name]
		switch {
		case hasReq && hasLim:
			if req.Cmp(lim) > 0 {
				return out, fmt.Errorf("spec.service.resources.requests.%s (%s) is above spec.service.resources.limits.%s (%s)",
					name, req.String(), name, lim.String())
			}
		case hasReq:
			lim = req
		case hasLim:
			req = lim
		default:
			req, lim = def, def
		}
		if req.Sign() <= 0 {
			return out, fmt.Errorf("spec.service.resources.requests.%s must be positive, got %s", name, req.String())
		}
		out.Requests[name] = req.DeepCopy()
		out.Limits[name] = lim.DeepCopy()
	}
	return out, nil
}

// zalandoCPUPattern and zalandoMemoryPattern are the formats the Zalando
// postgresql CRD accepts for cpu and for memory and volume sizes.
var (
	zalandoCPUPattern    = regexp.MustCompile(`^(\d+m|\d+(\.\d{1,3})?)$`)
	zalandoMemoryPattern = regexp.MustCompile(`^(\d+(e\d+)?|\d+(\.\d+)?(e\d+)?[EPTGMK]i?)$`)
)

// cpuString formats a cpu quantity as millicores, a form every CRD accepts.
func cpuString(q resource.Quantity) string {
	return fmt.Sprintf("%dm", q.MilliValue())
}

// bytesString formats a memory or storage quantity in the largest binary
// unit that divides it, or in bytes. The result matches the Zalando pattern.
func bytesString(q resource.Quantity) string {
	v := q.Value()
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if v >= u.size && v%u.size == 0 {
			return fmt.Sprintf("%d%s", v/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d", v)
}

// podGroup is a set of identical pods of a service, for sizing the quota.
type podGroup struct {
	name  string
	count int64
	// resources of the pod: the sum of its containers, or its largest init
	// container, whichever is larger.
	resources corev1.ResourceRequirements
	// pvcs per pod and their size.
	pvcs    int64
	storage resource.Quantity
}

// podResources is the scheduling size of a pod: max(sum of containers, each
// init container), for requests and limits separately.
func podResources(containers []corev1.ResourceRequirements, inits []corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, c := range containers {
		addList(out.Requests, c.Requests)
		addList(out.Limits, c.Limits)
	}
	for _, ic := range inits {
		maxList(out.Requests, ic.Requests)
		maxList(out.Limits, ic.Limits)
	}
	return out
}

// addList adds b to a, in place.
func addList(a, b corev1.ResourceList) {
	for k, v := range b {
		q := a[k]
		q.Add(v)
		a[k] = q
	}
}

// maxList raises a to b where b is larger, in place.
func maxList(a, b corev1.ResourceList) {
	for k, v := range b {
		if q, ok := a[k]; !ok || v.Cmp(q) > 0 {
			a[k] = v.DeepCopy()
		}
	}
}

// scaleList multiplies every quantity of l by n.
func scaleList(l corev1.ResourceList, n int64) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range l {
		out[k] = *resource.NewMilliQuantity(v.MilliValue()*n, v.Format)
	}
	return out
}
