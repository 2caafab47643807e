//! Requests and tokens per minute per key: a sliding window of the last 60 s of each
//! key's requests (their start) and tokens (counted when answers end), exact — a limit
//! never trips early and no cache stands between a request and its count. The window is
//! per gateway process; see the README for replicas.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use super::KeyLimits;

/// The window of requests and tokens per minute.
pub const WINDOW_MS: i64 = 60_000;

/// A key is over its requests or tokens per minute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key {label:?} is over its {limit} {unit} per minute; retry in {retry_after_secs} s")]
pub struct RateExceeded {
    /// The key's label.
    pub label: String,
    /// `requests` or `tokens`.
    pub unit: &'static str,
    /// The limit.
    pub limit: u64,
    /// When the oldest counted request or tokens leave the window.
    pub retry_after_secs: u64,
}

#[derive(Debug, Default)]
struct Window {
    /// Start times of requests (Unix ms), oldest first.
    requests: VecDeque<i64>,
    /// (Unix ms, tokens) of answers, oldest first.
    tokens: VecDeque<(i64, u64)>,
    token_sum: u64,
}

impl Window {
    fn prune(&mut self, now: i64) {
        while self
            .requests
            .front()
            .is_some_and(|&at| at <= now - WINDOW_MS)
        {
            self.requests.pop_front();
        }
        while let Some(&(at, n)) = self.tokens.front() {
            if at > now - WINDOW_MS {
                break;
            }
            self.token_sum -= n;
            self.tokens.pop_front();
        }
    }
}

/// The windows of the keys with a limit. `Sync`.
#[derive(Debug, Default)]
pub struct RateLimits {
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimits {
    /// Counts a request of `label` starting at `now_ms`, or says which limit it would pass.
    pub fn admit(&self, label: &str, limits: &KeyLimits, now_ms: i64) -> Result<(), RateExceeded> {
        if limits.rpm.is_none() && limits.tpm.is_none() {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(label.to_owned()).or_default();
        window.prune(now_ms);
        let retry = |oldest: i64| {
            u64::try_from((oldest + WINDOW_MS - now_ms).max(1_000) / 1_000).unwrap_or(1)
        };
        if let Some(rpm) = limits.rpm
            && window.requests.len() >= rpm as usize
        {
            return Err(RateExceeded {
                label: label.to_owned(),
                unit: "requests",
                limit: u64::from(rpm),
                retry_after_secs: retry(window.requests.front().copied().unwrap_or(now_ms)),
            });
        }
        if let Some(tpm) = limits.tpm
            && window.token_sum >= tpm
        {
            return Err(RateExceeded {
                label: label.to_owned(),
                unit: "tokens",
                limit: tpm,
                retry_after_secs: retry(window.tokens.front().map_or(now_ms, |t| t.0)),
            });
        }
        window.requests.push_back(now_ms);
        Ok(())
    }

    /// Takes back a request [`RateLimits::admit`] counted at `at_ms` (refused later by
    /// another limit).
    pub fn retract(&self, label: &str, limits: &KeyLimits, at_ms: i64) {
        if limits.rpm.is_none() && limits.tpm.is_none() {
            return;
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(window) = windows.get_mut(label)
            && let Some(i) = window.requests.iter().rposition(|&at| at == at_ms)
        {
            window.requests.remove(i);
        }
    }

    /// Counts the tokens of an answer of `label` that ended at `now_ms` (keys without a
    /// window — no limit — are not tracked).
    pub fn add_tokens(&self, label: &str, tokens: u64, now_ms: i64) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(window) = windows.get_mut(label) {
            window.prune(now_ms);
            window.tokens.push_back((now_ms, tokens));
            window.token_sum += tokens;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_per_minute_slide_and_never_trip_early() {
        let limits = KeyLimits {
            rpm: Some(3),
            ..KeyLimits::default()
        };
        let rates = RateLimits::default();
        for at in [0, 10_000, 20_000] {
            assert!(rates.admit("a", &limits, at).is_ok());
        }
        let e = rates.admit("a", &limits, 30_000).unwrap_err();
        assert_eq!((e.unit, e.limit, e.retry_after_secs), ("requests", 3, 30));
        assert!(rates.admit("b", &limits, 30_000).is_ok(), "per key");
        // The first request leaves the window at 60 s.
        assert!(rates.admit("a", &limits, 60_001).is_ok());
        assert!(rates.admit("a", &limits, 60_002).is_err());
    }

    #[test]
    fn tokens_per_minute_count_when_answers_end() {
        let limits = KeyLimits {
            tpm: Some(20),
            ..KeyLimits::default()
        };
        let rates = RateLimits::default();
        assert!(rates.admit("a", &limits, 0).is_ok());
        rates.add_tokens("a", 12, 1_000);
        assert!(rates.admit("a", &limits, 2_000).is_ok());
        rates.add_tokens("a", 12, 3_000);
        let e = rates.admit("a", &limits, 4_000).unwrap_err();
        assert_eq!((e.unit, e.retry_after_secs), ("tokens", 57));
        assert!(rates.admit("a", &limits, 61_001).is_ok());
        rates.add_tokens("nobody", 5, 0);
    }
}
