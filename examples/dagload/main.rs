//! `dagload`: runs a DAG workload from a JSON file on the taskyard runtime (or in virtual time)
//! and reports how close the schedule came to the best possible one.
//!
//! ```text
//! cargo run --release --example dagload                     # the warehouse load, 2 workers
//! cargo run --release --example dagload -- --workers 4 --policy fifo
//! cargo run --release --example dagload -- --simulate --workers 16
//! cargo run --release --example dagload -- --workload workloads/stg/stg50-rand0000.json
//! cargo run --release --example dagload -- --json | python3 -m json.tool
//! cargo run --release --example dagload -- --gantt /tmp/gantt.svg
//! ```
//!
//! Without `--workload` it runs the warehouse load (`workloads/warehouse.json`, embedded in the
//! binary). In a real run every task keeps its worker busy for its `cost_ms`, spinning on the
//! clock (real CPU work, not a sleep), so the makespan shows what the scheduler makes of the
//! graph; `--simulate` runs the same graph in virtual time instead, where every task takes
//! exactly its cost and nothing executes.
//!
//! The report compares the makespan with the lower bound `max(critical path, total work /
//! workers)`, which no schedule can beat.
//!
//! Exit status: `0` when every task ran, `1` when some task did not (failed, skipped or not
//! run) or the report could not be written, `2` for bad flags or a bad workload file (nothing
//! runs then).

mod gantt;
mod workload;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use taskyard::Runtime;
use taskyard::graph::{GraphReport, NodeReport, NodeStatus, Policy, RunnableGraph};

/// The default workload: a nightly data-warehouse load of 59 tasks.
const WAREHOUSE: &str = include_str!("../../workloads/warehouse.json");

/// How often the progress bar is updated during a real run.
const POLL: Duration = Duration::from_millis(50);

/// Runs a DAG workload on the taskyard runtime (or in virtual time) and reports the makespan
/// against the lower bound max(critical path, total work / workers).
#[derive(Debug, Parser)]
#[command(name = "dagload")]
struct Args {
    /// Workload file: {"name": ..., "tasks": [{"name", "cost_ms", "lane"?, "after"?,
    /// "after_start"?}]} [default: the embedded warehouse load]
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,

    /// Number of workers (at least 1)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 2,
        value_parser = parse_workers,
        allow_negative_numbers = true
    )]
    workers: usize,

    /// Which ready task starts first
    #[arg(long, value_enum, default_value_t = PolicyArg::Rank)]
    policy: PolicyArg,

    /// Run in virtual time (every task takes exactly its cost; nothing executes)
    #[arg(long)]
    simulate: bool,

    /// Print the report as JSON on stdout (and nothing else)
    #[arg(long)]
    json: bool,

    /// Write an SVG Gantt chart of the run to this file
    #[arg(long, value_name = "FILE.svg")]
    gantt: Option<PathBuf>,
}

/// The `--policy` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    /// Critical path first: the ready task with the longest cost-weighted path to the end
    Rank,
    /// Submission order: the task listed first in the file starts first
    Fifo,
    /// The best of several rank-based orders, tried in virtual time before the run
    Planned,
}

impl From<PolicyArg> for Policy {
    fn from(policy: PolicyArg) -> Self {
        match policy {
            PolicyArg::Rank => Policy::Rank,
            PolicyArg::Fifo => Policy::Fifo,
            PolicyArg::Planned => Policy::Planned,
        }
    }
}

fn parse_workers(s: &str) -> Result<usize, String> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err(format!("at least one worker is needed (got {s})"));
    }
    match s.parse::<usize>() {
        Ok(0) => Err("at least one worker is needed (got 0)".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a number of workers: {e}")),
    }
}

