package console

import (
	"fmt"

	"github.com/tangkal/tangkal/internal/audit"
)

// chart is a horizontal bar chart drawn as SVG on the server: one row per
// platform, each row one or more coloured segments (classes in the
// stylesheet, no inline style), with a text value for screen readers and
// people who do not read colour.
type chart struct {
	Title  string
	Width  int
	Height int
	Rows   []chartRow
}

type chartRow struct {
	Label string
	Y     int
	TextY int
	Segs  []chartSeg
	Value string
	ValX  int
}

type chartSeg struct {
	X, W  int
	Class string
	Title string
}

const (
	chartLabelW = 110
	chartBarW   = 380
	chartRowH   = 28
)

func newChart(title string, n int) chart {
	return chart{Title: title, Width: chartLabelW + chartBarW + 90, Height: n*chartRowH + 8}
}

func (c *chart) row(i int, label string, segs []chartSeg, value string) {
	x := chartLabelW
	for j := range segs {
		segs[j].X = x
		x += segs[j].W
	}
	c.Rows = append(c.Rows, chartRow{Label: label, Y: i*chartRowH + 4, TextY: i*chartRowH + 21, Segs: segs, Value: value, ValX: x + 6})
}

func scale(v, max int) int {
	if max <= 0 || v <= 0 {
		return 0
	}
	w := v * chartBarW / max
	if w < 2 {
		w = 2
	}
	return w
}

// outcomeChart: takedown requests per platform, split into removed in
// time, removed late, still live and non-compliant.
func outcomeChart(lang string, ps []audit.PlatformStats) chart {
	max := 0
	for _, p := range ps {
		if n := p.RemovedInTime + p.RemovedLate + p.StillLive + p.NonCompliant; n > max {
			max = n
		}
	}
	c := newChart(t(lang, "figures.outcomes"), len(ps))
	for i, p := range ps {
		segs := []chartSeg{
			{W: scale(p.RemovedInTime, max), Class: "in-time", Title: fmt.Sprintf("%s: %d", t(lang, "figures.intime"), p.RemovedInTime)},
			{W: scale(p.RemovedLate, max), Class: "late", Title: fmt.Sprintf("%s: %d", t(lang, "figures.late"), p.RemovedLate)},
			{W: scale(p.StillLive, max), Class: "live", Title: fmt.Sprintf("%s: %d", t(lang, "figures.live"), p.StillLive)},
			{W: scale(p.NonCompliant, max), Class: "other", Title: fmt.Sprintf("%s: %d", t(lang, "figures.noncompliant"), p.NonCompliant)},
		}
		c.row(i, p.Platform, segs, fmt.Sprintf("%d/%d/%d/%d", p.RemovedInTime, p.RemovedLate, p.StillLive, p.NonCompliant))
	}
	return c
}

// medianChart: median hours to removal per platform.
func medianChart(lang string, ps []audit.PlatformStats) chart {
	max := 0
	for _, p := range ps {
		if p.MedianSecondsToRemoval != nil && int(*p.MedianSecondsToRemoval) > max {
			max = int(*p.MedianSecondsToRemoval)
		}
	}
	c := newChart(t(lang, "figures.median"), len(ps))
	for i, p := range ps {
		var segs []chartSeg
		val := "–"
		if m := p.MedianSecondsToRemoval; m != nil {
			val = fmt.Sprintf("%.1f h", float64(*m)/3600)
			segs = []chartSeg{{W: scale(int(*m), max), Class: "bar", Title: val}}
		}
		c.row(i, p.Platform, segs, val)
	}
	return c
}

// escalationChart: cases past their deadline (overdue) and closed as
// non-compliant after warning 3, per platform.
func escalationChart(lang string, ps []audit.PlatformStats) chart {
	max := 0
	for _, p := range ps {
		if n := p.Overdue + p.NonCompliant; n > max {
			max = n
		}
	}
	c := newChart(t(lang, "figures.escalations"), len(ps))
	for i, p := range ps {
		c.row(i, p.Platform, []chartSeg{
			{W: scale(p.Overdue, max), Class: "late", Title: fmt.Sprintf("overdue %d", p.Overdue)},
			{W: scale(p.NonCompliant, max), Class: "live", Title: fmt.Sprintf("non-compliant %d", p.NonCompliant)},
		}, fmt.Sprintf("%d / %d", p.Overdue, p.NonCompliant))
	}
	return c
}
