//! One module per command; each parses nothing itself and holds no business rule: it
//! composes the library crates and renders their results.

pub mod completions;
pub mod models_list;
