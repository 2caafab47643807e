//! The fallback engine (SPEC §4): try the primary, then each fallback in order, with a few
//! quick retries and a bounded total delay, recording why each skipped model was skipped.
//!
//! Generic over the attempt, so the CLI's streaming chat and the gateway share it. Sleeps
//! go through `tokio::time`, so tests run with paused time.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::error::{ErrorKind, RouterError};

/// When to retry, wait or move on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackPolicy {
    /// Quick retries of the same model on `Upstream` (5xx) errors.
    pub upstream_retries: u32,
    /// Delay before the first quick retry; doubled for each next one.
    pub retry_backoff: Duration,
    /// A 429 asking to wait at most this long is waited for once; longer moves on.
    pub max_retry_after: Duration,
    /// Wait before retrying a 429 that gave no `Retry-After` (once).
    pub rate_limit_default_wait: Duration,
    /// Bound on all waiting across the chain; a wait that would exceed it is skipped.
    pub max_extra_delay: Duration,
    /// The chain's first model is one the user named: it gives way to the fallbacks only
    /// on a transient failure (5xx, 429, timeout, network); any other failure of it (404,
    /// `model_not_supported`, 403 …) is the answer. Off: every model moves on alike.
    pub named_first: bool,
}

impl Default for FallbackPolicy {
    fn default() -> Self {
        FallbackPolicy {
            upstream_retries: 2,
            retry_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(10),
            rate_limit_default_wait: Duration::from_secs(1),
            max_extra_delay: Duration::from_secs(20),
            named_first: false,
        }
    }
}

/// What the engine tells an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The model to call (router id as given in the chain).
    pub model: String,
    /// Position in the chain: 0 = primary, n = fallback n.
    pub index: usize,
    /// 0 for the first call of this model, then 1, 2 … for retries.
    pub retry: u32,
}

/// How an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptError {
    /// Failed before any content reached the user: the chain may go on.
    BeforeContent(RouterError),
    /// Failed after content was emitted: never retried, the chain stops.
    AfterContent(RouterError),
}

impl From<RouterError> for AttemptError {
    fn from(e: RouterError) -> Self {
        AttemptError::BeforeContent(e)
    }
}

/// A model given up on, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    /// The model.
    pub model: String,
    /// Its position in the chain (0 = primary).
    pub index: usize,
    /// The last error it gave.
    pub error: RouterError,
    /// How many times it was retried before giving up.
    pub retries: u32,
}

/// A chain that produced an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSuccess<T> {
    /// The attempt's value.
    pub value: T,
    /// The model that answered.
    pub model: String,
    /// Its position: 0 = primary, n = fallback n.
    pub index: usize,
    /// The models given up on before it, in order.
    pub skipped: Vec<Skip>,
    /// Retries of the answering model.
    pub retries: u32,
    /// Total time spent waiting (backoff and `Retry-After`).
    pub waited: Duration,
}

/// Why the chain produced no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The chain was empty.
    EmptyChain,
    /// An error no other model can fix (`Auth`, `BadRequest`, `Payment`).
    Fatal,
    /// A model failed after emitting content.
    AfterContent,
    /// Every model failed.
    Exhausted,
}

/// A chain that produced no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ChainFailure {
    /// Why it stopped.
    pub reason: StopReason,
    /// Every model that failed, in order; the last one is the decisive error.
    pub skipped: Vec<Skip>,
    /// Total time spent waiting.
    pub waited: Duration,
}

impl ChainFailure {
    /// The last (decisive) error, if any model was tried.
    pub fn last_error(&self) -> Option<&RouterError> {
        self.skipped.last().map(|s| &s.error)
    }
}

impl fmt::Display for ChainFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reason, self.last_error()) {
            (StopReason::EmptyChain, _) | (_, None) => f.write_str("no model to try"),
            (StopReason::Exhausted, Some(e)) if self.skipped.len() > 1 => {
                write!(f, "all {} models failed; last: {e}", self.skipped.len())
            }
            (StopReason::AfterContent, Some(e)) => {
                write!(f, "the answer broke off: {e}")
            }
            (_, Some(e)) => write!(f, "{e}"),
        }
    }
}

