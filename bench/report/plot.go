package report

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/berth-io/berth/bench/results"
)

// placementStyle gives each placement the same colour and dash in every plot.
var placementStyle = map[results.Placement]struct {
	color  color.Color
	dashes []vg.Length
}{
	results.PlacementBaseline:   {color.RGBA{R: 120, G: 120, B: 120, A: 255}, []vg.Length{vg.Points(2), vg.Points(2)}},
	results.PlacementWorkload:   {color.RGBA{R: 0, G: 114, B: 178, A: 255}, nil},
	results.PlacementManagement: {color.RGBA{R: 213, G: 94, B: 0, A: 255}, nil},
	results.PlacementDedicated:  {color.RGBA{R: 0, G: 158, B: 115, A: 255}, []vg.Length{vg.Points(6), vg.Points(3)}},
}

// plotCDF draws one panel per scenario, one line per placement: the
// fraction of operations at or under a latency.
func plotCDF(path string, e *results.EngineResult, run *results.DataPlaneRun) error {
	var row []*plot.Plot
	for _, sc := range results.Scenarios {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s, %s", e.Engine, scenarioTitle[sc])
		p.X.Label.Text = "latency (ms, log scale)"
		p.Y.Label.Text = "fraction of operations ≤ latency"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = 0, 1
		p.Add(plotter.NewGrid())
		p.Legend.Top = false
		p.Legend.Left = false
		p.Legend.XOffs = vg.Points(-10)
		p.Legend.YOffs = vg.Points(10)
		p.Legend.TextStyle.Font.Size = vg.Points(9)
		lines := 0
		for _, pl := range results.Placements {
			m := e.Find(pl, sc)
			if m == nil || m.Histogram == "" {
				continue
			}
			h, err := results.DecodeHistogram(m.Histogram)
			if err != nil {
				return fmt.Errorf("%s %s %s: %w", e.Engine, pl, sc, err)
			}
			if h.TotalCount() == 0 {
				continue
			}
			var pts plotter.XYs
			for _, b := range h.CumulativeDistributionWithTicks(10) {
				pts = append(pts, plotter.XY{X: float64(b.ValueAt) / 1000, Y: b.Quantile / 100})
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("%s %s %s: %w", e.Engine, pl, sc, err)
			}
			st := placementStyle[pl]
			line.Color = st.color
			line.Dashes = st.dashes
			line.Width = vg.Points(1.5)
			p.Add(line)
			p.Legend.Add(string(pl), line)
			lines++
		}
		if lines == 0 {
			continue
		}
		row = append(row, p)
	}
	if len(row) == 0 {
		return fmt.Errorf("%s: no histogram to plot", e.Engine)
	}
	const panelW, panelH = 300, 260
	c := vgsvg.New(vg.Points(float64(panelW*len(row))), vg.Points(panelH+20))
	dc := draw.New(c)
	title := fmt.Sprintf("%s latency CDF per placement, link profile %s", e.Engine, run.Profile.Name)
	dc.FillText(draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter},
		vg.Point{X: dc.Center().X, Y: dc.Max.Y - vg.Points(14)}, title)
	body := dc
	body.Max.Y -= vg.Points(20)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Points(8), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, body)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	return writeSVG(path, c)
}

// plotMembers draws p50 and p99 of a member series against the number of
// members (log scale on both axes when the sizes span decades).
func plotMembers(path, title string, series map[string][]results.MemberSeries) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "members"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	colors := []color.Color{color.RGBA{R: 0, G: 114, B: 178, A: 255}, color.RGBA{R: 213, G: 94, B: 0, A: 255}, color.RGBA{R: 0, G: 158, B: 115, A: 255}}
	i := 0
	for _, name := range sortedKeys(series) {
		for q, dash := range map[string][]vg.Length{"p50": nil, "p99": {vg.Points(4), vg.Points(3)}} {
			var pts plotter.XYs
			for _, s := range series[name] {
				if s.Members <= 0 {
					continue
				}
				v := s.Latency.P50US
				if q == "p99" {
					v = s.Latency.P99US
				}
				pts = append(pts, plotter.XY{X: float64(s.Members), Y: v / 1000})
			}
			if len(pts) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(pts)
			if err != nil {
				return fmt.Errorf("%s: %w", title, err)
			}
			line.Color = colors[i%len(colors)]
			line.Dashes = dash
			points.Color = line.Color
			p.Add(line, points)
			p.Legend.Add(name+" "+q, line)
		}
		i++
	}
	c := vgsvg.New(vg.Points(420), vg.Points(300))
	p.Draw(draw.New(c))
	return writeSVG(path, c)
}

func writeSVG(path string, c *vgsvg.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if _, err := c.WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
