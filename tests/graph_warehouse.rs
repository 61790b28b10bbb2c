//! The sample warehouse load (`workloads/warehouse.json`): 59 stored procedures, a few on the
//! high lane, one monitor that starts with the snapshot it watches.

#[path = "../examples/dagload/workload.rs"]
mod workload;

use taskyard::Lane;
use taskyard::graph::{Dag, Policy};

fn warehouse() -> Dag {
    let path = format!("{}/workloads/warehouse.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (name, dag) = workload::load(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(name, "warehouse-nightly");
    dag
}

#[test]
fn shape_of_the_sample() {
    let dag = warehouse();
    assert_eq!(dag.len(), 59);
    let high = dag.nodes().filter(|&n| dag.lane(n) == Lane::High).count();
    assert!(high >= 2);
    let snapshot = dag.find("stage_core_snapshot").unwrap();
    let monitor = dag.find("monitor_load").unwrap();
    assert_eq!(dag.successors_after_start(snapshot), [monitor]);
}

#[test]
fn rank_is_within_5_percent_of_the_bound_and_beats_fifo() {
    let dag = warehouse();
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10}",
        "workers", "bound", "rank", "planned", "fifo"
    );
    for workers in [1, 2, 4, 8, 16] {
        let rank = dag.simulate(workers, Policy::Rank).unwrap();
        let planned = dag.simulate(workers, Policy::Planned).unwrap();
        let fifo = dag.simulate(workers, Policy::Fifo).unwrap();
        println!(
            "{workers:>7} {:>10.1} {:>10.4} {:>10.4} {:>10.4}",
            rank.lower_bound().as_secs_f64() * 1e3,
            rank.ratio_to_lower_bound(),
            planned.ratio_to_lower_bound(),
            fifo.ratio_to_lower_bound()
        );
        assert!(rank.makespan() >= rank.lower_bound());
        assert!(planned.makespan() <= rank.makespan());
        if [2, 4, 16].contains(&workers) {
            assert!(
                rank.ratio_to_lower_bound() <= 1.05,
                "rank on {workers} workers: {rank}"
            );
        }
        if workers == 4 {
            assert!(
                rank.makespan() < fifo.makespan(),
                "rank {rank} vs fifo {fifo}"
            );
            assert!(fifo.ratio_to_lower_bound() > 1.15, "fifo {fifo}");
        }
    }
}

#[test]
fn the_monitor_starts_with_the_snapshot_on_the_high_lane() {
    let dag = warehouse();
    let report = dag.simulate(4, Policy::Rank).unwrap();
    let snapshot = report.find("stage_core_snapshot").unwrap();
    let monitor = report.find("monitor_load").unwrap();
    assert_eq!(monitor.ready(), snapshot.start());
    assert!(
        monitor.start() < snapshot.end(),
        "the monitor runs while the snapshot does"
    );
    // The snapshot heads the critical path.
    assert_eq!(report.critical_path_names()[0], "stage_core_snapshot");
}
