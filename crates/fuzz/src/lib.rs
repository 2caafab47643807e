//! Fuzz targets: hfclaw's parsers of user and network input, and its config editor, each
//! a function of arbitrary bytes that panics when a property fails.
//!
//! Two engines run them: [`engine`] (a corpus-mutating loop on the stable toolchain, what
//! `cargo xtask ci` runs for a few seconds per target) and libFuzzer through `cargo fuzz`
//! (`fuzz/`, nightly, coverage-guided; `cargo xtask fuzz` picks it when it is installed).
//! Seeds live in `corpus/<target>/`, replayed by `cargo test` (`tests/corpus.rs`);
//! `tests/deep_input.rs` feeds the network and cache readers 100,000-level nesting.
//!
//! ```
//! let target = hfclaw_fuzz::target("model_ref").unwrap();
//! (target.run)(b"huggingface/Qwen/Qwen3-8B:cheapest");
//! ```

pub mod engine;
mod request_body;
mod targets;

/// One fuzz target.
pub struct Target {
    /// Its name (the corpus directory and the `cargo fuzz` target).
    pub name: &'static str,
    /// Runs one input; panics when a property fails.
    pub run: fn(&[u8]),
    /// Tokens the stable engine splices into inputs.
    pub dictionary: &'static [&'static str],
}

/// Every target.
pub const TARGETS: &[Target] = targets::ALL;

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Where the checked-in seeds of `target` are.
pub fn corpus_dir(target: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}
