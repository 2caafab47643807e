//! What requests to Hugging Face Inference Providers cost, and the record of them.
//!
//! This crate owns:
//! - usage extraction from the answers and streams of the three APIs the gateway serves
//!   (chat completions, Anthropic Messages, OpenAI Responses): [`UsageMeter`],
//!   [`usage_of_answer`] — pure, over `serde_json` values;
//! - the price rule and cost arithmetic ([`choose_price`], [`cost`]) over the catalog's
//!   [`hfclaw_catalog::Model`] — pure;
//! - the usage ledger ([`Ledger`]): one [`Row`] per request in SQLite (default, in
//!   hfclaw's data dir) or PostgreSQL (shared by replicas), a non-blocking
//!   [`Recorder`] for request handlers, versioned schema, and the reads `hfclaw usage`,
//!   budgets and a status page need, and a [`Tally`] that totals one process's rows in
//!   memory as the ledger totals them; beside the rows, their totals per UTC day (kept by
//!   the writer in the same transaction), so [`Ledger::totals`] reads whole days from
//!   those and only a period's partial edge days from the rows;
//! - budgets per UTC day and month ([`Budgets`]), with reservations of a request's
//!   worst-case cost ([`Hold`]) — pure, seeded from the ledger;
//! - who spent it, per request ([`attribution`]): the request id, the end user and the
//!   `metadata` tags a row keeps, and their bounds;
//! - client keys ([`keys`]): `hfk_` keys kept as hashes in the ledger, the key file
//!   format, the in-memory [`keys::KeyDirectory`] and the follower thread that keeps it
//!   and the budgets in step with the database.
//!
//! It does not talk to the router, parse command lines or know the gateway: callers hand
//! it decoded JSON, the catalog entry of the answered model, the `x-inference-provider`
//! header and the clock.
//!
//! ```
//! use hfclaw_accounting::{Api, UsageMeter, choose_price, cost};
//! use hfclaw_catalog::{Cost, Model, ProviderInfo, ProviderStatus, Source};
//! use serde_json::json;
//!
//! let mut meter = UsageMeter::new(Api::Chat);
//! meter.observe(&json!({"choices": [], "usage": {"prompt_tokens": 300, "completion_tokens": 112}}));
//! let usage = meter.usage().unwrap();
//!
//! let model = Model {
//!     providers: vec![ProviderInfo { pricing: Some(Cost::new(1.0, 4.0)), ..ProviderInfo::new("cerebras", ProviderStatus::Live) }],
//!     available: Some(true),
//!     ..Model::unknown("org/m".into(), "M".into(), Source::Live)
//! };
//! let price = choose_price(Some(&model), None, Some("cerebras"));
//! let cost = cost(&usage, &price).unwrap();
//! assert_eq!(hfclaw_accounting::format_usd(cost.usd, cost.estimated), "$0.00075");
//! ```

pub mod attribution;
mod budget;
pub mod keys;
mod ledger;
mod price;
mod row;
pub mod shared;
pub mod time;
mod usage;

pub use attribution::Tags;
pub use budget::{
    BudgetConfig, BudgetExceeded, BudgetPeriod, BudgetScope, BudgetStatus, Budgets, GlobalBudget,
    Hold, Spend,
};
pub use ledger::{
    Counts, GroupBy, GroupTotals, Ledger, LedgerError, LedgerOptions, LedgerSpec, LedgerStats,
    Recorder, SCHEMA_VERSION, SQLITE_FILE, Tally, Totals, redact_url, sqlite_path,
};
pub use price::{
    Cost, Price, PriceBasis, PriceChoice, UNKNOWN_MAX_OUTPUT_TOKENS, choose_price, cost,
    format_usd, price_in_catalog, worst_case_usd,
};
pub use row::{BUDGET_EXCEEDED, Outcome, REJECTED_MODEL, Row, key_label};
pub use usage::{Api, Usage, UsageMeter, usage_of_answer};
