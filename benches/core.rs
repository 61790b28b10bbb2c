//! Core scheduler benchmarks, each case side by side with its peers in one criterion group:
//!
//! * `spawn_many`: 1,000,000 tiny tasks spawned from inside a running task, waited for;
//! * `yield_many`: 1 task x 1,000,000 yields and 1,000 tasks x 1,000 yields;
//! * `chained_spawn`: a chain of 100,000 tasks, each spawning the next;
//! * `ping_pong`: two tasks passing a message back and forth 100,000 times.
//!
//! Peers: `taskyard` (a [`Runtime`] with 2 workers, state-machine tasks), `taskyard_future` (the
//! same runtime, futures), `taskyard_local` / `taskyard_local_future` (a [`LocalExecutor`]),
//! `tokio_mt` (2 workers), `tokio_ct` (current thread), `async_executor_mt` (2 threads running
//! `Executor::run`), `async_executor_local` (`LocalExecutor`), `rayon` (a 2-thread pool; only
//! where it can express the case). Runtimes are built once per group, outside the timed loop,
//! and every iteration ends with all of its tasks finished. The multi-threaded peers are started
//! and waited for the same way: one spawn from the bench thread, then [`common::block_on`] on a
//! completion signal.
//!
//! Sizes are divided by `TASKYARD_BENCH_SCALE` (for quick runs). With `TASKYARD_BENCH_MEMORY=1`
//! the binary first measures the resident memory of 1,000,000 pending tasks (each case in a fresh
//! child process), then runs the benchmarks; with `TASKYARD_BENCH_MEMORY=only` it stops after the
//! memory figures.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use taskyard::{Cx, Handle, LocalExecutor, Step, Task};

use common::{AsyncExecutorPool, Chan, Countdown, Signal, leak, scaled};

const SPAWN_MANY: usize = 1_000_000;
const YIELD_ONE_TASK: usize = 1_000_000;
const YIELD_TASKS: usize = 1_000;
const YIELD_PER_TASK: usize = 1_000;
const CHAIN_DEPTH: usize = 100_000;
const PING_PONG: usize = 100_000;
const MEMORY_TASKS: usize = 1_000_000;

fn group<'a>(c: &'a mut Criterion, name: &str, elements: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    // Every iteration is long (milliseconds): the same iteration count per sample.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(elements as u64));
    group
}

// ---------------------------------------------------------------------------------------------
// State-machine tasks

/// A leaf of `spawn_many`: counts itself done in its only step.
struct Leaf(&'static Countdown);

impl Task for Leaf {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.0.done_one();
        Step::Done(())
    }
}

/// The root of `spawn_many` on the runtime: spawns `n` leaves in one step, from a worker.
struct SpawnLeaves {
    n: usize,
    done: &'static Countdown,
}

impl Task for SpawnLeaves {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        let handle = Handle::current();
        for _ in 0..self.n {
            drop(
                handle
                    .spawn_task(Leaf(self.done))
                    .expect("runtime is running"),
            );
        }
        Step::Done(())
    }
}

/// The root of `spawn_many` on a local executor.
struct LocalSpawnLeaves {
    ex: Rc<LocalExecutor>,
    n: usize,
    done: &'static Countdown,
}

impl Task for LocalSpawnLeaves {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        for _ in 0..self.n {
            drop(self.ex.spawn_task(Leaf(self.done)));
        }
        Step::Done(())
    }
}

/// Yields `left` times, then counts itself done.
struct Yielder {
    left: usize,
    done: &'static Countdown,
}

impl Task for Yielder {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        if self.left == 0 {
            self.done.done_one();
            return Step::Done(());
        }
        self.left -= 1;
        Step::Yield
    }
}

/// One link of `chained_spawn` on the runtime: spawns the next link, or signals at the end.
struct Link {
    left: usize,
    done: &'static Signal,
}

impl Task for Link {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        if self.left == 0 {
            self.done.set();
        } else {
            let next = Link {
                left: self.left - 1,
                done: self.done,
            };
            drop(
                Handle::current()
                    .spawn_task(next)
                    .expect("runtime is running"),
            );
        }
        Step::Done(())
    }
}

