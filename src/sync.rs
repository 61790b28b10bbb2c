//! The sync shim: the only module that names `std::sync`, `parking_lot`, `crossbeam_deque` or
//! `loom`.
//!
//! Every atomic, lock, condition variable, queue and thread the crate uses comes from here. Under
//! the crate-scoped `--cfg taskyard_loom` the same names resolve to loom's instrumented versions,
//! so the cross-thread protocols (queue hand-off, park/unpark, task state, join, shutdown) can be
//! model-checked without touching the code that uses them. A downstream crate's `--cfg loom` does
//! not switch anything here.
//!
//! crossbeam-deque is not instrumented for loom, so under the loom cfg it is replaced by a
//! `Mutex<VecDeque>` with the same method names: loom then checks *our* protocol around the
//! queues, not crossbeam's internals (which crossbeam checks itself).

/// Always std's `Arc`, under loom too: a `Waker` can only be made from std's `Arc` (through
/// `std::task::Wake`), and reference counting is not a protocol of ours that loom must check.
pub(crate) use std::sync::Arc;
#[cfg(not(taskyard_loom))]
pub(crate) use std::sync::atomic;

/// A process-wide counter that no protocol depends on (task ids). It stays std's under loom:
/// a `static` needs a `const` constructor, which loom's atomics do not have.
pub(crate) use std::sync::atomic::AtomicU64 as UnmodelledAtomicU64;

/// A value built once on first use (a report's lines). No protocol of the crate goes through
/// it, so it stays std's under loom: racing callers only ever build the same value.
pub(crate) use std::sync::OnceLock;
#[cfg(not(taskyard_loom))]
pub(crate) use std::thread;

#[cfg(taskyard_loom)]
pub(crate) use loom::sync::atomic;
#[cfg(taskyard_loom)]
pub(crate) use loom::thread;

/// Declares a thread-local that loom can see.
#[cfg(not(taskyard_loom))]
macro_rules! shim_thread_local {
    ($($tt:tt)*) => { std::thread_local!($($tt)*); };
}
/// Under loom, drops the `const { }` initialiser form, which loom's macro does not take.
#[cfg(taskyard_loom)]
macro_rules! shim_thread_local {
    ($vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
        loom::thread_local!($vis static $name: $t = $init;);
    };
}
pub(crate) use shim_thread_local as thread_local;

#[cfg(not(taskyard_loom))]
mod lock {
    /// A mutual-exclusion lock with an infallible `lock()` (parking_lot's).
    pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
    /// Guard of [`Mutex`].
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    /// A condition variable paired with [`Mutex`].
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(parking_lot::Condvar::new())
        }

        /// Blocks until notified; spurious wake-ups are possible, so callers loop on a predicate.
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            self.0.wait(guard);
        }

        /// Blocks until notified or `timeout` passes. Only the real clock's park uses this; loom
        /// models have no time and never reach it.
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            timeout: std::time::Duration,
        ) {
            let _ = self.0.wait_for(guard, timeout);
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

#[cfg(taskyard_loom)]
mod lock {
    use std::ops::{Deref, DerefMut};

    /// loom's mutex behind parking_lot's infallible signature.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Guard of [`Mutex`]; an `Option` so [`Condvar::wait`] can hand it to loom by value.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("loom mutex poisoned")))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().expect("loom mutex poisoned")
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard present")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard present")
        }
    }

    /// loom's condition variable, waiting on [`MutexGuard`] in place.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard present");
            guard.0 = Some(self.0.wait(inner).expect("loom mutex poisoned"));
        }

        /// loom has no time: a timed wait is an untimed one (models never rely on time-outs).
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: std::time::Duration,
        ) {
            self.wait(guard);
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub(crate) use lock::{Condvar, Mutex};

/// A lock for short critical sections that are seldom contended (a graph worker's ready
/// queue): taking it is one compare-and-swap and releasing it a plain `Release` store, where
/// [`Mutex`] releases with a second locked instruction (on the development host, about 13 ns
/// for a parking_lot lock-unlock pair against about 6 for one locked instruction and a store).
///
/// It guards no data itself, since that would take `unsafe`: what it protects lives in atomics
/// that are read and written with `Relaxed` loads and stores only while it is held. The
/// `Acquire` compare-and-swap and the `Release` store order those accesses between holders, as
/// a mutex would. A waiter spins on a plain load, then yields its thread (crossbeam's
/// `Backoff`), so a holder that was preempted is not fought over.
#[derive(Debug, Default)]
pub(crate) struct SpinLock {
    locked: atomic::AtomicBool,
    /// Under loom, [`lock`](Self::lock) first queues on a loom mutex instead of spinning:
    /// loom explores a spin loop without end (in its model a waiter may go on reading the
    /// flag set). The flag is still taken and released; `loom_spin_lock_excludes_and_orders`
    /// checks its protocol with a bounded number of attempts ([`try_lock`](Self::try_lock)).
    #[cfg(taskyard_loom)]
    gate: loom::sync::Mutex<()>,
}

/// Holds a [`SpinLock`]; releases it when dropped.
#[derive(Debug)]
pub(crate) struct SpinGuard<'a> {
    lock: &'a SpinLock,
    /// Released after the flag (fields drop after `Drop::drop`).
    #[cfg(taskyard_loom)]
    _gate: Option<loom::sync::MutexGuard<'a, ()>>,
}

