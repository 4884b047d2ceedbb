package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The chart's look: a sans-serif face, and one colour per series.
var (
	sans      = font.Font{Typeface: "Liberation", Variant: "Sans"}
	blue      = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	grey      = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	green     = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	red       = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	bandColor = color.RGBA{R: 250, G: 200, B: 200, A: 255}
)

// Chart size, and the column on the right that holds the legends, out
// of the data's way.
const (
	chartWidth   = 9 * vg.Inch
	chartHeight  = 9.5 * vg.Inch
	legendWidth  = 2.3 * vg.Inch
	titleHeight  = 0.75 * vg.Inch
	chartPadding = 8
)

// WriteSVG draws the report as an SVG chart of three panels sharing the
// workers axis (log scale): the speed-up against sequential with the
// ideal (log-log, so that linear scaling is a straight line), the
// efficiency against the ideal, and the latency band from p50 to p99.
// The knee is marked on each when there is one; the title names the
// workload.
func (r *Report) WriteSVG(w io.Writer) error {
	if len(r.Levels) == 0 {
		return fmt.Errorf("plot: no levels to draw")
	}
	var speedup, ideal, efficiency, p50, p99 plotter.XYs
	var speedupErr plotter.YErrors
	for _, lv := range r.Levels {
		x := float64(lv.Concurrency)
		if lv.SpeedUp > 0 {
			speedup = append(speedup, plotter.XY{X: x, Y: lv.SpeedUp})
			speedupErr = append(speedupErr, struct{ Low, High float64 }{lv.SpeedUpStddev, lv.SpeedUpStddev})
		}
		if lv.IdealSpeedUp > 0 {
			ideal = append(ideal, plotter.XY{X: x, Y: lv.IdealSpeedUp})
		}
		efficiency = append(efficiency, plotter.XY{X: x, Y: 100 * lv.Efficiency})
		p50 = append(p50, plotter.XY{X: x, Y: lv.Latency.P50})
		p99 = append(p99, plotter.XY{X: x, Y: lv.Latency.P99})
	}

	top := r.panel("speed-up against sequential (log-log)", "speed-up (x)")
	top.Y.Scale = plot.LogScale{}
	top.Y.Tick.Marker = logTicks{}
	top.Y.Min = 0.8 * min(minY(speedup), minY(ideal), 1)
	top.Y.Max = 1.25 * max(maxY(speedup), maxY(ideal))
	var topLegend []legendEntry
	if len(ideal) > 0 {
		l, err := line(ideal, grey, true)
		if err != nil {
			return err
		}
		top.Add(l)
		topLegend = append(topLegend, legendEntry{"ideal: the sequential", l}, legendEntry{"latencies, N at once", nil})
	}
	l, pts, err := linePoints(speedup, blue)
	if err != nil {
		return err
	}
	top.Add(l, pts)
	topLegend = append([]legendEntry{{"measured (± σ)", l}}, topLegend...)
	if r.Runs > 1 && len(speedup) > 0 {
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{speedup, speedupErr})
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		bars.Color = blue
		top.Add(bars)
	}

	mid := r.panel("efficiency: ideal time / measured time", "efficiency (%)")
	mid.Y.Min, mid.Y.Max = 0, max(110, 1.1*maxY(efficiency))
	mid.Y.Tick.Marker = cleanTicks{}
	full, err := line(plotter.XYs{{X: mid.X.Min, Y: 100}, {X: mid.X.Max, Y: 100}}, grey, true)
	if err != nil {
		return err
	}
	el, ep, err := linePoints(efficiency, blue)
	if err != nil {
		return err
	}
	mid.Add(full, el, ep)
	midLegend := []legendEntry{{"measured", el}, {"100%: as fast as ideal", full}}

	bottom := r.panel("request latency", "latency (ms)")
	bottom.X.Label.Text = "workers (log scale)"
	bottom.Y.Min, bottom.Y.Max = 0, 1.15*maxY(p99)
	bottom.Y.Tick.Marker = cleanTicks{}
	band, err := plotter.NewPolygon(append(append(plotter.XYs{}, p50...), reversed(p99)...))
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	band.Color, band.LineStyle.Width = bandColor, 0
	bl50, bp50, err := linePoints(p50, green)
	if err != nil {
		return err
	}
	bl99, bp99, err := linePoints(p99, red)
	if err != nil {
		return err
	}
	bottom.Add(band, bl50, bp50, bl99, bp99)
	bottomLegend := []legendEntry{{"p99", bl99}, {"p50 to p99", band}, {"p50", bl50}}

	panels := []*plot.Plot{top, mid, bottom}
	legends := [][]legendEntry{topLegend, midLegend, bottomLegend}
	if r.KneeReached() {
		for i, p := range panels {
			knee, err := line(plotter.XYs{{X: float64(r.Knee), Y: p.Y.Min}, {X: float64(r.Knee), Y: p.Y.Max}}, color.Black, true)
			if err != nil {
				return err
			}
			knee.Width = vg.Points(0.8)
			knee.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
			p.Add(knee)
			if i == 0 {
				legends[i] = append(legends[i], legendEntry{fmt.Sprintf("knee: %d workers", r.Knee), knee})
			}
		}
	}

	canvas := vgsvg.New(chartWidth, chartHeight)
	dc := draw.New(canvas)
	r.drawTitle(dc)
	body := draw.Crop(dc, 0, -legendWidth, 0, -titleHeight)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadTop: chartPadding, PadBottom: chartPadding, PadLeft: chartPadding, PadRight: chartPadding, PadY: 18}
	canvases := plot.Align([][]*plot.Plot{{top}, {mid}, {bottom}}, tiles, body)
	for i, p := range panels {
		p.Draw(canvases[i][0])
		area := canvases[i][0]
		drawLegend(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: area.Max.X + 4, Y: area.Min.Y},
			Max: vg.Point{X: dc.Max.X - chartPadding, Y: area.Max.Y - 22},
		}}, legends[i])
	}
	_, err = canvas.WriteTo(w)
	return err
}

