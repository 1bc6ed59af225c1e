package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-io/berth/placement/framework"
)

// CapacityFitArgs are the args of CapacityFit.
type CapacityFitArgs struct {
	// CheckStorage compares the service's storage with the pool's free
	// ephemeral-storage. Default true.
	CheckStorage *bool `json:"checkStorage,omitempty"`
}

// CapacityFit keeps members with a node pool the service's total requests
// fit into. See the package documentation for the exact rules.
type CapacityFit struct {
	checkStorage bool
}

var _ framework.FilterPlugin = &CapacityFit{}

// NewCapacityFit is the CapacityFit factory.
func NewCapacityFit(args json.RawMessage) (framework.Plugin, error) {
	var a CapacityFitArgs
	if err := framework.DecodeArgs(args, &a); err != nil {
		return nil, err
	}
	return &CapacityFit{checkStorage: a.CheckStorage == nil || *a.CheckStorage}, nil
}

// Name returns CapacityFitName.
func (*CapacityFit) Name() string { return CapacityFitName }

var noPools = framework.NewStatus(framework.Unschedulable, "no node pools reported")

// Filter judges one member.
func (p *CapacityFit) Filter(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) *framework.Status {
	if len(m.Pools) == 0 {
		return noPools
	}
	need := framework.NeedOn(svc, m)
	for i := range m.Pools {
		if framework.Fits(need, &m.Pools[i], p.checkStorage) && framework.PoolEligible(svc, &m.Pools[i]) {
			return nil
		}
	}
	return framework.NewStatus(framework.Unschedulable, p.explain(svc, m, need))
}

// explain says why no pool fits: the eligible pool with the fewest
// shortfalls and its shortfalls, or why each pool is not eligible.
func (p *CapacityFit) explain(svc *framework.Service, m *framework.Member, need framework.Resources) string {
	best, bestShort, eligible := -1, []string(nil), 0
	for i := range m.Pools {
		pool := &m.Pools[i]
		if !framework.PoolEligible(svc, pool) {
			continue
		}
		eligible++
		short := shortfalls(need, pool, p.checkStorage)
		if best < 0 || len(short) < len(bestShort) {
			best, bestShort = i, short
		}
	}
	if best < 0 {
		parts := make([]string, len(m.Pools))
		for i := range m.Pools {
			parts[i] = "pool " + m.Pools[i].Name + ": " + framework.IneligibleReason(svc, &m.Pools[i])
		}
		return "no node pool matches spec.nodePool (" + strings.Join(parts, "; ") + ")"
	}
	s := "pool " + m.Pools[best].Name + ": " + strings.Join(bestShort, ", ")
	if eligible > 1 {
		s += fmt.Sprintf(" (%d other matching pools are smaller)", eligible-1)
	}
	return s
}

func shortfalls(need framework.Resources, p *framework.Pool, checkStorage bool) []string {
	free := p.Free()
	var out []string
	if need.MilliCPU > free.MilliCPU {
		out = append(out, "needs "+FormatCPU(need.MilliCPU)+" cpu, "+FormatCPU(max(free.MilliCPU, 0))+" free")
	}
	if need.Memory > free.Memory {
		out = append(out, "needs "+FormatBytes(need.Memory)+" memory, "+FormatBytes(max(free.Memory, 0))+" free")
	}
	if framework.StorageChecked(p, checkStorage) && need.Storage > free.Storage {
		out = append(out, "needs "+FormatBytes(need.Storage)+" storage, "+FormatBytes(max(free.Storage, 0))+" free ephemeral-storage")
	}
	return out
}

// FormatCPU renders milli-CPU as cores: 2500 is "2.5".
func FormatCPU(milli int64) string {
	return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
}

// FormatBytes renders bytes with a binary suffix and at most two decimals:
// 2.5Gi, 512Mi, 100.
func FormatBytes(b int64) string {
	const unit = 1024
	suffixes := []string{"", "Ki", "Mi", "Gi", "Ti", "Pi"}
	v, i := float64(b), 0
	for (v >= unit || v <= -unit) && i < len(suffixes)-1 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(float64(int64(v*100+0.5*sign(v)))/100, 'f', -1, 64) + suffixes[i]
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}
