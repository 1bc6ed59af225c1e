package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/berth-io/berth/bench/results"
)

// writeBlastRadius renders the outage experiments.
func writeBlastRadius(md *strings.Builder, inputs []Input) {
	md.WriteString("\n## Blast radius\n\n")
	n := 0
	for _, in := range inputs {
		for _, o := range in.Doc.BlastRadius {
			n++
			fmt.Fprintf(md, "### Stopped: %s\n\n", o.Stopped)
			if o.Method != "" {
				fmt.Fprintf(md, "%s. Down for %s; each app sends a request every %s (timeout %s) and reconnects after a failure. ",
					strings.TrimSuffix(o.Method, "."), o.Outage.Round(time.Millisecond), o.Interval, o.RequestTimeout)
				md.WriteString("Counts and times start at the stop; downtime runs from the first failed request to the first successful one after the last failure.\n\n")
			}
			md.WriteString("| app | engine | placement | lost service | downtime | failed / requests | first failure after stop | recovered after restart | first error |\n")
			md.WriteString("|---|---|---|---|---:|---:|---:|---:|---|\n")
			rows := o.Apps
			if o.Component != nil {
				rows = append(append([]results.AppImpact(nil), rows...), *o.Component)
			}
			for i, a := range rows {
				name := a.App
				if o.Component != nil && i == len(rows)-1 {
					name = "*" + a.App + "* (the stopped component)"
				}
				fmt.Fprintf(md, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(name), cell(a.Engine), cell(string(a.Placement)),
					lostService(a), outageTime(a.LostService, a.Downtime), failedOf(a), outageTime(a.LostService, a.FirstFailure),
					recovered(a), cell(shorten(a.Error, 100)))
			}
			md.WriteString("\n")
		}
	}
	if n == 0 {
		md.WriteString("No blast-radius results in these files (`berthctl bench blastradius` measures them).\n")
	}
}

func lostService(a results.AppImpact) string {
	switch {
	case a.StillFailing:
		return "**yes, still failing**"
	case a.LostService:
		return "**yes**"
	default:
		return "no"
	}
}

// outageTime shows d rounded to milliseconds when the app lost service.
func outageTime(lost bool, d time.Duration) string {
	if !lost {
		return "–"
	}
	return d.Round(time.Millisecond).String()
}

func failedOf(a results.AppImpact) string {
	if a.Requests == 0 {
		return "–"
	}
	return fmt.Sprintf("%d / %d", a.Failed, a.Requests)
}

func recovered(a results.AppImpact) string {
	if !a.LostService || a.StillFailing {
		return "–"
	}
	return a.Recovery.Round(time.Millisecond).String()
}

// shorten keeps the last n runes of s: the end of a wrapped error is its
// cause.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
