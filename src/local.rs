//! [`LocalExecutor`]: the step loop on the caller's thread, for host programs that own their loop
//! (a game frame, an event loop, a test).
//!
//! Tasks may be `!Send`; they live in a `slab`, one ready queue per lane, with the same
//! [`LanePicker`] as the runtime's workers. Wakers are `Send`: a wake from another thread puts the
//! task's key in a locked inbox that the executor drains before it picks, and unparks the thread
//! if it sleeps in [`block_on`](LocalExecutor::block_on). A state-machine task that returns
//! [`Step::Yield`] goes straight back to its queue without touching a waker.
//!
//! No borrow of the executor is held while a step runs, so a task holding an
//! `Rc<LocalExecutor>` may spawn more tasks from inside its step.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::error::{JoinError, SpawnError};
use crate::lane::{Lane, LaneMask, LanePicker, LaneShares};
use crate::park::Parker;
use crate::sync::atomic::{
    AtomicBool,
    Ordering::{Relaxed, SeqCst},
};
use crate::sync::{Arc, Mutex};
use crate::task::{Cx, FutureTask, SpawnOptions, Step, Task, TaskId, TaskMeta};
use crate::time::{Clock, SharedClock, SystemClock};

/// Wake-ups that reach the executor from wakers, possibly on other threads.
#[derive(Debug, Default)]
struct Inbox {
    woken: Mutex<Vec<(usize, u64)>>,
    /// Something is in `woken`: lets the executor skip the lock on every step.
    pending: AtomicBool,
    /// The executor thread is parked (or about to) in `block_on`.
    sleeping: AtomicBool,
    parker: Parker,
}

impl Inbox {
    fn push(&self, key: usize, generation: u64) {
        self.woken.lock().push((key, generation));
        self.pending.store(true, SeqCst);
        if self.sleeping.load(SeqCst) {
            self.parker.unpark();
        }
    }
}

/// A local task's waker: the task's slab key plus a generation, so a stale waker of a finished
/// task cannot wake the task that reuses its slot.
struct LocalWaker {
    inbox: Arc<Inbox>,
    key: usize,
    generation: u64,
}

impl Wake for LocalWaker {
    fn wake(self: Arc<Self>) {
        self.inbox.push(self.key, self.generation);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.inbox.push(self.key, self.generation);
    }
}

enum LocalStep {
    Yield,
    Pending,
    Ended,
}

trait LocalRaw {
    /// Runs one step, or ends the task as cancelled if that was requested.
    fn run(&self) -> LocalStep;
    /// Ends the task as cancelled (used when the executor is dropped).
    fn cancel_now(&self);
}

trait LocalJoin<T> {
    fn id(&self) -> TaskId;
    fn meta(&self) -> &TaskMeta;
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn try_take(&self) -> Option<Result<T, JoinError>>;
    fn is_finished(&self) -> bool;
    fn cancel(&self);
}

struct LocalSlot<O> {
    output: Option<Result<O, JoinError>>,
    joiner: Option<Waker>,
    finished: bool,
}

struct LocalCell<T: Task> {
    id: TaskId,
    meta: TaskMeta,
    waker: Waker,
    cancel_requested: Cell<bool>,
    body: RefCell<Option<T>>,
    slot: RefCell<LocalSlot<T::Output>>,
}

impl<T: Task> LocalCell<T> {
    fn finish(&self, result: Result<T::Output, JoinError>) {
        let body = self.body.borrow_mut().take();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(body)));
        let joiner = {
            let mut slot = self.slot.borrow_mut();
            slot.output = Some(result);
            slot.finished = true;
            slot.joiner.take()
        };
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }
}

impl<T: Task> LocalRaw for LocalCell<T> {
    fn run(&self) -> LocalStep {
        if self.cancel_requested.get() {
            self.cancel_now();
            return LocalStep::Ended;
        }
        let mut cx = Cx::new(&self.waker, self.id, self.meta.lane);
        let step = {
            let mut body = self.body.borrow_mut();
            let task = body.as_mut().expect("a queued local task has its body");
            catch_unwind(AssertUnwindSafe(|| task.step(&mut cx)))
        };
        match step {
            Ok(Step::Yield) => LocalStep::Yield,
            Ok(Step::Pending) => LocalStep::Pending,
            Ok(Step::Done(output)) => {
                self.finish(Ok(output));
                LocalStep::Ended
            }
            Err(payload) => {
                self.finish(Err(JoinError::panic(
                    self.id,
                    self.meta.name.as_deref(),
                    payload,
                )));
                LocalStep::Ended
            }
        }
    }

