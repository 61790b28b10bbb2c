//! Priority lanes and the policy that picks which lane runs the next step.
//!
//! There are five lanes, from [`Lane::Critical`] down to [`Lane::Background`]. A worker serves the
//! highest lane that has waiting work, except that every lower lane is *guaranteed a minimum
//! share* of steps while it has work waiting, so a flood of urgent work cannot starve it.
//!
//! # The policy, exactly
//!
//! Each lane `l` below the top has a share `n_l / d_l` (see [`LaneShares`]). The picker keeps a
//! credit per lane and, for every step:
//!
//! 1. every lane that has waiting work earns `n_l` credit;
//! 2. if some lane has `credit >= d_l` (it is *due*), the highest-priority due lane gets the step
//!    and pays `d_l`;
//! 3. otherwise the highest lane with waiting work gets the step, and pays `d_l` down to no less
//!    than zero (a lane served by priority neither banks credit nor goes into debt);
//! 4. a lane with no waiting work loses its credit, so a lane that was idle cannot come back
//!    with a burst that starves the lanes above it.
//!
//! So with the default `1/64` for [`Lane::Background`], a background task under a flood of
//! critical work runs exactly every 64th step. The same picker runs in the
//! [`LocalExecutor`](crate::LocalExecutor) and in every [`Runtime`](crate::Runtime) worker; a
//! worker counts work waiting in its own queues, the shared injector and, when a lower lane is
//! due, its peers' queues, so the share holds across workers.

use std::fmt;

/// A priority lane, chosen when a task is spawned.
///
/// Higher lanes run first; lower lanes keep a guaranteed minimum share of steps (see
/// [`LaneShares`]). The default lane is [`Lane::Normal`].
///
/// # Examples
///
/// ```
/// use taskyard::Lane;
///
/// assert!(Lane::Critical > Lane::Background);
/// assert_eq!(Lane::default(), Lane::Normal);
/// assert_eq!("high".parse::<Lane>(), Ok(Lane::High));
/// assert_eq!(Lane::ALL.len(), Lane::COUNT);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Work that must run before anything else: control messages, cancellation, health checks.
    Critical,
    /// Latency-sensitive work.
    High,
    /// The default lane.
    #[default]
    Normal,
    /// Work that may wait for normal work.
    Low,
    /// Housekeeping that only needs to make steady progress.
    Background,
}

impl Lane {
    /// Number of lanes.
    pub const COUNT: usize = 5;

    /// Every lane, highest priority first.
    pub const ALL: [Lane; Lane::COUNT] = [
        Lane::Critical,
        Lane::High,
        Lane::Normal,
        Lane::Low,
        Lane::Background,
    ];

    /// Position of the lane, `0` for [`Lane::Critical`] up to `4` for [`Lane::Background`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::Lane::Critical.index(), 0);
    /// ```
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The lane's lower-case name, as used in workload files and reports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::Lane::Background.as_str(), "background");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Critical => "critical",
            Lane::High => "high",
            Lane::Normal => "normal",
            Lane::Low => "low",
            Lane::Background => "background",
        }
    }
}

impl PartialOrd for Lane {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Lanes order by priority: `Critical > High > Normal > Low > Background`.
impl Ord for Lane {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.index().cmp(&self.index())
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no lane.
///
/// # Examples
///
/// ```
/// let err = "urgent".parse::<taskyard::Lane>().unwrap_err();
/// assert_eq!(err.name(), "urgent");
/// assert!(err.to_string().contains("critical, high, normal, low, background"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLaneError {
    name: String,
}

impl ParseLaneError {
    /// The string that named no lane.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ParseLaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown lane `{}` (expected one of: critical, high, normal, low, background)",
            self.name
        )
    }
}

impl std::error::Error for ParseLaneError {}

impl std::str::FromStr for Lane {
    type Err = ParseLaneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lane::ALL
            .into_iter()
            .find(|lane| lane.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLaneError { name: s.to_owned() })
    }
}

/// The minimum share of steps each lane is guaranteed while it has work waiting.
///
/// A share of `n / d` means "at least `n` of every `d` steps". [`Lane::Critical`] is the top lane
/// and needs no share. The defaults are `High 1/8`, `Normal 1/16`, `Low 1/32`,
/// `Background 1/64`, which leaves the critical lane at least 77% under full load.
///
/// # Examples
///
/// ```
/// use taskyard::{Lane, LaneShares};
///
/// let shares = LaneShares::default().with(Lane::Background, 1, 10).unwrap();
/// assert_eq!(shares.get(Lane::Background), (1, 10));
///
/// // The guarantees together may not promise more than every step.
/// let err = LaneShares::none().with(Lane::High, 2, 3).unwrap().with(Lane::Low, 1, 2).unwrap_err();
/// assert!(err.to_string().contains("more than every step"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneShares {
    shares: [(u32, u32); Lane::COUNT],
}

impl Default for LaneShares {
    fn default() -> Self {
        Self {
            shares: [(0, 1), (1, 8), (1, 16), (1, 32), (1, 64)],
        }
    }
}

