//! Cooldowns: a model that just failed in a way that will likely repeat (5xx after the
//! quick retries, 429, timeouts, network errors) is skipped by later requests for a
//! while — 30 s by default, or the router's `Retry-After` when longer, doubling on each
//! repeated failure up to 5 minutes. When the time is up, one request at a time probes
//! the model (half-open); its outcome ends the cooldown or starts a longer one.
//!
//! A 402 (credits exhausted, spending limit) is the account's, not the model's: every
//! model of a chain bills the same account (or `X-HF-Bill-To` organisation), so the
//! account is held (60 s by default) and no request reaches the router until the hold
//! ends; an answer clears it.
//!
//! Time is passed in (`now`), so the rules are tested without sleeping. With no model
//! cooling, a request pays one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hfclaw_catalog::Lack;
use hfclaw_router_client::{ErrorKind, RouterError};
use tokio::time::Instant;

/// How long cooldowns last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CooldownPolicy {
    /// The first cooldown of a model (a longer `Retry-After` wins).
    pub base: Duration,
    /// The longest cooldown.
    pub max: Duration,
    /// How long the account is held after a 402 (out of credits, spending limit): no
    /// request reaches the router meanwhile.
    pub account: Duration,
}

impl Default for CooldownPolicy {
    fn default() -> Self {
        CooldownPolicy {
            base: Duration::from_secs(30),
            max: Duration::from_secs(300),
            account: Duration::from_secs(60),
        }
    }
}

/// The account held after a 402, and the router's error that said so.
#[derive(Debug, Clone)]
struct AccountHold {
    until: Instant,
    error: RouterError,
}

#[derive(Debug)]
struct Entry {
    /// Skipped until then.
    until: Instant,
    /// Failures in a row.
    failures: u32,
    /// A request is probing the model now.
    probing: bool,
}

/// The models in cooldown, by router model id.
#[derive(Debug, Default)]
pub struct Cooldowns {
    policy: CooldownPolicy,
    entries: Mutex<HashMap<String, Entry>>,
    /// `entries.len()`, readable without the lock.
    count: AtomicUsize,
    /// The account's hold after a 402 (every model of a chain bills the same account).
    account: Mutex<Option<AccountHold>>,
    /// `account.is_some()`, readable without the lock.
    account_held: AtomicBool,
}

/// Which models of a chain one request may try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Positions in the chain to try, in order.
    pub order: Vec<usize>,
    /// Positions this request probes (half-open); released by [`Cooldowns::settle`].
    pub probes: Vec<usize>,
    /// Positions skipped because they are cooling, with the time left.
    pub cooling: Vec<(usize, Duration)>,
    /// Positions left out because they cannot serve what the request needs
    /// (`hfclaw_catalog::unfit`): neither tried nor probed.
    pub unfit: Vec<(usize, Lack)>,
}

/// True when an error of this kind puts the model in cooldown (a 402 holds the account
/// instead: [`Cooldowns::account_hold`]).
pub fn cools(kind: ErrorKind) -> bool {
    kind.is_transient()
}