impl SpinLock {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Takes the lock if it is free.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<SpinGuard<'_>> {
        // A compare-and-swap, not a swap: a failed attempt then writes nothing, and loom
        // models it faithfully (it lets a swap that fails write its `true` after the holder's
        // release, leaving the lock held for good). And `then`, not `then_some`: a guard made
        // for a lock held elsewhere would release it when dropped.
        let free = self
            .locked
            .compare_exchange(
                false,
                true,
                atomic::Ordering::Acquire,
                atomic::Ordering::Relaxed,
            )
            .is_ok();
        free.then(|| SpinGuard {
            lock: self,
            #[cfg(taskyard_loom)]
            _gate: None,
        })
    }

    #[cfg(not(taskyard_loom))]
    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        loop {
            if let Some(held) = self.try_lock() {
                return held;
            }
            self.wait_until_free();
        }
    }

    /// Waits on loads, not compare-and-swaps, so that waiting does not take the line from the
    /// holder.
    #[cfg(not(taskyard_loom))]
    #[cold]
    fn wait_until_free(&self) {
        let backoff = crossbeam_utils::Backoff::new();
        while self.locked.load(atomic::Ordering::Relaxed) {
            backoff.snooze();
        }
    }

    #[cfg(taskyard_loom)]
    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        let gate = self.gate.lock().expect("loom mutex poisoned");
        loop {
            if let Some(mut held) = self.try_lock() {
                held._gate = Some(gate);
                return held;
            }
            // Only a `try_lock` outside the gate can hold the flag here.
            thread::yield_now();
        }
    }
}

impl Drop for SpinGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, atomic::Ordering::Release);
    }
}

/// A value that is moved out at most once (a [`Graph::node`] body, taken by the worker that
/// starts its node), for one compare-and-swap.
///
/// The value sits behind a lock that [`take`](Self::take) acquires and never releases: a
/// mutex's release is a second locked instruction (see [`SpinLock`]), and once the value is
/// gone nothing is left to guard. Any later `take` fails on the held lock and returns `None`
/// at once, so a caller that takes twice by mistake finds out instead of waiting for good.
///
/// [`Graph::node`]: crate::graph::Graph::node
#[derive(Debug)]
pub(crate) struct TakeOnce<T> {
    cell: TakeCell<T>,
}

/// What a [`TakeOnce`] keeps its value in: a lock with a `try_lock` (the shim's [`Mutex`] has
/// none under loom).
#[cfg(not(taskyard_loom))]
type TakeCell<T> = parking_lot::Mutex<Option<T>>;
#[cfg(taskyard_loom)]
type TakeCell<T> = loom::sync::Mutex<Option<T>>;

impl<T> TakeOnce<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            cell: TakeCell::new(Some(value)),
        }
    }

    /// A cell whose value is gone already: every `take` returns `None`.
    pub(crate) fn taken() -> Self {
        Self {
            cell: TakeCell::new(None),
        }
    }

    /// Moves the value out; `None` if it was taken before (or is being taken by another thread
    /// at this moment).
    #[cfg(not(taskyard_loom))]
    #[inline]
    pub(crate) fn take(&self) -> Option<T> {
        // `try_lock` retries a spurious compare-and-swap failure itself, so it fails only on a
        // lock that is held: here, one whose value was taken.
        parking_lot::MutexGuard::leak(self.cell.try_lock()?).take()
    }

    /// Under loom the guard is dropped: loom reports a lock that is never released as a
    /// deadlock. A later `take` then gets the lock and finds the value gone, so what callers
    /// see is the same: the value once, then `None`.
    #[cfg(taskyard_loom)]
    pub(crate) fn take(&self) -> Option<T> {
        self.cell.try_lock().ok()?.take()
    }

    /// The value, if it was never taken.
    pub(crate) fn into_inner(self) -> Option<T> {
        #[cfg(not(taskyard_loom))]
        let value = self.cell.into_inner();
        #[cfg(taskyard_loom)]
        let value = self.cell.into_inner().expect("loom mutex poisoned");
        value
    }
}

#[cfg(not(taskyard_loom))]
pub(crate) mod deque {
    pub(crate) use crossbeam_deque::{Injector, Steal, Stealer, Worker};
}

#[cfg(taskyard_loom)]
pub(crate) mod deque {
    //! `Mutex<VecDeque>` stand-ins for crossbeam-deque with the methods the crate uses.
    use super::{Arc, Mutex};
    use std::collections::VecDeque;

