//! loom models of the runtime's cross-thread protocols, built only with `--cfg taskyard_loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg taskyard_loom" cargo test --release --lib loom_
//! ```
//!
//! Each model drives the crate's real code (state word, task cell, join slot, sleep protocol,
//! registry, whole runtime) through the sync shim, which swaps in loom's primitives and a
//! `Mutex<VecDeque>` for crossbeam's deques.

mod loom_graph;
mod loom_join;
mod loom_park;
mod loom_runtime;
mod loom_shutdown;
mod support;
