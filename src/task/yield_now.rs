//! `yield_now`: the future form of [`Step::Yield`](crate::Step::Yield).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns a future that hands control back to the executor once, then completes.
///
/// Other tasks of the same or a higher lane get to run before the task continues.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let ex = taskyard::LocalExecutor::new();
/// for name in ["a", "b"] {
///     let log = log.clone();
///     ex.spawn(async move {
///         log.borrow_mut().push(format!("{name}1"));
///         taskyard::yield_now().await;
///         log.borrow_mut().push(format!("{name}2"));
///     });
/// }
/// ex.run_until_idle();
/// assert_eq!(*log.borrow(), ["a1", "b1", "a2", "b2"]);
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
