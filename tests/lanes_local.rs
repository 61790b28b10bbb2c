//! The lane policy as the `LocalExecutor` applies it: the exact order of steps the module docs of
//! `lane.rs` promise, recorded step by step.
//!
//! Every task here is a state machine that logs its label and yields, so the log is the sequence
//! of picks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Waker;

use taskyard::{Cx, Lane, LaneShares, LocalExecutor, SpawnOptions, Step, Task};

type Log = Rc<RefCell<Vec<&'static str>>>;

/// Logs `label` on each step; yields `steps - 1` times then finishes (`None`: yields forever).
struct Logger {
    label: &'static str,
    steps: Option<u32>,
    log: Log,
}

impl Task for Logger {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.log.borrow_mut().push(self.label);
        match &mut self.steps {
            Some(1) => Step::Done(()),
            Some(n) => {
                *n -= 1;
                Step::Yield
            }
            None => Step::Yield,
        }
    }
}

fn spawn(ex: &LocalExecutor, log: &Log, lane: Lane, label: &'static str, steps: Option<u32>) {
    ex.spawn_task_with(
        SpawnOptions::new().lane(lane).name(label),
        Logger {
            label,
            steps,
            log: log.clone(),
        },
    );
}

fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// The last `n` entries of the log.
fn tail(log: &Log, n: usize) -> Vec<&'static str> {
    let log = log.borrow();
    log[log.len() - n..].to_vec()
}

#[test]
fn without_shares_lanes_run_in_strict_priority_order() {
    let ex = LocalExecutor::new().with_lane_shares(LaneShares::none());
    let log = new_log();
    // Spawned lowest first, so spawn order cannot explain the result.
    for (lane, label) in [
        (Lane::Background, "B"),
        (Lane::Low, "L"),
        (Lane::Normal, "N"),
        (Lane::High, "H"),
        (Lane::Critical, "C"),
    ] {
        spawn(&ex, &log, lane, label, Some(20));
    }
    assert_eq!(ex.run_until_idle(), 100);
    let expected: Vec<&str> = ["C", "H", "N", "L", "B"]
        .iter()
        .flat_map(|l| std::iter::repeat_n(*l, 20))
        .collect();
    assert_eq!(*log.borrow(), expected);
}

#[test]
fn without_shares_a_critical_flood_starves_every_other_lane() {
    let ex = LocalExecutor::new().with_lane_shares(LaneShares::none());
    let log = new_log();
    spawn(&ex, &log, Lane::Background, "B", None);
    spawn(&ex, &log, Lane::High, "H", None);
    spawn(&ex, &log, Lane::Critical, "C", None);
    assert_eq!(ex.tick(1000), 1000);
    assert!(log.borrow().iter().all(|&l| l == "C"));
}

#[test]
fn background_quarter_share_under_a_critical_flood_runs_every_fourth_step() {
    let shares = LaneShares::none().with(Lane::Background, 1, 4).unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    spawn(&ex, &log, Lane::Critical, "c1", None);
    spawn(&ex, &log, Lane::Critical, "c2", None);
    spawn(&ex, &log, Lane::Critical, "c3", None);
    spawn(&ex, &log, Lane::Background, "b", None);

    assert_eq!(ex.tick(12), 12);
    assert_eq!(
        *log.borrow(),
        [
            "c1", "c2", "c3", "b", "c1", "c2", "c3", "b", "c1", "c2", "c3", "b"
        ]
    );

    // And it stays exact over a long run.
    ex.tick(4000);
    let log = log.borrow();
    for (i, label) in log.iter().enumerate() {
        assert_eq!(*label == "b", i % 4 == 3, "step {i} ran {label}");
    }
}

#[test]
fn default_background_share_is_exactly_one_step_in_64() {
    let ex = LocalExecutor::new();
    let log = new_log();
    spawn(&ex, &log, Lane::Critical, "c", None);
    spawn(&ex, &log, Lane::Background, "b", None);
    assert_eq!(ex.tick(64 * 10), 640);
    let positions: Vec<usize> = log
        .borrow()
        .iter()
        .enumerate()
        .filter(|(_, l)| **l == "b")
        .map(|(i, _)| i)
        .collect();
    let expected: Vec<usize> = (1..=10).map(|k| 64 * k - 1).collect();
    assert_eq!(positions, expected);
}

#[test]
fn two_guaranteed_lanes_interleave_exactly() {
    let shares = LaneShares::none()
        .with(Lane::Normal, 1, 3)
        .unwrap()
        .with(Lane::Background, 1, 6)
        .unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    spawn(&ex, &log, Lane::Critical, "C", None);
    spawn(&ex, &log, Lane::Normal, "N", None);
    spawn(&ex, &log, Lane::Background, "B", None);
    ex.tick(12);
    // Normal is due at steps 3, 6, 9, 12; Background is due at 6 too but Normal outranks it,
    // so Background runs at 7.
    assert_eq!(
        *log.borrow(),
        ["C", "C", "N", "C", "C", "N", "B", "C", "N", "C", "C", "N"]
    );
}