/// Why the program stops early: a message for stderr and the exit status.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad input: nothing ran (exit status 2).
    fn input(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// Something went wrong after the workload was accepted (exit status 1).
    fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, Failure> {
    let (source, text) = match &args.workload {
        None => (
            "the embedded warehouse.json".to_owned(),
            WAREHOUSE.to_owned(),
        ),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::input(format!(
                    "cannot read workload file `{}`: {e}",
                    path.display()
                ))
            })?;
            (format!("`{}`", path.display()), text)
        }
    };
    let invalid = |e: workload::WorkloadError| Failure::input(format!("{source}: {e}"));
    let (name, graph) = workload::parse(&text)
        .map_err(invalid)?
        .into_graph(|task| spin(task.cost().unwrap_or(0.0)))
        .map_err(invalid)?;

    // Open the chart's file now, so that an unwritable path stops us before anything runs.
    let chart = match &args.gantt {
        None => None,
        Some(path) => {
            let file = File::create(path).map_err(|e| {
                Failure::input(format!(
                    "cannot write the Gantt chart to `{}`: {e}",
                    path.display()
                ))
            })?;
            Some((path, file))
        }
    };

    let policy = Policy::from(args.policy);
    let report = if args.simulate {
        graph
            .simulate(args.workers, policy)
            .map_err(|e| Failure::input(e.to_string()))?
    } else {
        let progress =
            !args.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        run_on_runtime(graph, args.workers, policy, progress)?
    };
    let mode = if args.simulate {
        Mode::Simulate
    } else {
        Mode::Run
    };

    if let Some((path, mut file)) = chart {
        let title = gantt::Title {
            workload: &name,
            policy,
            mode: mode.describe(),
        };
        file.write_all(gantt::svg(&report, &title).as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| {
                Failure::runtime(format!(
                    "cannot write the Gantt chart to `{}`: {e}",
                    path.display()
                ))
            })?;
    }

    let out = if args.json {
        let mut json = serde_json::to_string_pretty(&JsonReport::new(&name, mode, &report))
            .map_err(|e| Failure::runtime(format!("cannot encode the report: {e}")))?;
        json.push('\n');
        json
    } else {
        summary(&name, mode, &report, args.gantt.as_ref())
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::runtime(format!("cannot write the report: {e}")))?;

    let all_done = report.nodes().iter().all(|n| n.status().is_done());
    Ok(if all_done {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A task's body: keeps its worker busy for `cost_ms` milliseconds.
fn spin(cost_ms: f64) -> impl FnOnce() + Send + 'static {
    // The graph refuses negative and non-finite costs before anything runs.
    let cost = Duration::try_from_secs_f64(cost_ms / 1000.0).unwrap_or_default();
    move || {
        let start = Instant::now();
        while start.elapsed() < cost {
            std::hint::spin_loop();
        }
    }
}

/// Runs `graph` on a fresh runtime of `workers` workers, with a progress bar on stderr if
/// `progress`.
fn run_on_runtime(
    graph: RunnableGraph,
    workers: usize,
    policy: Policy,
    progress: bool,
) -> Result<GraphReport, Failure> {
    let total = graph.dag().len();
    let rt = Runtime::builder()
        .workers(workers)
        .thread_name("dagload")
        .build()
        .map_err(|e| Failure::input(format!("cannot start {workers} workers: {e}")))?;
    let handle = rt
        .run_graph(graph, policy)
        .map_err(|e| Failure::runtime(format!("cannot run the graph: {e}")))?;

    let bar = if progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner:.green} {elapsed:>4} [{bar:40.cyan/blue}] {pos}/{len} tasks",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    loop {
        let remaining = handle.remaining();
        bar.set_position(total.saturating_sub(remaining) as u64);
        if remaining == 0 {
            break;
        }
        bar.tick();
        thread::sleep(POLL);
    }
    let report = handle.join();
    bar.finish_and_clear();
    drop(rt.shutdown(Duration::from_secs(1)));
    Ok(report)
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Run,
    Simulate,
}

