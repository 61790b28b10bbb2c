//! Time as the scheduler sees it: a [`Clock`] that is either the real monotonic clock or a
//! [`ManualClock`] a test moves by hand.
//!
//! Nothing in the crate calls `Instant::now()` directly: budgets (`run_for`), shutdown deadlines
//! and busy-time metrics all read the executor's clock, so tests can drive time exactly.

use std::fmt;
use std::time::{Duration, Instant};

use crate::sync::Arc;
use crate::sync::atomic::{AtomicU64, Ordering};

/// A monotonic source of time, measured from an arbitrary origin.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// assert_eq!(clock.now(), Duration::ZERO);
/// clock.advance(Duration::from_millis(5));
/// assert_eq!(clock.now(), Duration::from_millis(5));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Time since the clock's origin. Never goes backwards.
    fn now(&self) -> Duration;

    /// Whether waiting on this clock may block on real time. A manual clock returns `false`,
    /// telling waiters that time passes only when the test says so.
    fn is_real(&self) -> bool {
        true
    }
}

/// The real monotonic clock (`Instant`), with its origin at creation.
///
/// # Examples
///
/// ```
/// use taskyard::{Clock, SystemClock};
/// let clock = SystemClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let seen_by_executor = clock.clone();
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(seen_by_executor.now(), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(duration_nanos(by), Ordering::AcqRel);
    }

    /// Moves the clock forward to `to`; a time in the past leaves it where it is.
    pub fn advance_to(&self, to: Duration) {
        self.nanos.fetch_max(duration_nanos(to), Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    fn is_real(&self) -> bool {
        false
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The clock an executor holds.
pub(crate) type SharedClock = Arc<dyn Clock>;
