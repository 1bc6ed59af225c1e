package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berth-io/berth/bench/results"
)

// FileName is the markdown report's name in the output directory.
const FileName = "report.md"

// Input is one results document and the file it came from.
type Input struct {
	// File is the document's file name, relative to the report.
	File string
	Doc  *results.Document
}

// Generate reads every results document in inDir and writes the report
// into outDir (inDir when empty). It returns the files written.
func Generate(inDir, outDir string) ([]string, error) {
	docs, names, err := results.ReadDir(inDir)
	if err != nil {
		return nil, err
	}
	if outDir == "" {
		outDir = inDir
	}
	inputs := make([]Input, len(docs))
	for i := range docs {
		rel, rerr := filepath.Rel(outDir, filepath.Join(inDir, names[i]))
		if rerr != nil {
			rel = filepath.Join(inDir, names[i])
		}
		inputs[i] = Input{File: rel, Doc: docs[i]}
	}
	return Write(outDir, inputs)
}

// Write renders the inputs into outDir: report.md and its SVG plots.
func Write(outDir string, inputs []Input) ([]string, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no results to report")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", outDir, err)
	}
	var md strings.Builder
	var files []string
	writeHeader(&md, inputs)

	md.WriteString("\n## Data path\n\n")
	nRuns := 0
	for _, in := range inputs {
		for ri := range in.Doc.DataPlane {
			run := &in.Doc.DataPlane[ri]
			nRuns++
			written, err := writeDataPlaneRun(&md, outDir, in.File, run)
			if err != nil {
				return files, err
			}
			files = append(files, written...)
		}
	}
	if nRuns == 0 {
		md.WriteString("No data-path results in these files (`berthctl bench dataplane` measures them).\n")
	}

	written, err := writeControlPlane(&md, outDir, inputs)
	if err != nil {
		return files, err
	}
	files = append(files, written...)
	writeBlastRadius(&md, inputs)

	path := filepath.Join(outDir, FileName)
	if err := os.WriteFile(path, []byte(md.String()), 0o644); err != nil {
		return files, fmt.Errorf("writing %s: %w", path, err)
	}
	return append([]string{path}, files...), nil
}

func writeHeader(md *strings.Builder, inputs []Input) {
	md.WriteString("# berth benchmark report\n\n")
	md.WriteString("How much each placement of a managed service costs the app that uses it. ")
	md.WriteString("*Baseline* is client and server in one network namespace; *Workload* is the co-located service ")
	md.WriteString("(same cluster network); *Management* and *Dedicated* are reached through an inter-cluster link and an ")
	md.WriteString("HAProxy TCP gateway. Latencies are milliseconds.\n\n")
	md.WriteString("Raw results: ")
	for i, in := range inputs {
		if i > 0 {
			md.WriteString(", ")
		}
		fmt.Fprintf(md, "[%s](%s)", in.File, in.File)
	}
	md.WriteString(".\n\n## Machine and versions\n\n")

	md.WriteString("| | " + strings.Join(fileNames(inputs), " | ") + " |\n|---|" + strings.Repeat("---|", len(inputs)) + "\n")
	row := func(name string, f func(d *results.Document) string) {
		fmt.Fprintf(md, "| %s |", name)
		for _, in := range inputs {
			fmt.Fprintf(md, " %s |", cell(f(in.Doc)))
		}
		md.WriteString("\n")
	}
	row("measured", func(d *results.Document) string {
		return d.Started.UTC().Format(time.RFC3339) + " (" + d.Finished.Sub(d.Started).Round(time.Second).String() + ")"
	})
	row("host", func(d *results.Document) string { return d.Machine.Hostname })
	row("OS", func(d *results.Document) string { return d.Machine.OS })
	row("kernel", func(d *results.Document) string { return d.Machine.Kernel })
	row("CPU", func(d *results.Document) string {
		return fmt.Sprintf("%s, %d cores", d.Machine.CPU, d.Machine.Cores)
	})
	row("memory", func(d *results.Document) string {
		return fmt.Sprintf("%.1f GiB", float64(d.Machine.MemoryBytes)/(1<<30))
	})
	row("Go", func(d *results.Document) string { return d.Machine.GoVersion })
	row("berth revision", func(d *results.Document) string { return d.Machine.Revision })
	keys := map[string]bool{}
	for _, in := range inputs {
		for k := range in.Doc.Versions {
			keys[k] = true
		}
		for _, run := range in.Doc.DataPlane {
			for _, e := range run.Engines {
				if e.Version != "" {
					keys[e.Engine+" server"] = true
				}
			}
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		row(k, func(d *results.Document) string {
			if v, ok := d.Versions[k]; ok {
				return v
			}
			for _, run := range d.DataPlane {
				for _, e := range run.Engines {
					if e.Engine+" server" == k && e.Version != "" {
						return e.Version
					}
				}
			}
			return ""
		})
	}
}

func fileNames(inputs []Input) []string {
	out := make([]string, len(inputs))
	for i, in := range inputs {
		out[i] = in.File
	}
	return out
}

// cell escapes a table cell.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// ms formats microseconds as milliseconds.
func ms(us float64) string {
	switch {
	case us >= 100000:
		return fmt.Sprintf("%.0f", us/1000)
	case us >= 10000:
		return fmt.Sprintf("%.1f", us/1000)
	default:
		return fmt.Sprintf("%.3f", us/1000)
	}
}

func ops(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }

func times(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

// slug makes a file-name-safe token.
func slug(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return b.String()
}