impl Cooldowns {
    /// No model cooling yet.
    pub fn new(policy: CooldownPolicy) -> Cooldowns {
        Cooldowns {
            policy,
            ..Cooldowns::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Which of `chain` to try now: healthy models in order, cooled-down models whose time
    /// is up and that no other request is probing (this request probes them), and none
    /// that are cooling — unless every model is cooling, then all of them in order. The
    /// positions of `unfit` are left out whatever their state.
    pub fn plan(&self, chain: &[String], unfit: Vec<(usize, Lack)>, now: Instant) -> Plan {
        let fit = |index: &usize| !unfit.iter().any(|(i, _)| i == index);
        let every_fit = || (0..chain.len()).filter(fit).collect();
        if self.count.load(Ordering::Acquire) == 0 {
            return Plan {
                order: every_fit(),
                probes: Vec::new(),
                cooling: Vec::new(),
                unfit,
            };
        }
        let mut entries = self.lock();
        let mut order = Vec::new();
        let mut probes = Vec::new();
        let mut cooling = Vec::new();
        for (index, model) in chain.iter().enumerate().filter(|(i, _)| fit(i)) {
            match entries.get_mut(model) {
                None => order.push(index),
                Some(entry) if entry.until > now => {
                    cooling.push((index, entry.until - now));
                }
                Some(entry) if entry.probing => cooling.push((index, Duration::ZERO)),
                Some(entry) => {
                    entry.probing = true;
                    order.push(index);
                    probes.push(index);
                }
            }
        }
        if order.is_empty() {
            order = every_fit();
        }
        Plan {
            order,
            probes,
            cooling,
            unfit,
        }
    }

    /// The account's hold after a 402: the router's error and the time left; `None`
    /// when requests may go out. One atomic load when there is none.
    pub fn account_hold(&self, now: Instant) -> Option<(RouterError, Duration)> {
        if !self.account_held.load(Ordering::Acquire) {
            return None;
        }
        let hold = self.account.lock().unwrap_or_else(PoisonError::into_inner);
        hold.as_ref()
            .filter(|h| h.until > now)
            .map(|h| (h.error.clone(), h.until - now))
    }

    /// Holds the account after a 402, or clears the hold after an answer.
    fn settle_account(&self, payment: Option<&RouterError>, answered: bool, now: Instant) {
        if payment.is_none() && !(answered && self.account_held.load(Ordering::Acquire)) {
            return;
        }
        let mut hold = self.account.lock().unwrap_or_else(PoisonError::into_inner);
        match payment {
            Some(error) => {
                let wait = self
                    .policy
                    .account
                    .max(error.retry_after.unwrap_or_default());
                tracing::warn!(
                    seconds = wait.as_secs(),
                    "the Hugging Face account answered 402: holding every request"
                );
                *hold = Some(AccountHold {
                    until: now + wait,
                    error: error.clone(),
                });
            }
            None => {
                if hold.take().is_some() {
                    tracing::info!("the Hugging Face account answers again");
                }
            }
        }
        self.account_held.store(hold.is_some(), Ordering::Release);
    }

    /// Records the outcome of a request's chain: `failed` are the models given up on (with
    /// their last error), `succeeded` the one that answered. Probes of `plan` that were
    /// never tried are released for the next request. A 402 holds the account; an
    /// answer ends the hold.
    pub fn settle(
        &self,
        chain: &[String],
        plan: &Plan,
        failed: &[(usize, &RouterError)],
        succeeded: Option<usize>,
        now: Instant,
    ) {
        let payment = failed
            .iter()
            .map(|(_, e)| *e)
            .find(|e| e.kind == ErrorKind::Payment);
        self.settle_account(payment, succeeded.is_some(), now);
        let touches_cooling = failed.iter().any(|(_, e)| cools(e.kind))
            || !plan.probes.is_empty()
            || (succeeded.is_some() && self.count.load(Ordering::Acquire) > 0);
        if !touches_cooling {
            return;
        }
        let mut entries = self.lock();
        for &(index, error) in failed {
            let Some(model) = chain.get(index) else {
                continue;
            };
            if cools(error.kind) {
                // A model still cooling (tried anyway because every model of its chain
                // was, or by a request that started before it cooled) fails in the same
                // episode: its cooldown is renewed, not doubled.
                let (failures, floor) = match entries.get(model) {
                    Some(e) if e.until > now => (e.failures, e.until),
                    Some(e) => (e.failures + 1, now),
                    None => (1, now),
                };
                let wait = self.cooldown_for(failures, error.retry_after);
                entries.insert(
                    model.clone(),
                    Entry {
                        until: (now + wait).max(floor),
                        failures,
                        probing: false,
                    },
                );
                tracing::info!(model, seconds = wait.as_secs(), "model cooling down");
            } else if let Some(entry) = entries.get_mut(model) {
                // A probe that failed for another reason (404, 400) says nothing about
                // health: the next request probes again.
                entry.probing = false;
            }
        }
        if let Some(model) = succeeded.and_then(|i| chain.get(i))
            && entries.remove(model).is_some()
        {
            tracing::info!(model, "model recovered");
        }
        for &index in &plan.probes {
            let tried = failed.iter().any(|(i, _)| *i == index) || succeeded == Some(index);
            if !tried && let Some(entry) = chain.get(index).and_then(|m| entries.get_mut(m)) {
                entry.probing = false;
            }
        }
        self.count.store(entries.len(), Ordering::Release);
    }

    fn cooldown_for(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .policy
            .base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        doubled
            .max(retry_after.unwrap_or_default())
            .min(self.policy.max.max(self.policy.base))
    }

    /// The soonest time any model of `chain` that is cooling can serve again (`None`
    /// when none is cooling).
    pub fn soonest(&self, chain: &[String], now: Instant) -> Option<Duration> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let entries = self.lock();
        chain
            .iter()
            .filter_map(|model| entries.get(model))
            .filter(|e| e.until > now)
            .map(|e| e.until - now)
            .min()
    }

    /// The models cooling now, with the time left (0 while one is being probed), by id.
    pub fn active(&self, now: Instant) -> Vec<(String, Duration)> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let entries = self.lock();
        let mut active: Vec<(String, Duration)> = entries
            .iter()
            .map(|(model, e)| (model.clone(), e.until.saturating_duration_since(now)))
            .collect();
        active.sort();
        active
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn chain(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    fn error(kind: ErrorKind, retry_after: Option<u64>) -> RouterError {
        RouterError {
            retry_after: retry_after.map(Duration::from_secs),
            ..RouterError::new(kind, "x")
        }
    }

    fn fail(c: &Cooldowns, ids: &[String], index: usize, e: &RouterError, now: Instant) {
        let plan = c.plan(ids, Vec::new(), now);
        c.settle(ids, &plan, &[(index, e)], None, now);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_primary_is_skipped_until_its_cooldown_ends() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b"]);
        let t0 = Instant::now();
        assert_eq!(c.plan(&ids, Vec::new(), t0).order, [0, 1]);
        fail(&c, &ids, 0, &error(ErrorKind::Upstream, None), t0);
        let plan = c.plan(&ids, Vec::new(), t0 + Duration::from_secs(29));
        assert_eq!(plan.order, [1]);
        assert_eq!(plan.cooling, [(0, Duration::from_secs(1))]);
        assert_eq!(
            c.active(t0 + Duration::from_secs(10)),
            [("a".to_owned(), Duration::from_secs(20))]
        );
        // Time is up: this request probes "a".
        let probe = c.plan(&ids, Vec::new(), t0 + Duration::from_secs(30));
        assert_eq!(
            (probe.order.as_slice(), probe.probes.as_slice()),
            (&[0, 1][..], &[0][..])
        );
        // Meanwhile another request does not probe it too.
        assert_eq!(
            c.plan(&ids, Vec::new(), t0 + Duration::from_secs(31)).order,
            [1]
        );
        c.settle(&ids, &probe, &[], Some(0), t0 + Duration::from_secs(31));
        assert_eq!(
            c.plan(&ids, Vec::new(), t0 + Duration::from_secs(31)).order,
            [0, 1]
        );
        assert!(c.active(t0).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_failures_double_up_to_the_cap_and_retry_after_wins() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a"]);
        let mut now = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..6 {
            let plan = c.plan(&ids, Vec::new(), now);
            c.settle(
                &ids,
                &plan,
                &[(0, &error(ErrorKind::Timeout, None))],
                None,
                now,
            );
            let left = c.active(now)[0].1;
            waits.push(left.as_secs());
            now += left;
        }
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        let c = Cooldowns::new(CooldownPolicy::default());
        fail(&c, &ids, 0, &error(ErrorKind::RateLimited, Some(90)), now);
        assert_eq!(c.active(now)[0].1, Duration::from_secs(90));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cooldown_doubles_once_per_failure_episode_not_per_request() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b"]);
        let t0 = Instant::now();
        let down = error(ErrorKind::Upstream, None);
        // Both cool; then three requests find them cooling, try them anyway and fail.
        fail(&c, &ids, 0, &down, t0);
        fail(&c, &ids, 1, &down, t0);
        for second in 1..=3 {
            let now = t0 + Duration::from_secs(second);
            let plan = c.plan(&ids, Vec::new(), now);
            assert_eq!(plan.order, [0, 1]);
            c.settle(&ids, &plan, &[(0, &down), (1, &down)], None, now);
        }
        let left = |at: u64| c.active(t0 + Duration::from_secs(at));
        // Renewed from the last failure (30 s from t0 + 3), not doubled to 240 s.
        assert_eq!(left(3)[0].1, Duration::from_secs(30));
        // The probe after the time is up fails: a new episode doubles it.
        let probe_at = t0 + Duration::from_secs(33);
        let plan = c.plan(&ids, Vec::new(), probe_at);
        assert_eq!(plan.probes, [0, 1]);
        c.settle(&ids, &plan, &[(0, &down)], None, probe_at);
        assert_eq!(left(33)[0].1, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_the_soonest_a_model_of_the_chain_can_serve() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b", "c"]);
        let t0 = Instant::now();
        assert_eq!(c.soonest(&ids, t0), None);
        let plan = c.plan(&ids, Vec::new(), t0);
        let (thirty, ninety) = (
            error(ErrorKind::RateLimited, Some(30)),
            error(ErrorKind::RateLimited, Some(90)),
        );
        c.settle(&ids, &plan, &[(0, &ninety), (1, &thirty)], None, t0);
        assert_eq!(c.soonest(&ids, t0), Some(Duration::from_secs(30)));
        assert_eq!(
            c.soonest(&ids[..1], t0 + Duration::from_secs(10)),
            Some(Duration::from_secs(80))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_failures_that_repeat_cool_a_model() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a"]);
        let now = Instant::now();
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::Forbidden,
            ErrorKind::Auth,
            ErrorKind::BadRequest,
            ErrorKind::BadResponse,
            ErrorKind::Payment,
        ] {
            fail(&c, &ids, 0, &error(kind, None), now);
            assert!(c.active(now).is_empty(), "{kind:?}");
        }
        for kind in [
            ErrorKind::Upstream,
            ErrorKind::RateLimited,
            ErrorKind::Timeout,
            ErrorKind::Network,
        ] {
            let c = Cooldowns::new(CooldownPolicy::default());
            fail(&c, &ids, 0, &error(kind, None), now);
            assert_eq!(c.active(now).len(), 1, "{kind:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_402_holds_the_account_until_its_time_is_up_or_an_answer_comes() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b"]);
        let t0 = Instant::now();
        assert!(c.account_hold(t0).is_none());
        fail(&c, &ids, 0, &error(ErrorKind::Payment, None), t0);
        let (held, left) = c.account_hold(t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(
            (held.kind, left),
            (ErrorKind::Payment, Duration::from_secs(50))
        );
        // The model itself is not cooling: the account is.
        assert!(c.active(t0).is_empty());
        assert!(c.account_hold(t0 + Duration::from_secs(60)).is_none());
        // After the hold, a request goes out; its answer clears the hold for good.
        fail(&c, &ids, 0, &error(ErrorKind::Payment, None), t0);
        let plan = c.plan(&ids, Vec::new(), t0);
        c.settle(&ids, &plan, &[], Some(0), t0 + Duration::from_secs(1));
        assert!(c.account_hold(t0 + Duration::from_secs(1)).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_model_is_cooling_all_are_tried() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b"]);
        let now = Instant::now();
        fail(&c, &ids, 0, &error(ErrorKind::Upstream, None), now);
        fail(&c, &ids, 1, &error(ErrorKind::Upstream, None), now);
        let plan = c.plan(&ids, Vec::new(), now + Duration::from_secs(1));
        assert_eq!(plan.order, [0, 1]);
        assert_eq!(plan.cooling.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn unfit_positions_are_neither_tried_nor_probed() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b", "c"]);
        let now = Instant::now();
        let unfit = || vec![(1, Lack::Tools)];
        assert_eq!(c.plan(&ids, unfit(), now).order, [0, 2]);
        // "b" may be probed again, but not by a request it cannot serve.
        fail(&c, &ids, 1, &error(ErrorKind::Upstream, None), now);
        let later = now + Duration::from_secs(30);
        let plan = c.plan(&ids, unfit(), later);
        assert_eq!((plan.order, plan.probes), (vec![0, 2], vec![]));
        assert_eq!(plan.unfit, unfit());
        assert_eq!(c.plan(&ids, Vec::new(), later).probes, [1]);
        // Every fit model cooling: all the fit ones are tried.
        fail(&c, &ids, 0, &error(ErrorKind::Upstream, None), later);
        fail(&c, &ids, 2, &error(ErrorKind::Upstream, None), later);
        let plan = c.plan(&ids, vec![(1, Lack::ImageInput)], later);
        assert_eq!(plan.order, [0, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_untried_probe_is_released() {
        let c = Cooldowns::new(CooldownPolicy::default());
        let ids = chain(&["a", "b"]);
        let now = Instant::now();
        fail(&c, &ids, 1, &error(ErrorKind::Upstream, None), now);
        let later = now + Duration::from_secs(30);
        let plan = c.plan(&ids, Vec::new(), later);
        assert_eq!(plan.probes, [1]);
        // "a" answered; "b" was never reached, so the next request may probe it.
        c.settle(&ids, &plan, &[], Some(0), later);
        assert_eq!(c.plan(&ids, Vec::new(), later).probes, [1]);
    }
}
