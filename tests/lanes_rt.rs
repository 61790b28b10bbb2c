//! The lane policy on the multi-threaded `Runtime`.
//!
//! On one worker the order of steps is exact, as on the `LocalExecutor`. On two workers the order
//! depends on the OS, so those tests prove the guarantee instead: a Background task finishes
//! under a flood of urgent work that never runs dry until it does, which strict priority could
//! never allow.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};

use taskyard::{Cx, Handle, Lane, LaneShares, Runtime, SpawnOptions, Step, Task};

mod common;
use common::{HANG, recv};

type Log = Arc<Mutex<Vec<&'static str>>>;

/// Logs its label on each step and yields, until the log holds `limit` entries.
struct Logger {
    label: &'static str,
    log: Log,
    limit: usize,
}

impl Task for Logger {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        let mut log = self.log.lock().unwrap();
        if log.len() >= self.limit {
            return Step::Done(());
        }
        log.push(self.label);
        Step::Yield
    }
}

fn one_worker(shares: LaneShares) -> Runtime {
    Runtime::builder()
        .workers(1)
        .lane_shares(shares)
        .build()
        .unwrap()
}

/// Spawns the loggers from inside a task, so that they all sit in the worker's own queues before
/// it picks the next step.
fn run_loggers(rt: &Runtime, loggers: &[(Lane, &'static str)], limit: usize) -> Vec<&'static str> {
    let log: Log = Arc::default();
    let spawner = {
        let log = log.clone();
        let loggers = loggers.to_vec();
        rt.spawn(async move {
            let h = Handle::current();
            loggers
                .into_iter()
                .map(|(lane, label)| {
                    h.spawn_task_with(
                        SpawnOptions::new().lane(lane).name(label),
                        Logger {
                            label,
                            log: log.clone(),
                            limit,
                        },
                    )
                    .unwrap()
                })
                .collect::<Vec<_>>()
        })
        .unwrap()
    };
    for handle in spawner.join().unwrap() {
        handle.join().unwrap();
    }
    Arc::try_unwrap(log).unwrap().into_inner().unwrap()
}

#[test]
fn one_worker_without_shares_runs_lanes_in_strict_priority_order() {
    let rt = one_worker(LaneShares::none());
    // Each lane's logger gets exactly 5 steps before the next lane starts, as there is no share.
    let log: Log = Arc::default();
    let spawner = {
        let log = log.clone();
        rt.spawn(async move {
            let h = Handle::current();
            let mut handles = Vec::new();
            for (i, (lane, label)) in [
                (Lane::Background, "B"),
                (Lane::Low, "L"),
                (Lane::Normal, "N"),
                (Lane::High, "H"),
                (Lane::Critical, "C"),
            ]
            .into_iter()
            .enumerate()
            {
                // Lane k (counting from the top) stops once 5 * (k + 1) entries exist.
                let limit = 5 * (5 - i);
                handles.push(
                    h.spawn_task_with(
                        SpawnOptions::new().lane(lane),
                        Logger {
                            label,
                            log: log.clone(),
                            limit,
                        },
                    )
                    .unwrap(),
                );
            }
            handles
        })
        .unwrap()
    };
    for handle in spawner.join().unwrap() {
        handle.join().unwrap();
    }
    let log = log.lock().unwrap();
    let expected: Vec<&str> = ["C", "H", "N", "L", "B"]
        .iter()
        .flat_map(|l| std::iter::repeat_n(*l, 5))
        .collect();
    assert_eq!(*log, expected);
}

#[test]
fn one_worker_gives_background_exactly_every_fourth_step_under_a_critical_flood() {
    let rt = one_worker(LaneShares::none().with(Lane::Background, 1, 4).unwrap());
    let log = run_loggers(
        &rt,
        &[
            (Lane::Critical, "c1"),
            (Lane::Critical, "c2"),
            (Lane::Critical, "c3"),
            (Lane::Background, "b"),
        ],
        400,
    );
    assert_eq!(log.len(), 400);
    assert_eq!(&log[..8], ["c1", "c2", "c3", "b", "c1", "c2", "c3", "b"]);
    for (i, label) in log.iter().enumerate() {
        assert_eq!(*label == "b", i % 4 == 3, "step {i} ran {label}");
    }
}

#[test]
fn one_worker_interleaves_two_guaranteed_lanes_exactly() {
    let shares = LaneShares::none()
        .with(Lane::Normal, 1, 3)
        .unwrap()
        .with(Lane::Background, 1, 6)
        .unwrap();
    let rt = one_worker(shares);
    let log = run_loggers(
        &rt,
        &[
            (Lane::Critical, "C"),
            (Lane::Normal, "N"),
            (Lane::Background, "B"),
        ],
        12,
    );
    assert_eq!(
        log,
        ["C", "C", "N", "C", "C", "N", "B", "C", "N", "C", "C", "N"]
    );
}

/// A flood task: one step, in which it spawns its own replacement on the same lane, until `done`.
struct Flood {
    lane: Lane,
    done: Arc<AtomicBool>,
    steps: Arc<AtomicU64>,
    running: Option<mpsc::Sender<()>>,
}

impl Task for Flood {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.steps.fetch_add(1, SeqCst);
        if let Some(running) = self.running.take() {
            let _ = running.send(());
        }
        if !self.done.load(SeqCst) {
            let next = Flood {
                lane: self.lane,
                done: self.done.clone(),
                steps: self.steps.clone(),
                running: None,
            };
            // Refused only once shutdown begins, which the tests do after `done`.
            let _ = Handle::current().spawn_task_with(SpawnOptions::new().lane(self.lane), next);
        }
        Step::Done(())
    }
}

/// Yields `left` times, then raises `done` (which stops the flood) and reports how many flood
/// steps had run meanwhile.
struct Chore {
    left: u32,
    done: Arc<AtomicBool>,
    flood_steps: Arc<AtomicU64>,
    report: Option<mpsc::Sender<()>>,
}

impl Task for Chore {
    type Output = u64;

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u64> {
        if self.left > 0 {
            self.left -= 1;
            return Step::Yield;
        }
        self.done.store(true, SeqCst);
        if let Some(report) = self.report.take() {
            let _ = report.send(());
        }
        Step::Done(self.flood_steps.load(SeqCst))
    }
}

fn flood(rt: &Runtime, lanes: &[Lane], done: &Arc<AtomicBool>, steps: &Arc<AtomicU64>) {
    let (running_tx, running_rx) = mpsc::channel();
    for &lane in lanes {
        rt.spawn_task_with(
            SpawnOptions::new().lane(lane).name("flood"),
            Flood {
                lane,
                done: done.clone(),
                steps: steps.clone(),
                running: Some(running_tx.clone()),
            },
        )
        .unwrap();
    }
    // One is enough: the others may wait in the injector behind the respawned ones.
    recv(&running_rx, "the flood to run");
}

#[test]
fn a_background_task_finishes_under_a_flood_that_only_stops_when_it_does() {
    const YIELDS: u32 = 100;
    let rt = Runtime::builder().workers(2).build().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flood_steps = Arc::new(AtomicU64::new(0));
    flood(
        &rt,
        &[
            Lane::Critical,
            Lane::Critical,
            Lane::High,
            Lane::High,
            Lane::Critical,
            Lane::High,
        ],
        &done,
        &flood_steps,
    );

    let chore = rt
        .spawn_task_with(
            SpawnOptions::new().lane(Lane::Background).name("chore"),
            Chore {
                left: YIELDS,
                done: done.clone(),
                flood_steps: flood_steps.clone(),
                report: None,
            },
        )
        .unwrap();
    let during = chore.join().unwrap();
    // The flood ran all along: with a 1/64 share, each chore step comes after dozens of flood
    // steps on the same worker.
    assert!(
        during >= 10 * u64::from(YIELDS),
        "only {during} flood steps ran while the chore took {YIELDS} yields"
    );

    // With `done` raised the flood dies out, and every task ends cleanly.
    let report = rt.shutdown(HANG);
    assert!(report.is_clean(), "{report}");
    let t = report.totals();
    assert_eq!(t.spawned, t.completed);
}

#[test]
fn a_background_task_queued_on_a_blocked_worker_runs_on_its_flooded_peer() {
    const YIELDS: u32 = 50;
    let rt = Runtime::builder().workers(2).build().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flood_steps = Arc::new(AtomicU64::new(0));

    // Worker A: blocks inside one step of `holder` for the whole test.
    let (entered_tx, entered_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (chore_done_tx, chore_done_rx) = mpsc::channel();
    let holder = {
        let done = done.clone();
        let flood_steps = flood_steps.clone();
        rt.spawn_named("holder", async move {
            entered_tx.send(()).unwrap();
            go_rx.recv_timeout(HANG).unwrap();
            // Spawned from this worker: the chore sits in A's own Background queue, and A is
            // about to block. Only B can run it, and B is flooded with Critical work.
            let chore = Handle::current()
                .spawn_task_with(
                    SpawnOptions::new().lane(Lane::Background).name("chore"),
                    Chore {
                        left: YIELDS,
                        done,
                        flood_steps,
                        report: Some(chore_done_tx),
                    },
                )
                .unwrap();
            let finished = chore_done_rx.recv_timeout(HANG).is_ok();
            (finished, chore)
        })
        .unwrap()
    };
    recv(&entered_rx, "worker A to be blocked");

    // Worker B: a Critical flood that respawns on B until the chore is done.
    flood(&rt, &[Lane::Critical, Lane::Critical], &done, &flood_steps);
    go_tx.send(()).unwrap();

    let (finished, chore) = holder.join().unwrap();
    assert!(
        finished,
        "a Background task queued on a blocked worker never ran on its flooded peer"
    );
    let during = chore.join().unwrap();
    assert!(during >= 10 * u64::from(YIELDS), "{during} flood steps");
    let steals: u64 = rt.metrics().workers.iter().map(|w| w.steals).sum();
    assert!(
        steals >= 1,
        "the chore was taken from the blocked worker's queue"
    );

    let report = rt.shutdown(HANG);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn strict_priority_starves_background_under_the_same_flood() {
    // The control experiment for the two tests above: without shares, the flood wins.
    let rt = Runtime::builder()
        .workers(1)
        .lane_shares(LaneShares::none())
        .build()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flood_steps = Arc::new(AtomicU64::new(0));
    let (ran_tx, ran_rx) = mpsc::channel();
    let (flooding_tx, flooding_rx) = mpsc::channel();
    let chore = {
        let done = done.clone();
        let flood_steps = flood_steps.clone();
        rt.spawn(async move {
            // Start the flood from the worker and queue the chore behind it.
            let h = Handle::current();
            h.spawn_task_with(
                SpawnOptions::new().lane(Lane::Critical),
                Flood {
                    lane: Lane::Critical,
                    done: done.clone(),
                    steps: flood_steps.clone(),
                    running: Some(flooding_tx),
                },
            )
            .unwrap();
            let chore = h
                .spawn_with(SpawnOptions::new().lane(Lane::Background), async move {
                    ran_tx.send(()).unwrap();
                })
                .unwrap();
            [chore] // in an array: an async block returning a bare handle reads like a mistake
        })
        .unwrap()
        .join()
        .unwrap()
    };
    let [chore] = chore;
    recv(&flooding_rx, "the flood to run");
    // Let the flood run a good while: the chore must not have run.
    while flood_steps.load(SeqCst) < 10_000 {
        std::thread::yield_now();
    }
    assert!(
        ran_rx.try_recv().is_err(),
        "Background ran under strict priority"
    );
    done.store(true, SeqCst);
    chore.join().unwrap();
    assert!(ran_rx.try_recv().is_ok());
}
