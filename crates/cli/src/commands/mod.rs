//! One module per command; each parses nothing itself and holds no business rule: it
//! composes the library crates and renders their results.

pub mod chat;
pub mod completions;
pub mod doctor;
pub mod keys;
pub mod memory;
pub mod models_edit;
pub mod models_list;
pub mod models_show;
pub mod models_status;
pub mod models_sync;
pub mod models_tasks;
pub mod onboard;
pub mod run;
pub mod service;
pub mod usage;
