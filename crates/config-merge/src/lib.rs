//! Reading and editing OpenClaw's `openclaw.json` without losing anything the user wrote.
//!
//! This crate owns finding the config ([`locate`]), parsing JSON5 with `path:line:col`
//! errors ([`ConfigDocument`]), the meaning of OpenClaw's keys ([`OpenClawView`]),
//! format-preserving edits that keep comments, quoting, trailing commas, indentation and
//! key order ([`Editor`]), the non-destructive merge of catalog entries into a provider's
//! model list ([`Editor::merge_provider_models`]), safe writes (lock, temp file + fsync +
//! rename, `.bak` ring, file mode: [`edit_config`], [`edit_loaded_config`],
//! [`edit_models_json`]), the state dir `.env` ([`env_file`]) and the keys OpenClaw's
//! strict schema would reject ([`schema_problems`]).
//!
//! Edits are text splices located by a strict, span-keeping JSON5 parser of its own
//! (`syntax`), differentially tested against the `json5` crate; only the container an
//! edit touches is parsed again, so an edit of a 1 MB config costs milliseconds.
//!
//! It never writes a key OpenClaw's schema lacks. It does not decide *what* to write (the
//! CLI does, from the catalog) and does no network I/O.

mod document;
mod editor;
pub mod env_file;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod locate;
mod redact;
mod schema;
mod syntax;
mod view;
mod write;

pub use document::ConfigDocument;
pub use editor::memory::{MemoryEdit, MemorySearch, MemoryTarget, OPENAI_COMPATIBLE};
pub use editor::{Editor, MergeReport};
pub use error::ConfigError;
pub use locate::{ConfigPaths, PathSource, locate};
pub use schema::schema_problems;
pub use view::{
    AgentModelEntry, Allowlist, AllowlistLocation, OpenClawView, PROVIDER_ID, ProviderBlock,
    ProviderModels, ShellEnvConfig,
};
pub use write::{EditOutcome, edit_config, edit_loaded_config, edit_models_json};