impl Mode {
    fn json(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Simulate => "simulate",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Mode::Run => "real run",
            Mode::Simulate => "simulated (virtual time)",
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `x` rounded to `decimals` places, so that the JSON shows no binary noise.
fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// A time for the JSON report: milliseconds, to the microsecond.
fn json_ms(d: Duration) -> f64 {
    round(ms(d), 3)
}

fn status_name(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Done => "done",
        NodeStatus::Failed => "failed",
        NodeStatus::Skipped { .. } => "skipped",
        _ => "not_run",
    }
}

/// The `--json` report.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    workload: &'a str,
    workers: usize,
    policy: String,
    mode: &'static str,
    makespan_ms: f64,
    lower_bound_ms: f64,
    ratio_to_lower_bound: f64,
    critical_path_ms: f64,
    critical_path_tasks: Vec<&'a str>,
    total_work_ms: f64,
    utilisation: Vec<f64>,
    tasks: Vec<JsonTask<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonTask<'a> {
    name: &'a str,
    lane: &'static str,
    worker: Option<usize>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl<'a> JsonReport<'a> {
    fn new(workload: &'a str, mode: Mode, report: &'a GraphReport) -> Self {
        Self {
            workload,
            workers: report.workers(),
            policy: report.policy().to_string(),
            mode: mode.json(),
            makespan_ms: json_ms(report.makespan()),
            lower_bound_ms: json_ms(report.lower_bound()),
            ratio_to_lower_bound: round(report.ratio_to_lower_bound(), 5),
            critical_path_ms: json_ms(report.critical_path()),
            critical_path_tasks: report.critical_path_names(),
            total_work_ms: json_ms(report.total_work()),
            utilisation: report
                .utilisation()
                .into_iter()
                .map(|u| round(u, 5))
                .collect(),
            tasks: report
                .nodes()
                .iter()
                .map(|n| JsonTask {
                    name: n.name(),
                    lane: n.lane().as_str(),
                    worker: n.worker(),
                    start_ms: n.start().map(json_ms),
                    end_ms: n.end().map(json_ms),
                    status: status_name(n.status()),
                    error: n.error(),
                })
                .collect(),
        }
    }
}

/// Width the summary wraps long lists at.
const WIDTH: usize = 100;
/// Where a summary line's note (after label and figure) starts.
const NOTE: usize = 32;

/// One summary line: label, figure (right-aligned) and a note, which may be several lines
/// already indented to [`NOTE`].
fn line(out: &mut String, label: &str, figure: &str, note: &str) {
    let line = format!("  {label:<16}{figure:>12}  {note}");
    let _ = writeln!(out, "{}", line.trim_end());
}

/// The human-readable report.
fn summary(name: &str, mode: Mode, report: &GraphReport, gantt: Option<&PathBuf>) -> String {
    let mut out = String::new();
    let nodes = report.nodes();
    let workers = report.workers();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "{name}: {} task{} on {workers} worker{}, {} policy, {}",
        nodes.len(),
        plural(nodes.len()),
        plural(workers),
        report.policy(),
        mode.describe()
    );
    let figure = |d: Duration| format!("{:.1} ms", ms(d));
    line(
        &mut out,
        "makespan",
        &figure(report.makespan()),
        &format!("{:.3}x the lower bound", report.ratio_to_lower_bound()),
    );
    let bound_by = if report.lower_bound() == report.critical_path() {
        "the critical path".to_owned()
    } else {
        format!("total work / {workers} worker{}", plural(workers))
    };
    line(
        &mut out,
        "lower bound",
        &figure(report.lower_bound()),
        &bound_by,
    );
    let path = report.critical_path_names();
    let head = format!("{} task{}:", path.len(), plural(path.len()));
    line(
        &mut out,
        "critical path",
        &figure(report.critical_path()),
        &wrap(&head, &path, " -> "),
    );
    line(&mut out, "total work", &figure(report.total_work()), "");
    let all_done = nodes.iter().all(|n| n.status().is_done());
    if matches!(mode, Mode::Run) && all_done && !report.total_work().is_zero() {
        // Every task spins for its cost, so time beyond it was taken by something else: other
        // processes, the operating system, the runtime between a task's start and its body.
        let busy: Duration = report.busy().iter().sum();
        let overrun = ms(busy) - ms(report.total_work());
        line(
            &mut out,
            "overrun",
            &format!("{overrun:+.1} ms"),
            &format!(
                "tasks ran {:.1}% longer than their costs",
                overrun / ms(report.total_work()) * 100.0
            ),
        );
    }
    let utilisation = report.utilisation();
    let mean = utilisation.iter().sum::<f64>() / utilisation.len().max(1) as f64;
    let per_worker: Vec<String> = utilisation
        .iter()
        .enumerate()
        .map(|(w, u)| format!("w{w} {:.1}%", u * 100.0))
        .collect();
    line(
        &mut out,
        "utilisation",
        &format!("{:.1} % ", mean * 100.0),
        &wrap("per worker:", &per_worker, "  "),
    );

    let not_done: Vec<&NodeReport> = nodes.iter().filter(|n| !n.status().is_done()).collect();
    if !not_done.is_empty() {
        line(
            &mut out,
            "not done",
            &format!("{} of {}", not_done.len(), nodes.len()),
            "",
        );
        let width = not_done.iter().map(|n| n.name().len()).max().unwrap_or(0);
        for n in not_done {
            let status = match n.status() {
                NodeStatus::Failed => match n.error() {
                    Some(error) => format!("failed: {error}"),
                    None => "failed".to_owned(),
                },
                NodeStatus::Skipped { cause } => {
                    format!("skipped (`{}` failed)", report.node(cause).name())
                }
                _ => "not run".to_owned(),
            };
            let _ = writeln!(out, "    {:<width$}  {status}", n.name());
        }
    }
    if let Some(path) = gantt {
        line(&mut out, "gantt chart", "", &path.display().to_string());
    }
    out
}

/// `head` then `items` joined by `sep`, broken into lines no wider than [`WIDTH`] when they
/// start at column [`NOTE`] (unless one item is wider); a line that breaks ends with the
/// separator, and the lines after the first are indented to [`NOTE`].
fn wrap<S: AsRef<str>>(head: &str, items: &[S], sep: &str) -> String {
    let room = WIDTH - NOTE - sep.trim_end().len();
    let mut lines: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        let gap = if i == 0 { " " } else { sep };
        match lines.last_mut() {
            None if head.is_empty() => lines.push(item.to_owned()),
            None if head.len() + 1 + item.len() <= room => lines.push(format!("{head} {item}")),
            None => {
                lines.push(head.to_owned());
                lines.push(item.to_owned());
            }
            Some(line) if line.len() + gap.len() + item.len() <= room => {
                line.push_str(gap);
                line.push_str(item);
            }
            Some(line) => {
                line.push_str(gap.trim_end());
                lines.push(item.to_owned());
            }
        }
    }
    lines.join(&format!("\n{:NOTE$}", ""))
}
