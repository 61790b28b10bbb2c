//! The `--gantt` chart: one row per worker, one bar per task that ran (x = time, width =
//! duration), coloured by lane, critical-path tasks outlined, the lower bound as a dashed line.
//! Plain SVG text, written by hand.

use std::fmt::Write as _;
use std::time::Duration;

use taskyard::Lane;
use taskyard::graph::{GraphReport, NodeStatus, Policy};

/// What the chart's heading says besides the report's figures.
#[derive(Debug)]
pub(crate) struct Title<'a> {
    /// The workload's name.
    pub(crate) workload: &'a str,
    /// The policy that ordered ready tasks.
    pub(crate) policy: Policy,
    /// "real run" or "simulated".
    pub(crate) mode: &'a str,
}

/// The time axis's length: between these, about [`PER_BAR`] per task on the busiest worker.
const MIN_PLOT: f64 = 1100.0;
const MAX_PLOT: f64 = 2000.0;
const PER_BAR: f64 = 64.0;
/// Room for the worker labels.
const LEFT: f64 = 84.0;
/// Right margin.
const RIGHT: f64 = 32.0;
/// Room for the heading and the lower-bound label.
const TOP: f64 = 78.0;
/// Room for the time axis.
const AXIS: f64 = 42.0;
/// Room for the legend.
const LEGEND: f64 = 34.0;
/// The font size of the worker labels, axis and legend.
const FONT: f64 = 11.0;
/// The font size of the task names inside bars.
const BAR_FONT: f64 = 10.0;
/// Average width of a character, in ems.
const EM: f64 = 0.6;
/// Outline of a critical-path task.
const CRITICAL_STROKE: f64 = 2.5;
const INK: &str = "#1b1f24";
const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// A lane's colour (dark enough for white labels) and a lighter shade, alternated between
/// consecutive tasks of a worker so that neighbours stay apart.
fn colours(lane: Lane) -> (&'static str, &'static str) {
    match lane {
        Lane::Critical => ("#b03a2e", "#cb4335"),
        Lane::High => ("#ca6f1e", "#dc7633"),
        Lane::Normal => ("#2e6da4", "#3f85c6"),
        Lane::Low => ("#1e8449", "#28a05b"),
        Lane::Background => ("#6c7a7d", "#839192"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `text` with the five XML special characters escaped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The name of a task in one line, or in two split at a separator near the middle (if `two`),
/// whichever fits in `room` pixels; `None` if neither does.
fn label_lines(name: &str, room: f64, two: bool) -> Option<(&str, Option<&str>)> {
    let width = |s: &str| s.chars().count() as f64 * EM * BAR_FONT;
    if width(name) <= room {
        return Some((name, None));
    }
    if !two {
        return None;
    }
    let middle = name.len() / 2;
    let split = name
        .char_indices()
        .filter(|&(_, c)| matches!(c, '_' | '-' | '.' | ' ' | '/' | ':'))
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&i| i < name.len())
        .min_by_key(|&i| i.abs_diff(middle))?;
    let (first, second) = name.split_at(split);
    (width(first.trim_end()) <= room && width(second) <= room)
        .then_some((first.trim_end(), Some(second)))
}

/// A tick step of 1, 2 or 5 times a power of ten giving about eight ticks over `span` ms.
fn tick_step(span: f64) -> f64 {
    let raw = span / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// A tick label: as many decimals as the step needs.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$}")
}

/// The chart of `report` as an SVG document.
pub(crate) fn svg(report: &GraphReport, title: &Title<'_>) -> String {
    let workers = report.workers();
    let makespan = ms(report.makespan());
    // An empty or instant run still gets an axis, of 1 ms.
    let has_span = makespan > 0.0;
    let span = if has_span { makespan } else { 1.0 };
    let mut per_worker = vec![0usize; workers];
    for node in report.nodes() {
        if let Some(w) = node.worker().filter(|&w| w < workers) {
            per_worker[w] += 1;
        }
    }
    let busiest = per_worker.iter().copied().max().unwrap_or(0);
    let plot_w = (busiest as f64 * PER_BAR).clamp(MIN_PLOT, MAX_PLOT).round();
    let width = LEFT + plot_w + RIGHT;
    let row_h = (720.0 / workers as f64).clamp(8.0, 40.0).floor();
    let bar_h = (row_h * 0.78).round();
    let plot_h = row_h * workers as f64;
    let height = TOP + plot_h + AXIS + LEGEND;
    let x = |t: f64| LEFT + t / span * plot_w;
    let bottom = TOP + plot_h;

    let mut critical = vec![false; report.nodes().len()];
    for node in report.critical_path_nodes() {
        critical[node.index()] = true;
    }

    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}" font-size="{FONT}">"#
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // Heading.
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="26" font-size="16" font-weight="bold" fill="{INK}">{} — {}, {} worker{}, {} policy</text>"#,
        xml(title.workload),
        xml(title.mode),
        workers,
        if workers == 1 { "" } else { "s" },
        title.policy
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="46" font-size="12" fill="#4d5560">makespan {:.1} ms · lower bound {:.1} ms · ratio {:.3}x · critical path {:.1} ms · total work {:.1} ms</text>"##,
        makespan,
        ms(report.lower_bound()),
        report.ratio_to_lower_bound(),
        ms(report.critical_path()),
        ms(report.total_work()),
    );

    // Rows and worker labels.
    for w in 0..workers {
        let y = TOP + row_h * w as f64;
        let fill = if w % 2 == 0 { "#f3f5f8" } else { "#ffffff" };
        let _ = writeln!(
            s,
            r#"<rect x="{LEFT}" y="{y}" width="{plot_w}" height="{row_h}" fill="{fill}"/>"#
        );
        if row_h >= 10.0 {
            let size = FONT.min(row_h - 1.0);
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="{size:.0}" fill="#4d5560">worker {w}</text>"##,
                LEFT - 8.0,
                y + row_h / 2.0 + 0.35 * size
            );
        }
    }

    // Grid lines and the time axis.
    let step = tick_step(span);
    let _ = writeln!(s, r##"<g stroke="#d5dae1" stroke-width="1">"##);
    let mut t = 0.0;
    let mut ticks = Vec::new();
    while t <= span + step * 1e-9 {
        ticks.push(t);
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{bottom}"/>"#,
            x(t)
        );
        t += step;
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{bottom}" x2="{:.1}" y2="{bottom}" stroke="{INK}" stroke-width="1"/>"#,
        LEFT + plot_w
    );
    let _ = writeln!(s, r#"<g fill="{INK}" text-anchor="middle">"#);
    let end_x = x(span);
    for &t in &ticks {
        let tx = x(t);
        let _ = writeln!(
            s,
            r#"<line x1="{tx:.1}" y1="{bottom}" x2="{tx:.1}" y2="{:.1}" stroke="{INK}"/>"#,
            bottom + 5.0
        );
        // Leave room for the makespan's own label at the end of the axis.
        if !has_span || end_x - tx > 48.0 || t == 0.0 {
            let _ = writeln!(
                s,
                r#"<text x="{tx:.1}" y="{:.1}">{}</text>"#,
                bottom + 18.0,
                tick_label(t, step)
            );
        }
    }
    if has_span {
        let _ = writeln!(
            s,
            r#"<line x1="{end_x:.1}" y1="{bottom}" x2="{end_x:.1}" y2="{:.1}" stroke="{INK}"/>"#,
            bottom + 5.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{end_x:.1}" y="{:.1}" font-weight="bold">{makespan:.1}</text>"#,
            bottom + 18.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" fill="#4d5560">time (ms)</text>"##,
        LEFT + plot_w / 2.0,
        bottom + 34.0
    );
    let _ = writeln!(s, "</g>");

    // Bars.
    let mut seen = vec![false; workers];
    let mut shade = vec![false; workers];
    let mut order: Vec<usize> = (0..report.nodes().len()).collect();
    order.sort_by_key(|&i| report.nodes()[i].start());
    for i in order {
        let node = &report.nodes()[i];
        let (Some(w), Some(start), Some(end)) = (node.worker(), node.start(), node.end()) else {
            continue;
        };
        if w >= workers {
            continue;
        }
        if seen[w] {
            shade[w] = !shade[w];
        }
        seen[w] = true;
        let (start, end) = (ms(start), ms(end));
        let (dark, light) = colours(node.lane());
        let fill = if shade[w] { light } else { dark };
        let bx = x(start);
        let bw = (x(end) - bx).max(1.0);
        let by = TOP + row_h * w as f64 + (row_h - bar_h) / 2.0;
        let failed = node.status() == NodeStatus::Failed;
        let mut tooltip = format!(
            "{}\nlane {} · worker {w}\n{start:.1} → {end:.1} ms ({:.1} ms)",
            node.name(),
            node.lane(),
            end - start
        );
        if critical[i] {
            tooltip.push_str("\non the critical path");
        }
        if let Some(error) = node.error() {
            let _ = write!(tooltip, "\nfailed: {error}");
        }
        let _ = writeln!(s, "<g><title>{}</title>", xml(&tooltip));
        let extra = if failed {
            r##" fill-opacity="0.45" stroke="#b03a2e" stroke-dasharray="3 2""##
        } else {
            ""
        };
        if critical[i] && bw > CRITICAL_STROKE * 2.0 {
            let inset = CRITICAL_STROKE / 2.0;
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2" fill="{fill}" stroke="{INK}" stroke-width="{CRITICAL_STROKE}"{extra}/>"#,
                bx + inset,
                by + inset,
                bw - 2.0 * inset,
                bar_h - 2.0 * inset
            );
        } else {
            let _ = writeln!(
                s,
                r#"<rect x="{bx:.1}" y="{by:.1}" width="{bw:.1}" height="{bar_h:.1}" rx="2" fill="{fill}"{extra}/>"#,
            );
        }
        let room = bw - if critical[i] { 10.0 } else { 6.0 };
        let (cx, cy) = (bx + bw / 2.0, by + bar_h / 2.0);
        let line_h = 1.15 * BAR_FONT;
        let two = bar_h >= 2.0 * line_h + 2.0;
        match label_lines(node.name(), room, two) {
            Some(_) if bar_h < BAR_FONT + 2.0 => {}
            None => {}
            Some((line, None)) => {
                let _ = writeln!(
                    s,
                    r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="{BAR_FONT}" fill="white">{}</text>"#,
                    cy + 0.35 * BAR_FONT,
                    xml(line)
                );
            }
            Some((first, Some(second))) => {
                let _ = writeln!(
                    s,
                    r#"<text text-anchor="middle" font-size="{BAR_FONT}" fill="white"><tspan x="{cx:.1}" y="{:.1}">{}</tspan><tspan x="{cx:.1}" y="{:.1}">{}</tspan></text>"#,
                    cy - line_h / 2.0 + 0.35 * BAR_FONT,
                    xml(first),
                    cy + line_h / 2.0 + 0.35 * BAR_FONT,
                    xml(second)
                );
            }
        }
        let _ = writeln!(s, "</g>");
    }

    // The lower bound.
    let lb = x(ms(report.lower_bound()).min(span));
    let _ = writeln!(
        s,
        r##"<line x1="{lb:.1}" y1="{:.1}" x2="{lb:.1}" y2="{bottom}" stroke="#b03a2e" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
        TOP - 12.0
    );
    let (anchor, dx) = if lb - LEFT > 140.0 {
        ("end", -5.0)
    } else {
        ("start", 5.0)
    };
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#b03a2e">lower bound {:.1} ms</text>"##,
        lb + dx,
        TOP - 4.0,
        ms(report.lower_bound())
    );

    // Legend: the lanes that occur, the critical-path outline, the lower bound.
    let ly = bottom + AXIS + 12.0;
    let mut lx = LEFT;
    let char_w = EM * FONT;
    let baseline = 0.35 * FONT;
    for lane in Lane::ALL {
        if !report.nodes().iter().any(|n| n.lane() == lane) {
            continue;
        }
        let label = format!("{lane} lane");
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="16" height="12" rx="2" fill="{}"/><text x="{:.1}" y="{:.1}" fill="{INK}">{label}</text>"#,
            ly - 6.0,
            colours(lane).0,
            lx + 22.0,
            ly + baseline
        );
        lx += 22.0 + label.len() as f64 * char_w + 22.0;
    }
    let _ = writeln!(
        s,
        r#"<rect x="{:.1}" y="{:.1}" width="15" height="11" rx="2" fill="white" stroke="{INK}" stroke-width="{CRITICAL_STROKE}"/><text x="{:.1}" y="{:.1}" fill="{INK}">critical path</text>"#,
        lx + 0.5,
        ly - 5.5,
        lx + 22.0,
        ly + baseline
    );
    lx += 22.0 + 13.0 * char_w + 22.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="#b03a2e" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" fill="{INK}">lower bound: max(critical path, total work / workers)</text>"##,
        lx + 22.0,
        lx + 28.0,
        ly + baseline
    );
    let _ = writeln!(s, "</svg>");
    s
}
