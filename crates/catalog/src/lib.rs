//! The model catalog: what models exist on the Hugging Face router and what they cost.
//!
//! This crate owns the [`Model`] types, the built-in catalog (generated from a router
//! snapshot by `cargo xtask catalog refresh`, so it works offline), parsing of the router's
//! `GET /v1/models` answer ([`parse_model_list`]), the merge of built-in, live and config
//! data with SPEC §2's field precedence ([`Catalog::merge`]), where the numbers come from
//! ([`DataSource`]), the rows of `models list` ([`listing`]) and the per-provider view of
//! `models show` ([`show`]), which provider a ref reaches and what it costs there
//! ([`reach`]: the one price rule), how numbers read in tables ([`display`]), the on-disk
//! format of the discovery cache and of failed fetches ([`cache`]), and the one safe write
//! of a file that every crate uses ([`safe_write`]: lock, temp file, fsync, rename).
//!
//! It does not fetch anything, read configs or decide when to refresh: the router client
//! and the CLI do that and hand it bytes and entries.
//!
//! ```
//! use hfclaw_catalog::{Catalog, builtin};
//!
//! let catalog = Catalog::merge(builtin::models(), None, &[]);
//! let r1 = catalog.get("deepseek-ai/DeepSeek-R1").unwrap();
//! assert_eq!(r1.name, "DeepSeek R1");
//! assert!(r1.reasoning);
//! ```

pub mod builtin;
pub mod cache;
pub mod checks;
mod config_entry;
mod discovery;
pub mod display;
pub mod listing;
mod merge;
mod model;
mod names;
pub mod needs;
mod provenance;
pub mod reach;
pub mod safe_write;
pub mod show;

pub use config_entry::{ConfigCost, ConfigModel};
pub use discovery::{
    Baseline, Discovered, DiscoveryError, Implausible, LiveModel, parse_model_list,
};
pub use merge::Catalog;
pub use model::{
    Cost, Model, ProviderInfo, ProviderStatus, Source, cheapest_live, cheapest_live_all,
    fastest_live, min_context,
};
pub use names::derive_name;
pub use needs::{Lack, Needs, unfit};
pub use provenance::DataSource;
pub use reach::{Pick, Reach, RefPrice, reach};

#[cfg(test)]
mod tests;
