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
	for _, name := range []string{"propagation", "registration"} {
		s := series[name]
		if len(s) == 0 {
			continue
		}
		sort.Slice(s, func(i, j int) bool { return s[i].Members < s[j].Members })
		plotted[name] = s
		fmt.Fprintf(md, "### %s latency against members\n\n| members | samples | p50 | p90 | p99 | max |\n|---:|---:|---:|---:|---:|---:|\n", titleCase(name))
		for _, x := range s {
			fmt.Fprintf(md, "| %d | %d | %s | %s | %s | %s |\n", x.Members, x.Latency.Count, ms(x.Latency.P50US), ms(x.Latency.P90US), ms(x.Latency.P99US), ms(x.Latency.MaxUS))
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
		md.WriteString("### Hub memory\n\n| members | RSS (MiB) |\n|---:|---:|\n")
		for _, m := range mem {
			fmt.Fprintf(md, "| %d | %.1f |\n", m.Members, float64(m.RSSBytes)/(1<<20))
		}
		md.WriteString("\n")
	}
	return files, nil
}

// writeBlastRadius renders the outage experiments.
func writeBlastRadius(md *strings.Builder, inputs []Input) {
	md.WriteString("\n## Blast radius\n\n")
	n := 0
	for _, in := range inputs {
		for _, o := range in.Doc.BlastRadius {
			n++
			fmt.Fprintf(md, "### Stopped: %s\n\n| app | engine | placement | lost service | downtime |\n|---|---|---|---|---:|\n", o.Stopped)
			for _, a := range o.Apps {
				lost := "no"
				if a.LostService {
					lost = "**yes**"
				}
				fmt.Fprintf(md, "| %s | %s | %s | %s | %s |\n", a.App, a.Engine, a.Placement, lost, a.Downtime)
			}
			md.WriteString("\n")
		}
	}
	if n == 0 {
		md.WriteString("No blast-radius results in these files.\n")
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sortedKeys(m map[string][]results.MemberSeries) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
