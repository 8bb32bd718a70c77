package console

import (
	"fmt"
	"strings"

	"github.com/tangkal/tangkal/internal/audit"
)

// chart is a horizontal bar chart drawn as SVG on the server: one row per
// platform, its name and its figures on a line of their own above its bar
// (so both stay readable on a phone, where a label column beside the bars
// shrank to a few pixels), the bar one or more coloured segments (classes
// in the stylesheet, no inline style). The figures are text, for screen
// readers and for people who do not read colour.
type chart struct {
	Title  string
	Width  int
	Height int
	Rows   []chartRow
}

type chartRow struct {
	Label string
	Y     int // the bar's top
	TextY int // the baseline of the label and the value
	Segs  []chartSeg
	Value string
	ValX  int // where the value ends (right-aligned)
}

type chartSeg struct {
	X, W  int
	Class string
	Title string
}

const (
	chartW    = 400 // the chart's width, a full bar's
	chartRowH = 46  // a line of text, the bar, a gap
)

func newChart(title string, n int) chart {
	return chart{Title: title, Width: chartW, Height: n * chartRowH}
}

func (c *chart) row(i int, label string, segs []chartSeg, value string) {
	x := 0
	for j := range segs {
		segs[j].X = x
		x += segs[j].W
	}
	c.Rows = append(c.Rows, chartRow{Label: label, Y: i*chartRowH + 21, TextY: i*chartRowH + 15, Segs: segs, Value: value, ValX: chartW})
}

func scale(v, max int) int {
	if max <= 0 || v <= 0 {
		return 0
	}
	w := v * chartW / max
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
		c.row(i, p.Platform, segs, fmt.Sprintf("%d / %d / %d / %d", p.RemovedInTime, p.RemovedLate, p.StillLive, p.NonCompliant))
	}
	return c
}

// removalChart: time from the takedown request to the removal per
// platform, the median as a bar and the 90th percentile as its lighter
// continuation.
func removalChart(lang string, ps []audit.PlatformStats) chart {
	max := 0
	for _, p := range ps {
		for _, v := range []*int64{p.MedianSecondsToRemoval, p.P90SecondsToRemoval} {
			if v != nil && int(*v) > max {
				max = int(*v)
			}
		}
	}
	c := newChart(t(lang, "figures.median"), len(ps))
	for i, p := range ps {
		var segs []chartSeg
		val := "–"
		if m := p.MedianSecondsToRemoval; m != nil {
			med := spell(lang, *m)
			val = med
			segs = []chartSeg{{W: scale(int(*m), max), Class: "bar", Title: "median " + med}}
			if q := p.P90SecondsToRemoval; q != nil && *q > *m {
				p90 := spell(lang, *q)
				segs = append(segs, chartSeg{W: scale(int(*q), max) - segs[0].W, Class: "p90", Title: "p90 " + p90})
				val += " · p90 " + p90
			}
		}
		c.row(i, p.Platform, segs, val)
	}
	return c
}

// spell writes a duration of seconds as people read one on these charts:
// minutes under an hour ("< 1 mnt", "25 mnt"), else hours to a tenth,
// with a decimal comma in Indonesian ("4,5 jam"; English "4.5 h").
func spell(lang string, secs int64) string {
	switch {
	case secs < 60:
		return pick(lang, "< 1 mnt", "< 1 min")
	case secs < 3600:
		return fmt.Sprintf("%d %s", secs/60, pick(lang, "mnt", "min"))
	}
	h := fmt.Sprintf("%.1f", float64(secs)/3600)
	if lang != LangEN {
		return strings.Replace(h, ".", ",", 1) + " jam"
	}
	return h + " h"
}

// levelChart: warnings sent per platform by level (1, 2, 3), from the
// transparency export's counters.
func levelChart(lang string, platforms []string, levels map[string][3]int64) chart {
	max := 0
	for _, l := range levels {
		if n := int(l[0] + l[1] + l[2]); n > max {
			max = n
		}
	}
	c := newChart(t(lang, "figures.levels"), len(platforms))
	for i, p := range platforms {
		l := levels[p]
		var segs []chartSeg
		for j, class := range []string{"late", "live", "other"} {
			segs = append(segs, chartSeg{W: scale(int(l[j]), max), Class: class,
				Title: fmt.Sprintf("%s %d: %d", t(lang, "figures.warning"), j+1, l[j])})
		}
		c.row(i, p, segs, fmt.Sprintf("%d / %d / %d", l[0], l[1], l[2]))
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
			{W: scale(p.Overdue, max), Class: "late", Title: fmt.Sprintf("%s: %d", t(lang, "figures.overdue"), p.Overdue)},
			{W: scale(p.NonCompliant, max), Class: "live", Title: fmt.Sprintf("%s: %d", t(lang, "figures.noncompliant"), p.NonCompliant)},
		}, fmt.Sprintf("%d / %d", p.Overdue, p.NonCompliant))
	}
	return c
}

// PipelineRow is one agency's approval time, for the figures page's
// pipeline section (Console.Pipeline).
type PipelineRow struct {
	Agency        string
	Decisions     int
	MedianSeconds *int64
	P90Seconds    *int64
}

// pipelineChart: the time agencies take to decide, median and p90.
func pipelineChart(lang string, rows []PipelineRow, name func(string) string) chart {
	ps := make([]audit.PlatformStats, 0, len(rows))
	for _, r := range rows {
		ps = append(ps, audit.PlatformStats{Platform: name(r.Agency), MedianSecondsToRemoval: r.MedianSeconds, P90SecondsToRemoval: r.P90Seconds})
	}
	c := removalChart(lang, ps)
	c.Title = t(lang, "figures.pipeline")
	return c
}
