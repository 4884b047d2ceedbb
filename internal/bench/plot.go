package bench

import (
	"fmt"
	"image/color"
	"io"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteSVG draws the report as an SVG chart of two panels sharing the
// concurrency axis (log scale): throughput against the ideal on top, p50
// and p99 latency below.
func (r *Report) WriteSVG(w io.Writer) error {
	if len(r.Levels) == 0 {
		return fmt.Errorf("plot: no levels to draw")
	}
	var measured, ideal, p50, p99 plotter.XYs
	for _, lv := range r.Levels {
		x := float64(lv.Concurrency)
		measured = append(measured, plotter.XY{X: x, Y: lv.RequestsPerSecond})
		if lv.IdealSeconds > 0 {
			ideal = append(ideal, plotter.XY{X: x, Y: float64(r.URLs) / lv.IdealSeconds})
		}
		p50 = append(p50, plotter.XY{X: x, Y: lv.Latency.P50})
		p99 = append(p99, plotter.XY{X: x, Y: lv.Latency.P99})
	}

	top := newPanel(fmt.Sprintf("throughput: %d URLs, %s", r.URLs, r.kneeText()), "requests/s", r.Levels)
	if err := addLine(top, measured, "measured", color.RGBA{R: 31, G: 119, B: 180, A: 255}, false); err != nil {
		return err
	}
	if len(ideal) > 0 {
		if err := addLine(top, ideal, "ideal (sequential latencies replayed)", color.RGBA{R: 127, G: 127, B: 127, A: 255}, true); err != nil {
			return err
		}
	}
	bottom := newPanel("request latency", "latency (ms)", r.Levels)
	bottom.X.Label.Text = "concurrency (workers, log scale)"
	if err := addLine(bottom, p50, "p50", color.RGBA{R: 44, G: 160, B: 44, A: 255}, false); err != nil {
		return err
	}
	if err := addLine(bottom, p99, "p99", color.RGBA{R: 214, G: 39, B: 40, A: 255}, false); err != nil {
		return err
	}

	// Headroom above the highest point keeps the legend off the lines.
	top.Y.Max = 1.35 * max(maxY(measured), maxY(ideal))
	bottom.Y.Max = 1.35 * maxY(p99)

	canvas := vgsvg.New(7*vg.Inch, 7*vg.Inch)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(12)}
	panels := [][]*plot.Plot{{top}, {bottom}}
	canvases := plot.Align(panels, tiles, draw.New(canvas))
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	_, err := canvas.WriteTo(w)
	return err
}

func maxY(xys plotter.XYs) float64 {
	m := 0.0
	for _, xy := range xys {
		m = max(m, xy.Y)
	}
	return m
}

func newPanel(title, yLabel string, levels []Level) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.X.Scale = plot.LogScale{}
	ticks := make(plot.ConstantTicks, len(levels))
	for i, lv := range levels {
		ticks[i] = plot.Tick{Value: float64(lv.Concurrency), Label: strconv.Itoa(lv.Concurrency)}
	}
	p.X.Tick.Marker = ticks
	p.X.Min = float64(levels[0].Concurrency) / 1.2
	p.X.Max = float64(levels[len(levels)-1].Concurrency) * 1.2
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	return p
}

func addLine(p *plot.Plot, xys plotter.XYs, name string, c color.Color, dashed bool) error {
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	line.Color, points.Color = c, c
	line.Width = vg.Points(1.5)
	if dashed {
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return nil
}
