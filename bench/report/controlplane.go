package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-io/berth/bench/results"
)

// writeControlPlane renders every document's control-path section.
func writeControlPlane(md *strings.Builder, outDir string, inputs []Input) ([]string, error) {
	md.WriteString("\n## Control path\n\n")
	var cps []*results.ControlPlane
	for _, in := range inputs {
		if in.Doc.ControlPlane != nil {
			cps = append(cps, in.Doc.ControlPlane)
		}
	}
	if len(cps) == 0 {
		md.WriteString("No control-path results in these files.\n")
		return nil, nil
	}
	var files []string
	var benches []results.PlacementBench
	series := map[string][]results.MemberSeries{}
	var mem []results.HubMemory
	for _, cp := range cps {
		benches = append(benches, cp.Placement...)
		series["propagated"] = append(series["propagated"], cp.Propagated...)
		series["propagation"] = append(series["propagation"], cp.Propagation...)
		series["registration"] = append(series["registration"], cp.Registration...)
		mem = append(mem, cp.HubMemory...)
	}
	if len(benches) > 0 {
		md.WriteString("### Placement decisions\n\n| benchmark | members | ns/op | B/op | allocs/op |\n|---|---:|---:|---:|---:|\n")
		for _, b := range benches {
			fmt.Fprintf(md, "| %s | %d | %.0f | %.0f | %.0f |\n", b.Name, b.Members, b.NsPerOp, b.BytesPerOp, b.AllocsPerOp)
		}
		md.WriteString("\n")
	}
	plotted := map[string][]results.MemberSeries{}
	for _, name := range []string{"registration", "propagated", "propagation"} {
		s := series[name]
		if len(s) == 0 {
			continue
		}
		sort.Slice(s, func(i, j int) bool { return s[i].Members < s[j].Members })
		plotted[name] = s
		fmt.Fprintf(md, "### %s against members\n\n%s\n\n", seriesTitles[name], seriesMeanings[name])
		md.WriteString("| members | samples | missing | p50 | p90 | p99 | max | per second |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range s {
			fmt.Fprintf(md, "| %d | %d | %d | %s | %s | %s | %s | %.1f |\n", x.Members, x.Latency.Count, x.Latency.Errors,
				ms(x.Latency.P50US), ms(x.Latency.P90US), ms(x.Latency.P99US), ms(x.Latency.MaxUS), x.Latency.OpsPerSec)
		}
		md.WriteString("\n")
	}
	if len(plotted) > 0 {
		name := "controlplane-latency-vs-members.svg"
		if err := plotMembers(filepath.Join(outDir, name), "control-path latency against members", plotted); err != nil {
			return files, err
		}
		files = append(files, filepath.Join(outDir, name))
		fmt.Fprintf(md, "![control-path latency against members](%s)\n\n", name)
	}
	if len(mem) > 0 {
		sort.Slice(mem, func(i, j int) bool { return mem[i].Members < mem[j].Members })
		md.WriteString("### Hub memory and CPU\n\nResident set size of the berth-hub process, read from /proc: idle after start, once every member was Available, once every service was Ready, and the peak (VmHWM); CPU is its user and system time over the whole run.\n\n")
		md.WriteString("| members | services | idle RSS (MiB) | registered RSS (MiB) | RSS (MiB) | peak RSS (MiB) | CPU (s) | reconciles |\n|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, m := range mem {
			fmt.Fprintf(md, "| %d | %d | %s | %s | %.1f | %s | %s | %s |\n", m.Members, m.Services, optMiB(m.IdleRSSBytes), optMiB(m.RegisteredRSSBytes),
				float64(m.RSSBytes)/(1<<20), optMiB(m.PeakRSSBytes), optFloat(m.CPUSeconds), reconcileCounts(m.Reconciles))
		}
		md.WriteString("\n")
	}
	return files, nil
}

// seriesTitles and seriesMeanings describe the control-path series.
var (
	seriesTitles = map[string]string{
		"registration": "Registration latency",
		"propagated":   "Propagation latency (applied)",
		"propagation":  "Propagation latency (ready)",
	}
	seriesMeanings = map[string]string{
		"registration": "MemberCluster created -> Available: the hub creates the member's namespace, identity and credentials, and the spoke renews its Lease with them. All members are created at once.",
		"propagated":   "ManagedService created -> Propagated=True: placed, and every ServiceWork applied by its spoke. All services are created at once.",
		"propagation":  "ManagedService created -> Ready=True: the provider reports the engine ready and the consumer is bound (for a remote consumer, after the hub copied the published credentials).",
	}
)

// reconcileCounts lists reconciliations per controller, by name.
func reconcileCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "–"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}

func optMiB(b uint64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func optFloat(f float64) string {
	if f == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", f)
}

func sortedKeys(m map[string][]results.MemberSeries) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
