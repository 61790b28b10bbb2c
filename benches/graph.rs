//! Dependency-graph release overhead: the cost per node of running a graph whose node bodies do
//! nothing, so what is measured is the release path (counters, ready queue, hand-off to a
//! worker), each shape side by side with its peers in one criterion group:
//!
//! * `graph_chain`: a linear chain of 1,000,000 nodes;
//! * `graph_tree`: a binary tree of depth 18 fanning out from one root to 2^18 leaves, then
//!   fanning back in to one sink (2^19 - 1 + 2^18 - 1 = 786,430 nodes);
//! * `graph_wavefront`: a 1024 x 1024 grid, node (i, j) after (i - 1, j) and (i, j - 1);
//! * `graph_random`: 100,000 nodes in 100 layers, each node after 1 to 4 distinct nodes of the
//!   previous layer (seeded xorshift, so every run builds the same graph).
//!
//! Entries (every multi-threaded one on 2 threads; the machine has 2 cores):
//!
//! * `taskyard`: [`Graph`] built by name (`n{i}`), validated, then run with [`Policy::Rank`] on a
//!   2-worker [`Runtime`](taskyard::Runtime) built once per group. Only `run_graph(..).join()` is
//!   timed; building the graph and dropping its report are not;
//! * `taskyard_untimed`: the same run with [`RunnableGraph::record_node_times`]`(false)`: no
//!   clock reading per node, so no per-node times in the report (statuses, workers, makespan
//!   and busy time remain). The peers record no time either;
//! * `taskyard_fn_untimed`: the untimed run of the same graph with its bodies added by
//!   [`Graph::fn_node`]: called in place, where a [`Graph::node`] body is moved out of the
//!   graph under a lock when its node starts. The peers too call a shared body;
//! * `taskyard_pinned`, `taskyard_untimed_pinned`, `taskyard_fn_untimed_pinned`: the same three
//!   on a second runtime whose worker `i` is pinned to core `i` by
//!   [`Builder::on_thread_start`](taskyard::Builder::on_thread_start), so that the kernel cannot
//!   queue both workers on one core at the start of a run;
//! * `taskyard_build`: building the [`Graph`] by name and [`Graph::build`] (validation, ranks),
//!   timed alone;
//! * `taskyard_build_by_id`: the same with every dependency given by its [`NodeId`]
//!   ([`NodeSpec::after_node`](taskyard::graph::NodeSpec::after_node)) instead of its name;
//! * `taskyard_clone`: [`RunnableGraph::try_clone`] of a built graph of `fn_node` bodies, the
//!   cost of each run after the first of a graph that runs again (two runs of copies are
//!   checked first, as below);
//! * `rayon_counters`: a 2-thread rayon pool, one atomic counter per node; a finishing node
//!   decrements its successors' counters and `scope.spawn`s every one that reaches zero;
//! * `rayon_counters_cont`: the same, but the finishing node runs one released successor itself
//!   (a loop) and spawns only the others;
//! * `rayon_counters_cont_pinned`: `rayon_counters_cont` on a pool whose thread `i` is pinned to
//!   core `i` by its `start_handler`, as ours are;
//! * `tokio_counters`: tokio multi-thread (2 workers), the same counters, one `tokio::spawn` per
//!   released node; the run ends when a countdown of the sinks reaches zero;
//! * `single_thread_walk`: the bench thread walks the graph with plain counters and a `Vec`
//!   stack, no scheduler: the floor.
//!
//! Every peer runs on the same prebuilt adjacency (successor lists in CSR form and initial
//! counts), its per-node arrays each at a cache line of its own within a page (see `placed`);
//! resetting the counters is not timed. Node bodies are `black_box` of the node index
//! for the peers and `black_box(())` for taskyard (a closure without captures). Before its timed
//! runs every entry runs once with a checking body: every node runs exactly once, no node runs
//! before a predecessor finished, every counter ends at zero, and for taskyard every node reports
//! `Done` and starts after each predecessor's end. The taskyard check run also prints what the
//! run cost the runtime (steps, spawned searchers, steals, parks per node, nodes per worker) and
//! how long the report's per-node lines take to build when first read (outside the timed
//! region, like the report's drop). [`Graph::build`] computes the [`Policy::Rank`] order and
//! allocates the run's per-node state (as the peers' counters are allocated once, outside their
//! timing), so both are in `taskyard_build`, not in the timed run.
//!
//! Sizes are divided by `TASKYARD_BENCH_SCALE` (the tree loses `log2` of it in depth, the
//! wavefront's side its square root). Every iteration is long, so samples are flat, 10 of them,
//! after 0.5 s of warm-up and over 2 s of measurement (command-line flags override these); a
//! full run takes about 5 minutes on 2 cores.

