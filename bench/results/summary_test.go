package results

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestCV(t *testing.T) {
	testCases := []struct {
		name string
		in   []float64
		want float64
	}{
		{name: "empty", in: nil, want: 0},
		{name: "one value", in: []float64{5}, want: 0},
		{name: "constant", in: []float64{3, 3, 3}, want: 0},
		{name: "spread", in: []float64{90, 110}, want: 0.1},
		{name: "zero mean", in: []float64{-1, 1}, want: 0},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(CV(tc.in)).To(BeNumerically("~", tc.want, 1e-9))
		})
	}
}

func TestSummarizeAndHistogramRoundTrip(t *testing.T) {
	g := NewWithT(t)
	h := NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		g.Expect(h.RecordValue(v)).To(Succeed())
	}
	s := Summarize(h, 2*time.Second, 3)
	g.Expect(s.Count).To(Equal(int64(1000)))
	g.Expect(s.P50US).To(BeNumerically("~", 500, 1))
	g.Expect(s.P99US).To(BeNumerically("~", 990, 1))
	g.Expect(s.MaxUS).To(BeNumerically("~", 1000, 1))
	g.Expect(s.OpsPerSec).To(BeNumerically("~", 500, 1e-9))
	g.Expect(s.Errors).To(Equal(int64(3)))

	enc, err := EncodeHistogram(h)
	g.Expect(err).NotTo(HaveOccurred())
	back, err := DecodeHistogram(enc)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.TotalCount()).To(Equal(h.TotalCount()))
	g.Expect(back.ValueAtQuantile(99.9)).To(Equal(h.ValueAtQuantile(99.9)))

	_, err = DecodeHistogram("not a histogram")
	g.Expect(err).To(HaveOccurred())
}

func TestComputeRatios(t *testing.T) {
	g := NewWithT(t)
	e := EngineResult{Engine: "Redis", Measurements: []Measurement{
		{Placement: PlacementBaseline, Scenario: ScenarioRTT, Summary: Summary{P50US: 50, P99US: 100, OpsPerSec: 20000}},
		{Placement: PlacementManagement, Scenario: ScenarioRTT, Summary: Summary{P50US: 1050, P99US: 1500, OpsPerSec: 950}},
		{Placement: PlacementWorkload, Scenario: ScenarioChatty, Summary: Summary{P50US: 900}},
	}}
	e.ComputeRatios()
	g.Expect(e.Find(PlacementBaseline, ScenarioRTT).VsBaseline.P50).To(BeNumerically("~", 1, 1e-9))
	g.Expect(e.Find(PlacementManagement, ScenarioRTT).VsBaseline.P50).To(BeNumerically("~", 21, 1e-9))
	g.Expect(e.Find(PlacementManagement, ScenarioRTT).VsBaseline.OpsPerSec).To(BeNumerically("~", 0.0475, 1e-9))
	g.Expect(e.Find(PlacementWorkload, ScenarioChatty).VsBaseline).To(Equal(Ratio{}), "no chatty baseline, no ratio")
	g.Expect(e.Find(PlacementDedicated, ScenarioRTT)).To(BeNil())
}

func TestReadWrite(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	_, _, err := ReadDir(dir)
	g.Expect(err).To(MatchError(ContainSubstring("no results")))

	doc := &Document{Machine: Machine{Cores: 2}, ControlPlane: &ControlPlane{HubMemory: []HubMemory{{Members: 10, RSSBytes: 1 << 20}}}}
	g.Expect(Write(filepath.Join(dir, "a.json"), doc)).To(Succeed())
	docs, names, err := ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(names).To(Equal([]string{"a.json"}))
	g.Expect(docs[0].Schema).To(Equal(Schema))
	g.Expect(docs[0].ControlPlane.HubMemory).To(HaveLen(1))

	other := &Document{Schema: "something/else"}
	g.Expect(Write(filepath.Join(dir, "b.json"), other)).To(Succeed())
	_, _, err = ReadDir(dir)
	g.Expect(err).To(MatchError(ContainSubstring("field schema")))
}