    fn cancel_now(&self) {
        self.finish(Err(JoinError::cancelled(
            self.id,
            self.meta.name.as_deref(),
        )));
    }
}

impl<T: Task> LocalJoin<T::Output> for LocalCell<T> {
    fn id(&self) -> TaskId {
        self.id
    }
    fn meta(&self) -> &TaskMeta {
        &self.meta
    }

    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T::Output, JoinError>> {
        let mut slot = self.slot.borrow_mut();
        if let Some(output) = slot.output.take() {
            return Poll::Ready(output);
        }
        assert!(
            !slot.finished,
            "LocalJoinHandle polled after it returned its output"
        );
        match &slot.joiner {
            Some(joiner) if joiner.will_wake(cx.waker()) => {}
            _ => slot.joiner = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn try_take(&self) -> Option<Result<T::Output, JoinError>> {
        self.slot.borrow_mut().output.take()
    }

    fn is_finished(&self) -> bool {
        self.slot.borrow().finished
    }

    fn cancel(&self) {
        if !self.is_finished() && !self.cancel_requested.replace(true) {
            // The executor ends it when it next picks it; wake it so that it does.
            self.waker.wake_by_ref();
        }
    }
}

/// Waits for a [`LocalExecutor`] task's output.
///
/// Poll it from another task of the same executor, await it in
/// [`block_on`](LocalExecutor::block_on), or check it with [`try_take`](Self::try_take) after a
/// tick. Dropping it lets the task run on; its output is dropped.
///
/// # Examples
///
/// ```
/// let ex = taskyard::LocalExecutor::new();
/// let handle = ex.spawn(async { "ok" });
/// assert_eq!(ex.block_on(handle).unwrap(), "ok");
/// ```
pub struct LocalJoinHandle<T> {
    raw: Rc<dyn LocalJoin<T>>,
}

impl<T> LocalJoinHandle<T> {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.raw.meta().name.as_deref()
    }

    /// The task's lane.
    pub fn lane(&self) -> Lane {
        self.raw.meta().lane
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// Takes the output if the task has ended.
    pub fn try_take(&self) -> Option<Result<T, JoinError>> {
        self.raw.try_take()
    }

    /// Requests cancellation; the task ends as cancelled the next time the executor picks it,
    /// without running another step.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = taskyard::LocalExecutor::new();
    /// let handle = ex.spawn(std::future::pending::<()>());
    /// ex.run_until_idle();
    /// handle.cancel();
    /// ex.run_until_idle();
    /// assert!(handle.try_take().unwrap().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.raw.cancel();
    }
}

impl<T> Future for LocalJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.raw.poll_join(cx)
    }
}

impl<T> fmt::Debug for LocalJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalJoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

struct Entry {
    task: Rc<dyn LocalRaw>,
    generation: u64,
    /// The task's lane, beside it so that requeueing needs no call through the task.
    lane: Lane,
    queued: bool,
}

struct Core {
    tasks: Slab<Entry>,
    queues: [VecDeque<usize>; Lane::COUNT],
    /// Lanes whose queue is not empty, kept in step with `queues`.
    waiting: LaneMask,
    picker: LanePicker,
    next_generation: u64,
    /// The inbox's previous buffer, kept for reuse.
    woken_spare: Vec<(usize, u64)>,
}

impl Core {
    fn enqueue(&mut self, key: usize) {
        let entry = &mut self.tasks[key];
        debug_assert!(!entry.queued);
        entry.queued = true;
        let lane = entry.lane;
        self.queues[lane.index()].push_back(key);
        self.waiting = self.waiting.with(lane);
    }

    fn pop(&mut self) -> Option<(usize, Rc<dyn LocalRaw>)> {
        let lane = self.picker.pick(self.waiting)?;
        let queue = &mut self.queues[lane.index()];
        let key = queue.pop_front().expect("lane marked waiting has a task");
        if queue.is_empty() {
            self.waiting.0 &= !LaneMask::EMPTY.with(lane).0;
        }
        let entry = &mut self.tasks[key];
        entry.queued = false;
        Some((key, entry.task.clone()))
    }
}

/// What the executor and its [`LocalSpawner`]s share.
struct LocalShared {
    core: RefCell<Core>,
    inbox: Arc<Inbox>,
}

