//! Charts drawn on the server: the geometry of an SVG line chart (headcount) and a
//! grouped bar chart (created / updated / deactivated per import), rendered by the
//! templates. Each series has a pattern as well as a colour and every point or bar
//! carries its number as text, so the charts read without colour; the page also
//! shows the numbers as a table.

/// Drawing area, in SVG user units.
pub const WIDTH: i64 = 720;
pub const HEIGHT: i64 = 260;
const LEFT: i64 = 56;
const RIGHT: i64 = 16;
const TOP: i64 = 24;
const BOTTOM: i64 = 48;

/// A label on an axis at `pos` (x for the x axis, y for the y axis).
#[derive(Debug, PartialEq, Eq)]
pub struct Tick {
    pub pos: i64,
    pub label: String,
    /// `text-anchor`: the ends of the x axis keep their labels inside the chart.
    pub anchor: &'static str,
}

/// A point of the line chart, with its value written next to it.
#[derive(Debug, PartialEq, Eq)]
pub struct Dot {
    pub x: i64,
    pub y: i64,
    pub value: i64,
    /// Whether the value is written (every point when few, else some).
    pub labelled: bool,
    /// The tooltip: date and value.
    pub title: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct LineChart {
    pub width: i64,
    pub height: i64,
    /// The `points` attribute of the polyline.
    pub points: String,
    pub dots: Vec<Dot>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// Left and right end of the plot, and its baseline.
    pub left: i64,
    pub right: i64,
    pub base: i64,
}

/// A "nice" upper bound of the axis and its step (1, 2 or 5 × 10ⁿ).
fn axis(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            let s = step * m;
            if max / s <= 5 {
                let top = (max + s - 1) / s * s;
                return (top.max(s), s);
            }
        }
        step *= 10;
    }
}

fn y_of(v: i64, top: i64) -> i64 {
    let h = HEIGHT - TOP - BOTTOM;
    HEIGHT - BOTTOM - v * h / top.max(1)
}

fn y_ticks(top: i64, step: i64) -> Vec<Tick> {
    (0..=top / step)
        .map(|i| Tick {
            pos: y_of(i * step, top),
            label: (i * step).to_string(),
            anchor: "end",
        })
        .collect()
}

/// Every n-th of `len` labels, so about `room` fit.
fn every(len: usize, room: usize) -> usize {
    len.div_ceil(room.max(1)).max(1)
}

/// A line through `(label, value)` points, in order.
pub fn line(points: &[(String, i64)]) -> LineChart {
    let max = points.iter().map(|p| p.1).max().unwrap_or(0);
    let (top, step) = axis(max);
    let span = WIDTH - LEFT - RIGHT;
    let n = points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            LEFT + span / 2
        } else {
            LEFT + (i as i64) * span / (n as i64 - 1)
        }
    };
    let label_every = every(n, 12);
    let dots: Vec<Dot> = points
        .iter()
        .enumerate()
        .map(|(i, (label, v))| Dot {
            x: x_of(i),
            y: y_of(*v, top),
            value: *v,
            labelled: i % label_every == 0 || i + 1 == n,
            title: format!("{label}: {v}"),
        })
        .collect();
    let tick_every = every(n, 6);
    LineChart {
        width: WIDTH,
        height: HEIGHT,
        points: dots
            .iter()
            .map(|d| format!("{},{}", d.x, d.y))
            .collect::<Vec<_>>()
            .join(" "),
        x_ticks: points
            .iter()
            .enumerate()
            .filter(|(i, _)| i % tick_every == 0 || i + 1 == n)
            .map(|(i, (label, _))| Tick {
                pos: x_of(i),
                label: label.clone(),
                anchor: match i {
                    _ if n == 1 => "middle",
                    0 => "start",
                    _ if i + 1 == n => "end",
                    _ => "middle",
                },
            })
            .collect(),
        dots,
        y_ticks: y_ticks(top, step),
        left: LEFT,
        right: WIDTH - RIGHT,
        base: HEIGHT - BOTTOM,
    }
}

/// One bar: its box, its number and its series (`created`, `updated`,
/// `deactivated`: the class and pattern of the bar).
#[derive(Debug, PartialEq, Eq)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub value: i64,
    pub series: &'static str,
    pub title: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BarGroup {
    pub label: String,
    /// Centre of the group, for its label.
    pub x: i64,
    pub bars: Vec<Bar>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BarChart {
    pub width: i64,
    pub height: i64,
    pub groups: Vec<BarGroup>,
    pub y_ticks: Vec<Tick>,
    pub left: i64,
    pub right: i64,
    pub base: i64,
}

/// The series of the import chart, in drawing order.
pub const SERIES: [&str; 3] = ["created", "updated", "deactivated"];

/// Grouped bars: per group a label and one value per [`SERIES`].
pub fn bars(groups: &[(String, [i64; 3])]) -> BarChart {
    let max = groups
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .max()
        .unwrap_or(0);
    let (top, step) = axis(max);
    let span = WIDTH - LEFT - RIGHT;
    let n = groups.len().max(1) as i64;
    let slot = span / n;
    let bar_w = ((slot - 8) / 3).clamp(4, 40);
    let out = groups
        .iter()
        .enumerate()
        .map(|(i, (label, values))| {
            let start = LEFT + i as i64 * slot + (slot - 3 * bar_w) / 2;
            BarGroup {
                label: label.clone(),
                x: LEFT + i as i64 * slot + slot / 2,
                bars: values
                    .iter()
                    .zip(SERIES)
                    .enumerate()
                    .map(|(k, (v, series))| {
                        let y = y_of(*v, top);
                        Bar {
                            x: start + k as i64 * bar_w,
                            y,
                            w: bar_w,
                            h: HEIGHT - BOTTOM - y,
                            value: *v,
                            series,
                            title: format!("{label}: {v} {series}"),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    BarChart {
        width: WIDTH,
        height: HEIGHT,
        groups: out,
        y_ticks: y_ticks(top, step),
        left: LEFT,
        right: WIDTH - RIGHT,
        base: HEIGHT - BOTTOM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(4), (4, 1));
        assert_eq!(axis(9), (10, 2));
        assert_eq!(axis(237), (250, 50));
        assert_eq!(axis(10_001), (12_000, 2_000));
    }

    #[test]
    fn a_line_rises_with_its_values_and_keeps_them_as_text() {
        let c = line(&[("a".into(), 10), ("b".into(), 20)]);
        assert_eq!(c.dots.len(), 2);
        assert!(c.dots[1].y < c.dots[0].y, "higher values are drawn higher");
        assert_eq!(c.dots[0].x, LEFT);
        assert_eq!(c.dots[1].x, WIDTH - RIGHT);
        assert!(c.dots.iter().all(|d| d.labelled));
        assert_eq!(
            c.points,
            format!("{},{} {},{}", LEFT, c.dots[0].y, WIDTH - RIGHT, c.dots[1].y)
        );
    }

    #[test]
    fn bars_stand_on_the_baseline_with_their_heights() {
        let c = bars(&[("#1".into(), [30, 0, 3])]);
        let b = &c.groups[0].bars;
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].y + b[0].h, c.base);
        assert_eq!(b[1].h, 0);
        assert!(b[0].h > b[2].h);
        assert_eq!(b[2].series, "deactivated");
    }
}
