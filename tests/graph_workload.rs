//! The workload file loader (`examples/dagload/workload.rs`): one test per error kind.

#[path = "../examples/dagload/workload.rs"]
mod workload;

use std::time::Duration;

use taskyard::Lane;

#[test]
fn a_valid_file_loads_with_lanes_costs_and_both_edge_kinds() {
    let text = r#"{"name": "tiny", "tasks": [
        {"name": "stage", "cost_ms": 300},
        {"name": "monitor", "cost_ms": 20.5, "lane": "HIGH", "after_start": ["stage"]},
        {"name": "load", "cost_ms": 0, "after": ["stage"]}
    ]}"#;
    let (name, dag) = workload::load(text).unwrap();
    assert_eq!(name, "tiny");
    assert_eq!(dag.len(), 3);
    let monitor = dag.find("monitor").unwrap();
    assert_eq!(dag.lane(monitor), Lane::High);
    assert_eq!(dag.cost(monitor), Duration::from_micros(20_500));
    assert_eq!(dag.lane(dag.find("load").unwrap()), Lane::Normal);
    let stage = dag.find("stage").unwrap();
    assert_eq!(dag.successors_after_start(stage), [monitor]);
    assert_eq!(
        dag.successors_after_finish(stage),
        [dag.find("load").unwrap()]
    );
}

#[test]
fn the_shipped_workloads_load() {
    let dir = format!("{}/workloads", env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![format!("{dir}/warehouse.json")];
    for entry in std::fs::read_dir(format!("{dir}/stg")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path.display().to_string());
        }
    }
    assert_eq!(paths.len(), 11);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        workload::load(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

#[test]
fn malformed_json_names_line_and_column() {
    let text = "{\"name\": \"x\", \"tasks\": [\n  {\"name\": \"a\", \"cost_ms\": 1,}\n]}";
    let err = workload::load(text).unwrap_err();
    assert!(err.is_syntax());
    assert_eq!(err.position(), Some((2, 30)));
    assert!(err.to_string().contains("line 2 column 30"), "{err}");
}

#[test]
fn wrong_types_and_unknown_fields_name_line_and_column() {
    let text = "{\"name\": \"x\", \"tasks\": [\n  {\"name\": \"a\", \"cost_ms\": \"fast\"}\n]}";
    let err = workload::load(text).unwrap_err();
    assert!(err.is_syntax());
    assert_eq!(err.position().map(|(line, _)| line), Some(2));
    assert!(err.to_string().contains("invalid type"), "{err}");

    let text =
        "{\"name\": \"x\", \"tasks\": [\n\n  {\"name\": \"a\", \"cost_ms\": 1, \"afer\": []}]}";
    let err = workload::load(text).unwrap_err();
    assert_eq!(err.position().map(|(line, _)| line), Some(3));
    assert!(err.to_string().contains("afer"), "{err}");

    let err = workload::load(r#"{"name": "x", "tasks": [{"name": "a"}]}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `cost_ms`"), "{err}");
}

#[test]
fn unknown_lane_names_the_lane_and_the_task() {
    let text = r#"{"name": "x", "tasks": [
        {"name": "a", "cost_ms": 1},
        {"name": "b", "cost_ms": 1, "lane": "urgent"}
    ]}"#;
    let err = workload::load(text).unwrap_err();
    assert!(err.is_unknown_lane());
    assert_eq!(err.unknown_lane(), Some(("b", "urgent")));
    let msg = err.to_string();
    assert!(msg.contains("`b`") && msg.contains("`urgent`"), "{msg}");
}

#[test]
fn a_cycle_lists_the_tasks_on_it() {
    let text = r#"{"name": "x", "tasks": [
        {"name": "extract", "cost_ms": 1, "after": ["publish"]},
        {"name": "transform", "cost_ms": 1, "after": ["extract"]},
        {"name": "publish", "cost_ms": 1, "after_start": ["transform"]}
    ]}"#;
    let err = workload::load(text).unwrap_err();
    let graph = err.graph().unwrap();
    assert!(graph.is_cycle());
    assert_eq!(graph.cycle().unwrap(), ["extract", "transform", "publish"]);
    assert!(
        err.to_string()
            .contains("extract -> transform -> publish -> extract"),
        "{err}"
    );
}

#[test]
fn an_unknown_dependency_names_both_tasks() {
    let text = r#"{"name": "x", "tasks": [{"name": "b", "cost_ms": 1, "after": ["x"]}]}"#;
    let err = workload::load(text).unwrap_err();
    let graph = err.graph().unwrap();
    assert!(graph.is_unknown_node());
    assert_eq!((graph.node(), graph.missing()), (Some("b"), Some("x")));
    assert!(err.to_string().contains("`b` depends on `x`"), "{err}");
}

#[test]
fn a_duplicate_task_is_named() {
    let text = r#"{"name": "x", "tasks": [
        {"name": "a", "cost_ms": 1}, {"name": "a", "cost_ms": 2}]}"#;
    let err = workload::load(text).unwrap_err();
    assert!(err.graph().unwrap().is_duplicate());
    assert!(err.to_string().contains("`a`"), "{err}");
}

#[test]
fn a_negative_cost_is_named() {
    let text = r#"{"name": "x", "tasks": [{"name": "a", "cost_ms": -3}]}"#;
    let err = workload::load(text).unwrap_err();
    let graph = err.graph().unwrap();
    assert!(graph.is_invalid_cost());
    assert_eq!((graph.node(), graph.cost()), (Some("a"), Some(-3.0)));
}

#[test]
fn parse_keeps_the_builder_for_more_nodes() {
    let text = r#"{"name": "x", "tasks": [{"name": "a", "cost_ms": 1}]}"#;
    let mut wl = workload::parse(text).unwrap();
    wl.graph.node("b").cost_ms(1.0).after("a");
    let (_, dag) = wl.build().unwrap();
    assert_eq!(dag.len(), 2);
}
