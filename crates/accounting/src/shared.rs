//! Budgets and per-key rate limits shared by the replicas of one ledger database
//! (issue 22, items 2 and 3).
//!
//! Each request that a budget or its key's rpm/tpm applies to is a row of `hfclaw_holds`
//! ([`crate::ledger`]'s `holds`): its worst-case cost held until it ends, its start
//! counted in its key's requests of the last minute, its tokens (when it ends) in its
//! key's tokens of the last minute. The check and the insert are one transaction that
//! excludes the other replicas' (SQLite `BEGIN IMMEDIATE`, PostgreSQL a table lock), on a
//! connection and a thread of their own (the reserver). A request's hold ends in the
//! ledger writer's queue behind the request's row, so its cost is spend before the hold
//! lets go (a moment counted twice, never not at all).
//!
//! **The fast path.** A database round trip per request would cost more than the whole
//! gateway. So a replica keeps the totals its last transaction read (its view) and may
//! admit **one request at a time** on that view without waiting: when nothing of its own
//! is on the way to the database and the view has room, the request goes ahead and its
//! row is written behind it (the write answers a fresh view). Every other request — while
//! one is on its way, or when the view has no room — waits for the database's check. A
//! view never refuses: a request the view has no room for is checked by the database, so
//! a limit never trips early because of a stale view.
//!
//! **The bounds.** Everything admitted is in the database but for at most one request
//! per replica, and every request the database checked found room for itself counting
//! all that it holds. So across N replicas on one database a budget is passed by at most
//! one request's reservation per replica (plus the error of a worst-case estimate), and a
//! key's requests in any minute exceed its rpm by at most one per replica (tpm likewise:
//! tokens are counted when answers end, so requests in flight can pass it, as on one
//! replica). When the database cannot be reached, requests are admitted on the
//! replica's own counts (the follower's 2 s bound across replicas), with a warning.

use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::budget::{BudgetExceeded, BudgetPeriod, BudgetScope};
use crate::keys::rate::RateExceeded;
use crate::ledger::holds::{self, HoldEnd, HoldOp, period_start_day};
use crate::ledger::{Ledger, LedgerError, Recorder};
use crate::time::unix_ms;

/// How long the reserver waits for another connection's lock (SQLite) before a check
/// counts as failed.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// How often a replica renews its open holds and deletes rows nobody counts.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// One budget that applies to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLimit {
    /// Global or a key's.
    pub scope: BudgetScope,
    /// Day or month.
    pub period: BudgetPeriod,
    /// USD per period.
    pub limit: f64,
}

/// What a request asks of the shared limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claim {
    /// Its key's label.
    pub key: Option<String>,
    /// Its worst-case cost, USD.
    pub usd: f64,
    /// The budgets that apply to it.
    pub budgets: Vec<BudgetLimit>,
    /// Its key's requests per minute.
    pub rpm: Option<u32>,
    /// Its key's tokens per minute.
    pub tpm: Option<u64>,
}

impl Claim {
    /// True when nothing limits the request (then it needs no row).
    pub fn is_free(&self) -> bool {
        self.budgets.is_empty() && self.rpm.is_none() && self.tpm.is_none()
    }
}

/// Why the database refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    /// It could pass a budget.
    #[error(transparent)]
    Budget(BudgetExceeded),
    /// Its key is over its requests or tokens per minute.
    #[error(transparent)]
    Rate(RateExceeded),
}

/// A total a replica keeps from its last read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewKey {
    /// Spend plus holds of a budget in the period starting on this UTC day.
    Budget(BudgetScope, BudgetPeriod, i64),
    /// A key's requests in the last minute.
    Requests(String),
    /// A key's tokens in the last minute.
    Tokens(String),
}

#[derive(Debug, Default)]
struct State {
    /// This replica's requests on their way to the database (queued or being checked),
    /// with their end when they ended before their row was written (sent after it).
    unwritten: HashMap<i64, Option<HoldEnd>>,
    view: HashMap<ViewKey, f64>,
    /// Sequence numbers of this replica's holds not yet ended.
    open: BTreeSet<i64>,
    next_seq: i64,
    /// The database failed last time (warned once).
    failing: bool,
}

