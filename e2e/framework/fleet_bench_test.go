package framework

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkDevFleetUp starts the four-cluster development fleet (under its
// own name and free ports, so a running `berthctl dev` fleet is left alone)
// and reports how long it takes to come up and the resident memory of its
// processes right after.
func BenchmarkDevFleetUp(b *testing.B) {
	var rss int64
	var up time.Duration
	runs := 0
	for b.Loop() {
		spec := DevFleetSpec(0)
		spec.Name = fmt.Sprintf("bench-dev-%d", os.Getpid())
		spec.BasePort = 0
		spec.Persistent = false
		start := time.Now()
		f, err := StartFleet(b.Context(), spec)
		if err != nil {
			b.Fatalf("Starting the fleet: %v", err)
		}
		up += time.Since(start)
		runs++
		b.StopTimer()
		procs, err := f.Processes()
		if err != nil {
			b.Fatalf("Listing processes: %v", err)
		}
		for _, p := range procs {
			rss += p.RSS
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := f.Stop(ctx); err != nil {
			b.Errorf("Stopping the fleet: %v", err)
		}
		cancel()
		b.StartTimer()
	}
	b.ReportMetric(up.Seconds()/float64(runs), "s/up")
	b.ReportMetric(float64(rss)/float64(runs)/(1<<20), "MiB-rss")
}
