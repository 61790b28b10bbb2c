//! Embedding taskyard in a host loop that owns its thread: a tiny "game" of 60 frames.
//!
//! A game, a GUI or a simulation already has a loop, and it must not give that loop away. So
//! instead of running a scheduler, the host gives a [`LocalExecutor`] a *budget* once per frame
//! with [`LocalExecutor::tick`]: at most `STEPS_PER_FRAME` task steps, then control comes back,
//! however much work is queued. The executor never blocks the frame.
//!
//! Three state-machine tasks share that budget:
//!
//! * `animation` ([`Lane::High`]) moves a sprite a few pixels per step until it arrives;
//! * `loader` ([`Lane::Normal`]) starts a std thread to "read an asset", hands the thread its
//!   waker and returns [`Step::Pending`]: it costs no step at all until the thread wakes it;
//! * `autosave` ([`Lane::Background`]) is a long chore that yields after each chunk. The
//!   animation alone would use every step of the budget, but the Background lane's guaranteed
//!   share (1 step in 4 here) keeps the autosave moving.
//!
//! Each frame prints what ran. When every task is done, the host drains with
//! [`LocalExecutor::run_for`], the time-budget form of `tick`, and stops.
//!
//! Run it with `cargo run --example embed_host_loop`; it takes a fraction of a second.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskyard::{Cx, Lane, LaneShares, LocalExecutor, SpawnOptions, Step, Task};

/// How many task steps the host allows per frame.
const STEPS_PER_FRAME: usize = 3;
const FRAMES: u32 = 60;

/// Moves the sprite 5 pixels per step towards `target`.
struct Animation {
    x: Rc<Cell<u32>>,
    target: u32,
}

impl Task for Animation {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        let x = (self.x.get() + 5).min(self.target);
        self.x.set(x);
        if x == self.target {
            Step::Done(())
        } else {
            Step::Yield
        }
    }
}

/// What the host shows about the loader.
#[derive(Clone, Debug)]
enum LoadStatus {
    Queued,
    Loading,
    Loaded(usize),
}

/// Loads an asset on a helper thread: one step to start it, one step once the thread wakes it.
struct Loader {
    path: &'static str,
    status: Rc<RefCell<LoadStatus>>,
    /// Filled by the helper thread; `None` until the first step starts it.
    slot: Option<Arc<Mutex<Option<Vec<u8>>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Task for Loader {
    type Output = usize;

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<usize> {
        let Some(slot) = &self.slot else {
            // First step: start the "I/O" and hand the thread our waker.
            let slot = Arc::new(Mutex::new(None));
            let waker = cx.waker().clone();
            let path = self.path;
            let filled = slot.clone();
            self.thread = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(25)); // stands in for a disk read
                *filled.lock().unwrap() = Some(format!("contents of {path}").into_bytes());
                waker.wake();
            }));
            self.slot = Some(slot);
            *self.status.borrow_mut() = LoadStatus::Loading;
            return Step::Pending;
        };
        let Some(bytes) = slot.lock().unwrap().take() else {
            return Step::Pending; // woken early: keep waiting (the thread still holds the waker)
        };
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the loader thread does not panic");
        }
        *self.status.borrow_mut() = LoadStatus::Loaded(bytes.len());
        Step::Done(bytes.len())
    }
}

/// Saves the world in `chunks` pieces, one per step.
struct Autosave {
    chunks: u32,
    saved: Rc<Cell<u32>>,
}

impl Task for Autosave {
    type Output = u32;

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u32> {
        self.saved.set(self.saved.get() + 1);
        if self.saved.get() == self.chunks {
            Step::Done(self.chunks)
        } else {
            Step::Yield
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shares = LaneShares::default().with(Lane::Background, 1, 4)?;
    let ex = LocalExecutor::new().with_lane_shares(shares);

    let x = Rc::new(Cell::new(0));
    let status = Rc::new(RefCell::new(LoadStatus::Queued));
    let saved = Rc::new(Cell::new(0));
    const CHUNKS: u32 = 12;

    let animation = ex.spawn_task_with(
        SpawnOptions::new().name("animation").lane(Lane::High),
        Animation {
            x: x.clone(),
            target: 200,
        },
    );
    let loader = ex.spawn_task_with(
        SpawnOptions::new().name("loader"),
        Loader {
            path: "level-1.map",
            status: status.clone(),
            slot: None,
            thread: None,
        },
    );
    let autosave = ex.spawn_task_with(
        SpawnOptions::new().name("autosave").lane(Lane::Background),
        Autosave {
            chunks: CHUNKS,
            saved: saved.clone(),
        },
    );

    let mut total_steps = 0;
    for frame in 0..FRAMES {
        // The frame's budget for tasks; the rest of the frame belongs to the host.
        let steps = ex.tick(STEPS_PER_FRAME);
        total_steps += steps;
        let loading = match &*status.borrow() {
            LoadStatus::Queued => "queued".to_owned(),
            LoadStatus::Loading => "loading...".to_owned(),
            LoadStatus::Loaded(n) => format!("{n} bytes"),
        };
        println!(
            "frame {frame:02}: {steps} step(s) | sprite x={:3} | loader: {loading:<10} | autosave {:2}/{CHUNKS} | {} task(s) left",
            x.get(),
            saved.get(),
            ex.len(),
        );
        // Rendering would happen here; a short sleep stands in for it.
        std::thread::sleep(Duration::from_millis(2));
        if ex.is_empty() {
            println!("all tasks done after {} frames", frame + 1);
            break;
        }
    }

    // Whatever is left (nothing, unless the loader's thread was slow) gets a last time budget.
    while !ex.is_empty() {
        total_steps += ex.run_for(Duration::from_millis(5));
        if !ex.is_empty() {
            std::thread::sleep(Duration::from_millis(1)); // the loader's thread is still reading
        }
    }

    animation.try_take().expect("animation finished")?;
    let bytes = loader.try_take().expect("loader finished")?;
    let chunks = autosave.try_take().expect("autosave finished")?;
    println!(
        "summary: {total_steps} steps in total; sprite at x={}, loaded {bytes} bytes, saved {chunks} chunks",
        x.get()
    );
    Ok(())
}