impl LocalShared {
    fn spawn<T: Task + 'static>(
        &self,
        options: SpawnOptions,
        task: T,
    ) -> LocalJoinHandle<T::Output> {
        let mut core = self.core.borrow_mut();
        let generation = core.next_generation;
        core.next_generation += 1;
        let key = core.tasks.vacant_entry().key();
        let waker = Waker::from(Arc::new(LocalWaker {
            inbox: self.inbox.clone(),
            key,
            generation,
        }));
        let lane = options.meta.lane;
        let cell = Rc::new(LocalCell {
            id: TaskId::next(),
            meta: options.meta,
            waker,
            cancel_requested: Cell::new(false),
            body: RefCell::new(Some(task)),
            slot: RefCell::new(LocalSlot {
                output: None,
                joiner: None,
                finished: false,
            }),
        });
        core.tasks.insert(Entry {
            task: cell.clone(),
            generation,
            lane,
            queued: false,
        });
        core.enqueue(key);
        LocalJoinHandle { raw: cell }
    }
}

/// Spawns onto a [`LocalExecutor`] from inside its tasks (or anywhere on its thread) without a
/// reference to the executor. It does not keep the executor alive.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let ex = taskyard::LocalExecutor::new();
/// let spawner = ex.spawner();
/// let ran = Rc::new(Cell::new(false));
/// let flag = ran.clone();
/// ex.spawn(async move {
///     spawner.spawn(async move { flag.set(true) }).unwrap();
/// });
/// ex.run_until_idle();
/// assert!(ran.get());
/// ```
#[derive(Clone)]
pub struct LocalSpawner {
    shared: std::rc::Weak<LocalShared>,
}

impl fmt::Debug for LocalSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSpawner")
            .field("alive", &(self.shared.strong_count() > 0))
            .finish()
    }
}

impl LocalSpawner {
    /// Spawns a future on [`Lane::Normal`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the executor has been dropped.
    pub fn spawn<F: Future + 'static>(
        &self,
        future: F,
    ) -> Result<LocalJoinHandle<F::Output>, SpawnError> {
        self.spawn_task_with(SpawnOptions::new(), FutureTask::new(future))
    }

    /// Spawns a state-machine task with a name and lane.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the executor has been dropped.
    pub fn spawn_task_with<T: Task + 'static>(
        &self,
        options: SpawnOptions,
        task: T,
    ) -> Result<LocalJoinHandle<T::Output>, SpawnError> {
        match self.shared.upgrade() {
            Some(shared) => Ok(shared.spawn(options, task)),
            None => Err(SpawnError::shutdown(options.meta.name())),
        }
    }
}

/// An executor that runs tasks on the thread that calls it, within the budget the caller gives.
///
/// It is neither `Send` nor `Sync`: its tasks need not be `Send` either.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<taskyard::LocalExecutor>();
/// ```
///
/// # Examples
///
/// A host loop that gives the executor a budget of steps per frame:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use taskyard::{Cx, LocalExecutor, Step, Task};
///
/// /// Animates a value over several frames, one step per frame.
/// struct Fade { alpha: Rc<Cell<u8>> }
/// impl Task for Fade {
///     type Output = ();
///     fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
///         let a = self.alpha.get().saturating_sub(64);
///         self.alpha.set(a);
///         if a == 0 { Step::Done(()) } else { Step::Yield }
///     }
/// }
///
/// let ex = LocalExecutor::new();
/// let alpha = Rc::new(Cell::new(255));
/// ex.spawn_task(Fade { alpha: alpha.clone() });
/// let mut frames = 0;
/// while !ex.is_empty() {
///     ex.tick(1); // this frame's budget
///     frames += 1;
/// }
/// assert_eq!((frames, alpha.get()), (4, 0));
/// ```
pub struct LocalExecutor {
    shared: Rc<LocalShared>,
    clock: SharedClock,
    running: Cell<bool>,
    _not_send: PhantomData<Rc<()>>,
}

