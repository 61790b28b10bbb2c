//! Tasks: explicit state machines that do a bounded piece of work per [`step`](Task::step).
//!
//! A task keeps its state in itself, not on a thread's stack: a million tasks waiting cost a
//! million small structs, and any worker can run the next step. Every [`Future`] is a task too
//! (one poll is one step), so `async` blocks work wherever a task does.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::lane::Lane;

pub(crate) mod cell;
mod handle;
mod id;
mod state;
mod yield_now;

pub use handle::JoinHandle;
pub use id::TaskId;
pub use yield_now::{YieldNow, yield_now};

/// What a [`Task::step`] tells the executor to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<T> {
    /// Run me again later: the task goes to the back of its lane.
    Yield,
    /// Do not run me until the waker from [`Cx::waker`] is woken. The task must have handed that
    /// waker to something that will wake it, or it waits forever (as a future would).
    Pending,
    /// Finished with this output; the task is dropped and its output goes to the join handle.
    Done(T),
}

/// A cooperative task: a state machine whose every step does a bounded piece of work and then
/// hands control back.
///
/// # Examples
///
/// A countdown that yields between steps:
///
/// ```
/// use taskyard::{Cx, LocalExecutor, Step, Task};
///
/// struct Countdown(u32);
///
/// impl Task for Countdown {
///     type Output = &'static str;
///     fn step(&mut self, _cx: &mut Cx<'_>) -> Step<&'static str> {
///         if self.0 == 0 {
///             return Step::Done("liftoff");
///         }
///         self.0 -= 1;
///         Step::Yield
///     }
/// }
///
/// let ex = LocalExecutor::new();
/// let handle = ex.spawn_task(Countdown(3));
/// ex.run_until_idle();
/// assert_eq!(handle.try_take().unwrap().unwrap(), "liftoff");
/// ```
pub trait Task {
    /// What the task produces when it is done.
    type Output;

    /// Runs one bounded piece of work.
    ///
    /// A step should return within a short, predictable time: a worker runs nothing else while
    /// it is inside. Long or blocking work should be split across steps.
    fn step(&mut self, cx: &mut Cx<'_>) -> Step<Self::Output>;
}

/// What a step can see of its executor: its waker, its id and its lane.
#[derive(Debug)]
pub struct Cx<'a> {
    context: Context<'a>,
    id: TaskId,
    lane: Lane,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(waker: &'a Waker, id: TaskId, lane: Lane) -> Self {
        Self {
            context: Context::from_waker(waker),
            id,
            lane,
        }
    }

    /// The waker that makes a [`Step::Pending`] task runnable again.
    pub fn waker(&self) -> &'a Waker {
        self.context.waker()
    }

    /// A [`Context`] for polling futures from inside a step.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::Pin;
    /// use taskyard::{Cx, LocalExecutor, Step, Task};
    ///
    /// /// Drives a boxed future, one poll per step.
    /// struct Driver(Pin<Box<dyn Future<Output = u8>>>);
    ///
    /// impl Task for Driver {
    ///     type Output = u8;
    ///     fn step(&mut self, cx: &mut Cx<'_>) -> Step<u8> {
    ///         match self.0.as_mut().poll(cx.context()) {
    ///             std::task::Poll::Ready(v) => Step::Done(v),
    ///             std::task::Poll::Pending => Step::Pending,
    ///         }
    ///     }
    /// }
    ///
    /// let ex = LocalExecutor::new();
    /// let handle = ex.spawn_task(Driver(Box::pin(async { 7 })));
    /// ex.run_until_idle();
    /// assert_eq!(handle.try_take().unwrap().unwrap(), 7);
    /// ```
    pub fn context(&mut self) -> &mut Context<'a> {
        &mut self.context
    }

    /// The id of the running task.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The lane the running task was spawned on.
    pub fn lane(&self) -> Lane {
        self.lane
    }
}

/// Runs a [`Future`] as a [`Task`]: each step is one poll.
///
/// Executors wrap futures in this themselves; it is public so a state machine can embed one.
#[derive(Debug)]
pub struct FutureTask<F>(Pin<Box<F>>);

impl<F: Future> FutureTask<F> {
    /// Wraps `future`.
    ///
    /// # Examples
    ///
    /// ```
    /// let task = taskyard::FutureTask::new(async { 1 + 1 });
    /// let ex = taskyard::LocalExecutor::new();
    /// let handle = ex.spawn_task(task);
    /// ex.run_until_idle();
    /// assert_eq!(handle.try_take().unwrap().unwrap(), 2);
    /// ```
    pub fn new(future: F) -> Self {
        Self(Box::pin(future))
    }
}

impl<F: Future> Task for FutureTask<F> {
    type Output = F::Output;

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<F::Output> {
        match self.0.as_mut().poll(cx.context()) {
            Poll::Ready(output) => Step::Done(output),
            Poll::Pending => Step::Pending,
        }
    }
}

/// The name a task may carry into reports and errors. Boxed (two words, none when unnamed)
/// rather than a `Cow` (three words in every task, named or not).
pub(crate) type TaskName = Option<Box<str>>;

/// Per-task metadata fixed at spawn: what reports, errors and the scheduler know of a task.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskMeta {
    pub(crate) name: TaskName,
    pub(crate) lane: Lane,
}

/// Options for one spawn: a name and a lane.
///
/// # Examples
///
/// ```
/// use taskyard::{Lane, Runtime, SpawnOptions};
///
/// let rt = Runtime::builder().workers(1).build().unwrap();
/// let handle = rt
///     .spawn_with(SpawnOptions::new().name("nightly-report").lane(Lane::Background), async { 42 })
///     .unwrap();
/// assert_eq!(handle.name(), Some("nightly-report"));
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    pub(crate) meta: TaskMeta,
}

impl SpawnOptions {
    /// No name, [`Lane::Normal`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the task in reports and errors.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.meta.name = Some(name.into().into());
        self
    }

    /// Puts the task on `lane`.
    pub fn lane(mut self, lane: Lane) -> Self {
        self.meta.lane = lane;
        self
    }
}

impl TaskMeta {
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for TaskMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "`{name}`"),
            None => f.write_str("<unnamed>"),
        }
    }
}