impl LaneShares {
    /// Strict priority: no lane is guaranteed anything.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::LaneShares::none().get(taskyard::Lane::Low), (0, 1));
    /// ```
    pub fn none() -> Self {
        Self {
            shares: [(0, 1); Lane::COUNT],
        }
    }

    /// Guarantees `lane` at least `steps` of every `per` steps while it has work waiting.
    ///
    /// # Errors
    ///
    /// Fails when `per` is zero, when `steps > per`, when `lane` is [`Lane::Critical`] (the top
    /// lane needs no guarantee) or when the guarantees together exceed every step.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::{Lane, LaneShares};
    /// assert!(LaneShares::default().with(Lane::Low, 1, 0).is_err());
    /// assert!(LaneShares::default().with(Lane::Critical, 1, 2).is_err());
    /// ```
    pub fn with(mut self, lane: Lane, steps: u32, per: u32) -> Result<Self, crate::BuildError> {
        use crate::error::BuildError;
        if lane == Lane::Critical {
            return Err(BuildError::lane_share(
                lane,
                "the top lane needs no guaranteed share",
            ));
        }
        if per == 0 || steps > per {
            return Err(BuildError::lane_share(
                lane,
                format!("share {steps}/{per} is not a fraction between 0 and 1"),
            ));
        }
        self.shares[lane.index()] = (steps, per);
        let total: f64 = self
            .shares
            .iter()
            .map(|&(n, d)| f64::from(n) / f64::from(d))
            .sum();
        if total > 1.0 {
            return Err(BuildError::lane_share(
                lane,
                format!("the guaranteed shares add up to {total:.3}, more than every step"),
            ));
        }
        Ok(self)
    }

    /// The share of `lane` as `(steps, per)`.
    pub fn get(&self, lane: Lane) -> (u32, u32) {
        self.shares[lane.index()]
    }
}

/// Which lanes have work waiting, one bit per lane (bit `i` = `Lane::ALL[i]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LaneMask(pub(crate) u8);

impl LaneMask {
    pub(crate) const EMPTY: LaneMask = LaneMask(0);

    pub(crate) fn with(self, lane: Lane) -> Self {
        LaneMask(self.0 | (1 << lane.index()))
    }

    pub(crate) fn contains(self, lane: Lane) -> bool {
        self.0 & (1 << lane.index()) != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The highest-priority lane in the mask.
    pub(crate) fn highest(self) -> Option<Lane> {
        (!self.is_empty()).then(|| Lane::ALL[self.0.trailing_zeros() as usize])
    }
}

/// The per-executor state of the lane policy described in the [module docs](self).
///
/// Deterministic: the same sequence of waiting-work masks yields the same sequence of lanes.
#[derive(Clone, Debug)]
pub(crate) struct LanePicker {
    shares: LaneShares,
    credit: [u32; Lane::COUNT],
    /// Every credit is zero: lets [`pick`](Self::pick) skip the bookkeeping when one lane
    /// alone has work.
    no_credit: bool,
}

impl LanePicker {
    pub(crate) fn new(shares: LaneShares) -> Self {
        Self {
            shares,
            credit: [0; Lane::COUNT],
            no_credit: true,
        }
    }

    /// Picks the lane of the next step given which lanes have work waiting; `None` when none do.
    #[inline]
    pub(crate) fn pick(&mut self, waiting: LaneMask) -> Option<Lane> {
        // One lane alone and no credit anywhere: by rules 1-4 that lane earns at most its
        // period and pays it back, the others have nothing, so every credit stays zero. This
        // is the common case of a busy executor, and it costs two instructions.
        if self.no_credit && waiting.0.is_power_of_two() {
            return Some(Lane::ALL[waiting.0.trailing_zeros() as usize]);
        }
        self.pick_slow(waiting)
    }

    fn pick_slow(&mut self, waiting: LaneMask) -> Option<Lane> {
        let top = waiting.highest()?;
        let mut due = None;
        for lane in Lane::ALL {
            let credit = &mut self.credit[lane.index()];
            if !waiting.contains(lane) {
                *credit = 0;
                continue;
            }
            let (earn, per) = self.shares.shares[lane.index()];
            *credit = credit.saturating_add(earn);
            if due.is_none() && earn > 0 && *credit >= per {
                due = Some(lane);
            }
        }
        let lane = due.unwrap_or(top);
        self.charge(lane);
        self.no_credit = self.credit == [0; Lane::COUNT];
        Some(lane)
    }

    /// Records that `lane` got a step: pays its period, never below zero.
    pub(crate) fn charge(&mut self, lane: Lane) {
        let per = self.shares.shares[lane.index()].1;
        let credit = &mut self.credit[lane.index()];
        *credit = credit.saturating_sub(per);
    }

    /// Forgets lane credits whose work turned out to be gone (a peer took it first).
    pub(crate) fn forget(&mut self, lane: Lane) {
        self.credit[lane.index()] = 0;
        self.no_credit = self.credit == [0; Lane::COUNT];
    }
}

#[cfg(test)]
mod tests;
