//! loom models of the runtime's cross-thread protocols (built only with `--cfg taskyard_loom`).
