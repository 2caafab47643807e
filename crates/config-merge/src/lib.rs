//! Reading and editing OpenClaw's `openclaw.json` without losing anything the user wrote.
//!
//! This crate owns finding the config ([`locate`]), parsing JSON5 with `path:line:col`
//! errors ([`ConfigDocument`]), the meaning of OpenClaw's keys ([`OpenClawView`]),
//! format-preserving edits that keep comments, quoting, trailing commas, indentation and
//! key order ([`edit`]), the non-destructive merge of catalog entries into a provider's
//! model list, and safe writes (lock, temp file + fsync + rename, `.bak` ring, file mode).
//!
//! It never writes a key OpenClaw's strict schema lacks. It does not decide *what* to
//! write (the CLI does, from the catalog) and does no network I/O.

mod document;
mod error;
mod locate;
mod view;

pub use document::ConfigDocument;
pub use error::ConfigError;
pub use locate::{ConfigPaths, PathSource, locate};
pub use view::{
    AgentModelEntry, Allowlist, AllowlistLocation, OpenClawView, PROVIDER_ID, ProviderBlock,
};
