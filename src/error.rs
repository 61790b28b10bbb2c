//! Error types. Each is an opaque struct with a private kind and predicate methods, and each
//! message names the offending item.

use std::any::Any;
use std::fmt;

use crate::lane::Lane;
use crate::task::TaskId;

/// A [`Runtime`](crate::Runtime) or policy could not be built from its configuration.
///
/// # Examples
///
/// ```
/// let err = taskyard::Runtime::builder().workers(0).build().unwrap_err();
/// assert!(err.is_zero_workers());
/// assert_eq!(err.to_string(), "a runtime needs at least one worker (got 0)");
/// ```
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
}

#[derive(Debug)]
enum BuildErrorKind {
    ZeroWorkers,
    LaneShare {
        lane: Lane,
        reason: String,
    },
    ThreadSpawn(std::io::Error),
    ThreadStart {
        worker: usize,
        message: Option<String>,
    },
}

impl BuildError {
    pub(crate) fn zero_workers() -> Self {
        Self {
            kind: BuildErrorKind::ZeroWorkers,
        }
    }

    pub(crate) fn lane_share(lane: Lane, reason: impl Into<String>) -> Self {
        Self {
            kind: BuildErrorKind::LaneShare {
                lane,
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn thread_spawn(err: std::io::Error) -> Self {
        Self {
            kind: BuildErrorKind::ThreadSpawn(err),
        }
    }

    pub(crate) fn thread_start(worker: usize, message: Option<String>) -> Self {
        Self {
            kind: BuildErrorKind::ThreadStart { worker, message },
        }
    }

    /// The builder was asked for zero workers.
    pub fn is_zero_workers(&self) -> bool {
        matches!(self.kind, BuildErrorKind::ZeroWorkers)
    }

    /// A lane share was invalid; returns the lane it was given for.
    pub fn lane_share_lane(&self) -> Option<Lane> {
        match self.kind {
            BuildErrorKind::LaneShare { lane, .. } => Some(lane),
            _ => None,
        }
    }

    /// The operating system refused to start a worker thread.
    pub fn is_thread_spawn(&self) -> bool {
        matches!(self.kind, BuildErrorKind::ThreadSpawn(_))
    }

    /// The [thread start hook](crate::Builder::on_thread_start) panicked; returns the index of
    /// the worker it panicked on (the lowest, if it panicked on several).
    pub fn thread_start_worker(&self) -> Option<usize> {
        match self.kind {
            BuildErrorKind::ThreadStart { worker, .. } => Some(worker),
            _ => None,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::ZeroWorkers => {
                f.write_str("a runtime needs at least one worker (got 0)")
            }
            BuildErrorKind::LaneShare { lane, reason } => {
                write!(f, "invalid share for lane `{lane}`: {reason}")
            }
            BuildErrorKind::ThreadSpawn(err) => write!(f, "could not start a worker thread: {err}"),
            BuildErrorKind::ThreadStart { worker, message } => write!(
                f,
                "the thread start hook panicked on worker {worker}: {}",
                message.as_deref().unwrap_or("<non-string payload>")
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            BuildErrorKind::ThreadSpawn(err) => Some(err),
            _ => None,
        }
    }
}

/// A task could not be spawned. The task is dropped without running.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
/// let handle = rt.handle();
/// rt.shutdown(Duration::from_secs(1));
/// let err = handle.spawn(async {}).unwrap_err();
/// assert!(err.is_shutdown());
/// ```
#[derive(Debug)]
pub struct SpawnError {
    kind: SpawnErrorKind,
    name: Option<String>,
}

#[derive(Debug)]
enum SpawnErrorKind {
    Shutdown,
}

impl SpawnError {
    pub(crate) fn shutdown(name: Option<&str>) -> Self {
        Self {
            kind: SpawnErrorKind::Shutdown,
            name: name.map(str::to_owned),
        }
    }

    /// The runtime was shutting down or shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self.kind, SpawnErrorKind::Shutdown)
    }

    /// The name of the task that was refused, if it had one.
    pub fn task_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.name) {
            (SpawnErrorKind::Shutdown, Some(name)) => {
                write!(f, "cannot spawn task `{name}`: the runtime is shut down")
            }
            (SpawnErrorKind::Shutdown, None) => {
                f.write_str("cannot spawn: the runtime is shut down")
            }
        }
    }
}

impl std::error::Error for SpawnError {}

/// A task did not produce its output: it panicked or was cancelled.
///
/// # Examples
///
/// ```
/// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
/// let handle = rt.spawn_named("exploder", async { panic!("boom") }).unwrap();
/// let err = handle.join().unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.task_name(), Some("exploder"));
/// assert!(err.to_string().contains("boom"));
/// ```
pub struct JoinError(Box<JoinErrorInner>);

/// Boxed so that a join slot holding `Result<T, JoinError>` costs one word for the error side:
/// every live task carries that slot, and errors are the rare case.
struct JoinErrorInner {
    kind: JoinErrorKind,
    id: TaskId,
    name: Option<String>,
}

enum JoinErrorKind {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId, name: Option<&str>) -> Self {
        Self(Box::new(JoinErrorInner {
            kind: JoinErrorKind::Cancelled,
            id,
            name: name.map(str::to_owned),
        }))
    }

