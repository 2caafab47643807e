//! The writer thread's loop: batch, write, retry, drain on close.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use super::backend::{Backend, BackendError};
use super::holds::{self, HoldEnd};
use super::{Counters, LedgerError, LedgerOptions, Message, WARN_EVERY};
use crate::row::Row;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

struct Writer<'a> {
    backend: Box<dyn Backend>,
    counters: &'a Counters,
    options: &'a LedgerOptions,
    location: &'a str,
    pending: Vec<Row>,
    /// Shared holds to end once the rows before them are written.
    ends: Vec<HoldEnd>,
    /// When the oldest pending row arrived.
    oldest: Option<Instant>,
    /// After a failure: no new attempt before this.
    retry_at: Option<Instant>,
    backoff: Duration,
    last_error: Option<BackendError>,
    last_warning: Option<Instant>,
    failures_since_warning: u64,
}

/// How long the writer lets rows gather after one arrives (a close or a read waits at
/// most this much longer).
const GATHER: Duration = Duration::from_millis(5);

/// Runs until [`Message::Close`] or until every sender is gone; writes everything it can.
pub(super) fn run(
    backend: Box<dyn Backend>,
    rx: Receiver<Message>,
    counters: &Counters,
    options: &LedgerOptions,
    location: &str,
) {
    let mut writer = Writer {
        backend,
        counters,
        options,
        location,
        pending: Vec::new(),
        ends: Vec::new(),
        oldest: None,
        retry_at: None,
        backoff: FIRST_BACKOFF,
        last_error: None,
        last_warning: None,
        failures_since_warning: 0,
    };
    // Messages taken from the channel after a gather (see below), handled before waiting.
    let mut queued = std::collections::VecDeque::new();
    loop {
        let message = match writer.deadline() {
            _ if !queued.is_empty() => queued.pop_front(),
            Some(deadline) => {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(message) => Some(message),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => {
                        let _ = writer.finish(); // warns itself on failure
                        return;
                    }
                }
            }
            None => match rx.recv() {
                Ok(message) => Some(message),
                Err(_) => {
                    let _ = writer.finish(); // warns itself on failure
                    return;
                }
            },
        };
        match message {
            None => writer.write_if_due(),
            Some(Message::Row(row)) => {
                writer.push(*row);
                if writer.pending.len() >= options.batch_max {
                    writer.write_if_due();
                }
                // Under load rows come one per request: waking up for each one cost a
                // busy 2-core gateway a quarter of its throughput. Let them gather a
                // moment, then take all that came (at most the channel's capacity).
                if queued.is_empty() {
                    std::thread::sleep(GATHER);
                    while let Ok(message) = rx.try_recv() {
                        queued.push_back(message);
                    }
                }
            }
            Some(Message::EndHold(end)) => writer.push_end(end),
            Some(Message::Run(job)) => {
                writer.write_now();
                job(writer.backend.as_mut());
            }
            Some(Message::Close(reply)) => {
                // Everything already queued belongs to this ledger's life: take it too.
                loop {
                    match rx.try_recv() {
                        Ok(Message::Row(row)) => writer.push(*row),
                        Ok(Message::EndHold(end)) => writer.push_end(end),
                        Ok(Message::Run(job)) => {
                            writer.write_now();
                            job(writer.backend.as_mut());
                        }
                        Ok(Message::Close(other)) => {
                            let _ = other.send(Ok(()));
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                let _ = reply.send(writer.finish());
                return;
            }
        }
    }
}

impl Writer<'_> {
    /// When the loop must wake up: the pending batch's flush time, or the next retry.
    fn deadline(&self) -> Option<Instant> {
        let oldest = self.oldest?;
        let due = oldest + self.options.flush_interval;
        Some(match self.retry_at {
            Some(retry) => retry.max(due),
            None => due,
        })
    }

    /// Keeps a row; while the database refuses writes, at most `capacity` rows wait here
    /// (more are dropped and counted, so memory stays bounded).
    fn push(&mut self, row: Row) {
        if self.pending.len() >= self.options.capacity.max(self.options.batch_max) {
            self.counters
                .drop_row("the database has refused writes for a while");
            return;
        }
        self.pending.push(row);
        self.oldest.get_or_insert_with(Instant::now);
    }

    /// Keeps a hold's end (bounded like rows: a dropped one lapses in the database).
    fn push_end(&mut self, end: HoldEnd) {
        if self.ends.len() < self.options.capacity.max(self.options.batch_max) {
            self.ends.push(end);
            self.oldest.get_or_insert_with(Instant::now);
        }
    }

    fn write_if_due(&mut self) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        self.write_now();
    }

    /// One attempt at writing everything pending, in batches.
    fn write_now(&mut self) -> bool {
        while !self.pending.is_empty() {
            let n = self.pending.len().min(self.options.batch_max);
            match self.backend.insert(&self.pending[..n]) {
                Ok(()) => {
                    self.pending.drain(..n);
                    self.counters.written.fetch_add(n as u64, Ordering::Relaxed);
                    self.succeeded();
                }
                Err(e) => {
                    self.failed(e);
                    return false;
                }
            }
        }
        // The holds of requests whose rows are written: their cost is spend now.
        if !self.ends.is_empty() {
            let ends = std::mem::take(&mut self.ends);
            if let Err(e) = self.backend.holds(&mut |tx| holds::end(tx, &ends)) {
                self.ends = ends;
                self.failed(e);
                return false;
            }
        }
        self.oldest = None;
        true
    }

    fn succeeded(&mut self) {
        if self.last_error.take().is_some() {
            tracing::info!(location = self.location, "usage ledger: writing again");
        }
        self.retry_at = None;
        self.backoff = FIRST_BACKOFF;
    }

    fn failed(&mut self, error: BackendError) {
        let failures = self.counters.write_failures.fetch_add(1, Ordering::Relaxed) + 1;
        self.failures_since_warning += 1;
        let now = Instant::now();
        if self
            .last_warning
            .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
        {
            tracing::warn!(
                location = self.location,
                failures,
                pending = self.pending.len(),
                "usage ledger: writing failed ({}); {} row(s) kept and retried ({} failure(s) since the last warning)",
                error.message,
                self.pending.len(),
                self.failures_since_warning,
            );
            self.last_warning = Some(now);
            self.failures_since_warning = 0;
        }
        self.retry_at = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.last_error = Some(error);
    }

    /// Writes what is left, retrying for up to the close timeout.
    fn finish(&mut self) -> Result<(), LedgerError> {
        let deadline = Instant::now() + self.options.close_timeout;
        loop {
            if self.write_now() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = self
                .retry_at
                .map_or(FIRST_BACKOFF, |at| at.saturating_duration_since(now))
                .min(deadline - now);
            std::thread::sleep(wait);
        }
        let rows = self.pending.len() as u64;
        self.counters.dropped.fetch_add(rows, Ordering::Relaxed);
        let reason = self
            .last_error
            .as_ref()
            .map_or_else(String::new, |e| e.message.clone());
        tracing::warn!(
            location = self.location,
            rows,
            "usage ledger: {rows} row(s) lost at close: {reason}"
        );
        Err(LedgerError::Unflushed {
            rows,
            location: self.location.to_owned(),
            reason,
        })
    }
}