/// One link of `chained_spawn` on a local executor.
struct LocalLink {
    ex: Rc<LocalExecutor>,
    left: usize,
    done: &'static Signal,
}

impl Task for LocalLink {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        if self.left == 0 {
            self.done.set();
        } else {
            drop(self.ex.spawn_task(LocalLink {
                ex: self.ex.clone(),
                left: self.left - 1,
                done: self.done,
            }));
        }
        Step::Done(())
    }
}

/// Never finishes and holds nothing: the `memory_pending_1m` task.
struct Forever;

impl Task for Forever {
    type Output = ();
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        Step::Pending
    }
}

// ---------------------------------------------------------------------------------------------
// Futures

/// How a chain link spawns the next one on each executor.
trait Spawner: Clone + 'static {
    fn spawn(&self, link: ChainFut<Self>);
}

/// One link of `chained_spawn` as a future (hand-written: an `async fn` that spawns itself
/// cannot name its own `Send` type).
struct ChainFut<S> {
    left: usize,
    done: &'static Signal,
    spawner: S,
}

impl<S: Spawner + Unpin> Future for ChainFut<S> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            self.done.set();
        } else {
            self.spawner.spawn(ChainFut {
                left: self.left - 1,
                done: self.done,
                spawner: self.spawner.clone(),
            });
        }
        Poll::Ready(())
    }
}

#[derive(Clone)]
struct TaskyardSpawn;

impl Spawner for TaskyardSpawn {
    fn spawn(&self, link: ChainFut<Self>) {
        drop(Handle::current().spawn(link).expect("runtime is running"));
    }
}

#[derive(Clone)]
struct TokioSpawn;

impl Spawner for TokioSpawn {
    fn spawn(&self, link: ChainFut<Self>) {
        drop(tokio::spawn(link));
    }
}

#[derive(Clone)]
struct AsyncExecutorSpawn(&'static async_executor::Executor<'static>);

impl Spawner for AsyncExecutorSpawn {
    fn spawn(&self, link: ChainFut<Self>) {
        self.0.spawn(link).detach();
    }
}

