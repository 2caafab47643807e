//! Whether anything can answer, for `GET /healthz`: `degraded` while the router cannot be
//! reached, every model of the default chain is cooling down, or there is no token (the
//! router refuses every request); `ok` otherwise.
//!
//! The router's reachability is what the gateway last saw of it ([`RouterHealth`]): each
//! request's chain tells (an HTTP answer of any status means reachable, only network
//! failures mean unreachable), and when nothing was seen for [`FRESH_FOR`], `/healthz` asks
//! the router itself (a `HEAD` of its model list). Time is passed in, so the rules are
//! tested without sleeping.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hfclaw_router_client::{ErrorKind, RouterError};
use serde_json::json;
use tokio::time::Instant;

/// How long what a request saw of the router stands before `/healthz` asks again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);

/// How long `/healthz` waits for the router when it asks.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What is known of the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// It answered (with any status).
    Reachable,
    /// It could not be reached; why (`Connection refused`).
    Unreachable(String),
}

/// The router as the gateway last saw it.
#[derive(Debug, Default)]
pub struct RouterHealth {
    last: Mutex<Option<(Instant, Reach)>>,
}

impl RouterHealth {
    /// Records what was seen at `now`.
    pub fn saw(&self, reach: Reach, now: Instant) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, reach));
    }

    /// Records what a request's chain saw: reachable when a model answered or the router
    /// answered with an error; unreachable when every attempt failed on the network.
    pub fn observe(&self, failed: &[(usize, &RouterError)], answered: bool, now: Instant) {
        if answered || failed.iter().any(|(_, e)| e.kind != ErrorKind::Network) {
            self.saw(Reach::Reachable, now);
        } else if let Some((_, error)) = failed.last() {
            self.saw(Reach::Unreachable(error.cause().to_owned()), now);
        }
    }

    /// What is known at `now`; `None` when nothing was seen for [`FRESH_FOR`] (ask).
    pub fn known(&self, now: Instant) -> Option<Reach> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, reach) = last.as_ref()?;
        (now.saturating_duration_since(*at) < FRESH_FOR).then(|| reach.clone())
    }
}

/// The outcome of asking the router (a `HEAD` of its model list), as a [`Reach`]: any
/// answer is reachable; a network failure or no answer in time is not.
pub fn probe_outcome<T>(outcome: Option<Result<T, RouterError>>) -> Reach {
    match outcome {
        None => Reach::Unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
        Some(Err(e)) if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) => {
            Reach::Unreachable(e.cause().to_owned())
        }
        Some(_) => Reach::Reachable,
    }
}

/// Why nothing can answer, one line each; empty when something can.
///
/// `default_chain` is the router ids of the default and its fallbacks; `cooling` the
/// models in cooldown with the time left.
pub fn degraded_reasons(
    reach: &Reach,
    has_token: bool,
    default_chain: &[String],
    cooling: &[(String, Duration)],
    account_hold: Option<Duration>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(left) = account_hold {
        reasons.push(format!(
            "the Hugging Face account answered 402 (credits exhausted or a spending limit): \
             every request is answered 402 for {} s more",
            left.as_secs().max(1)
        ));
    }
    if let Reach::Unreachable(cause) = reach {
        reasons.push(format!("the router cannot be reached ({cause})"));
    }
    if !has_token {
        reasons.push("no Hugging Face token: the router refuses every request".to_owned());
    }
    let cools = |id: &String| {
        cooling
            .iter()
            .any(|(model, left)| model == id && !left.is_zero())
    };
    if !default_chain.is_empty() && default_chain.iter().all(cools) {
        reasons.push(format!(
            "every model of the default chain is cooling down ({})",
            default_chain.join(", ")
        ));
    }
    reasons
}

/// The body of `GET /healthz`: `ok` or `degraded`, the reasons, the models cooling down,
/// and the account's hold after a 402 (`null` when none).
pub fn body(
    reasons: &[String],
    cooling: &[(String, Duration)],
    account_hold: Option<Duration>,
) -> serde_json::Value {
    let status = if reasons.is_empty() { "ok" } else { "degraded" };
    let cooling: Vec<serde_json::Value> = cooling
        .iter()
        .map(|(model, left)| json!({"model": model, "seconds_left": left.as_secs()}))
        .collect();
    let account = account_hold.map(|left| json!({"held": true, "seconds_left": left.as_secs()}));
    json!({"status": status, "reasons": reasons, "cooldowns": cooling, "account": account})
}