mod common;

use std::hint::black_box;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use taskyard::Runtime;
use taskyard::graph::{Graph, NodeId, NodeStatus, Policy, RunnableGraph};

use common::{Countdown, leak, scale_divisor, scaled};

const CHAIN_NODES: usize = 1_000_000;
const TREE_DEPTH: u32 = 18;
const WAVEFRONT_SIDE: usize = 1024;
const RANDOM_NODES: usize = 100_000;
const RANDOM_LAYERS: usize = 100;
const RANDOM_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

// ---------------------------------------------------------------------------------------------
// Shapes

/// One shape's graph, in the compact form every peer runs on, plus the counters they share.
struct Adjacency {
    /// `preds[pred_offsets[v]..pred_offsets[v + 1]]` are the nodes `v` waits for.
    pred_offsets: Vec<u32>,
    preds: Vec<u32>,
    /// `succs[succ_offsets[v]..succ_offsets[v + 1]]` are the nodes that wait for `v`.
    succ_offsets: &'static [u32],
    succs: &'static [u32],
    /// Predecessor count of every node: the counters' starting values.
    initial: Vec<u32>,
    /// Nodes without predecessors, in index order.
    roots: Vec<u32>,
    /// Number of nodes without successors.
    sinks: usize,
    /// The live counters of the multi-threaded peers, reset before each run.
    counts: &'static [AtomicU32],
    /// How often each node ran, for the checking runs only.
    runs: &'static [AtomicU32],
    /// The sinks still to finish, for `tokio_counters`.
    done: Countdown,
}

impl Adjacency {
    /// From predecessor lists given in node order (`pred_offsets[0] == 0`).
    fn from_preds(pred_offsets: Vec<u32>, preds: Vec<u32>) -> Self {
        let n = pred_offsets.len() - 1;
        let initial: Vec<u32> = pred_offsets.windows(2).map(|w| w[1] - w[0]).collect();
        // Transpose by counting sort, so each successor list is in node order.
        let mut succ_offsets = vec![0u32; n + 1];
        for &p in &preds {
            succ_offsets[p as usize + 1] += 1;
        }
        for v in 0..n {
            succ_offsets[v + 1] += succ_offsets[v];
        }
        let mut fill = succ_offsets.clone();
        let mut succs = vec![0u32; preds.len()];
        for v in 0..n {
            for &p in &preds[pred_offsets[v] as usize..pred_offsets[v + 1] as usize] {
                succs[fill[p as usize] as usize] = v as u32;
                fill[p as usize] += 1;
            }
        }
        let roots = (0..n as u32)
            .filter(|&v| initial[v as usize] == 0)
            .collect();
        let sinks = succ_offsets.windows(2).filter(|w| w[0] == w[1]).count();
        Self {
            pred_offsets,
            preds,
            succ_offsets: placed(0, succ_offsets.into_iter()),
            succs: placed(16, succs.into_iter()),
            initial,
            roots,
            sinks,
            counts: placed(32, (0..n).map(|_| AtomicU32::new(0))),
            runs: placed(48, (0..n).map(|_| AtomicU32::new(0))),
            done: Countdown::new(),
        }
    }