/// Runs `attempt` over `chain` by `policy`.
///
/// Upstream (5xx) errors are retried up to `upstream_retries` times with backoff; a 429
/// is waited for once when `Retry-After` ≤ `max_retry_after`; `NotFound`, `Forbidden`,
/// `Timeout`, `Network`, `BadResponse` (and exhausted retries) move to the next model at
/// once; `Auth`, `BadRequest` and `Payment` (the account, not the model) stop the chain,
/// and so does any [`AttemptError::AfterContent`].
pub async fn run_chain<T, F, Fut>(
    chain: &[String],
    policy: &FallbackPolicy,
    mut attempt: F,
) -> Result<ChainSuccess<T>, ChainFailure>
where
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let mut skipped = Vec::new();
    let mut waited = Duration::ZERO;
    if chain.is_empty() {
        return Err(ChainFailure {
            reason: StopReason::EmptyChain,
            skipped,
            waited,
        });
    }
    for (index, model) in chain.iter().enumerate() {
        let mut retry = 0u32;
        let mut upstream_retries = 0u32;
        let mut rate_limit_waited = false;
        loop {
            let call = Attempt {
                model: model.clone(),
                index,
                retry,
            };
            let error = match attempt(call).await {
                Ok(value) => {
                    return Ok(ChainSuccess {
                        value,
                        model: model.clone(),
                        index,
                        skipped,
                        retries: retry,
                        waited,
                    });
                }
                Err(AttemptError::AfterContent(error)) => {
                    skipped.push(skip(model, index, error, retry));
                    return Err(ChainFailure {
                        reason: StopReason::AfterContent,
                        skipped,
                        waited,
                    });
                }
                Err(AttemptError::BeforeContent(error)) => error,
            };
            if error.stops_chain()
                || (policy.named_first && index == 0 && !error.kind.is_transient())
            {
                skipped.push(skip(model, index, error, retry));
                return Err(ChainFailure {
                    reason: StopReason::Fatal,
                    skipped,
                    waited,
                });
            }
            let wait = match error.kind {
                ErrorKind::Upstream if upstream_retries < policy.upstream_retries => {
                    let wait = policy
                        .retry_backoff
                        .saturating_mul(2u32.saturating_pow(upstream_retries));
                    upstream_retries += 1;
                    Some(wait)
                }
                ErrorKind::RateLimited if !rate_limit_waited => {
                    rate_limit_waited = true;
                    match error.retry_after {
                        Some(wait) if wait <= policy.max_retry_after => Some(wait),
                        Some(_) => None,
                        None => Some(policy.rate_limit_default_wait),
                    }
                }
                _ => None,
            };
            match wait.filter(|w| waited.saturating_add(*w) <= policy.max_extra_delay) {
                Some(wait) => {
                    tracing::info!(
                        model = %model,
                        kind = ?error.kind,
                        wait_ms = wait.as_millis() as u64,
                        "retrying the same model"
                    );
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    waited += wait;
                    retry += 1;
                }
                None => {
                    tracing::info!(model = %model, kind = ?error.kind, "moving to the next model");
                    skipped.push(skip(model, index, error, retry));
                    break;
                }
            }
        }
    }
    Err(ChainFailure {
        reason: StopReason::Exhausted,
        skipped,
        waited,
    })
}