/// Whether `body` is what [`body`] writes: how `hfclaw run` tells an hfclaw gateway at an
/// address from any other program listening there.
pub fn is_body(body: &serde_json::Value) -> bool {
    matches!(
        body.get("status").and_then(serde_json::Value::as_str),
        Some("ok" | "degraded")
    ) && body.get("reasons").is_some_and(serde_json::Value::is_array)
        && body
            .get("cooldowns")
            .is_some_and(serde_json::Value::is_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_health_body_is_recognised() {
        let cooling = [("a/B".to_owned(), Duration::from_secs(3))];
        assert!(is_body(&body(&[], &cooling, None)));
        let held = Some(Duration::from_secs(60));
        assert!(is_body(&body(&["no token".to_owned()], &[], held)));
        assert!(
            !is_body(&json!({"status": "ok"})),
            "another program's /healthz"
        );
        assert!(!is_body(&json!("ok")));
    }

    fn network(cause: &str) -> RouterError {
        RouterError::new(
            ErrorKind::Network,
            format!("error sending request: tcp connect error: {cause} (os error 111)"),
        )
    }

    #[test]
    fn a_chain_that_only_met_network_failures_means_the_router_is_unreachable() {
        let health = RouterHealth::default();
        let t0 = Instant::now();
        assert_eq!(health.known(t0), None, "nothing seen yet: ask");
        let refused = network("Connection refused");
        health.observe(&[(0, &refused), (1, &refused)], false, t0);
        assert_eq!(
            health.known(t0 + Duration::from_secs(29)),
            Some(Reach::Unreachable("Connection refused".to_owned()))
        );
        assert_eq!(health.known(t0 + FRESH_FOR), None, "stale: ask again");
        // A router error (it answered) or an answer means reachable.
        let upstream = RouterError::new(ErrorKind::Upstream, "boom");
        health.observe(&[(0, &refused), (1, &upstream)], false, t0);
        assert_eq!(health.known(t0), Some(Reach::Reachable));
        health.observe(&[(0, &refused)], false, t0);
        health.observe(&[(0, &refused)], true, t0);
        assert_eq!(health.known(t0), Some(Reach::Reachable));
    }

    #[test]
    fn asking_the_router_counts_any_answer() {
        assert_eq!(probe_outcome(Some(Ok::<(), _>(()))), Reach::Reachable);
        let not_found = RouterError::new(ErrorKind::NotFound, "no");
        assert_eq!(probe_outcome::<()>(Some(Err(not_found))), Reach::Reachable);
        assert_eq!(
            probe_outcome::<()>(Some(Err(network("Connection refused")))),
            Reach::Unreachable("Connection refused".to_owned())
        );
        assert_eq!(
            probe_outcome::<()>(None),
            Reach::Unreachable("no answer within 3 s".to_owned())
        );
    }

    #[test]
    fn degraded_while_nothing_can_answer() {
        let chain = vec!["a/B".to_owned(), "c/D".to_owned()];
        let secs = Duration::from_secs;
        assert!(degraded_reasons(&Reach::Reachable, true, &chain, &[], None).is_empty());
        // One model of the chain cooling: the other can answer.
        let one = [("a/B".to_owned(), secs(12))];
        assert!(degraded_reasons(&Reach::Reachable, true, &chain, &one, None).is_empty());
        let both = [("a/B".to_owned(), secs(12)), ("c/D".to_owned(), secs(3))];
        assert_eq!(
            degraded_reasons(&Reach::Reachable, true, &chain, &both, None),
            ["every model of the default chain is cooling down (a/B, c/D)"]
        );
        // A cooldown whose time is up is being probed: not cooling.
        let up = [
            ("a/B".to_owned(), secs(12)),
            ("c/D".to_owned(), Duration::ZERO),
        ];
        assert!(degraded_reasons(&Reach::Reachable, true, &chain, &up, None).is_empty());
        let held = degraded_reasons(&Reach::Reachable, true, &chain, &[], Some(secs(42)));
        assert_eq!(held.len(), 1);
        assert!(
            held[0].contains("402") && held[0].contains("42 s"),
            "{held:?}"
        );
        let down = Reach::Unreachable("Connection refused".to_owned());
        assert_eq!(
            degraded_reasons(&down, false, &[], &[], None),
            [
                "the router cannot be reached (Connection refused)",
                "no Hugging Face token: the router refuses every request"
            ]
        );
    }
}