impl State {
    /// True when the view has room for `claim` (a missing total: no).
    fn fits(&self, claim: &Claim, now_ms: i64) -> bool {
        let view = |key: &ViewKey| self.view.get(key).copied();
        let budgets = claim.budgets.iter().all(|b| {
            let key = ViewKey::Budget(
                b.scope.clone(),
                b.period,
                period_start_day(b.period, now_ms),
            );
            view(&key).is_some_and(|committed| committed + claim.usd <= b.limit)
        });
        let label = || claim.key.clone().unwrap_or_default();
        let rpm = claim.rpm.is_none_or(|rpm| {
            view(&ViewKey::Requests(label())).is_some_and(|n| n + 1.0 <= f64::from(rpm))
        });
        let tpm = claim
            .tpm
            .is_none_or(|tpm| view(&ViewKey::Tokens(label())).is_some_and(|n| n < tpm as f64));
        budgets && rpm && tpm
    }
}

type Reply = Box<dyn FnOnce(Result<(), Refused>) + Send>;

struct Op {
    seq: i64,
    claim: Claim,
    now_ms: i64,
    /// `None`: admitted already (written behind the request).
    reply: Option<Reply>,
}

struct Inner {
    replica: Arc<str>,
    state: Mutex<State>,
    /// The ledger writer's queue, where holds end behind their rows.
    ledger: Recorder,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The shared limits of one replica: `Sync`, one per gateway.
pub struct SharedLimits {
    inner: Arc<Inner>,
    ops: Mutex<Option<Sender<Op>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SharedLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimits")
            .field("replica", &self.inner.replica)
            .finish_non_exhaustive()
    }
}

/// A request's row in the shared limits: [`SharedHold::end`] it when the request is over
/// (after its ledger row was recorded); dropped, it ends with no tokens.
#[derive(Debug)]
pub struct SharedHold {
    inner: Arc<Inner>,
    seq: i64,
    keep: bool,
    open: bool,
}

impl SharedHold {
    /// Ends the hold; `tokens` count for the key's tokens per minute.
    pub fn end(mut self, tokens: u64) {
        self.finish(tokens);
    }

    fn finish(&mut self, tokens: u64) {
        if !std::mem::take(&mut self.open) {
            return;
        }
        let end = HoldEnd {
            replica: self.inner.replica.clone(),
            seq: self.seq,
            ended_ms: unix_ms(SystemTime::now()),
            tokens,
            keep: self.keep,
        };
        let mut state = self.inner.lock();
        state.open.remove(&self.seq);
        // Its row is not written yet: the reserver sends the end after it.
        if let Some(slot) = state.unwritten.get_mut(&self.seq) {
            *slot = Some(end);
            return;
        }
        drop(state);
        self.inner.ledger.end_hold(end);
    }
}

impl Drop for SharedHold {
    fn drop(&mut self) {
        self.finish(0);
    }
}

