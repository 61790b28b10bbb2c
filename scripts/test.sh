#!/usr/bin/env bash
# Runs every test of taskyard: unit, integration and doc tests, then the loom models.
#
# The loom models need the crate-scoped `--cfg taskyard_loom`, which changes how the crate is
# compiled, so they build into their own target directory and never invalidate the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit, integration and doc tests"
cargo test --release

echo "== loom models (--cfg taskyard_loom)"
RUSTFLAGS="--cfg taskyard_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release --lib loom_
