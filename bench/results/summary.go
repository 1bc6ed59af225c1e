package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1 µs to 10 min, three significant figures.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

// NewHistogram returns an empty microsecond histogram with the bounds every
// measurement uses, so histograms can be merged.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// Summarize reads a Summary out of a histogram measured over elapsed.
func Summarize(h *hdrhistogram.Histogram, elapsed time.Duration, errs int64) Summary {
	s := Summary{Count: h.TotalCount(), Elapsed: elapsed, Errors: errs}
	if s.Count == 0 {
		return s
	}
	s.MeanUS = h.Mean()
	s.P50US = float64(h.ValueAtQuantile(50))
	s.P90US = float64(h.ValueAtQuantile(90))
	s.P99US = float64(h.ValueAtQuantile(99))
	s.P999US = float64(h.ValueAtQuantile(99.9))
	s.MaxUS = float64(h.Max())
	if elapsed > 0 {
		s.OpsPerSec = float64(s.Count) / elapsed.Seconds()
	}
	return s
}

// EncodeHistogram returns h in the standard compressed HdrHistogram
// encoding (V2, zlib, base64).
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encoding histogram: %w", err)
	}
	return string(b), nil // already base64
}

// DecodeHistogram reverses EncodeHistogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	return h, nil
}

// CV is the coefficient of variation (population stddev / mean) of xs; 0
// for fewer than two values or a zero mean.
func CV(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean == 0 {
		return 0
	}
	var sq float64
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return math.Sqrt(sq/float64(len(xs))) / mean
}

// Find returns the measurement for placement and scenario, or nil.
func (e *EngineResult) Find(p Placement, s Scenario) *Measurement {
	for i := range e.Measurements {
		if e.Measurements[i].Placement == p && e.Measurements[i].Scenario == s {
			return &e.Measurements[i]
		}
	}
	return nil
}

// ComputeRatios fills VsBaseline of every measurement from the baseline
// measurement of the same scenario.
func (e *EngineResult) ComputeRatios() {
	for i := range e.Measurements {
		m := &e.Measurements[i]
		base := e.Find(PlacementBaseline, m.Scenario)
		m.VsBaseline = Ratio{}
		if base == nil {
			continue
		}
		m.VsBaseline.P50 = ratio(m.Summary.P50US, base.Summary.P50US)
		m.VsBaseline.P99 = ratio(m.Summary.P99US, base.Summary.P99US)
		m.VsBaseline.OpsPerSec = ratio(m.Summary.OpsPerSec, base.Summary.OpsPerSec)
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Write stores doc as indented JSON at path.
func Write(path string, doc *Document) error {
	if doc.Schema == "" {
		doc.Schema = Schema
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Read loads one document and checks its schema.
func Read(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if doc.Schema != Schema {
		return nil, fmt.Errorf("%s: field schema is %q, want %q", path, doc.Schema, Schema)
	}
	return &doc, nil
}

// ReadDir loads every *.json document in dir, in name order. Files of
// another schema are an error; a directory without documents is too.
func ReadDir(dir string) ([]*Document, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading results directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var docs []*Document
	for _, n := range names {
		d, err := Read(filepath.Join(dir, n))
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, nil, fmt.Errorf("no results (*.json) in %s: run `berthctl bench dataplane --out %s` first", dir, dir)
	}
	return docs, names, nil
}
