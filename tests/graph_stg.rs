//! Simulated makespans on the Standard Task Graph Set's 50-task random graphs against their known
//! optimal schedule lengths (`workloads/stg/README.md`). Run with `--nocapture` for the table.

#[path = "../examples/dagload/workload.rs"]
mod workload;

use std::time::Duration;

use taskyard::graph::{Dag, Policy};

/// `(graph, critical path, total work, optimum on 2, 4 and 8 processors)`, from the README.
const CASES: [(&str, u64, u64, [u64; 3]); 10] = [
    ("stg50-rand0000", 55, 262, [131, 66, 55]),
    ("stg50-rand0001", 89, 298, [149, 94, 89]),
    ("stg50-rand0002", 71, 242, [121, 71, 71]),
    ("stg50-rand0003", 52, 289, [145, 73, 52]),
    ("stg50-rand0004", 71, 232, [116, 71, 71]),
    ("stg50-rand0005", 170, 628, [314, 170, 170]),
    ("stg50-rand0006", 101, 432, [216, 108, 101]),
    ("stg50-rand0007", 77, 519, [260, 130, 77]),
    ("stg50-rand0008", 183, 561, [281, 183, 183]),
    ("stg50-rand0009", 126, 525, [263, 133, 126]),
];
const WORKERS: [usize; 3] = [2, 4, 8];

fn load(name: &str) -> Dag {
    let path = format!("{}/workloads/stg/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (file_name, dag) = workload::load(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(file_name, name);
    dag
}

struct Summary {
    hits: usize,
    mean: f64,
    worst: f64,
}

/// Simulates every case under `policy`, prints a table and returns the figures.
fn measure(policy: Policy) -> Summary {
    let mut ratios = Vec::new();
    let mut hits = 0;
    println!("\n{policy} policy: makespan / optimum");
    println!("{:<16} {:>12} {:>12} {:>12}", "graph", "P=2", "P=4", "P=8");
    for (name, cp, work, optimum) in CASES {
        let dag = load(name);
        assert_eq!(dag.len(), 50);
        assert_eq!(dag.critical_path(), Duration::from_millis(cp), "{name}");
        assert_eq!(dag.total_work(), Duration::from_millis(work), "{name}");
        let mut row = format!("{name:<16}");
        for (&workers, &opt) in WORKERS.iter().zip(&optimum) {
            let report = dag.simulate(workers, policy).unwrap();
            let makespan = report.makespan();
            // Integer costs give exact integer makespans.
            assert_eq!(
                makespan.subsec_nanos() % 1_000_000,
                0,
                "{name}: {makespan:?}"
            );
            let ms = makespan.as_millis() as u64;
            assert!(
                ms >= opt,
                "{name} on {workers}: {ms} is below the optimum {opt}"
            );
            let ratio = ms as f64 / opt as f64;
            hits += usize::from(ms == opt);
            ratios.push(ratio);
            row += &format!(" {ms:>4} {ratio:>7.4}");
        }
        println!("{row}");
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let worst = ratios.iter().copied().fold(1.0, f64::max);
    println!("{policy}: optimum hit in {hits} of 30, mean ratio {mean:.5}, worst {worst:.4}");
    Summary { hits, mean, worst }
}

#[test]
fn planned_meets_the_stg_targets() {
    let planned = measure(Policy::Planned);
    assert!(
        planned.worst <= 1.03,
        "worst ratio {:.4} above 1.03",
        planned.worst
    );
    assert!(
        planned.mean <= 1.005,
        "mean ratio {:.5} above 1.005",
        planned.mean
    );
    assert!(
        planned.hits > 21,
        "only {} optimum hits, plain critical-path-first gets 21",
        planned.hits
    );
}

#[test]
fn rank_and_fifo_for_reference() {
    let rank = measure(Policy::Rank);
    let fifo = measure(Policy::Fifo);
    // Critical-path-first list scheduling (README: 21 hits, 0.3% mean, 2.1% worst).
    assert!(rank.hits >= 21, "rank hits {}", rank.hits);
    assert!(rank.worst <= 1.03);
    assert!(rank.mean < fifo.mean);
}