#[test]
fn an_absent_lane_does_not_bank_credit() {
    let shares = LaneShares::none().with(Lane::Low, 1, 3).unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    spawn(&ex, &log, Lane::High, "H", None);
    ex.tick(100);
    // Low arrives after 100 steps without work: it gets its share, not a burst.
    spawn(&ex, &log, Lane::Low, "L", None);
    ex.tick(6);
    assert_eq!(tail(&log, 6), ["H", "H", "L", "H", "H", "L"]);
}

/// Logs `label` on each step and then waits until the test wakes it (its waker goes to `slot`).
struct LogAndWait {
    label: &'static str,
    log: Log,
    slot: Rc<RefCell<Option<Waker>>>,
}

impl Task for LogAndWait {
    type Output = ();

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        self.log.borrow_mut().push(self.label);
        *self.slot.borrow_mut() = Some(cx.waker().clone());
        Step::Pending
    }
}

#[test]
fn a_waiting_task_does_not_bank_credit_for_its_lane() {
    let shares = LaneShares::none().with(Lane::Low, 1, 3).unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    let slot = Rc::new(RefCell::new(None));
    ex.spawn_task_with(
        SpawnOptions::new().lane(Lane::Low),
        LogAndWait {
            label: "L",
            log: log.clone(),
            slot: slot.clone(),
        },
    );
    spawn(&ex, &log, Lane::High, "H", None);
    // Low is due at step 3, runs once and then waits through 100 steps of High.
    ex.tick(103);
    assert_eq!(log.borrow().iter().filter(|&&l| l == "L").count(), 1);
    // Woken, it is one of the waiting lanes again and starts earning from zero.
    slot.borrow_mut().take().unwrap().wake();
    ex.tick(3);
    assert_eq!(tail(&log, 3), ["H", "H", "L"]);
}

#[test]
fn a_lane_served_by_priority_does_not_go_into_debt() {
    let shares = LaneShares::none().with(Lane::Low, 1, 2).unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    spawn(&ex, &log, Lane::Low, "L", None);
    ex.tick(10);
    // High arrives: Low keeps its half at once, it does not first repay the ten steps it had.
    spawn(&ex, &log, Lane::High, "H", None);
    ex.tick(4);
    assert_eq!(tail(&log, 4), ["H", "L", "H", "L"]);
}

#[test]
fn tasks_see_their_lane_and_handles_report_it() {
    let ex = LocalExecutor::new();
    let seen = Rc::new(Cell::new(None));

    struct Probe(Rc<Cell<Option<(Lane, u64)>>>);
    impl Task for Probe {
        type Output = ();
        fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
            self.0.set(Some((cx.lane(), cx.id().as_u64())));
            Step::Done(())
        }
    }

    for lane in Lane::ALL {
        let handle = ex.spawn_task_with(SpawnOptions::new().lane(lane), Probe(seen.clone()));
        assert_eq!(handle.lane(), lane);
        ex.run_until_idle();
        assert_eq!(seen.get(), Some((lane, handle.id().as_u64())));
    }
    assert_eq!(ex.spawn(async {}).lane(), Lane::Normal);
}

/// Rule 2 of the policy: a due lane that gets the step pays its period, and keeps what it earned
/// beyond it. Background (1/6) is due at step 6 but outranked by Normal, so it still holds 6 when
/// it runs alone at step 7: it pays 6 and keeps 1, and under the next flood it is due again after
/// 5 steps, not 6.
#[test]
fn a_lone_lane_keeps_the_credit_it_earned_beyond_its_period() {
    let shares = LaneShares::none()
        .with(Lane::Normal, 1, 3)
        .unwrap()
        .with(Lane::Background, 1, 6)
        .unwrap();
    let ex = LocalExecutor::new().with_lane_shares(shares);
    let log = new_log();
    spawn(&ex, &log, Lane::Critical, "C", Some(4));
    spawn(&ex, &log, Lane::Normal, "N", Some(2));
    spawn(&ex, &log, Lane::Background, "B", None);
    ex.tick(7);
    // Critical ends at step 5, Normal at step 6 (while Background is due too), so Background
    // runs alone at step 7.
    assert_eq!(*log.borrow(), ["C", "C", "N", "C", "C", "N", "B"]);

    spawn(&ex, &log, Lane::Critical, "C", None);
    ex.tick(6);
    assert_eq!(tail(&log, 6), ["C", "C", "C", "C", "B", "C"]);
}
