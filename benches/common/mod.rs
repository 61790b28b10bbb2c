//! Helpers shared by the benches: sizes, a std-only `block_on`, completion signals, the one
//! single-slot channel every async executor uses in `ping_pong`, a yield-now future for the peers
//! that have none, a two-thread async-executor pool, RSS reading and the criterion defaults.
//!
//! Everything here uses `std` only, so every executor pays for the same primitives; the one
//! exception is `core_affinity`, which pins the threads of the `pinned` pools, ours and rayon's
//! alike, through each pool's own start hook.

// Not every bench uses every helper.
#![allow(dead_code)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use criterion::Criterion;

/// Worker threads of every multi-threaded peer (the bench machine has 2 cores).
pub(crate) const THREADS: usize = 2;

/// The divisor from `TASKYARD_BENCH_SCALE` (default 1: full size).
pub(crate) fn scale_divisor() -> usize {
    std::env::var("TASKYARD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&d| d > 0)
        .unwrap_or(1)
}

/// `full` divided by the scale divisor, at least 1.
pub(crate) fn scaled(full: usize) -> usize {
    (full / scale_divisor()).max(1)
}

/// Criterion defaults for these long-iteration benches; command-line flags still override them.
pub(crate) fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// Leaks `value`: shared bench state that tasks reach through a plain `&'static` (no reference
/// count to touch per task). A few small objects per process.
pub(crate) fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it completes, parking between polls.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// A one-shot flag with one waiting waker; reset between iterations.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    state: Mutex<(bool, Option<Waker>)>,
}

impl Signal {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes the waiter, if any.
    pub(crate) fn set(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.state.lock().unwrap().0
    }

    /// Clears the flag (and any stale waker) for the next iteration.
    pub(crate) fn reset(&self) {
        *self.state.lock().unwrap() = (false, None);
    }

    /// Completes once the flag is set.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut state = self.state.lock().unwrap();
            if state.0 {
                return Poll::Ready(());
            }
            match &state.1 {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.1 = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// Blocks this thread until the flag is set.
    pub(crate) fn wait_blocking(&self) {
        block_on(self.wait());
    }
}

/// Counts finished tasks down to zero; the last one sets the signal.
#[derive(Debug, Default)]
pub(crate) struct Countdown {
    left: AtomicUsize,
    pub(crate) signal: Signal,
}

impl Countdown {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Arms the countdown for `n` tasks.
    pub(crate) fn reset(&self, n: usize) {
        self.signal.reset();
        self.left.store(n, Ordering::Relaxed);
    }

    /// One task finished.
    #[inline]
    pub(crate) fn done_one(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.signal.set();
        }
    }

    pub(crate) fn wait(&self) -> impl Future<Output = ()> + '_ {
        self.signal.wait()
    }

    pub(crate) fn wait_blocking(&self) {
        self.signal.wait_blocking();
    }

    pub(crate) fn is_done(&self) -> bool {
        self.left.load(Ordering::Acquire) == 0 && self.signal.is_set()
    }
}

/// A single-slot channel: one value in flight, one waiting receiver. The only channel of the
/// `ping_pong` bench, for every executor alike.
#[derive(Debug, Default)]
pub(crate) struct Chan {
    slot: Mutex<ChanSlot>,
}

#[derive(Debug, Default)]
struct ChanSlot {
    value: Option<u64>,
    receiver: Option<Waker>,
}

impl Chan {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Puts `value` in the slot (which must be empty) and wakes the receiver.
    pub(crate) fn send(&self, value: u64) {
        let waker = {
            let mut slot = self.slot.lock().unwrap();
            debug_assert!(slot.value.is_none(), "single-slot channel overfilled");
            slot.value = Some(value);
            slot.receiver.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes the next value.
    pub(crate) fn recv(&self) -> impl Future<Output = u64> + '_ {
        std::future::poll_fn(move |cx| {
            let mut slot = self.slot.lock().unwrap();
            if let Some(value) = slot.value.take() {
                return Poll::Ready(value);
            }
            match &slot.receiver {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => slot.receiver = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// Empties the slot (value and stale waker) for the next iteration.
    pub(crate) fn reset(&self) {
        *self.slot.lock().unwrap() = ChanSlot::default();
    }
}

/// Hands control back to the executor once: wake self, return `Pending`. The same as
/// `taskyard::yield_now`, for the peers that have no yield of their own.
pub(crate) fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
pub(crate) struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// An `async_executor::Executor` run by [`THREADS`] threads until dropped.
pub(crate) struct AsyncExecutorPool {
    pub(crate) ex: &'static async_executor::Executor<'static>,
    stops: Vec<&'static Signal>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl AsyncExecutorPool {
    pub(crate) fn new() -> Self {
        let ex: &'static async_executor::Executor<'static> = leak(async_executor::Executor::new());
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for i in 0..THREADS {
            let stop: &'static Signal = leak(Signal::new());
            stops.push(stop);
            let thread = thread::Builder::new()
                .name(format!("async-executor-{i}"))
                .spawn(move || block_on(ex.run(stop.wait())))
                .expect("spawn an async-executor thread");
            threads.push(thread);
        }
        Self { ex, stops, threads }
    }
}

impl Drop for AsyncExecutorPool {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.set();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A taskyard runtime with [`THREADS`] workers.
pub(crate) fn taskyard_runtime() -> taskyard::Runtime {
    taskyard::Runtime::builder()
        .workers(THREADS)
        .build()
        .expect("build the taskyard runtime")
}

/// A taskyard runtime with [`THREADS`] workers, worker `i` pinned to core `i` (see [`pin`]).
pub(crate) fn taskyard_runtime_pinned() -> taskyard::Runtime {
    taskyard::Runtime::builder()
        .workers(THREADS)
        .on_thread_start(pin)
        .build()
        .expect("build the pinned taskyard runtime")
}

/// Pins the calling thread to the `index`-th core this process may run on (modulo their
/// number). Panics when the cores cannot be listed or the pinning is refused, so that a
/// `pinned` entry never measures unpinned threads.
pub(crate) fn pin(index: usize) {
    let cores = core_affinity::get_core_ids().expect("list the cores this process may use");
    assert!(
        core_affinity::set_for_current(cores[index % cores.len()]),
        "pin thread {index} to a core"
    );
}

/// A tokio multi-thread runtime with [`THREADS`] workers.
pub(crate) fn tokio_mt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .build()
        .expect("build the tokio multi-thread runtime")
}

/// A tokio current-thread runtime.
pub(crate) fn tokio_ct() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build the tokio current-thread runtime")
}

/// A rayon pool with [`THREADS`] threads.
pub(crate) fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("build the rayon pool")
}

/// A rayon pool with [`THREADS`] threads, thread `i` pinned to core `i` (see [`pin`]).
pub(crate) fn rayon_pool_pinned() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .start_handler(pin)
        .build()
        .expect("build the pinned rayon pool")
}

/// This process's resident set size in bytes (`VmRSS` of `/proc/self/status`), if readable.
pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
