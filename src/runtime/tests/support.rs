//! A scheduler that only queues, so a model decides who runs what.

use std::collections::VecDeque;

use crate::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::sync::{Arc, Mutex};
use crate::task::cell::{Header, Outcome, RawTask, RegistrySlot, RunResult, Schedule, TaskCell};
use crate::task::{Task, TaskId, TaskMeta};

#[derive(Default)]
pub(super) struct QueueScheduler {
    queue: Mutex<VecDeque<Arc<dyn RawTask>>>,
    pub(super) released: AtomicUsize,
    pub(super) scheduled: AtomicUsize,
}

impl Schedule for QueueScheduler {
    fn schedule(&self, task: Arc<dyn RawTask>) {
        self.scheduled.fetch_add(1, SeqCst);
        self.queue.lock().push_back(task);
    }

    fn release(&self, _header: &Header, _outcome: Outcome, _panic: Option<&str>) {
        self.released.fetch_add(1, SeqCst);
    }
}

impl QueueScheduler {
    pub(super) fn pop(&self) -> Option<Arc<dyn RawTask>> {
        self.queue.lock().pop_front()
    }

    /// Runs queued tasks until the queue is empty; requeues yielded ones. Returns steps taken.
    pub(super) fn run_queued(&self) -> usize {
        let mut steps = 0;
        while let Some(task) = self.pop() {
            steps += 1;
            if let RunResult::Requeue(task) = task.run() {
                self.queue.lock().push_back(task);
            }
        }
        steps
    }
}

/// A spawned cell as the runtime would make it, owned by the caller (state `SCHEDULED`).
pub(super) fn new_task<T>(
    task: T,
    scheduler: &Arc<QueueScheduler>,
) -> Arc<TaskCell<T, QueueScheduler>>
where
    T: Task + Send + 'static,
    T::Output: Send + 'static,
{
    TaskCell::new(
        task,
        TaskId::next(),
        TaskMeta::default(),
        RegistrySlot::default(),
        scheduler.clone(),
    )
}
