package apimetrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Key is one series of apiserver_request_total, reduced to the verb and the
// resource.
type Key struct {
	Verb, Resource, Subresource string
}

// String is "VERB resource[/subresource]".
func (k Key) String() string {
	if k.Subresource != "" {
		return k.Verb + " " + k.Resource + "/" + k.Subresource
	}
	return k.Verb + " " + k.Resource
}

// Counts maps series to request counts.
type Counts map[Key]float64

var (
	requestLine = regexp.MustCompile(`^apiserver_request_total\{(.*)\} ([0-9.e+]+)$`)
	labelPair   = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// Mutating scrapes the apiserver cfg reaches (it must be allowed to get
// /metrics) and returns the mutating requests it served, Leases left out.
func Mutating(ctx context.Context, cfg *rest.Config) (Counts, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s: %w", cfg.Host, err)
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics of %s: %w", cfg.Host, err)
	}
	return parse(raw)
}

func parse(raw []byte) (Counts, error) {
	out := Counts{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := requestLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			labels[p[1]] = p[2]
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		default:
			continue
		}
		if labels["resource"] == "leases" {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("apiserver_request_total %s: %w", m[1], err)
		}
		out[Key{Verb: labels["verb"], Resource: labels["resource"], Subresource: labels["subresource"]}] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading apiserver_request_total: %w", err)
	}
	return out, nil
}

// Sub returns c minus before, without the series that did not move.
func (c Counts) Sub(before Counts) Counts {
	d := Counts{}
	for k, v := range c {
		if n := v - before[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// Total is the sum of the counts.
func (c Counts) Total() float64 {
	var t float64
	for _, v := range c {
		t += v
	}
	return t
}

// String lists the series sorted, "VERB resource: n" comma-separated.
func (c Counts) String() string {
	lines := make([]string, 0, len(c))
	for k, v := range c {
		lines = append(lines, fmt.Sprintf("%s: %g", k, v))
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return "none"
	}
	return strings.Join(lines, ", ")
}