impl fmt::Debug for LocalExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalExecutor")
            .field("tasks", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalExecutor {
    /// An empty executor with the default [`LaneShares`] and the real clock.
    pub fn new() -> Self {
        Self {
            shared: Rc::new(LocalShared {
                core: RefCell::new(Core {
                    tasks: Slab::new(),
                    queues: Default::default(),
                    waiting: LaneMask::EMPTY,
                    picker: LanePicker::new(LaneShares::default()),
                    next_generation: 0,
                    woken_spare: Vec::new(),
                }),
                inbox: Arc::new(Inbox::default()),
            }),
            clock: Arc::new(SystemClock::new()),
            running: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// Uses `shares` for the lane policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::{LaneShares, LocalExecutor};
    /// let ex = LocalExecutor::new().with_lane_shares(LaneShares::none());
    /// # drop(ex);
    /// ```
    pub fn with_lane_shares(self, shares: LaneShares) -> Self {
        self.shared.core.borrow_mut().picker = LanePicker::new(shares);
        self
    }

    /// Uses `clock` for [`run_for`](Self::run_for) budgets.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::{LocalExecutor, ManualClock};
    /// let ex = LocalExecutor::new().with_clock(ManualClock::new());
    /// # drop(ex);
    /// ```
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The number of tasks that have not ended.
    pub fn len(&self) -> usize {
        self.shared.core.borrow().tasks.len()
    }

    /// Whether every task has ended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A handle for spawning onto this executor from inside its tasks.
    pub fn spawner(&self) -> LocalSpawner {
        LocalSpawner {
            shared: Rc::downgrade(&self.shared),
        }
    }

    /// The executor's clock.
    pub(crate) fn clock(&self) -> SharedClock {
        self.clock.clone()
    }

    /// Spawns a future on [`Lane::Normal`].
    pub fn spawn<F: Future + 'static>(&self, future: F) -> LocalJoinHandle<F::Output> {
        self.spawn_task_with(SpawnOptions::new(), FutureTask::new(future))
    }

    /// Spawns a named future.
    pub fn spawn_named<F: Future + 'static>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> LocalJoinHandle<F::Output> {
        self.spawn_task_with(SpawnOptions::new().name(name), FutureTask::new(future))
    }

    /// Spawns a future with a name and lane.
    pub fn spawn_with<F: Future + 'static>(
        &self,
        options: SpawnOptions,
        future: F,
    ) -> LocalJoinHandle<F::Output> {
        self.spawn_task_with(options, FutureTask::new(future))
    }

    /// Spawns a state-machine task on [`Lane::Normal`].
    pub fn spawn_task<T: Task + 'static>(&self, task: T) -> LocalJoinHandle<T::Output> {
        self.spawn_task_with(SpawnOptions::new(), task)
    }

    /// Spawns a state-machine task with a name and lane.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::{Lane, LocalExecutor, SpawnOptions, FutureTask};
    /// let ex = LocalExecutor::new();
    /// let h = ex.spawn_task_with(SpawnOptions::new().lane(Lane::High), FutureTask::new(async { 1 }));
    /// assert_eq!(h.lane(), Lane::High);
    /// ```
    pub fn spawn_task_with<T: Task + 'static>(
        &self,
        options: SpawnOptions,
        task: T,
    ) -> LocalJoinHandle<T::Output> {
        self.shared.spawn(options, task)
    }

    /// Moves tasks woken through their wakers into their queues.
    fn drain_inbox(&self, core: &mut Core) {
        // A plain load first: the read-modify-write is paid only when something was woken.
        if !self.shared.inbox.pending.load(Relaxed)
            || !self.shared.inbox.pending.swap(false, SeqCst)
        {
            return;
        }
        // Swap buffers rather than take the vector, so waking does not allocate every time.
        let mut woken = std::mem::take(&mut core.woken_spare);
        std::mem::swap(&mut *self.shared.inbox.woken.lock(), &mut woken);
        for &(key, generation) in &woken {
            let current = core
                .tasks
                .get(key)
                .is_some_and(|e| e.generation == generation);
            if current && !core.tasks[key].queued {
                core.enqueue(key);
            }
        }
        woken.clear();
        core.woken_spare = woken;
    }

    /// Runs one step of the next task by the lane policy. `false` when no task is runnable.
    fn step_once(&self) -> bool {
        let (key, task) = {
            let mut core = self.shared.core.borrow_mut();
            self.drain_inbox(&mut core);
            match core.pop() {
                Some(next) => next,
                None => return false,
            }
        };
        let outcome = task.run();
        let mut core = self.shared.core.borrow_mut();
        match outcome {
            LocalStep::Yield => core.enqueue(key),
            LocalStep::Pending => {}
            LocalStep::Ended => {
                core.tasks.remove(key);
            }
        }
        true
    }

    fn enter_run(&self) -> RunGuard<'_> {
        assert!(
            !self.running.replace(true),
            "a LocalExecutor was run from inside one of its own tasks"
        );
        RunGuard(&self.running)
    }

    /// Runs at most `max_steps` steps and returns how many ran (fewer when no task is
    /// runnable): a fixed budget for one frame of a host loop.
    ///
    /// # Panics
    ///
    /// Panics if called from inside one of this executor's tasks.
    #[track_caller]
    pub fn tick(&self, max_steps: usize) -> usize {
        let _running = self.enter_run();
        let mut steps = 0;
        while steps < max_steps && self.step_once() {
            steps += 1;
        }
        steps
    }

    /// Runs steps until no task is runnable (every task has ended or waits for a wake-up);
    /// returns how many ran.
    ///
    /// # Panics
    ///
    /// Panics if called from inside one of this executor's tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = taskyard::LocalExecutor::new();
    /// ex.spawn(async { taskyard::yield_now().await });
    /// assert_eq!(ex.run_until_idle(), 2);
    /// assert!(ex.is_empty());
    /// ```
    #[track_caller]
    pub fn run_until_idle(&self) -> usize {
        self.tick(usize::MAX)
    }

    /// Runs steps until `budget` has passed on the executor's clock or no task is runnable;
    /// returns how many ran. The clock is read after every step, so a step is never cut short
    /// and the budget may be overrun by one step's length.
    ///
    /// # Panics
    ///
    /// Panics if called from inside one of this executor's tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskyard::{LocalExecutor, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let ex = LocalExecutor::new().with_clock(clock.clone());
    /// let tick = clock.clone();
    /// ex.spawn(async move {
    ///     loop {
    ///         tick.advance(Duration::from_millis(4)); // each step "takes" 4 ms
    ///         taskyard::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(ex.run_for(Duration::from_millis(10)), 3);
    /// ```
    #[track_caller]
    pub fn run_for(&self, budget: Duration) -> usize {
        let _running = self.enter_run();
        let end = self.clock.now().saturating_add(budget);
        let mut steps = 0;
        while self.clock.now() < end && self.step_once() {
            steps += 1;
        }
        steps
    }

    /// Runs `future` to completion on this thread, running the executor's tasks meanwhile and
    /// sleeping when neither can make progress until a waker (from any thread) fires.
    ///
    /// # Panics
    ///
    /// Panics if called from inside one of this executor's tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = taskyard::LocalExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let worker = std::thread::spawn(move || tx.send(5).unwrap());
    /// let background = ex.spawn(async { 37 });
    /// let total = ex.block_on(async move { background.await.unwrap() + 5 });
    /// worker.join().unwrap();
    /// assert_eq!((total, rx.recv().unwrap()), (42, 5));
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = self.enter_run();
        let main = Arc::new(MainWaker {
            inbox: self.shared.inbox.clone(),
            woken: AtomicBool::new(true),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if main.woken.swap(false, SeqCst)
                && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
            {
                return output;
            }
            // A bounded batch of tasks, then the future again if it was woken meanwhile.
            let mut ran = 0;
            while ran < 64 && !main.woken.load(SeqCst) && self.step_once() {
                ran += 1;
            }
            if ran > 0 || main.woken.load(SeqCst) {
                continue;
            }
            // Nothing runnable: sleep until a waker fires. Announce first, then re-check, so a
            // wake between the check and the park is not lost (see `Inbox::push`).
            self.shared.inbox.sleeping.store(true, SeqCst);
            if !main.woken.load(SeqCst) && !self.shared.inbox.pending.load(SeqCst) {
                self.shared.inbox.parker.park();
            }
            self.shared.inbox.sleeping.store(false, SeqCst);
        }
    }
}

/// The waker of the future passed to `block_on`.
struct MainWaker {
    inbox: Arc<Inbox>,
    woken: AtomicBool,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        if self.inbox.sleeping.load(SeqCst) {
            self.inbox.parker.unpark();
        }
    }
}

struct RunGuard<'a>(&'a Cell<bool>);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        // End every remaining task as cancelled so join handles see an error, not a hang.
        let tasks: Vec<Rc<dyn LocalRaw>> = self
            .shared
            .core
            .borrow_mut()
            .tasks
            .drain()
            .map(|entry| entry.task)
            .collect();
        for task in tasks {
            task.cancel_now();
        }
    }
}
