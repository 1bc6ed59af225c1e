package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestChartUsesOnlyExportedMetrics: every metric the chart's alerts and
// dashboard query is defined by a package linked into berth-hub or
// berth-spoke. The definitions are read from the source of those packages
// (the Name, Namespace and Subsystem of prometheus.*Opts literals and the
// first argument of prometheus.NewDesc, constants resolved), not from a
// list kept by hand.
func TestChartUsesOnlyExportedMetrics(t *testing.T) {
	g := NewWithT(t)
	root := filepath.Join("..", "..")
	exported := exportedMetrics(t, root, "./cmd/berth-hub", "./cmd/berth-spoke")
	g.Expect(exported).To(ContainElements("berth_member_clusters", "berth_placement_decisions_total", "controller_runtime_reconcile_total", "workqueue_depth"),
		"the scan finds berth's own and controller-runtime's metrics")

	used := map[string][]string{}
	rules, err := os.ReadFile(filepath.Join(root, chartDir, "templates", "prometheusrule.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, m := range regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`).FindAllStringSubmatch(string(rules), -1) {
		for _, name := range metricNames(m[1]) {
			used[name] = append(used[name], "PrometheusRule")
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, chartDir, "files", "grafana-dashboard.json"))
	g.Expect(err).NotTo(HaveOccurred())
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	g.Expect(json.Unmarshal(raw, &dash)).To(Succeed())
	g.Expect(dash.Panels).NotTo(BeEmpty())
	for _, p := range dash.Panels {
		g.Expect(p.Targets).NotTo(BeEmpty(), "panel %q", p.Title)
		for _, tg := range p.Targets {
			for _, name := range metricNames(tg.Expr) {
				used[name] = append(used[name], "dashboard panel "+strconv.Quote(p.Title))
			}
		}
	}
	g.Expect(len(used)).To(BeNumerically(">=", 10))
	for name, where := range used {
		if name == "up" {
			continue // Prometheus's own series of each scrape target.
		}
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(exported, b) {
				base = b
			}
		}
		g.Expect(exported).To(ContainElement(base), "%s (used by %s) is not exported by berth-hub or berth-spoke", name, strings.Join(where, ", "))
	}
}

func TestMetricNames(t *testing.T) {
	g := NewWithT(t)
	g.Expect(metricNames(`max(sum by (instance) (berth_member_clusters{condition="Available", status!="True"})) > 0`)).To(Equal([]string{"berth_member_clusters"}))
	g.Expect(metricNames(`histogram_quantile(0.99, sum by (le, strategy) (rate(berth_placement_decision_duration_seconds_bucket[5m])))`)).
		To(Equal([]string{"berth_placement_decision_duration_seconds_bucket"}))
	g.Expect(metricNames(`max by (member) (berth_member_lease_age_seconds) > {{ $pr.leaseStaleSeconds }}`)).To(Equal([]string{"berth_member_lease_age_seconds"}))
	g.Expect(metricNames(`count(max by (namespace, name) (berth_managed_service_ready) == 0) or vector(0)`)).To(Equal([]string{"berth_managed_service_ready"}))
	g.Expect(metricNames(`time() - max by (member) (berth_spoke_lease_renew_timestamp_seconds)`)).To(Equal([]string{"berth_spoke_lease_renew_timestamp_seconds"}))
	g.Expect(metricNames(`absent(up{job="berth-hub-metrics"} == 1)`)).To(Equal([]string{"up"}))
}

// promqlWords are PromQL's functions, aggregations and keywords used in the
// chart; any other identifier outside label matchers and groupings is a
// metric name.
var promqlWords = []string{
	"sum", "max", "min", "avg", "count", "topk", "bottomk", "by", "without", "on", "ignoring", "group_left", "group_right",
	"rate", "irate", "increase", "delta", "histogram_quantile", "absent", "time", "vector", "and", "or", "unless", "bool",
}

