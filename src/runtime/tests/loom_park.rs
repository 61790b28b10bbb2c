//! The sleep protocol of `runtime/idle.rs`: no lost wake-up between "found nothing" and "park".

use crate::park::Parker;
use crate::runtime::idle::Idle;
use crate::sync::deque::{Injector, Steal};
use crate::sync::{Arc, thread};

/// A worker loop reduced to the protocol: look, announce, look again, park.
fn worker(index: usize, queue: &Injector<u32>, idle: &Idle, parkers: &[Parker]) -> u32 {
    loop {
        if let Steal::Success(v) = queue.steal() {
            return v;
        }
        idle.announce_sleep(index);
        if !queue.is_empty() {
            idle.cancel_sleep(index);
            continue;
        }
        parkers[index].park();
    }
}

#[test]
fn loom_park_push_then_notify_is_never_lost() {
    loom::model(|| {
        let queue = Arc::new(Injector::new());
        let idle = Arc::new(Idle::new(1));
        let parkers = Arc::new([Parker::new()]);
        let sleeper = {
            let (queue, idle, parkers) = (queue.clone(), idle.clone(), parkers.clone());
            thread::spawn(move || worker(0, &queue, &idle, &parkers[..]))
        };
        queue.push(7);
        idle.notify_one(&parkers[..]);
        // A lost wake-up would leave the sleeper parked forever: loom reports the deadlock.
        assert_eq!(sleeper.join().unwrap(), 7);
    });
}

#[test]
fn loom_park_two_sleepers_two_items() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let queue = Arc::new(Injector::new());
        let idle = Arc::new(Idle::new(2));
        let parkers = Arc::new([Parker::new(), Parker::new()]);
        let sleepers: Vec<_> = (0..2)
            .map(|index| {
                let (queue, idle, parkers) = (queue.clone(), idle.clone(), parkers.clone());
                thread::spawn(move || worker(index, &queue, &idle, &parkers[..]))
            })
            .collect();
        for v in [1, 2] {
            queue.push(v);
            idle.notify_one(&parkers[..]);
        }
        let mut got: Vec<u32> = sleepers.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}