#[derive(Clone)]
struct AsyncLocalSpawn(Rc<async_executor::LocalExecutor<'static>>);

impl Spawner for AsyncLocalSpawn {
    fn spawn(&self, link: ChainFut<Self>) {
        self.0.spawn(link).detach();
    }
}

async fn pinger(n: usize, ping: &'static Chan, pong: &'static Chan, done: &'static Signal) {
    for i in 0..n as u64 {
        ping.send(i);
        let back = pong.recv().await;
        debug_assert_eq!(back, i);
    }
    done.set();
}

async fn ponger(n: usize, ping: &'static Chan, pong: &'static Chan) {
    for _ in 0..n {
        let value = ping.recv().await;
        pong.send(value);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. spawn_many

fn spawn_many(c: &mut Criterion) {
    let n = scaled(SPAWN_MANY);
    let done = leak(Countdown::new());
    let mut group = group(c, "spawn_many", n);

    {
        let rt = common::taskyard_runtime();
        group.bench_function(BenchmarkId::new("taskyard", n), |b| {
            b.iter(|| {
                done.reset(n);
                drop(rt.spawn_task(SpawnLeaves { n, done }).expect("spawn"));
                done.wait_blocking();
            });
        });
        group.bench_function(BenchmarkId::new("taskyard_future", n), |b| {
            b.iter(|| {
                done.reset(n);
                let root = async move {
                    let handle = Handle::current();
                    for _ in 0..n {
                        drop(handle.spawn(async move { done.done_one() }).expect("spawn"));
                    }
                };
                drop(rt.spawn(root).expect("spawn"));
                done.wait_blocking();
            });
        });
    }
    {
        let ex = Rc::new(LocalExecutor::new());
        group.bench_function(BenchmarkId::new("taskyard_local", n), |b| {
            b.iter(|| {
                done.reset(n);
                let root = LocalSpawnLeaves {
                    ex: ex.clone(),
                    n,
                    done,
                };
                drop(ex.spawn_task(root));
                ex.run_until_idle();
                debug_assert!(done.is_done() && ex.is_empty());
            });
        });
    }
    {
        let rt = common::tokio_mt();
        group.bench_function(BenchmarkId::new("tokio_mt", n), |b| {
            b.iter(|| {
                done.reset(n);
                drop(rt.spawn(async move {
                    for _ in 0..n {
                        drop(tokio::spawn(async move { done.done_one() }));
                    }
                }));
                done.wait_blocking();
            });
        });
    }
    {
        let rt = common::tokio_ct();
        group.bench_function(BenchmarkId::new("tokio_ct", n), |b| {
            b.iter(|| {
                done.reset(n);
                rt.block_on(async move {
                    drop(tokio::spawn(async move {
                        for _ in 0..n {
                            drop(tokio::spawn(async move { done.done_one() }));
                        }
                    }));
                    done.wait().await;
                });
            });
        });
    }
    {
        let pool = AsyncExecutorPool::new();
        let ex = pool.ex;
        group.bench_function(BenchmarkId::new("async_executor_mt", n), |b| {
            b.iter(|| {
                done.reset(n);
                ex.spawn(async move {
                    for _ in 0..n {
                        ex.spawn(async move { done.done_one() }).detach();
                    }
                })
                .detach();
                done.wait_blocking();
            });
        });
    }
    {
        let ex = Rc::new(async_executor::LocalExecutor::new());
        group.bench_function(BenchmarkId::new("async_executor_local", n), |b| {
            b.iter(|| {
                done.reset(n);
                let spawner = ex.clone();
                let root = async move {
                    for _ in 0..n {
                        spawner.spawn(async move { done.done_one() }).detach();
                    }
                };
                common::block_on(ex.run(async {
                    ex.spawn(root).detach();
                    done.wait().await;
                }));
            });
        });
    }
    {
        let pool = common::rayon_pool();
        group.bench_function(BenchmarkId::new("rayon", n), |b| {
            b.iter(|| {
                done.reset(n);
                pool.scope(|s| {
                    for _ in 0..n {
                        s.spawn(move |_| done.done_one());
                    }
                });
                debug_assert!(done.is_done());
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 2. yield_many

fn yield_many(c: &mut Criterion) {
    let shapes = [
        (1, scaled(YIELD_ONE_TASK)),
        (YIELD_TASKS, scaled(YIELD_PER_TASK)),
    ];
    let done = leak(Countdown::new());
    let mut group = group(c, "yield_many", shapes[0].0 * shapes[0].1);

    // Single-threaded peers first, then the multi-threaded ones; each executor built once.
    {
        let ex = LocalExecutor::new();
        each_shape(&mut group, "taskyard_local", &shapes, |tasks, yields| {
            done.reset(tasks);
            for _ in 0..tasks {
                drop(ex.spawn_task(Yielder { left: yields, done }));
            }
            ex.run_until_idle();
            debug_assert!(done.is_done() && ex.is_empty());
        });
        each_shape(
            &mut group,
            "taskyard_local_future",
            &shapes,
            |tasks, yields| {
                done.reset(tasks);
                for _ in 0..tasks {
                    drop(ex.spawn(yielder(yields, done, taskyard::yield_now)));
                }
                ex.run_until_idle();
                debug_assert!(done.is_done() && ex.is_empty());
            },
        );
    }
    {
        let ex = async_executor::LocalExecutor::new();
        each_shape(
            &mut group,
            "async_executor_local",
            &shapes,
            |tasks, yields| {
                done.reset(tasks);
                common::block_on(ex.run(async {
                    for _ in 0..tasks {
                        ex.spawn(yielder(yields, done, common::yield_now)).detach();
                    }
                    done.wait().await;
                }));
            },
        );
    }
    {
        let rt = common::tokio_ct();
        each_shape(&mut group, "tokio_ct", &shapes, |tasks, yields| {
            done.reset(tasks);
            rt.block_on(async move {
                for _ in 0..tasks {
                    drop(tokio::spawn(yielder(yields, done, tokio::task::yield_now)));
                }
                done.wait().await;
            });
        });
    }
    {
        let rt = common::taskyard_runtime();
        each_shape(&mut group, "taskyard", &shapes, |tasks, yields| {
            done.reset(tasks);
            for _ in 0..tasks {
                drop(
                    rt.spawn_task(Yielder { left: yields, done })
                        .expect("spawn"),
                );
            }
            done.wait_blocking();
        });
        each_shape(&mut group, "taskyard_future", &shapes, |tasks, yields| {
            done.reset(tasks);
            for _ in 0..tasks {
                let task = yielder(yields, done, taskyard::yield_now);
                drop(rt.spawn(task).expect("spawn"));
            }
            done.wait_blocking();
        });
    }
    {
        let rt = common::tokio_mt();
        each_shape(&mut group, "tokio_mt", &shapes, |tasks, yields| {
            done.reset(tasks);
            for _ in 0..tasks {
                drop(rt.spawn(yielder(yields, done, tokio::task::yield_now)));
            }
            done.wait_blocking();
        });
    }
    {
        let pool = AsyncExecutorPool::new();
        let ex = pool.ex;
        each_shape(&mut group, "async_executor_mt", &shapes, |tasks, yields| {
            done.reset(tasks);
            for _ in 0..tasks {
                ex.spawn(yielder(yields, done, common::yield_now)).detach();
            }
            done.wait_blocking();
        });
    }
    group.finish();
}

/// Benches `run(tasks, yields)` as `entry`, once per shape, with its throughput in yields.
fn each_shape(
    group: &mut BenchmarkGroup<'_, WallTime>,
    entry: &str,
    shapes: &[(usize, usize)],
    mut run: impl FnMut(usize, usize),
) {
    for &(tasks, yields) in shapes {
        group.throughput(Throughput::Elements((tasks * yields) as u64));
        let id = BenchmarkId::new(entry, format!("{tasks}x{yields}"));
        group.bench_function(id, |b| b.iter(|| run(tasks, yields)));
    }
}

/// The future every async peer runs in `yield_many`: yields `yields` times with the executor's
/// own `yield_now`, then counts itself done.
async fn yielder<Y: Future<Output = ()>>(
    yields: usize,
    done: &'static Countdown,
    yield_now: fn() -> Y,
) {
    for _ in 0..yields {
        yield_now().await;
    }
    done.done_one();
}

// ---------------------------------------------------------------------------------------------
// 3. chained_spawn

fn chained_spawn(c: &mut Criterion) {
    let depth = scaled(CHAIN_DEPTH);
    let done = leak(Signal::new());
    let mut group = group(c, "chained_spawn", depth);

    {
        let rt = common::taskyard_runtime();
        group.bench_function(BenchmarkId::new("taskyard", depth), |b| {
            b.iter(|| {
                done.reset();
                let first = Link {
                    left: depth - 1,
                    done,
                };
                drop(rt.spawn_task(first).expect("spawn"));
                done.wait_blocking();
            });
        });
        group.bench_function(BenchmarkId::new("taskyard_future", depth), |b| {
            b.iter(|| {
                done.reset();
                let first = ChainFut {
                    left: depth - 1,
                    done,
                    spawner: TaskyardSpawn,
                };
                drop(rt.spawn(first).expect("spawn"));
                done.wait_blocking();
            });
        });
    }
    {
        let ex = Rc::new(LocalExecutor::new());
        group.bench_function(BenchmarkId::new("taskyard_local", depth), |b| {
            b.iter(|| {
                done.reset();
                drop(ex.spawn_task(LocalLink {
                    ex: ex.clone(),
                    left: depth - 1,
                    done,
                }));
                ex.run_until_idle();
                debug_assert!(done.is_set() && ex.is_empty());
            });
        });
    }
    {
        let rt = common::tokio_mt();
        group.bench_function(BenchmarkId::new("tokio_mt", depth), |b| {
            b.iter(|| {
                done.reset();
                drop(rt.spawn(ChainFut {
                    left: depth - 1,
                    done,
                    spawner: TokioSpawn,
                }));
                done.wait_blocking();
            });
        });
    }
    {
        let rt = common::tokio_ct();
        group.bench_function(BenchmarkId::new("tokio_ct", depth), |b| {
            b.iter(|| {
                done.reset();
                rt.block_on(async move {
                    drop(tokio::spawn(ChainFut {
                        left: depth - 1,
                        done,
                        spawner: TokioSpawn,
                    }));
                    done.wait().await;
                });
            });
        });
    }
    {
        let pool = AsyncExecutorPool::new();
        let ex = pool.ex;
        group.bench_function(BenchmarkId::new("async_executor_mt", depth), |b| {
            b.iter(|| {
                done.reset();
                ex.spawn(ChainFut {
                    left: depth - 1,
                    done,
                    spawner: AsyncExecutorSpawn(ex),
                })
                .detach();
                done.wait_blocking();
            });
        });
    }
    {
        let ex = Rc::new(async_executor::LocalExecutor::new());
        group.bench_function(BenchmarkId::new("async_executor_local", depth), |b| {
            b.iter(|| {
                done.reset();
                let first = ChainFut {
                    left: depth - 1,
                    done,
                    spawner: AsyncLocalSpawn(ex.clone()),
                };
                common::block_on(ex.run(async {
                    ex.spawn(first).detach();
                    done.wait().await;
                }));
            });
        });
    }
    {
        fn link<'s>(s: &rayon::Scope<'s>, left: usize, done: &'static Signal) {
            s.spawn(move |s| {
                if left == 0 {
                    done.set();
                } else {
                    link(s, left - 1, done);
                }
            });
        }
        let pool = common::rayon_pool();
        group.bench_function(BenchmarkId::new("rayon", depth), |b| {
            b.iter(|| {
                done.reset();
                pool.scope(|s| link(s, depth - 1, done));
                debug_assert!(done.is_set());
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 4. ping_pong

fn ping_pong(c: &mut Criterion) {
    let n = scaled(PING_PONG);
    let ping = leak(Chan::new());
    let pong = leak(Chan::new());
    let done = leak(Signal::new());
    let reset = || {
        ping.reset();
        pong.reset();
        done.reset();
    };
    let mut group = group(c, "ping_pong", n);

    {
        let ex = LocalExecutor::new();
        group.bench_function(BenchmarkId::new("taskyard_local_future", n), |b| {
            b.iter(|| {
                reset();
                drop(ex.spawn(pinger(n, ping, pong, done)));
                drop(ex.spawn(ponger(n, ping, pong)));
                ex.run_until_idle();
                debug_assert!(done.is_set() && ex.is_empty());
            });
        });
    }
    {
        let rt = common::taskyard_runtime();
        group.bench_function(BenchmarkId::new("taskyard_future", n), |b| {
            b.iter(|| {
                reset();
                drop(rt.spawn(pinger(n, ping, pong, done)).expect("spawn"));
                drop(rt.spawn(ponger(n, ping, pong)).expect("spawn"));
                done.wait_blocking();
            });
        });
    }
    {
        let rt = common::tokio_ct();
        group.bench_function(BenchmarkId::new("tokio_ct", n), |b| {
            b.iter(|| {
                reset();
                rt.block_on(async move {
                    drop(tokio::spawn(pinger(n, ping, pong, done)));
                    drop(tokio::spawn(ponger(n, ping, pong)));
                    done.wait().await;
                });
            });
        });
    }
    {
        let rt = common::tokio_mt();
        group.bench_function(BenchmarkId::new("tokio_mt", n), |b| {
            b.iter(|| {
                reset();
                drop(rt.spawn(pinger(n, ping, pong, done)));
                drop(rt.spawn(ponger(n, ping, pong)));
                done.wait_blocking();
            });
        });
    }
    {
        let ex = async_executor::LocalExecutor::new();
        group.bench_function(BenchmarkId::new("async_executor_local", n), |b| {
            b.iter(|| {
                reset();
                common::block_on(ex.run(async {
                    ex.spawn(pinger(n, ping, pong, done)).detach();
                    ex.spawn(ponger(n, ping, pong)).detach();
                    done.wait().await;
                }));
            });
        });
    }
    {
        let pool = AsyncExecutorPool::new();
        let ex = pool.ex;
        group.bench_function(BenchmarkId::new("async_executor_mt", n), |b| {
            b.iter(|| {
                reset();
                ex.spawn(pinger(n, ping, pong, done)).detach();
                ex.spawn(ponger(n, ping, pong)).detach();
                done.wait_blocking();
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 5. memory_pending_1m (not a criterion case)

/// The environment variable that makes the binary a child measuring one memory case.
const MEMORY_CASE_VAR: &str = "TASKYARD_BENCH_MEMORY_CASE";
const MEMORY_CASES: [&str; 4] = [
    "local_task",
    "local_future",
    "runtime_task",
    "runtime_future",
];

/// Runs every memory case in a fresh child process, so one case's freed heap does not hide the
/// next one's growth.
fn memory_report() {
    let exe = std::env::current_exe().expect("the bench binary's path");
    println!(
        "memory_pending_1m: resident memory of pending tasks (target: 1,000,000 within 128 MiB)"
    );
    for case in MEMORY_CASES {
        let status = std::process::Command::new(&exe)
            .env(MEMORY_CASE_VAR, case)
            .status()
            .expect("run a memory case");
        if !status.success() {
            println!("memory_pending_1m/{case}: FAILED ({status})");
        }
    }
}

/// Measures one memory case in this (child) process.
fn memory_case(case: &str) {
    let n = MEMORY_TASKS;
    let rss = || common::rss_bytes().expect("VmRSS readable from /proc/self/status");
    let (grown, took) = match case {
        "local_task" | "local_future" => {
            let ex = LocalExecutor::new();
            let before = rss();
            let start = Instant::now();
            for _ in 0..n {
                if case == "local_task" {
                    drop(ex.spawn_task(Forever));
                } else {
                    drop(ex.spawn(std::future::pending::<()>()));
                }
            }
            let steps = ex.run_until_idle();
            assert_eq!((steps, ex.len()), (n, n), "every task ran once and waits");
            let grown = rss().saturating_sub(before);
            let took = start.elapsed();
            drop(ex);
            (grown, took)
        }
        "runtime_task" | "runtime_future" => {
            let rt = common::taskyard_runtime();
            let before = rss();
            let start = Instant::now();
            for _ in 0..n {
                let spawned = if case == "runtime_task" {
                    rt.spawn_task(Forever)
                } else {
                    rt.spawn(std::future::pending::<()>())
                };
                drop(spawned.expect("spawn"));
            }
            // Wait until every task has run its first step and now waits.
            let stepped = || rt.metrics().workers.iter().map(|w| w.steps).sum::<u64>();
            while stepped() < n as u64 {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(rt.metrics().live_tasks, n);
            let grown = rss().saturating_sub(before);
            let took = start.elapsed();
            let report = rt.shutdown(Duration::ZERO);
            assert_eq!(report.totals().spawned, n as u64);
            (grown, took)
        }
        other => panic!("unknown memory case {other:?}"),
    };
    let mib = grown as f64 / (1024.0 * 1024.0);
    let verdict = if grown <= 128 * 1024 * 1024 {
        "ok"
    } else {
        "OVER"
    };
    println!(
        "memory_pending_1m/{case:<15} {n} tasks: RSS +{mib:.1} MiB, {:.0} B/task [{verdict}] \
         (spawn + first step: {took:.2?})",
        grown as f64 / n as f64,
    );
}

fn main() {
    if let Ok(case) = std::env::var(MEMORY_CASE_VAR) {
        memory_case(&case);
        return;
    }
    match std::env::var("TASKYARD_BENCH_MEMORY").as_deref() {
        Ok("only") => {
            memory_report();
            return;
        }
        Ok("1") => memory_report(),
        _ => {}
    }
    let mut c = common::criterion();
    spawn_many(&mut c);
    yield_many(&mut c);
    chained_spawn(&mut c);
    ping_pong(&mut c);
    c.final_summary();
}
