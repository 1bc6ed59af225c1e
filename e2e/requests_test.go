//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// requestKey is one series of apiserver_request_total, reduced to what the
// quiet-fleet test needs: the verb and the resource it hit.
type requestKey struct {
	Verb, Group, Resource, Subresource string
}

func (k requestKey) String() string {
	r := k.Resource
	if k.Group != "" {
		r += "." + k.Group
	}
	if k.Subresource != "" {
		r += "/" + k.Subresource
	}
	return k.Verb + " " + r
}

// requestCounts maps each series to its request count.
type requestCounts map[requestKey]float64

// mutating reports whether a verb changes state. apiserver_request_total
// reports server-side apply as APPLY and create as POST.
func mutating(verb string) bool {
	switch verb {
	case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		return true
	}
	return false
}

// heartbeat reports whether a series is a heartbeat that every cluster
// serves at rest whatever berth does: Lease renewals (berth's spokes, the
// control plane's leader election, kwok's node leases) and kwok's node
// status updates.
func heartbeat(k requestKey) bool {
	return k.Resource == "leases" || k.Resource == "nodes" && k.Subresource == "status"
}

// kubernetesOwn reports whether a series is Kubernetes' own: core
// Endpoints, which berth never writes (it writes EndpointSlices). On the
// local fleet they are kube-apiserver's attempts, every 10 s, to write the
// Endpoints of its own `kubernetes` Service, rejected with 422 because the
// fleet advertises 127.0.0.1 (a loopback address); see kube-apiserver.log.
func kubernetesOwn(k requestKey) bool {
	return k.Group == "" && k.Resource == "endpoints"
}

// scrapeRequests reads apiserver_request_total from the apiserver of member.
func scrapeRequests(ctx context.Context, member string) (requestCounts, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Members[member].KubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig of %s: %w", member, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics of %s: %w", member, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics of %s: %w", member, err)
	}
	out := requestCounts{}
	fam, ok := families["apiserver_request_total"]
	if !ok {
		return nil, fmt.Errorf("%s serves no apiserver_request_total", member)
	}
	for _, m := range fam.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		k := requestKey{Verb: l["verb"], Group: l["group"], Resource: l["resource"], Subresource: l["subresource"]}
		out[k] += m.GetCounter().GetValue()
	}
	return out, nil
}

// since returns the requests served between before and after.
func (after requestCounts) since(before requestCounts) requestCounts {
	d := requestCounts{}
	for k, v := range after {
		if n := v - before[k]; n > 0 {
			d[k] = n
		}
	}
	return d
}

// writes returns the mutating requests, heartbeats excluded.
func (c requestCounts) writes() requestCounts {
	out := requestCounts{}
	for k, v := range c {
		if mutating(k.Verb) && !heartbeat(k) && !kubernetesOwn(k) {
			out[k] = v
		}
	}
	return out
}

// filter returns the series for which keep holds.
func (c requestCounts) filter(keep func(requestKey) bool) requestCounts {
	out := requestCounts{}
	for k, v := range c {
		if keep(k) {
			out[k] = v
		}
	}
	return out
}

// total sums the counts.
func (c requestCounts) total() float64 {
	var n float64
	for _, v := range c {
		n += v
	}
	return n
}

// String lists the series, largest first.
func (c requestCounts) String() string {
	keys := slices.Collect(maps.Keys(c))
	slices.SortFunc(keys, func(a, b requestKey) int {
		if c[a] != c[b] {
			if c[a] > c[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, c[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