    fn len(&self) -> usize {
        self.initial.len()
    }

    fn edges(&self) -> usize {
        self.preds.len()
    }

    #[inline]
    fn succ(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.succs[self.succ_offsets[v] as usize..self.succ_offsets[v + 1] as usize]
    }

    fn pred(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.preds[self.pred_offsets[v] as usize..self.pred_offsets[v + 1] as usize]
    }

    /// Decrements `w`'s counter; true when this call released it.
    #[inline]
    fn retire(&self, w: u32) -> bool {
        self.counts[w as usize].fetch_sub(1, AcqRel) == 1
    }

    /// Arms the shared counters for a run (not timed).
    fn reset_counts(&self) {
        for (count, &initial) in self.counts.iter().zip(&self.initial) {
            count.store(initial, Relaxed);
        }
    }

    /// After a checking run of a counter peer: every node ran once, every counter reached zero.
    fn verify_counter_run(&self, entry: &str) {
        for v in 0..self.len() {
            assert_eq!(self.counts[v].load(Relaxed), 0, "{entry}: counter of n{v}");
        }
        self.verify_runs(entry);
    }

    /// Every node ran exactly once; clears the run counts for the next check.
    fn verify_runs(&self, entry: &str) {
        for (v, runs) in self.runs.iter().enumerate() {
            assert_eq!(
                runs.swap(0, Relaxed),
                1,
                "{entry}: n{v} ran a wrong number of times"
            );
        }
    }
}

/// Bytes in a page and in a cache line, on the machines this bench runs on.
const PAGE: usize = 4096;
const LINE: usize = 64;

/// `items` in a buffer of their own, the first of them at cache line `line` of a page (default
/// values fill the space before it); leaked, like the adjacency that holds them.
///
/// Where a large array begins within its page changes what the counter peers measure, because
/// they index several per-node arrays with the same node at once. On the chain, a node's
/// counter is written (a locked decrement) just before the next node's successor list is read:
/// with both arrays at the same offset in their pages, the read's address matches the write's
/// in its low 12 bits, which is all the core compares at first, and the read waits (rayon's
/// continuation, in a scratch copy: 8.0 to 8.4 ns per node; 5.3 to 5.8 with the counters one
/// line further on). On the wavefront the continuation walks a column at a time, so the nodes
/// it visits in turn sit 4 KiB apart in every array, and two arrays at the same offset compete
/// for the same few cache sets (mostly 23 to 35 ns per node; mostly 15 to 20 with either moved
/// by one line). Which placement the bench got depended on what it had allocated and freed
/// before: glibc serves a large array from a fresh `mmap`, 16 bytes into a page, until a freed
/// one raises its threshold. A line of its own for each array the peers' walks touch gives them
/// the faster placement whatever ran before.
fn placed<T: Default>(line: usize, items: impl ExactSizeIterator<Item = T>) -> &'static [T] {
    let size = size_of::<T>();
    let mut buffer: Vec<T> = Vec::with_capacity(items.len() + PAGE / size);
    let offset = buffer.as_ptr().addr() % PAGE;
    let skip = (line * LINE + PAGE - offset) % PAGE / size;
    buffer.extend(std::iter::repeat_with(T::default).take(skip));
    buffer.extend(items);
    let placed = &Vec::leak(buffer)[skip..];
    assert_eq!(placed.as_ptr().addr() % PAGE, line * LINE, "placement");
    placed
}

/// Collects predecessor lists node by node.
#[derive(Default)]
struct PredLists {
    offsets: Vec<u32>,
    preds: Vec<u32>,
}

impl PredLists {
    fn with_capacity(nodes: usize, edges: usize) -> Self {
        let mut offsets = Vec::with_capacity(nodes + 1);
        offsets.push(0);
        Self {
            offsets,
            preds: Vec::with_capacity(edges),
        }
    }

