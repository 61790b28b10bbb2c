//! Generated DAG families, simulated on 2, 4 and 16 workers against the lower bound
//! `max(critical path, work / workers)`. Run with `--nocapture` for the table.

use taskyard::graph::{Dag, GraphBuilder, Policy};

/// Marsaglia's xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn name(i: usize) -> String {
    format!("n{i}")
}

/// Layers of `width` nodes; each node waits for `1..=fan_in` random nodes of the layer above
/// (start edges with `start_percent` chance).
fn layered(seed: u64, layers: usize, width: usize, fan_in: u64, start_percent: u64) -> Dag {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new();
    for layer in 0..layers {
        for col in 0..width {
            let i = layer * width + col;
            let node = g.node(name(i));
            node.cost_ms(rng.range(1, 20) as f64);
            if layer > 0 {
                for _ in 0..rng.range(1, fan_in) {
                    let dep = name((layer - 1) * width + rng.range(0, width as u64 - 1) as usize);
                    if rng.chance(start_percent) {
                        node.after_start(dep);
                    } else {
                        node.after(dep);
                    }
                }
            }
        }
    }
    g.build().unwrap()
}

/// Wide: three layers of 120 nodes.
fn wide(seed: u64) -> Dag {
    layered(seed, 3, 120, 3, 0)
}

/// Deep: 40 layers of 6 nodes, so the critical path dominates at high worker counts.
fn deep(seed: u64) -> Dag {
    layered(seed, 40, 6, 2, 0)
}

/// Start-to-start heavy: half of the edges are start edges.
fn start_heavy(seed: u64) -> Dag {
    layered(seed, 12, 20, 3, 50)
}

/// Hub-heavy: a few hubs per stage that almost every node of the next stage waits for.
fn hubs(seed: u64) -> Dag {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new();
    let mut prev_hubs: Vec<String> = Vec::new();
    let mut i = 0;
    for _stage in 0..6 {
        let mut hubs = Vec::new();
        for _ in 0..40 {
            let node_name = name(i);
            i += 1;
            let node = g.node(node_name.clone());
            node.cost_ms(rng.range(1, 12) as f64);
            for hub in &prev_hubs {
                if rng.chance(80) {
                    node.after(hub.clone());
                }
            }
            if rng.chance(8) {
                hubs.push(node_name);
            }
        }
        if hubs.is_empty() {
            hubs.push(name(i - 1));
        }
        prev_hubs = hubs;
    }
    g.build().unwrap()
}

/// The classic trap: one node with many light descendants next to one heavy chain, plus
/// independent filler.
fn light_vs_heavy(seed: u64) -> Dag {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new();
    g.node("fan").cost_ms(2.0);
    for i in 0..60 {
        g.node(format!("light{i}"))
            .cost_ms(rng.range(1, 4) as f64)
            .after("fan");
    }
    let chain = rng.range(8, 14);
    for i in 0..chain {
        let node = g.node(format!("heavy{i}"));
        node.cost_ms(rng.range(15, 25) as f64);
        if i > 0 {
            node.after(format!("heavy{}", i - 1));
        }
    }
    for i in 0..30 {
        g.node(format!("filler{i}"))
            .cost_ms(rng.range(1, 30) as f64);
    }
    g.build().unwrap()
}

type Family = (&'static str, fn(u64) -> Dag);

const FAMILIES: [Family; 5] = [
    ("wide", wide),
    ("deep", deep),
    ("hub-heavy", hubs),
    ("start-heavy", start_heavy),
    ("light-vs-heavy", light_vs_heavy),
];
const WORKERS: [usize; 3] = [2, 4, 16];
const SEEDS: u64 = 8;

/// Worst ratio to the lower bound over the seeds, per policy and worker count.
fn worst(build: fn(u64) -> Dag, policy: Policy, workers: usize) -> f64 {
    (1..=SEEDS)
        .map(|seed| {
            let dag = build(seed);
            let report = dag.simulate(workers, policy).unwrap();
            assert!(report.makespan() >= report.lower_bound());
            report.ratio_to_lower_bound()
        })
        .fold(1.0, f64::max)
}

#[test]
fn families_within_5_percent_of_the_lower_bound() {
    println!("worst makespan / lower bound over {SEEDS} seeds");
    println!(
        "{:<15} {:>7} {:>8} {:>8} {:>8}",
        "family", "workers", "rank", "planned", "fifo"
    );
    let mut failures = Vec::new();
    for (family, build) in FAMILIES {
        for workers in WORKERS {
            let rank = worst(build, Policy::Rank, workers);
            let planned = worst(build, Policy::Planned, workers);
            let fifo = worst(build, Policy::Fifo, workers);
            println!("{family:<15} {workers:>7} {rank:>8.4} {planned:>8.4} {fifo:>8.4}");
            assert!(planned <= rank + 1e-12);
            if rank > 1.05 || planned > 1.05 {
                failures.push(format!(
                    "{family} on {workers}: rank {rank:.4}, planned {planned:.4}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "above 1.05 x the bound: {failures:?}");
}

#[test]
fn rank_beats_fifo_on_the_trap() {
    for seed in 1..=SEEDS {
        let dag = light_vs_heavy(seed);
        let rank = dag.makespan(4, Policy::Rank).unwrap();
        let fifo = dag.makespan(4, Policy::Fifo).unwrap();
        assert!(rank < fifo, "seed {seed}: rank {rank:?} fifo {fifo:?}");
    }
}