    pub(crate) fn panic(id: TaskId, name: Option<&str>, payload: Box<dyn Any + Send>) -> Self {
        Self(Box::new(JoinErrorInner {
            kind: JoinErrorKind::Panic(payload),
            id,
            name: name.map(str::to_owned),
        }))
    }

    /// The task was cancelled (by [`JoinHandle::cancel`](crate::JoinHandle::cancel) or by a
    /// shutdown deadline) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.0.kind, JoinErrorKind::Cancelled)
    }

    /// The task panicked in a step.
    pub fn is_panic(&self) -> bool {
        matches!(self.0.kind, JoinErrorKind::Panic(_))
    }

    /// The panic payload, to re-raise with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic; check [`is_panic`](Self::is_panic) first or use
    /// [`try_into_panic`](Self::try_into_panic).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancellation")
    }

    /// The panic payload, or the error back if it is not a panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.0.kind {
            JoinErrorKind::Panic(_) => {
                let JoinErrorKind::Panic(payload) = self.0.kind else {
                    unreachable!()
                };
                Ok(payload)
            }
            JoinErrorKind::Cancelled => Err(self),
        }
    }

    /// The id of the task.
    pub fn task_id(&self) -> TaskId {
        self.0.id
    }

    /// The name the task was spawned with, if any.
    pub fn task_name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The panic message, when the payload is a string (as with `panic!("...")`).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.0.kind {
            JoinErrorKind::Panic(payload) => panic_message(payload.as_ref()),
            JoinErrorKind::Cancelled => None,
        }
    }

    fn subject(&self) -> String {
        match &self.0.name {
            Some(name) => format!("task `{name}` ({})", self.0.id),
            None => format!("task {}", self.0.id),
        }
    }
}

/// The text of a panic payload made by `panic!` with a literal or a format string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0.kind {
            JoinErrorKind::Cancelled => "Cancelled".to_owned(),
            JoinErrorKind::Panic(_) => {
                format!(
                    "Panic({:?})",
                    self.panic_message().unwrap_or("<non-string payload>")
                )
            }
        };
        f.debug_struct("JoinError")
            .field("kind", &format_args!("{kind}"))
            .field("id", &self.0.id)
            .field("name", &self.0.name)
            .finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            JoinErrorKind::Cancelled => write!(f, "{} was cancelled", self.subject()),
            JoinErrorKind::Panic(_) => match self.panic_message() {
                Some(msg) => write!(f, "{} panicked: {msg}", self.subject()),
                None => write!(f, "{} panicked", self.subject()),
            },
        }
    }
}

impl std::error::Error for JoinError {}