impl SharedLimits {
    /// Starts the reserver on a connection of its own to `ledger`'s database; `None`
    /// for a ledger that cannot make one (tests' in-memory ledgers).
    pub fn start(ledger: &Ledger) -> Result<Option<SharedLimits>, LedgerError> {
        let Some(backend) = ledger.connect_again() else {
            return Ok(None);
        };
        let mut backend = backend?;
        // Two replicas' writers and reservers take turns on one SQLite file: on a busy
        // machine a turn can take longer than the writer's half second, and a failed
        // check admits on this replica's own counts. A request rather waits.
        backend.wait_for_locks(LOCK_WAIT);
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| LedgerError::Open {
            location: ledger.location().to_owned(),
            reason: format!("cannot get random bytes for the replica's id: {e}"),
        })?;
        let replica: Arc<str> = id
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        let inner = Arc::new(Inner {
            replica,
            state: Mutex::new(State {
                next_seq: 1,
                ..State::default()
            }),
            ledger: ledger.recorder(),
        });
        let (tx, rx) = mpsc::channel();
        let thread_inner = inner.clone();
        let thread = std::thread::Builder::new()
            .name("hfclaw-reserver".to_owned())
            .spawn(move || reserver(backend, rx, &thread_inner))
            .map_err(|e| LedgerError::Open {
                location: ledger.location().to_owned(),
                reason: format!("cannot start the reserver thread: {e}"),
            })?;
        Ok(Some(SharedLimits {
            inner,
            ops: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// This replica's id in the database.
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    /// Admits `claim` or refuses it: `done` is called with the answer, at once when the
    /// replica's view has room and nothing of its own is on its way to the database,
    /// else once the database checked it (on the reserver thread: keep `done` short).
    pub fn admit(
        &self,
        claim: Claim,
        done: impl FnOnce(Result<SharedHold, Refused>) + Send + 'static,
    ) {
        let now_ms = unix_ms(SystemTime::now());
        let keep = claim.rpm.is_some() || claim.tpm.is_some();
        let (seq, at_once) = {
            let mut state = self.inner.lock();
            let seq = state.next_seq;
            state.next_seq += 1;
            let at_once = state.unwritten.is_empty() && state.fits(&claim, now_ms);
            state.unwritten.insert(seq, None);
            state.open.insert(seq);
            (seq, at_once)
        };
        let hold = SharedHold {
            inner: self.inner.clone(),
            seq,
            keep,
            open: true,
        };
        if at_once {
            self.send(Op {
                seq,
                claim,
                now_ms,
                reply: None,
            });
            done(Ok(hold));
            return;
        }
        let inner = self.inner.clone();
        self.send(Op {
            seq,
            claim,
            now_ms,
            reply: Some(Box::new(move |result| match result {
                Ok(()) => done(Ok(hold)),
                Err(refused) => {
                    let mut hold = hold;
                    hold.open = false;
                    inner.lock().open.remove(&seq);
                    done(Err(refused));
                }
            })),
        });
    }

    fn send(&self, op: Op) {
        let sent = match &*self.ops.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(tx) => tx.send(op).map_err(|e| e.0),
            None => Err(op),
        };
        // The reserver is gone (shutting down): admitted on this replica's counts.
        if let Err(op) = sent {
            self.inner.lock().unwritten.remove(&op.seq);
            if let Some(reply) = op.reply {
                reply(Ok(()));
            }
        }
    }

    /// Stops the reserver (answering what it holds) and waits for it.
    pub fn stop(&self) {
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = thread.join();
        }
    }
}

impl Drop for SharedLimits {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The reserver thread: checks and records batches of requests, renews holds.
fn reserver(
    mut backend: Box<dyn crate::ledger::backend::Backend>,
    rx: Receiver<Op>,
    inner: &Inner,
) {
    let mut renewed = Instant::now();
    loop {
        let wait = HEARTBEAT.saturating_sub(renewed.elapsed());
        let first = match rx.recv_timeout(wait) {
            Ok(op) => Some(op),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut ops: Vec<Op> = first.into_iter().collect();
        while let Ok(op) = rx.try_recv() {
            ops.push(op);
        }
        if !ops.is_empty() {
            run_batch(backend.as_mut(), ops, inner);
        }
        if renewed.elapsed() >= HEARTBEAT {
            renewed = Instant::now();
            let oldest = inner.lock().open.first().copied().unwrap_or(i64::MAX);
            let now = unix_ms(SystemTime::now());
            if let Err(e) = backend.holds(&mut |tx| holds::renew(tx, &inner.replica, oldest, now)) {
                tracing::debug!("shared limits: renewing holds failed: {}", e.message);
            }
        }
    }
}

fn run_batch(backend: &mut dyn crate::ledger::backend::Backend, ops: Vec<Op>, inner: &Inner) {
    let mut results = Vec::with_capacity(ops.len());
    let outcome = backend.holds(&mut |tx| {
        results.clear();
        for op in &ops {
            results.push(holds::check(
                tx,
                &HoldOp {
                    replica: &inner.replica,
                    seq: op.seq,
                    claim: &op.claim,
                    now_ms: op.now_ms,
                    verify: op.reply.is_some(),
                },
            )?);
        }
        Ok(())
    });
    let mut replies: Vec<(Reply, Result<(), Refused>)> = Vec::new();
    let mut ends = Vec::new();
    {
        let mut state = inner.lock();
        for op in &ops {
            if let Some(Some(end)) = state.unwritten.remove(&op.seq) {
                ends.push(end);
            }
        }
        match outcome {
            Ok(()) => {
                if std::mem::take(&mut state.failing) {
                    tracing::info!("shared limits: the database answers again");
                }
                for (op, checked) in ops.into_iter().zip(results) {
                    state.view.extend(checked.view);
                    if let Some(reply) = op.reply {
                        replies.push((reply, checked.refused.map_or(Ok(()), Err)));
                    }
                }
            }
            Err(e) => {
                if !std::mem::replace(&mut state.failing, true) {
                    tracing::warn!(
                        "shared limits: the database failed ({}); admitting requests on this replica's own counts until it answers",
                        e.message
                    );
                }
                replies.extend(
                    ops.into_iter()
                        .filter_map(|op| op.reply.map(|r| (r, Ok(())))),
                );
            }
        }
    }
    for end in ends {
        inner.ledger.end_hold(end);
    }
    for (reply, result) in replies {
        reply(result);
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
