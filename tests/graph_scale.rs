//! Size limits: a million-node chain validates (no recursion), and planning a 100,000-node graph
//! stays cheap. Times are printed, never asserted.

use std::time::{Duration, Instant};

use taskyard::graph::{GraphBuilder, Policy};

#[test]
fn a_million_node_chain_validates_and_simulates() {
    const N: usize = 1_000_000;
    let mut g = GraphBuilder::with_capacity(N);
    g.node("n0").cost_ms(1.0);
    for i in 1..N {
        g.node(format!("n{i}"))
            .cost_ms(1.0)
            .after(format!("n{}", i - 1));
    }
    let started = Instant::now();
    let dag = g.build().unwrap();
    println!("validated {N} chained nodes in {:?}", started.elapsed());
    assert_eq!(dag.len(), N);
    assert_eq!(dag.rank(dag.find("n0").unwrap()), N as u64 * 1_000_000);
    assert_eq!(dag.critical_path(), Duration::from_millis(N as u64));
    assert_eq!(
        dag.makespan(4, Policy::Rank).unwrap(),
        Duration::from_millis(N as u64)
    );

    // The same chain closed into a cycle is found without recursion either.
    let mut g = GraphBuilder::with_capacity(N);
    g.node("n0").after(format!("n{}", N - 1));
    for i in 1..N {
        g.node(format!("n{i}")).after(format!("n{}", i - 1));
    }
    let err = g.build().unwrap_err();
    assert_eq!(err.cycle().unwrap().len(), N);
    assert_eq!(err.node(), Some("n0"));
}

#[test]
fn a_million_node_chain_without_costs_ranks_by_descendants() {
    const N: usize = 1_000_000;
    let mut g = GraphBuilder::with_capacity(N);
    g.node("n0");
    for i in 1..N {
        g.node(format!("n{i}")).after(format!("n{}", i - 1));
    }
    let dag = g.build().unwrap();
    // Too large for the exact count; the estimate is exact on a chain.
    assert_eq!(dag.rank(dag.find("n0").unwrap()), N as u64);
    assert_eq!(dag.rank(dag.find("n999999").unwrap()), 1);
}

#[test]
fn planning_a_100k_node_graph_is_cheap() {
    // 100 layers of 1,000 nodes, three dependencies each on the layer above.
    const LAYERS: usize = 100;
    const WIDTH: usize = 1_000;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut g = GraphBuilder::with_capacity(LAYERS * WIDTH);
    for layer in 0..LAYERS {
        for col in 0..WIDTH {
            let node = g.node(format!("n{layer}.{col}"));
            node.cost_ms((1 + next() % 20) as f64);
            if layer > 0 {
                for _ in 0..3 {
                    node.after(format!("n{}.{}", layer - 1, next() % WIDTH as u64));
                }
            }
        }
    }
    let dag = g.build().unwrap();
    for workers in [4, 16] {
        let started = Instant::now();
        let order = dag.order(Policy::Planned, workers).unwrap();
        let planning = started.elapsed();
        let planned = dag.simulate_order(workers, &order).unwrap();
        let rank = dag.simulate(workers, Policy::Rank).unwrap();
        println!(
            "100k nodes on {workers} workers: planned in {planning:?}, ratio {:.4} (rank {:.4})",
            planned.ratio_to_lower_bound(),
            rank.ratio_to_lower_bound()
        );
        assert!(planned.makespan() <= rank.makespan());
    }
}
