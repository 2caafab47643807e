//! One ledger row: what one request sent upstream cost and how it went.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::attribution::Tags;
use crate::price::Cost;
use crate::usage::{Api, Usage};

/// How a request ended (its HTTP status is [`Row::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (the stream ran to its end, or the answer arrived whole).
    Ok,
    /// Failed, with a short snake_case class: `rate_limited`, `upstream`,
    /// `budget_exceeded`, … (`router_client::ErrorKind::as_str()` for router errors).
    Error(String),
}

impl Outcome {
    /// An error outcome.
    pub fn error(class: impl Into<String>) -> Outcome {
        Outcome::Error(class.into())
    }

    /// True for [`Outcome::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// `ok` or the error class, as stored.
    pub fn class(&self) -> &str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error(class) => class,
        }
    }

    /// Reads a stored class.
    pub fn parse(class: &str) -> Outcome {
        match class {
            "ok" => Outcome::Ok,
            other => Outcome::Error(other.to_owned()),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.class())
    }
}

/// One request, as the ledger stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// When the request arrived.
    #[serde(serialize_with = "serialize_time")]
    pub time: SystemTime,
    /// The API it used.
    pub api: Api,
    /// The client key's label ([`key_label`]): a name or a short hash, never the key.
    pub key: Option<String>,
    /// The model as the client typed it (alias, ref, `default`, bare id).
    pub requested_model: String,
    /// The ref that answered (`huggingface/org/model[:suffix]`); `None` when none did.
    pub answered_ref: Option<String>,
    /// The provider that served it (`x-inference-provider`), when known.
    pub provider: Option<String>,
    /// Position of the answering model in the fallback chain (0 = the one asked for).
    pub fallback_index: Option<u32>,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP status of the answer (sent to the client; received, for `hfclaw chat`).
    pub status: Option<u16>,
    /// Tokens, when the answer reported usage; `None` = unknown, never 0.
    pub usage: Option<Usage>,
    /// Cost, when both usage and a price are known.
    pub cost: Option<Cost>,
    /// Time to the first byte of the answer.
    pub ttfb: Option<Duration>,
    /// Total time until the answer ended.
    pub total: Duration,
    /// Whether the answer was streamed.
    pub streamed: bool,
    /// The request's id: the client's `x-request-id`, else the one the gateway made.
    pub request_id: Option<String>,
    /// Who the client says the request is for: OpenAI's `user`, Anthropic's
    /// `metadata.user_id` (bounded: [`crate::attribution`]).
    pub user: Option<String>,
    /// The request's `metadata` tags (bounded: [`crate::attribution`]).
    pub tags: Tags,
    /// The `--route` pattern that chose the model for a name the client chose.
    pub route: Option<String>,
}

impl Row {
    /// A row with only the request's identity set; fill in the rest.
    pub fn new(time: SystemTime, api: Api, requested_model: impl Into<String>) -> Row {
        Row {
            time,
            api,
            key: None,
            requested_model: requested_model.into(),
            answered_ref: None,
            provider: None,
            fallback_index: None,
            outcome: Outcome::Ok,
            status: None,
            usage: None,
            cost: None,
            ttfb: None,
            total: Duration::ZERO,
            streamed: false,
            request_id: None,
            user: None,
            tags: Tags::default(),
            route: None,
        }
    }
}

fn serialize_time<S: serde::Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(crate::time::unix_ms(*time))
}

/// The outcome class of a request a spending budget refused: counted apart from errors.
pub const BUDGET_EXCEEDED: &str = "budget_exceeded";

/// The requested model of a request refused before its body's `model` was read (bad
/// JSON, too large, an invalid body, overloaded): totalled apart, never under `default`.
pub const REJECTED_MODEL: &str = "(rejected)";

/// The label a client key is recorded under: `key-` and the first 8 hex digits of its
/// SHA-256 (a key is never stored, and 32 bits tell a handful of keys apart without
/// helping anyone guess one). Named keys should be recorded under their name instead.
pub fn key_label(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("key-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_labels_are_short_stable_hashes_never_the_key() {
        let label = key_label("sk-local-supersecret");
        assert_eq!(label, key_label("sk-local-supersecret"));
        assert_ne!(label, key_label("sk-local-other"));
        assert!(label.starts_with("key-") && label.len() == 12, "{label}");
        assert!(!label.contains("supersecret"));
    }

    #[test]
    fn outcome_classes() {
        assert_eq!(Outcome::Ok.class(), "ok");
        let e = Outcome::error("rate_limited");
        assert_eq!((e.class(), e.is_ok()), ("rate_limited", false));
        assert_eq!(Outcome::parse("rate_limited"), e);
        assert_eq!(Outcome::parse("ok"), Outcome::Ok);
    }
}