    /// Adds the next node, waiting for `preds`.
    fn node(&mut self, preds: &[u32]) {
        self.preds.extend_from_slice(preds);
        self.offsets.push(self.preds.len() as u32);
    }

    fn finish(self) -> Adjacency {
        Adjacency::from_preds(self.offsets, self.preds)
    }
}

fn chain(n: usize) -> Adjacency {
    let mut g = PredLists::with_capacity(n, n);
    g.node(&[]);
    for v in 1..n as u32 {
        g.node(&[v - 1]);
    }
    g.finish()
}

/// Fan-out: a complete binary tree with its leaves at `depth`, numbered heap-style (children of
/// `k` are `2k + 1` and `2k + 2`). Fan-in: its mirror image, deepest merge level first, each
/// merge node after two nodes of the level below it, down to one sink.
fn tree(depth: u32) -> Adjacency {
    let out_nodes = (1u32 << (depth + 1)) - 1;
    let first_leaf = (1u32 << depth) - 1;
    let n = out_nodes as usize + (1usize << depth) - 1;
    let mut g = PredLists::with_capacity(n, n - 1 + (1usize << depth));
    g.node(&[]);
    for k in 1..out_nodes {
        g.node(&[(k - 1) / 2]);
    }
    // Merge levels are numbered from `level_base`; the level below starts at `below_base`
    // (the leaves, for the deepest merge level).
    let mut level_base = out_nodes;
    let mut below_base = first_leaf;
    for level in (0..depth).rev() {
        for p in 0..1u32 << level {
            g.node(&[below_base + 2 * p, below_base + 2 * p + 1]);
        }
        below_base = level_base;
        level_base += 1 << level;
    }
    let g = g.finish();
    debug_assert_eq!((g.len(), g.roots.len(), g.sinks), (n, 1, 1));
    g
}

/// `side x side` grid; node `(i, j)` is `i * side + j`, after `(i - 1, j)` and `(i, j - 1)`.
fn wavefront(side: usize) -> Adjacency {
    let mut g = PredLists::with_capacity(side * side, 2 * side * side);
    for i in 0..side {
        for j in 0..side {
            let v = (i * side + j) as u32;
            match (i, j) {
                (0, 0) => g.node(&[]),
                (0, _) => g.node(&[v - 1]),
                (_, 0) => g.node(&[v - side as u32]),
                _ => g.node(&[v - side as u32, v - 1]),
            }
        }
    }
    g.finish()
}

/// `layers` layers of `nodes / layers` nodes; every node past the first layer waits for 1 to 4
/// distinct nodes of the layer before it, drawn with a xorshift generator from a fixed seed.
fn random_layers(nodes: usize, layers: usize) -> Adjacency {
    let layers = layers.clamp(1, nodes);
    let width = nodes / layers;
    let mut state = RANDOM_SEED;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut g = PredLists::with_capacity(layers * width, layers * width * 5 / 2);
    for _ in 0..width {
        g.node(&[]);
    }
    let mut preds = Vec::with_capacity(4);
    for layer in 1..layers {
        let base = ((layer - 1) * width) as u32;
        for _ in 0..width {
            let k = (1 + next() % 4).min(width as u64) as usize;
            preds.clear();
            while preds.len() < k {
                let p = base + (next() % width as u64) as u32;
                if !preds.contains(&p) {
                    preds.push(p);
                }
            }
            g.node(&preds);
        }
    }
    g.finish()
}

// ---------------------------------------------------------------------------------------------
// Node bodies

/// What a node does when it runs; monomorphised, so the timed runs carry no checks.
trait Body: Copy + Send + Sync + 'static {
    fn run(self, g: &Adjacency, v: u32);
}

/// The timed body: nothing the optimiser can see through.
#[derive(Clone, Copy)]
struct Quiet;

impl Body for Quiet {
    #[inline]
    fn run(self, _g: &Adjacency, v: u32) {
        black_box(v);
    }
}