    /// Result of a steal attempt (crossbeam's shape; the stand-in never needs `Retry`).
    #[derive(Debug)]
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        #[allow(dead_code)]
        Retry,
    }

    /// The owner's end of a worker queue (FIFO).
    #[derive(Debug)]
    pub(crate) struct Worker<T>(Arc<Mutex<VecDeque<T>>>);

    /// A thief's end of a worker queue.
    #[derive(Debug)]
    pub(crate) struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);

    impl<T> Clone for Stealer<T> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Self {
            Self(Arc::new(Mutex::new(VecDeque::new())))
        }
        pub(crate) fn push(&self, value: T) {
            self.0.lock().push_back(value);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().pop_front()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal(&self) -> Steal<T> {
            self.0
                .lock()
                .pop_front()
                .map_or(Steal::Empty, Steal::Success)
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            let mut source = self.0.lock();
            let Some(first) = source.pop_front() else {
                return Steal::Empty;
            };
            let half = source.len() / 2;
            let mut dest = dest.0.lock();
            dest.extend(source.drain(..half));
            Steal::Success(first)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    /// The shared queue for tasks spawned from outside the workers.
    #[derive(Debug)]
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> Injector<T> {
        pub(crate) fn new() -> Self {
            Self(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, value: T) {
            self.0.lock().push_back(value);
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            self.0
                .lock()
                .pop_front()
                .map_or(Steal::Empty, Steal::Success)
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            let mut source = self.0.lock();
            let Some(first) = source.pop_front() else {
                return Steal::Empty;
            };
            let half = source.len() / 2;
            let mut dest = dest.0.lock();
            dest.extend(source.drain(..half));
            Steal::Success(first)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }
}

#[cfg(all(test, taskyard_loom))]
mod tests {
    use super::atomic::{AtomicU64, Ordering::Relaxed};
    use super::{Arc, SpinLock, TakeOnce, thread};

    /// Two threads each try a few times to take a [`SpinLock`] and, when they get it, add one
    /// to a counter with a plain load and store. No update is lost: the lock both excludes (no
    /// interleaving inside) and orders (a holder sees the last holder's store, though every
    /// access is `Relaxed`). A release that is not `Release`, or an attempt that lets both in,
    /// loses one; a failed attempt that releases the lock (a guard made and dropped) did. The
    /// attempts are bounded because loom explores a spin without end.
    #[test]
    fn loom_spin_lock_excludes_and_orders() {
        loom::model(|| {
            let shared = Arc::new((SpinLock::new(), AtomicU64::new(0)));
            let add_one = |shared: &(SpinLock, AtomicU64)| {
                for _ in 0..2 {
                    if let Some(_held) = shared.0.try_lock() {
                        let count = shared.1.load(Relaxed);
                        shared.1.store(count + 1, Relaxed);
                        return 1;
                    }
                    thread::yield_now();
                }
                0
            };
            let other = {
                let shared = shared.clone();
                thread::spawn(move || add_one(&shared))
            };
            let added = add_one(&shared) + other.join().unwrap();
            assert_eq!(shared.1.load(Relaxed), added);
            // The lock is free again.
            assert!(shared.0.try_lock().is_some());
        });
    }

    /// Two threads race to take a [`TakeOnce`]'s value: exactly one gets it, and the cell is
    /// empty afterwards. A take that let both in (or that released the lock and left the
    /// value behind) fails it.
    #[test]
    fn loom_take_once_hands_the_value_out_once() {
        loom::model(|| {
            let cell = Arc::new(TakeOnce::new(7_u32));
            let other = {
                let cell = cell.clone();
                thread::spawn(move || cell.take())
            };
            let mine = cell.take();
            let theirs = other.join().unwrap();
            assert_eq!(mine.xor(theirs), Some(7));
            assert_eq!(cell.take(), None);
            let cell = Arc::try_unwrap(cell).expect("both threads are done");
            assert_eq!(cell.into_inner(), None);
        });
    }
}

#[cfg(all(test, not(taskyard_loom)))]
mod take_once_tests {
    use super::TakeOnce;

    #[test]
    fn take_once_gives_the_value_once_and_keeps_an_untaken_one() {
        let taken = TakeOnce::new(String::from("body"));
        assert_eq!(taken.take().as_deref(), Some("body"));
        assert_eq!(taken.take(), None);
        assert_eq!(taken.into_inner(), None);
        assert_eq!(TakeOnce::new(3).into_inner(), Some(3));
    }

    /// The real lock, not loom's: two threads take from the same cells in opposite orders and
    /// between them get every value exactly once.
    #[test]
    fn racing_takers_get_each_value_once() {
        let cells: Vec<TakeOnce<usize>> = (0..20_000).map(TakeOnce::new).collect();
        let (mut forward, mut backward) = std::thread::scope(|scope| {
            let backward = scope.spawn(|| {
                let taken = cells.iter().rev().filter_map(TakeOnce::take);
                taken.collect::<Vec<_>>()
            });
            let forward: Vec<_> = cells.iter().filter_map(TakeOnce::take).collect();
            (forward, backward.join().unwrap())
        });
        forward.append(&mut backward);
        forward.sort_unstable();
        assert_eq!(forward, (0..20_000).collect::<Vec<_>>());
    }
}