// legendEntry is a legend line; a nil thumb continues the line above.
type legendEntry struct {
	text  string
	thumb plot.Thumbnailer
}

func drawLegend(c draw.Canvas, entries []legendEntry) {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font = font.From(sans, 10)
	l.Padding = vg.Points(4)
	for _, e := range entries {
		if e.thumb == nil {
			l.Add(e.text)
			continue
		}
		l.Add(e.text, e.thumb)
	}
	l.Draw(c)
}

// drawTitle names the workload: URLs, hosts, the sequential latency.
func (r *Report) drawTitle(dc draw.Canvas) {
	hosts := ""
	if r.Environment != nil {
		hosts = fmt.Sprintf(" on %d hosts", r.Environment.HostCount)
		if r.Environment.HostCount == 1 {
			hosts = " on 1 host"
		}
	}
	perURL := ""
	if seq := r.Levels[0]; seq.Concurrency == 1 && r.URLs > 0 && seq.Wall.Mean > 0 {
		perURL = fmt.Sprintf(", %s a URL when sequential", fmtMS(1000*seq.Wall.Mean/float64(r.URLs)))
	}
	title := fmt.Sprintf("fetchall bench: %d URLs%s%s", r.URLs, hosts, perURL)
	runs := fmt.Sprintf("%d timed runs per level", r.Runs)
	if r.Runs == 1 {
		runs = "1 timed run per level"
	}
	sub := runs + ", " + r.kneeText()
	style := text.Style{Color: color.Black, Font: font.From(sans, 15), Handler: plot.DefaultTextHandler}
	dc.FillText(style, vg.Point{X: chartPadding + 6, Y: dc.Max.Y - 26}, title)
	style.Font = font.From(sans, 11)
	style.Color = grey
	dc.FillText(style, vg.Point{X: chartPadding + 6, Y: dc.Max.Y - 46}, sub)
}

// panel is a plot with the chart's look over the report's workers.
func (r *Report) panel(title, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 12)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Padding = vg.Points(4)
	}
	p.Y.Label.Text = yLabel
	p.X.Scale = plot.LogScale{}
	ticks := make(plot.ConstantTicks, len(r.Levels))
	for i, lv := range r.Levels {
		ticks[i] = plot.Tick{Value: float64(lv.Concurrency), Label: strconv.Itoa(lv.Concurrency)}
	}
	p.X.Tick.Marker = ticks
	p.X.Min = float64(r.Levels[0].Concurrency) / 1.25
	p.X.Max = float64(r.Levels[len(r.Levels)-1].Concurrency) * 1.25
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	return p
}

func line(xys plotter.XYs, c color.Color, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	l.Color, l.Width = c, vg.Points(1.2)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return l, nil
}

func linePoints(xys plotter.XYs, c color.Color) (*plotter.Line, *plotter.Scatter, error) {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, fmt.Errorf("plot: %w", err)
	}
	l.Color, pts.Color = c, c
	l.Width = vg.Points(1.8)
	pts.Shape = draw.CircleGlyph{}
	pts.Radius = vg.Points(2.5)
	return l, pts, nil
}

func reversed(xys plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, len(xys))
	for i, xy := range xys {
		out[len(xys)-1-i] = xy
	}
	return out
}

func maxY(xys plotter.XYs) float64 {
	m := 0.0
	for _, xy := range xys {
		m = max(m, xy.Y)
	}
	return m
}

func minY(xys plotter.XYs) float64 {
	m := math.Inf(1)
	for _, xy := range xys {
		m = min(m, xy.Y)
	}
	return m
}

// cleanTicks are gonum's default ticks labelled without trailing zeros:
// 75, not 75.00.
type cleanTicks struct{}

func (cleanTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = shortNumber(ts[i].Value)
		}
	}
	return ts
}

// logTicks label 1, 2, 5, 10, 20, 50... on a log axis.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for decade := math.Pow(10, math.Floor(math.Log10(lo))); decade <= hi; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * decade; v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v, Label: shortNumber(v)})
			}
		}
	}
	return ts
}

func shortNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}