var (
	templateExpr = regexp.MustCompile(`\{\{.*?\}\}`)
	quoted       = regexp.MustCompile(`"(\\.|[^"\\])*"`)
	rangeExpr    = regexp.MustCompile(`\[[^\]]*\]`)
	matchers     = regexp.MustCompile(`\{[^}]*\}`)
	grouping     = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// metricNames are the metric names a PromQL expression selects.
func metricNames(expr string) []string {
	expr = templateExpr.ReplaceAllString(expr, " ")
	expr = quoted.ReplaceAllString(expr, `""`)
	expr = rangeExpr.ReplaceAllString(expr, " ")
	expr = matchers.ReplaceAllString(expr, " ")
	expr = grouping.ReplaceAllString(expr, " ")
	var out []string
	for _, id := range identifier.FindAllString(expr, -1) {
		if !slices.Contains(promqlWords, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// exportedMetrics are the metric names defined in the packages the
// commands link.
func exportedMetrics(t *testing.T, root string, commands ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}`}, commands...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	fset := token.NewFileSet()
	pkgs := map[string]*goPackage{}
	for line := range strings.Lines(string(out)) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) != 3 || parts[2] == "" {
			continue
		}
		p := &goPackage{path: parts[0], consts: map[string]constExpr{}}
		for _, f := range strings.Split(parts[2], ",") {
			file, err := parser.ParseFile(fset, filepath.Join(parts[1], f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parsing %s: %v", f, err)
			}
			p.files = append(p.files, file)
		}
		p.collectConsts()
		pkgs[p.path] = p
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.metrics(pkgs)...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// goPackage is one parsed package.
type goPackage struct {
	path   string
	files  []*ast.File
	consts map[string]constExpr
}

// constExpr is a constant's expression and the file it is in (for its
// imports).
type constExpr struct {
	expr ast.Expr
	file *ast.File
}

func (p *goPackage) collectConsts() {
	for _, f := range p.files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						p.consts[n.Name] = constExpr{expr: vs.Values[i], file: f}
					}
				}
			}
		}
	}
}

// importPath is what a file's import name refers to.
func importPath(f *ast.File, name string) string {
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if (imp.Name != nil && imp.Name.Name == name) || (imp.Name == nil && path.Base(p) == name) {
			return p
		}
	}
	return ""
}

// str resolves a string expression: literals, constants of this or another
// parsed package, and concatenations.
func (p *goPackage) str(e ast.Expr, f *ast.File, pkgs map[string]*goPackage, depth int) (string, bool) {
	if depth > 10 {
		return "", false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		if c, ok := p.consts[e.Name]; ok {
			return p.str(c.expr, c.file, pkgs, depth+1)
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if other := pkgs[importPath(f, x.Name)]; other != nil {
				if c, ok := other.consts[e.Sel.Name]; ok {
					return other.str(c.expr, c.file, pkgs, depth+1)
				}
			}
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := p.str(e.X, f, pkgs, depth+1)
			b, ok2 := p.str(e.Y, f, pkgs, depth+1)
			return a + b, ok1 && ok2
		}
	}
	return "", false
}

// metrics are the fully qualified names of the metrics the package
// defines.
func (p *goPackage) metrics(pkgs map[string]*goPackage) []string {
	var out []string
	for _, f := range p.files {
		prom := ""
		for _, imp := range f.Imports {
			if v, _ := strconv.Unquote(imp.Path.Value); v == "github.com/prometheus/client_golang/prometheus" {
				prom = "prometheus"
				if imp.Name != nil {
					prom = imp.Name.Name
				}
			}
		}
		if prom == "" {
			continue
		}
		isProm := func(e ast.Expr, names ...string) bool {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok {
				return false
			}
			x, ok := sel.X.(*ast.Ident)
			return ok && x.Name == prom && slices.Contains(names, sel.Sel.Name)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if !isProm(n.Type, "CounterOpts", "GaugeOpts", "HistogramOpts", "SummaryOpts") {
					return true
				}
				parts := map[string]string{}
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, _ := kv.Key.(*ast.Ident)
					if key == nil {
						continue
					}
					if v, ok := p.str(kv.Value, f, pkgs, 0); ok {
						parts[key.Name] = v
					}
				}
				if parts["Name"] != "" {
					out = append(out, fqName(parts["Namespace"], parts["Subsystem"], parts["Name"]))
				}
			case *ast.CallExpr:
				if isProm(n.Fun, "NewDesc") && len(n.Args) > 0 {
					if v, ok := p.str(n.Args[0], f, pkgs, 0); ok && v != "" {
						out = append(out, v)
					}
				}
			}
			return true
		})
	}
	return out
}

// fqName joins the non-empty parts with "_", as prometheus.BuildFQName does.
func fqName(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), "_")
}
