//! The sleep protocol: how idle workers park and how new work wakes exactly one, with no lost
//! wake-ups and no wake-up at all on the fast path when nobody sleeps.
//!
//! A worker that found nothing to do:
//!
//! 1. adds itself to `sleepers` and increments `sleeping` (under the lock, then a `SeqCst` fence);
//! 2. looks for work once more: the injector and every peer's queues;
//! 3. parks on its own [`Parker`] if it still found nothing.
//!
//! A producer makes its work visible (a queue push), issues a `SeqCst` fence, and reads
//! `sleeping`. Either the producer sees the sleeper's increment and unparks it, or the sleeper's
//! re-check in step 2 sees the producer's work: the two fences forbid both missing each other.
//! A worker popped from `sleepers` has its parker's token set, so an unpark that races with
//! step 2 is never lost either; at worst the worker wakes once for nothing.
//!
//! The loom model in `runtime/tests/loom_park.rs` checks this.

use crate::park::Parker;
use crate::sync::Mutex;
use crate::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};

#[derive(Debug, Default)]
pub(crate) struct Idle {
    sleeping: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
        }
    }

    /// Called after making work visible: wakes one sleeping worker, if any.
    pub(crate) fn notify_one(&self, parkers: &[impl AsRef<Parker>]) {
        fence(SeqCst);
        if self.sleeping.load(SeqCst) == 0 {
            return;
        }
        let woken = {
            let mut sleepers = self.sleepers.lock();
            let woken = sleepers.pop();
            if woken.is_some() {
                self.sleeping.fetch_sub(1, SeqCst);
            }
            woken
        };
        if let Some(index) = woken {
            parkers[index].as_ref().unpark();
        }
    }

    /// Wakes every sleeping worker (shutdown).
    pub(crate) fn notify_all(&self, parkers: &[impl AsRef<Parker>]) {
        let woken: Vec<usize> = {
            let mut sleepers = self.sleepers.lock();
            self.sleeping.fetch_sub(sleepers.len(), SeqCst);
            sleepers.drain(..).collect()
        };
        for index in woken {
            parkers[index].as_ref().unpark();
        }
    }

    /// Step 1 of going to sleep. The caller must look for work again before parking.
    pub(crate) fn announce_sleep(&self, index: usize) {
        let mut sleepers = self.sleepers.lock();
        sleepers.push(index);
        self.sleeping.fetch_add(1, SeqCst);
        drop(sleepers);
        fence(SeqCst);
    }

    /// The re-check found work: withdraw from the sleepers. If a producer already popped this
    /// worker, its parker holds a token and the next park returns at once, which is harmless.
    pub(crate) fn cancel_sleep(&self, index: usize) {
        let mut sleepers = self.sleepers.lock();
        if let Some(pos) = sleepers.iter().position(|&i| i == index) {
            sleepers.swap_remove(pos);
            self.sleeping.fetch_sub(1, SeqCst);
        }
    }
}