/// The checking body: no successor has run yet, and the node counts its run.
#[derive(Clone, Copy)]
struct Checked;

impl Body for Checked {
    fn run(self, g: &Adjacency, v: u32) {
        for &s in g.succ(v) {
            assert_eq!(
                g.runs[s as usize].load(Relaxed),
                0,
                "n{s} ran before its predecessor n{v} finished"
            );
        }
        g.runs[v as usize].fetch_add(1, Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// taskyard

/// How a taskyard entry adds its node bodies.
#[derive(Clone, Copy)]
enum Bodies {
    /// [`Graph::node`]: moved out of the graph when the node starts.
    Owned,
    /// [`Graph::fn_node`]: called in place.
    Shared,
}

/// How a taskyard entry adds its edges.
#[derive(Clone, Copy)]
enum Edges {
    /// [`NodeSpec::after`](taskyard::graph::NodeSpec::after), by name.
    ByName,
    /// [`NodeSpec::after_node`](taskyard::graph::NodeSpec::after_node), by [`NodeId`].
    ById,
}

/// The shape as a taskyard [`Graph`] with `body(v)` as node `v`'s closure, named `n{v}`.
fn taskyard_graph<F>(g: &Adjacency, bodies: Bodies, edges: Edges, body: impl Fn(u32) -> F) -> Graph
where
    F: Fn() + Send + Sync + 'static,
{
    let mut graph = Graph::new();
    let mut ids: Vec<NodeId> = Vec::new();
    for v in 0..g.len() as u32 {
        let name = format!("n{v}");
        let node = match bodies {
            Bodies::Owned => graph.node(name, body(v)),
            Bodies::Shared => graph.fn_node(name, body(v)),
        };
        match edges {
            Edges::ById => {
                // Every shape's predecessors come first in index order.
                for &p in g.pred(v) {
                    node.after_node(ids[p as usize]);
                }
                ids.push(node.id());
            }
            Edges::ByName => {
                for &p in g.pred(v) {
                    node.after(format!("n{p}"));
                }
            }
        }
    }
    graph
}

/// The timed graph: closures without captures, the smallest body `Graph::node` takes (a
/// zero-sized closure is boxed without an allocation).
fn quiet_graph(g: &Adjacency, bodies: Bodies, edges: Edges) -> Graph {
    taskyard_graph(g, bodies, edges, |_| {
        || {
            black_box(());
        }
    })
}

/// Checks that the graph built with its edges by id is the one built by name: the same
/// successors, in the same order, and ranks.
fn check_build_by_id(g: &Adjacency, shape: &str) {
    let by_name = quiet_graph(g, Bodies::Owned, Edges::ByName).build();
    let by_id = quiet_graph(g, Bodies::Owned, Edges::ById).build();
    let (by_name, by_id) = (by_name.expect("valid graph"), by_id.expect("valid graph"));
    let (by_name, by_id) = (by_name.dag(), by_id.dag());
    for node in by_name.nodes() {
        assert_eq!(
            by_name.successors_after_finish(node),
            by_id.successors_after_finish(node),
            "{shape}: {node}"
        );
        assert_eq!(by_name.rank(node), by_id.rank(node), "{shape}: {node}");
    }
}

/// One checked run on `rt`: every node `Done` exactly once, after its predecessors ended. Prints
/// what the run cost the runtime (steps, tasks, steals and parks per node) under `entry`.
fn check_taskyard(rt: &Runtime, g: &'static Adjacency, entry: &str) {
    let graph = taskyard_graph(g, Bodies::Owned, Edges::ByName, |v| {
        move || Checked.run(g, v)
    })
    .build()
    .expect("the shape is a valid graph");
    let before = rt.metrics();
    let report = rt
        .run_graph(graph, Policy::Rank)
        .expect("runtime is running")
        .join();
    let after = rt.metrics();
    g.verify_runs("taskyard");
    let start = Instant::now();
    let nodes = report.nodes();
    let lines = start.elapsed();
    assert_eq!(nodes.len(), g.len());
    for (v, node) in nodes.iter().enumerate() {
        assert_eq!(node.status(), NodeStatus::Done, "taskyard: n{v}");
        let start = node.start().expect("a node that ran has a start");
        for &p in g.pred(v as u32) {
            let end = nodes[p as usize].end().expect("a node that ran has an end");
            assert!(
                start >= end,
                "taskyard: n{v} started before n{p} ended: {node:?} {:?} preds {:?}",
                nodes[p as usize],
                g.pred(v as u32)
            );
        }
    }
    let mut per_worker = vec![0usize; rt.workers()];
    for node in nodes {
        per_worker[node.worker().expect("a node that ran has a worker")] += 1;
    }
    let sum = |m: &taskyard::RuntimeMetrics, f: fn(&taskyard::WorkerMetrics) -> u64| {
        m.workers.iter().map(f).sum::<u64>()
    };
    let per_node = |f: fn(&taskyard::WorkerMetrics) -> u64| {
        (sum(&after, f) - sum(&before, f)) as f64 / g.len() as f64
    };
    println!(
        "{entry} check run: {:.3} steps/node, {:.3} runtime tasks/node, \
         {:.4} steals/node, \
         {:.4} parks/node, nodes per worker {per_worker:?}, makespan {:.1?}; the report's \
         lines, built when first read: {:.1} ns/node",
        per_node(|w| w.steps),
        per_node(|w| w.tasks_completed),
        per_node(|w| w.steals),
        per_node(|w| w.parks),
        report.makespan(),
        lines.as_nanos() as f64 / g.len() as f64,
    );
}

/// One checked run without node times of `entry`: every node ran once and reports `Done` on
/// a worker.
fn check_taskyard_untimed(rt: &Runtime, g: &'static Adjacency, entry: &str, bodies: Bodies) {
    let graph: RunnableGraph =
        taskyard_graph(g, bodies, Edges::ByName, |v| move || Checked.run(g, v))
            .build()
            .expect("the shape is a valid graph");
    let report = rt
        .run_graph(graph.record_node_times(false), Policy::Rank)
        .expect("runtime is running")
        .join();
    g.verify_runs(entry);
    for (v, node) in report.nodes().iter().enumerate() {
        assert_eq!(node.status(), NodeStatus::Done, "{entry}: n{v}");
        assert!(node.worker().is_some() && node.start().is_none());
    }
}

/// Two runs of copies ([`RunnableGraph::try_clone`]) of one graph of checking `fn_node`
/// bodies, untimed: each runs every node once, after its predecessors, and reports it `Done`.
fn check_clone(rt: &Runtime, g: &'static Adjacency) {
    let graph = taskyard_graph(g, Bodies::Shared, Edges::ById, |v| {
        move || Checked.run(g, v)
    })
    .build()
    .expect("the shape is a valid graph")
    .record_node_times(false);
    for _ in 0..2 {
        let copy = graph.try_clone().expect("fn_node bodies run again");
        let report = rt
            .run_graph(copy, Policy::Rank)
            .expect("runtime is running")
            .join();
        g.verify_runs("taskyard_clone");
        assert!(
            report
                .nodes()
                .iter()
                .all(|n| n.status() == NodeStatus::Done)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// rayon

/// Runs `v`, then spawns every successor it releases.
fn rayon_spawn_each<'s, B: Body>(s: &rayon::Scope<'s>, g: &'s Adjacency, body: B, v: u32) {
    body.run(g, v);
    for &w in g.succ(v) {
        if g.retire(w) {
            s.spawn(move |s| rayon_spawn_each(s, g, body, w));
        }
    }
}

/// Runs `v`, spawns all but the last successor it releases, and runs that one itself.
fn rayon_continue<'s, B: Body>(s: &rayon::Scope<'s>, g: &'s Adjacency, body: B, mut v: u32) {
    loop {
        body.run(g, v);
        let mut next = None;
        for &w in g.succ(v) {
            if g.retire(w)
                && let Some(other) = next.replace(w)
            {
                s.spawn(move |s| rayon_continue(s, g, body, other));
            }
        }
        match next {
            Some(w) => v = w,
            None => return,
        }
    }
}

fn rayon_run<B: Body>(pool: &rayon::ThreadPool, g: &Adjacency, body: B, continuation: bool) {
    pool.scope(|s| {
        for &root in &g.roots {
            if continuation {
                s.spawn(move |s| rayon_continue(s, g, body, root));
            } else {
                s.spawn(move |s| rayon_spawn_each(s, g, body, root));
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// tokio

/// Runs `v`, then spawns a task for every successor it releases; a sink counts itself done.
fn tokio_node<B: Body>(g: &'static Adjacency, body: B, v: u32) {
    body.run(g, v);
    let succ = g.succ(v);
    if succ.is_empty() {
        g.done.done_one();
        return;
    }
    for &w in succ {
        if g.retire(w) {
            drop(tokio::spawn(async move { tokio_node(g, body, w) }));
        }
    }
}

fn tokio_run<B: Body>(rt: &tokio::runtime::Runtime, g: &'static Adjacency, body: B) {
    g.done.reset(g.sinks);
    drop(rt.spawn(async move {
        for &root in &g.roots {
            drop(tokio::spawn(async move { tokio_node(g, body, root) }));
        }
    }));
    g.done.wait_blocking();
}

// ---------------------------------------------------------------------------------------------
// single thread

/// Walks the whole graph on this thread; `counts` start at the predecessor counts. Successors
/// are pushed last first, so the stack hands them out in index order: depth first along the
/// layout of the arrays (row by row on the wavefront), the cache-friendly walk a floor should be.
fn walk<B: Body>(g: &Adjacency, counts: &mut [u32], stack: &mut Vec<u32>, body: B) -> usize {
    stack.extend(g.roots.iter().rev());
    let mut ran = 0;
    while let Some(v) = stack.pop() {
        body.run(g, v);
        ran += 1;
        for &w in g.succ(v).iter().rev() {
            let count = &mut counts[w as usize];
            *count -= 1;
            if *count == 0 {
                stack.push(w);
            }
        }
    }
    ran
}

// ---------------------------------------------------------------------------------------------
// Groups

/// Times `run` only: `setup` before each run and the drop of what `run` returns are not timed.
fn timed<S, O>(iters: u64, mut setup: impl FnMut() -> S, mut run: impl FnMut(S) -> O) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup();
        let start = Instant::now();
        let output = run(input);
        total += start.elapsed();
        drop(black_box(output));
    }
    total
}

fn bench_shape(c: &mut Criterion, shape: &str, g: &'static Adjacency) {
    let n = g.len();
    println!(
        "{shape}: {n} nodes, {} edges, {} roots, {} sinks",
        g.edges(),
        g.roots.len(),
        g.sinks
    );
    let mut group: BenchmarkGroup<'_, WallTime> = c.benchmark_group(shape);
    // Every iteration is long (milliseconds to a second): the same iteration count per sample.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n as u64));

    for pinned in [false, true] {
        let (rt, suffix) = if pinned {
            (common::taskyard_runtime_pinned(), "_pinned")
        } else {
            (common::taskyard_runtime(), "")
        };
        check_taskyard(&rt, g, &format!("{shape}/taskyard{suffix}"));
        if !pinned {
            check_clone(&rt, g);
        }
        let entries = [
            ("taskyard", true, Bodies::Owned),
            ("taskyard_untimed", false, Bodies::Owned),
            ("taskyard_fn_untimed", false, Bodies::Shared),
        ];
        for (entry, node_times, bodies) in entries {
            let entry = format!("{entry}{suffix}");
            if !node_times {
                check_taskyard_untimed(&rt, g, &entry, bodies);
            }
            group.bench_function(BenchmarkId::new(entry, n), |b| {
                b.iter_custom(|iters| {
                    timed(
                        iters,
                        || {
                            let graph = quiet_graph(g, bodies, Edges::ByName)
                                .build()
                                .expect("valid graph");
                            graph.record_node_times(node_times)
                        },
                        |graph| {
                            rt.run_graph(graph, Policy::Rank)
                                .expect("runtime is running")
                                .join()
                        },
                    )
                });
            });
        }
    }
    check_build_by_id(g, shape);
    for (entry, edges) in [
        ("taskyard_build", Edges::ByName),
        ("taskyard_build_by_id", Edges::ById),
    ] {
        group.bench_function(BenchmarkId::new(entry, n), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    || (),
                    |()| {
                        quiet_graph(g, Bodies::Owned, edges)
                            .build()
                            .expect("valid graph")
                    },
                )
            });
        });
    }
    let template = quiet_graph(g, Bodies::Shared, Edges::ById)
        .build()
        .expect("valid graph");
    group.bench_function(BenchmarkId::new("taskyard_clone", n), |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || (),
                |()| template.try_clone().expect("fn_node bodies run again"),
            )
        });
    });
    // Not held through the peers' entries, whose memory it would share.
    drop(template);
    let rayon_entries = [
        ("rayon_counters", false, false),
        ("rayon_counters_cont", true, false),
        ("rayon_counters_cont_pinned", true, true),
    ];
    for (entry, continuation, pinned) in rayon_entries {
        let pool = if pinned {
            common::rayon_pool_pinned()
        } else {
            common::rayon_pool()
        };
        g.reset_counts();
        rayon_run(&pool, g, Checked, continuation);
        g.verify_counter_run(entry);
        group.bench_function(BenchmarkId::new(entry, n), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    || g.reset_counts(),
                    |()| rayon_run(&pool, g, Quiet, continuation),
                )
            });
        });
    }
    {
        let rt = common::tokio_mt();
        g.reset_counts();
        tokio_run(&rt, g, Checked);
        // Every node lies on a path to a sink, so once every sink has signalled, every node has
        // run and every counter has reached zero (and those writes happen-before the signal).
        g.verify_counter_run("tokio_counters");
        group.bench_function(BenchmarkId::new("tokio_counters", n), |b| {
            b.iter_custom(|iters| timed(iters, || g.reset_counts(), |()| tokio_run(&rt, g, Quiet)));
        });
    }
    {
        let mut counts = g.initial.clone();
        let mut stack = Vec::with_capacity(n);
        assert_eq!(walk(g, &mut counts, &mut stack, Checked), n);
        assert!(counts.iter().all(|&c| c == 0));
        g.verify_runs("single_thread_walk");
        group.bench_function(BenchmarkId::new("single_thread_walk", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    counts.copy_from_slice(&g.initial);
                    let start = Instant::now();
                    black_box(walk(g, &mut counts, &mut stack, Quiet));
                    total += start.elapsed();
                }
                total
            });
        });
    }
    group.finish();
}

fn main() {
    let divisor = scale_divisor();
    let mut c = common::criterion()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let chain = leak(chain(scaled(CHAIN_NODES)));
    bench_shape(&mut c, "graph_chain", chain);

    let depth = TREE_DEPTH.saturating_sub(divisor.ilog2()).max(1);
    bench_shape(&mut c, "graph_tree", leak(tree(depth)));

    let side = ((WAVEFRONT_SIDE as f64 / (divisor as f64).sqrt()).round() as usize).max(1);
    bench_shape(&mut c, "graph_wavefront", leak(wavefront(side)));

    let random = random_layers(scaled(RANDOM_NODES), RANDOM_LAYERS);
    bench_shape(&mut c, "graph_random", leak(random));

    c.final_summary();
}