fn skip(model: &str, index: usize, error: RouterError, retries: u32) -> Skip {
    let error = if error.model.is_none() {
        error.with_model(model)
    } else {
        error
    };
    Skip {
        model: model.to_owned(),
        index,
        error,
        retries,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use tokio::time::Instant;

    use super::*;

    type Answer = Result<&'static str, AttemptError>;

    /// A scripted attempt: each model answers from its queue (the last entry repeats).
    #[derive(Clone, Default)]
    struct Script {
        answers: Arc<Mutex<HashMap<String, Vec<Answer>>>>,
        calls: Arc<Mutex<Vec<(String, u32)>>>,
    }

    impl Script {
        fn on(self, model: &str, answers: Vec<Answer>) -> Self {
            self.answers
                .lock()
                .unwrap()
                .insert(model.to_owned(), answers);
            self
        }
        async fn run(
            &self,
            chain: &[&str],
            policy: &FallbackPolicy,
        ) -> Result<ChainSuccess<&'static str>, ChainFailure> {
            let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
            run_chain(&chain, policy, |a: Attempt| {
                let this = self.clone();
                async move {
                    this.calls.lock().unwrap().push((a.model.clone(), a.retry));
                    let mut answers = this.answers.lock().unwrap();
                    let queue = answers.get_mut(&a.model).unwrap();
                    if queue.len() > 1 {
                        queue.remove(0)
                    } else {
                        queue[0].clone()
                    }
                }
            })
            .await
        }
        fn calls(&self) -> Vec<(String, u32)> {
            self.calls.lock().unwrap().clone()
        }
    }

    fn status(code: u16) -> Answer {
        Err(AttemptError::BeforeContent(RouterError::from_response(
            code,
            b"{\"error\":\"x\"}",
            None,
        )))
    }

    fn rate_limited(secs: u64) -> Answer {
        Err(AttemptError::BeforeContent(RouterError::from_response(
            429,
            b"{}",
            Some(&secs.to_string()),
        )))
    }

    #[tokio::test(start_paused = true)]
    async fn upstream_is_retried_twice_with_backoff_then_succeeds() {
        let script = Script::default().on("p", vec![status(500), status(500), Ok("hi")]);
        let start = Instant::now();
        let ok = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!((ok.value, ok.index, ok.retries), ("hi", 0, 2));
        assert_eq!(ok.waited, Duration::from_millis(300));
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert!(ok.skipped.is_empty());
        assert_eq!(
            script.calls(),
            [("p".into(), 0), ("p".into(), 1), ("p".into(), 2)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn upstream_after_two_retries_moves_on() {
        let script = Script::default()
            .on("p", vec![status(503)])
            .on("f", vec![Ok("from f")]);
        let ok = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!((ok.model.as_str(), ok.index), ("f", 1));
        assert_eq!(ok.skipped.len(), 1);
        assert_eq!(
            (ok.skipped[0].retries, ok.skipped[0].error.status),
            (2, Some(503))
        );
        assert_eq!(script.calls().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_moves_on_at_once() {
        let script = Script::default()
            .on("p", vec![status(404)])
            .on("f1", vec![Ok("one")]);
        let start = Instant::now();
        let ok = script
            .run(&["p", "f1", "f2"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!((ok.value, ok.index), ("one", 1));
        assert_eq!(start.elapsed(), Duration::ZERO);
        let skip = &ok.skipped[0];
        assert_eq!(
            (skip.model.as_str(), skip.index, skip.error.kind),
            ("p", 0, ErrorKind::NotFound)
        );
        assert_eq!(skip.error.model.as_deref(), Some("p"));
    }

    #[tokio::test(start_paused = true)]
    async fn each_move_on_kind_moves_on() {
        for code in [403, 404, 408] {
            let script = Script::default()
                .on("p", vec![status(code)])
                .on("f", vec![Ok("f")]);
            let ok = script
                .run(&["p", "f"], &FallbackPolicy::default())
                .await
                .unwrap();
            assert_eq!(ok.index, 1, "{code}");
            assert_eq!(script.calls().len(), 2, "{code}");
        }
        for kind in [
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::BadResponse,
        ] {
            let e = Err(AttemptError::BeforeContent(RouterError::new(kind, "x")));
            let script = Script::default().on("p", vec![e]).on("f", vec![Ok("f")]);
            assert_eq!(
                script
                    .run(&["p", "f"], &FallbackPolicy::default())
                    .await
                    .unwrap()
                    .index,
                1
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn auth_bad_request_and_payment_stop_the_chain() {
        for code in [401, 400, 422, 402] {
            let script = Script::default()
                .on("p", vec![status(code)])
                .on("f", vec![Ok("f")]);
            let err = script
                .run(&["p", "f"], &FallbackPolicy::default())
                .await
                .unwrap_err();
            assert_eq!(err.reason, StopReason::Fatal, "{code}");
            assert_eq!(script.calls(), [("p".into(), 0)], "{code}");
            assert_eq!(err.last_error().unwrap().status, Some(code));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_named_first_model_falls_back_on_transient_failures_only() {
        let named = FallbackPolicy {
            named_first: true,
            ..FallbackPolicy::default()
        };
        for code in [404, 403] {
            let script = Script::default()
                .on("p", vec![status(code)])
                .on("f", vec![Ok("f")]);
            let err = script.run(&["p", "f"], &named).await.unwrap_err();
            assert_eq!(err.reason, StopReason::Fatal, "{code}");
            assert_eq!(script.calls(), [("p".into(), 0)], "{code}");
        }
        // 5xx (after its retries) and network failures still give way.
        let script = Script::default()
            .on("p", vec![status(503), status(503), status(503)])
            .on("f", vec![Ok("f")]);
        assert_eq!(script.run(&["p", "f"], &named).await.unwrap().index, 1);
        // A fallback's 404 moves on as before.
        let script = Script::default()
            .on("p", vec![status(503), status(503), status(503)])
            .on("f", vec![status(404)])
            .on("g", vec![Ok("g")]);
        assert_eq!(script.run(&["p", "f", "g"], &named).await.unwrap().index, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn short_retry_after_is_waited_once() {
        let script = Script::default().on("p", vec![rate_limited(3), Ok("after wait")]);
        let start = Instant::now();
        let ok = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!((ok.value, ok.index, ok.retries), ("after wait", 0, 1));
        assert_eq!(start.elapsed(), Duration::from_secs(3));

        let script = Script::default()
            .on("p", vec![rate_limited(3)])
            .on("f", vec![Ok("f")]);
        let ok = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!(ok.index, 1, "waits only once, then moves on");
        assert_eq!(script.calls().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn long_retry_after_moves_on_without_waiting() {
        let script = Script::default()
            .on("p", vec![rate_limited(60)])
            .on("f", vec![Ok("f")]);
        let start = Instant::now();
        let ok = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap();
        assert_eq!(ok.index, 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(
            ok.skipped[0].error.retry_after,
            Some(Duration::from_secs(60))
        );

        let patient = FallbackPolicy {
            max_extra_delay: Duration::from_secs(120),
            ..FallbackPolicy::default()
        };
        let script = Script::default()
            .on("p", vec![rate_limited(11)])
            .on("f", vec![Ok("f")]);
        let start = Instant::now();
        assert_eq!(script.run(&["p", "f"], &patient).await.unwrap().index, 1);
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "over max_retry_after even with budget left"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn total_delay_is_bounded() {
        let chain = ["a", "b", "c", "d", "e"];
        let mut script = Script::default();
        for m in chain {
            script = script.on(m, vec![rate_limited(8)]);
        }
        let start = Instant::now();
        let err = script
            .run(&chain, &FallbackPolicy::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason, StopReason::Exhausted);
        assert_eq!(err.skipped.len(), 5);
        assert!(
            start.elapsed() <= Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(err.waited, Duration::from_secs(16));
        assert_eq!(start.elapsed(), err.waited);
        assert!(
            err.to_string()
                .starts_with("all 5 models failed; last: e: rate limited"),
            "{err}"
        );

        let policy = FallbackPolicy {
            max_extra_delay: Duration::from_millis(300),
            ..FallbackPolicy::default()
        };
        let script = Script::default()
            .on("p", vec![status(500)])
            .on("f", vec![status(500)]);
        let start = Instant::now();
        let err = script.run(&["p", "f"], &policy).await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(err.waited, Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn failure_after_content_is_never_retried() {
        let broke = Err(AttemptError::AfterContent(RouterError::new(
            ErrorKind::Upstream,
            "cut",
        )));
        let script = Script::default()
            .on("p", vec![broke])
            .on("f", vec![Ok("f")]);
        let err = script
            .run(&["p", "f"], &FallbackPolicy::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason, StopReason::AfterContent);
        assert_eq!(script.calls(), [("p".into(), 0)]);
        assert!(err.to_string().starts_with("the answer broke off"));
    }

    #[tokio::test(start_paused = true)]
    async fn empty_chain() {
        let err = Script::default()
            .run(&[], &FallbackPolicy::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason, StopReason::EmptyChain);
        assert!(err.last_error().is_none());
    }
}
