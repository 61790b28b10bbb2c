//! Parking a thread until it is told to go on: one token, no lost wake-ups.
//!
//! `unpark` sets the token under the lock and signals; `park` waits until the token is set and
//! consumes it. An `unpark` that comes before the `park` is remembered, so a waker that fires
//! between "I found nothing to do" and "I sleep" is never lost.

use std::task::Wake;

use crate::sync::{Arc, Condvar, Mutex};

/// One thread's sleep token.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Self {
        Self {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        }
    }

    /// Blocks until [`unpark`](Self::unpark) has been called since the last `park`.
    pub(crate) fn park(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            self.condvar.wait(&mut notified);
        }
        *notified = false;
    }

    /// Sets the token and wakes the parked thread, if any.
    pub(crate) fn unpark(&self) {
        *self.notified.lock() = true;
        self.condvar.notify_one();
    }
}

impl AsRef<Parker> for Parker {
    fn as_ref(&self) -> &Parker {
        self
    }
}

/// A `Waker` that unparks a thread blocked in `block_on` or `join`.
#[derive(Debug, Default)]
pub(crate) struct ThreadWaker {
    pub(crate) parker: Parker,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.parker.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.parker.unpark();
    }
}

/// Polls `future` on the current thread until it completes, parking between polls.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let thread = Arc::new(ThreadWaker::default());
    let waker = std::task::Waker::from(thread.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread.parker.park();
    }
}
