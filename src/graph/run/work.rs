//! A node's work, type-erased: a closure, a state-machine task or a future behind one box.

use std::fmt;

use crate::task::{Cx, Step, Task};

/// What a node's body may return: `()` for "done", or a `Result` whose error fails the node.
pub trait IntoNodeResult {
    /// `Ok(())` for success, the error's message for a failure.
    fn into_node_result(self) -> Result<(), String>;
}

impl IntoNodeResult for () {
    fn into_node_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> IntoNodeResult for Result<(), E> {
    fn into_node_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// How a node's work ended; `Err` holds the failure's message. A boxed `str`, not a `String`,
/// so that the result fits in two registers: a shared body's call returns it without a trip
/// through memory, on the path every node takes.
pub(super) type NodeResult = Result<(), Box<str>>;

/// The [`NodeResult`] of a body's return value.
#[inline]
pub(super) fn node_result(value: impl IntoNodeResult) -> NodeResult {
    value.into_node_result().map_err(String::into_boxed_str)
}

/// What one step of a node's work came to.
pub(super) enum Progress {
    Done(NodeResult),
    /// The work is not done; here it is back.
    Paused(NodeWork, Pause),
}

/// Why a node's work handed control back before it was done.
#[derive(Clone, Copy)]
pub(super) enum Pause {
    /// It wants to run again soon.
    Yield,
    /// It waits for a wake-up.
    Pending,
}

/// A node's work, boxed once when the node is added.
///
/// `step` takes the box by value so that a closure node moves its closure out and calls it
/// without an `Option` around it: a closure that captures nothing is then a zero-sized type,
/// and boxing it allocates nothing.
pub(super) type NodeWork = Box<dyn Work>;

/// The body of an [`fn_node`](super::Graph::fn_node): called through a shared reference.
pub(super) type SharedWork = Box<dyn Fn() -> NodeResult + Send + Sync>;

/// A node's body as the graph holds it until a run starts the node.
pub(super) enum NodeBody {
    /// Moved out of the graph's shared state by the thread that starts the node, which takes
    /// a lock: a closure run once, a task, a future.
    Owned(NodeWork),
    /// Called where it is, by the one thread that starts the node: nothing moves, no lock.
    Shared(SharedWork),
}

/// The body of a node that started, as
/// [`NodeTable::take_body`](super::table::NodeTable::take_body) hands it out.
pub(super) enum StartedBody<'t> {
    /// Moved out of the table, to be stepped (and handed back if it yields or waits).
    Owned(NodeWork),
    /// Called in place, by the one thread that started the node.
    Shared(&'t SharedWork),
}

impl StartedBody<'_> {
    /// Runs the body's next step: a closure's only step, or a task's next.
    #[inline]
    pub(super) fn step(self, cx: &mut Cx<'_>) -> Progress {
        match self {
            Self::Owned(work) => work.step(cx),
            Self::Shared(body) => Progress::Done(body()),
        }
    }
}

pub(super) trait Work: Send + 'static {
    fn step(self: Box<Self>, cx: &mut Cx<'_>) -> Progress;
}

/// A closure: runs once, in one step.
pub(super) struct Call<F>(pub(super) F);

impl<F, R> Work for Call<F>
where
    F: FnOnce() -> R + Send + 'static,
    R: IntoNodeResult,
{
    fn step(self: Box<Self>, _cx: &mut Cx<'_>) -> Progress {
        let Call(body) = *self;
        Progress::Done(node_result(body()))
    }
}

/// A state-machine task (or a future wrapped in one), step by step.
pub(super) struct Stepped<T>(pub(super) T);

impl<T> Work for Stepped<T>
where
    T: Task + Send + 'static,
    T::Output: IntoNodeResult,
{
    fn step(mut self: Box<Self>, cx: &mut Cx<'_>) -> Progress {
        match self.0.step(cx) {
            Step::Done(out) => Progress::Done(node_result(out)),
            Step::Yield => Progress::Paused(self, Pause::Yield),
            Step::Pending => Progress::Paused(self, Pause::Pending),
        }
    }
}
