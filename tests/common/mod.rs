//! Helpers shared by the behaviour tests: the `rt_test!` macro that runs a behaviour on 1 and on 4
//! workers (like tokio's), and small synchronisation tools that never wait on time.

#![allow(dead_code, unused_macros, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use taskyard::Runtime;

/// How long a test waits on a channel before it declares a hang. A failure guard only: a passing
/// test never waits this long.
pub const HANG: Duration = Duration::from_secs(10);

/// A runtime with `workers` workers and the default configuration.
pub fn runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .thread_name(format!("test-{workers}w"))
        .build()
        .expect("runtime builds")
}

/// Runs each behaviour on a 1-worker and on a 4-worker runtime, as tokio's `rt_test!` does.
///
/// ```ignore
/// rt_test! {
///     fn spawns_and_joins(rt) {
///         assert_eq!(rt.spawn(async { 1 }).unwrap().join().unwrap(), 1);
///     }
/// }
/// ```
///
/// Each `fn name(rt) { body }` becomes `one_worker::name` and `four_workers::name`, with `rt` a
/// `taskyard::Runtime` owned by the body (it may shut it down). Use with `#[macro_use] mod common;`.
macro_rules! rt_test {
    ($( $(#[$attr:meta])* fn $name:ident($rt:ident) $body:block )*) => {
        mod one_worker {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    let $rt = $crate::common::runtime(1);
                    $body
                }
            )*
        }

        mod four_workers {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    let $rt = $crate::common::runtime(4);
                    $body
                }
            )*
        }
    };
}

/// A one-shot gate: a future that is pending until [`Gate::open`] is called, from any thread.
///
/// The first poll that finds the gate closed stores the waker and reports it on the optional
/// `polled` channel, so a test knows the task is waiting (and that a wake-up will be needed).
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    open: bool,
    waker: Option<Waker>,
    polled: Option<mpsc::Sender<()>>,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// A gate that sends `()` on `polled` each time a poll finds it closed.
    pub fn reporting(polled: mpsc::Sender<()>) -> Self {
        let gate = Self::default();
        gate.inner.lock().unwrap().polled = Some(polled);
        gate
    }

    /// Opens the gate and wakes the waiting task, if any.
    pub fn open(&self) {
        let waker = {
            let mut state = self.inner.lock().unwrap();
            state.open = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub fn is_open(&self) -> bool {
        self.inner.lock().unwrap().open
    }

    /// A future that completes once the gate is open.
    pub fn wait(&self) -> GateWait {
        GateWait { gate: self.clone() }
    }
}

/// The future returned by [`Gate::wait`].
pub struct GateWait {
    gate: Gate,
}

impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.gate.inner.lock().unwrap();
        if state.open {
            return Poll::Ready(());
        }
        state.waker = Some(cx.waker().clone());
        if let Some(polled) = &state.polled {
            let _ = polled.send(());
        }
        Poll::Pending
    }
}

/// A waker that sends `()` on a channel each time it is woken.
pub struct ChannelWaker(pub Mutex<mpsc::Sender<()>>);

impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

/// A waker that reports its wake-ups on the returned receiver.
pub fn channel_waker() -> (Waker, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    (Waker::from(Arc::new(ChannelWaker(Mutex::new(tx)))), rx)
}

/// Sends `()` on its channel when dropped: observes that a task's body was dropped.
pub struct DropSignal(pub mpsc::Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Receives with the [`HANG`] guard, panicking with `what` on a hang.
#[track_caller]
pub fn recv<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(HANG) {
        Ok(v) => v,
        Err(err) => panic!("waiting for {what}: {err}"),
    }
}
