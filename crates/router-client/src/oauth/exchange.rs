//! The refresh request itself, as huggingface_hub's `refresh_access_token` sends it:
//! `POST {hub}/oauth/token` with the form `grant_type=refresh_token`, `refresh_token`,
//! `client_id`; an answer with `access_token` is a success whatever its status, anything
//! else an error carrying the OAuth `error` code (`invalid_grant`: the refresh token is
//! expired or revoked, a new login is needed).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::base_url::normalize_base_url;
use crate::client::read_capped;
use crate::error::error_chain;
use crate::token::Token;

/// huggingface_hub's timeout for this request (`HF_HUB_DOWNLOAD_TIMEOUT`, default 10 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The OAuth error code of a refresh token that no longer works.
pub const INVALID_GRANT: &str = "invalid_grant";
/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Longest `error_description` quoted in a message.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// A successful answer.
pub struct Tokens {
    /// The new access token.
    pub access_token: Token,
    /// A rotated refresh token, when the Hub sent one.
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token lives, when the Hub said.
    pub expires_in: Option<i64>,
}

/// Why a refresh failed. Never holds a token: the Hub's description is quoted only after
/// the secrets sent are cut out of it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExchangeError {
    /// The Hub answered with an OAuth error (`invalid_grant`, `invalid_client`, …).
    #[error("the Hub refused it: {code}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        /// The OAuth `error` code.
        code: String,
        /// The Hub's `error_description`, shortened.
        description: Option<String>,
    },
    /// The answer is not an OAuth token answer.
    #[error("the Hub's answer (HTTP {status}) is not an OAuth token answer")]
    BadAnswer {
        /// HTTP status.
        status: u16,
    },
    /// No answer (network, timeout, TLS).
    #[error("{0}")]
    Transport(String),
}

impl ExchangeError {
    /// The refresh token is expired or revoked: only a new login helps.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, ExchangeError::OAuth { code, .. } if code == INVALID_GRANT)
    }
}

/// Sends the refresh request to `{hub_url}/oauth/token`.
pub async fn refresh_access_token(
    hub_url: &str,
    client_id: &str,
    refresh_token: &SecretString,
    user_agent: &str,
) -> Result<Tokens, ExchangeError> {
    let url = format!("{}/oauth/token", normalize_base_url(hub_url));
    let transport = |what: &str, e: reqwest::Error| {
        ExchangeError::Transport(format!("{what} {url}: {}", error_chain(&e.without_url())))
    };
    let http = reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(REQUEST_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // A redirect would carry the refresh token (307/308 resend the form) elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| transport("cannot build an HTTP client for", e))?;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
        ("client_id", client_id),
    ];
    let response = http
        .post(&url)
        .form(&form)
        .send()
        .await
        .map_err(|e| transport("cannot reach", e))?;
    let status = response.status().as_u16();
    let body = read_capped(response, MAX_ANSWER_BYTES, "token answer")
        .await
        .map_err(|e| ExchangeError::Transport(format!("reading the answer of {url}: {e}")))?;
    parse_answer(status, &body, refresh_token.expose_secret())
}

/// Reads the token endpoint's answer (`status` only names it in errors: like
/// huggingface_hub, an `access_token` counts whatever the status).
fn parse_answer(status: u16, body: &[u8], sent: &str) -> Result<Tokens, ExchangeError> {
    let bad = || ExchangeError::BadAnswer { status };
    let answer: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad())?;
    let text = |key: &str| answer.get(key).and_then(serde_json::Value::as_str);
    if let Some(access) = answer.get("access_token") {
        let access_token = access.as_str().and_then(Token::new).ok_or_else(bad)?;
        let refresh_token = text("refresh_token")
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_owned()));
        // huggingface_hub: `int(response["expires_in"])` when the key is present.
        let expires_in = match answer.get("expires_in") {
            None => None,
            Some(value) => Some(integer(value).ok_or_else(bad)?),
        };
        return Ok(Tokens {
            access_token,
            refresh_token,
            expires_in,
        });
    }
    let Some(code) = text("error") else {
        return Err(bad());
    };
    let description = text("error_description")
        .map(|d| shorten(&scrub(&d.replace(sent, "…"))))
        .filter(|d| !d.is_empty());
    Err(ExchangeError::OAuth {
        code: shorten(code),
        description,
    })
}

/// A JSON integer, or a string holding one (Python's `int()` takes both).
fn integer(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The text with every word that holds `hf_` cut after it: a Hub that echoes a token
/// in its description must not put it in a log.
fn scrub(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.find(crate::token::TOKEN_PREFIX) {
            Some(at) => format!("{}…", &word[..at + crate::token::TOKEN_PREFIX.len()]),
            None => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line, at most [`MAX_DESCRIPTION_CHARS`] characters.
fn shorten(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SENT: &str = "hf_oauth_refresh_sent_0000";

    fn parse(status: u16, body: &str) -> Result<Tokens, ExchangeError> {
        parse_answer(status, body.as_bytes(), SENT)
    }

    #[test]
    fn refresh_answer_with_rotation() {
        let tokens = parse(
            200,
            r#"{"access_token":"hf_new","refresh_token":"hf_rot","expires_in":2592000,"token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "hf_new");
        assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "hf_rot");
        assert_eq!(tokens.expires_in, Some(2_592_000));
    }

    #[test]
    fn refresh_answer_without_rotation_or_expiry() {
        let tokens = parse(200, r#"{"access_token":"hf_new","refresh_token":""}"#).unwrap();
        assert!(tokens.refresh_token.is_none());
        assert_eq!(tokens.expires_in, None);
        let tokens = parse(200, r#"{"access_token":"hf_new","expires_in":"60"}"#).unwrap();
        assert_eq!(tokens.expires_in, Some(60));
    }

    #[test]
    fn refresh_invalid_grant_is_recognised_by_code_not_status() {
        let err = parse(
            400,
            &format!(
                r#"{{"error":"invalid_grant","error_description":"refresh token {SENT} expired"}}"#
            ),
        )
        .err()
        .unwrap();
        assert!(err.is_invalid_grant());
        let text = err.to_string();
        assert_eq!(
            text,
            "the Hub refused it: invalid_grant (refresh token … expired)"
        );
        let err = parse(
            400,
            r#"{"error":"invalid_client","error_description":"token=hf_abc123 is bad"}"#,
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "the Hub refused it: invalid_client (token=hf_… is bad)"
        );
        assert!(
            !parse(500, r#"{"error":"server_error"}"#)
                .err()
                .unwrap()
                .is_invalid_grant()
        );
    }

    #[test]
    fn refresh_answer_that_is_not_oauth_is_bad() {
        for (status, body) in [
            (500, "<html>oops</html>"),
            (200, "{}"),
            (200, r#"{"access_token":""}"#),
            (200, r#"{"access_token":"hf_x","expires_in":null}"#),
            (200, r#"{"error":42}"#),
        ] {
            let err = parse(status, body).err().unwrap();
            assert!(
                matches!(err, ExchangeError::BadAnswer { status: s } if s == status),
                "{body}: {err}"
            );
        }
    }
}
