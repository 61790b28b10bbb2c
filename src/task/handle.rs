//! [`JoinHandle`]: waiting for a runtime task's output, or cancelling it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::TaskId;
use super::cell::Joinable;
use crate::error::JoinError;
use crate::lane::Lane;
use crate::sync::Arc;

/// An owned permission to wait for a spawned task's output.
///
/// Await it from async code, or call [`join`](Self::join) to block a thread that is not a worker.
/// Dropping the handle detaches the task: it keeps running and its output is dropped.
///
/// # Examples
///
/// ```
/// let rt = taskyard::Runtime::builder().workers(2).build().unwrap();
/// let a = rt.spawn(async { 20 }).unwrap();
/// let b = rt.spawn(async { 22 }).unwrap();
/// let sum = rt.block_on(async move { a.await.unwrap() + b.await.unwrap() });
/// assert_eq!(sum, 42);
/// ```
pub struct JoinHandle<T> {
    raw: Arc<dyn Joinable<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: Arc<dyn Joinable<T>>) -> Self {
        Self { raw }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.raw.header().name()
    }

    /// The task's lane.
    pub fn lane(&self) -> Lane {
        self.raw.header().meta.lane
    }

    /// Whether the task has ended (completed, panicked or been cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let handle = rt.spawn(async {}).unwrap();
    /// rt.block_on(async { while !handle.is_finished() { taskyard::yield_now().await } });
    /// assert!(handle.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// Requests cancellation. A task waiting for a wake-up is cancelled at once; a queued or
    /// running one at its next yield point (a step in progress is never interrupted). Awaiting
    /// the handle afterwards gives [`JoinError::is_cancelled`], unless the task had finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>()).unwrap();
    /// handle.cancel();
    /// assert!(handle.join().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.raw.cancel();
    }

    /// Blocks the current thread until the task ends and returns its output.
    ///
    /// Call it from outside the runtime: blocking a worker thread stops that worker. Inside a
    /// task, `.await` the handle instead.
    ///
    /// # Errors
    ///
    /// [`JoinError`] if the task panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// assert_eq!(rt.spawn(async { "done" }).unwrap().join().unwrap(), "done");
    /// ```
    pub fn join(mut self) -> Result<T, JoinError> {
        crate::park::block_on(&mut self)
    }

    /// Takes the output if the task has ended, without waiting.
    pub fn try_take(&self) -> Option<Result<T, JoinError>> {
        self.raw.try_take()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.raw.poll_join(cx)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.detach();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.raw.header();
        f.debug_struct("JoinHandle")
            .field("id", &header.id)
            .field("name", &header.name())
            .field("lane", &header.meta.lane)
            .field("finished", &self.is_finished())
            .finish()
    }
}
