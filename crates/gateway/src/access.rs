//! Who a request is and what it may do: the client key it sent, looked up in the
//! [`KeyDirectory`] (keys of the ledger database, a key file, `--api-key`); unknown,
//! revoked and expired keys are 401, the operator's pages need an admin key and a key
//! restricted to some models gets 403 for others — each in the envelope of the API called.

use std::sync::Arc;
use std::time::SystemTime;

use axum::http::{HeaderMap, header};
use hfclaw_accounting::keys::{KeyDirectory, KeyEntry, KeyRefused};
use hfclaw_model_ref::ModelRef;

use crate::error::ApiError;
use crate::snapshot::Snapshot;

/// The key a request was accepted with (a request extension, beside its label).
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<KeyEntry>);

/// The key a request sent: `Authorization: Bearer KEY`, `x-api-key: KEY`, or the
/// password of HTTP Basic credentials (how a browser sends it).
pub fn sent_key(headers: &HeaderMap) -> Vec<String> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let bearer = authorization.and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let basic = authorization.and_then(basic_password);
    [bearer, x_api_key]
        .into_iter()
        .flatten()
        .map(|k| k.trim().to_owned())
        .chain(basic)
        .collect()
}

/// The entry of the first key sent that the directory accepts, else why the last one
/// was refused (an unknown key when none was sent).
pub fn authenticate(
    directory: &KeyDirectory,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<Arc<KeyEntry>, KeyRefused> {
    let mut refused = KeyRefused::Unknown;
    for given in sent_key(headers) {
        match directory.check(&given, now) {
            Ok(entry) => return Ok(entry),
            // A revoked or expired key says so, even beside an unknown one.
            Err(KeyRefused::Unknown) => {}
            Err(e) => refused = e,
        }
    }
    Err(refused)
}

/// The password of `Authorization: Basic …` credentials (the user name is ignored).
fn basic_password(value: &str) -> Option<String> {
    use base64::Engine as _;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_owned())
}

/// Keeps the models of `chain` that `caller` may use; 403 when the model asked for (the
/// chain's first) is not one of them. Fallbacks it may not use are dropped.
pub fn allowed_chain(
    caller: Option<&Caller>,
    snapshot: &Snapshot,
    chain: Vec<ModelRef>,
) -> Result<Vec<ModelRef>, ApiError> {
    let Some(Caller(entry)) = caller else {
        return Ok(chain);
    };
    if entry.models.is_empty() {
        return Ok(chain);
    }
    // Each allowed name means what it would mean in a request (an alias, a ref, a bare id).
    let allowed: Vec<String> = entry
        .models
        .iter()
        .filter_map(|m| snapshot.chain(Some(m), true).ok()?.into_iter().next())
        .map(|r| r.router_model_id().to_owned())
        .collect();
    let permitted = |r: &ModelRef| allowed.iter().any(|a| a == r.router_model_id());
    match chain.first() {
        Some(first) if permitted(first) => Ok(chain.into_iter().filter(permitted).collect()),
        first => Err(ApiError::model_not_allowed(
            first.map_or("default", |r| r.as_str()),
            &entry.label,
            &entry.models,
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn basic_credentials_give_their_password() {
        use base64::Engine as _;
        let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        assert_eq!(
            basic_password(&format!("Basic {}", encode("me:s3cr:et"))).as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            basic_password(&format!("basic {}", encode(":k"))).as_deref(),
            Some("k")
        );
        assert_eq!(basic_password(&format!("Bearer {}", encode(":k"))), None);
        assert_eq!(basic_password("Basic !!!"), None);
        assert_eq!(
            basic_password(&format!("Basic {}", encode("no-colon"))),
            None
        );
    }

    #[test]
    fn every_place_a_client_puts_its_key() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  k1 "),
        );
        headers.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(sent_key(&headers), ["k1", "k2"]);
    }
}
