//! The follower: a thread that keeps a gateway's keys and budgets in step with the
//! ledger database, so that `hfclaw keys …` and `hfclaw budget set` (run anywhere) and
//! other replicas' spend take effect without a restart.
//!
//! Every [`FOLLOW_INTERVAL`] it reads the keys, the global budget and the spend of the
//! UTC day and month (from the daily rollup: no rows), replaces the directory's database
//! keys, the budgets' limits and merges the spend; it writes when keys were last used. A
//! change is in effect on every replica within one interval plus one read (under 5 s).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::{KeyDirectory, KeyRecord, KeySource};
use crate::budget::{BudgetConfig, Budgets, GlobalBudget};
use crate::ledger::{Ledger, LedgerError};

/// How often the follower reads the database.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// The budgets given on the command line (`--budget-usd-per-day`, `--key-budget`): for
/// one box, they take precedence over the database's for this process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagBudgets {
    /// `--budget-usd-per-day`.
    pub usd_per_day: Option<f64>,
    /// `--key-budget LABEL=USD`, per UTC day.
    pub per_key_usd_per_day: Vec<(String, f64)>,
}

/// The limits in force: the database's global budget and key limits, with the flags'
/// over them.
pub fn effective_budgets(
    flags: &FlagBudgets,
    global: Option<GlobalBudget>,
    keys: &[KeyRecord],
) -> BudgetConfig {
    let global = global.unwrap_or_default();
    let mut config = BudgetConfig {
        usd_per_day: flags.usd_per_day.or(global.usd_per_day),
        usd_per_month: global.usd_per_month,
        ..BudgetConfig::default()
    };
    for key in keys {
        let limits = &key.settings.limits;
        if let Some(usd) = limits.usd_per_day {
            config.per_key_usd_per_day.insert(key.label.clone(), usd);
        }
        if let Some(usd) = limits.usd_per_month {
            config.per_key_usd_per_month.insert(key.label.clone(), usd);
        }
    }
    for (label, usd) in &flags.per_key_usd_per_day {
        config.per_key_usd_per_day.insert(label.clone(), *usd);
    }
    config
}

/// What the follower keeps in step.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The ledger (the database).
    pub ledger: Arc<Ledger>,
    /// The keys requests are checked against.
    pub directory: Arc<KeyDirectory>,
    /// The budgets requests reserve against.
    pub budgets: Arc<Budgets>,
    /// The command line's budgets.
    pub flags: FlagBudgets,
}

impl Followed {
    /// One read of the database into the directory and budgets (also done at start, so
    /// the gateway starts with the database's keys).
    pub fn sync(&self, seed: bool) -> Result<(), LedgerError> {
        let now = SystemTime::now();
        let keys = self.ledger.keys()?;
        let global = self.ledger.global_budget()?;
        let (today, month) = self.ledger.budget_spend(now)?;
        self.directory.set_database_keys(&keys);
        self.budgets
            .set_config(effective_budgets(&self.flags, global, &keys));
        if seed {
            self.budgets.seed(&today, &month, now);
        } else {
            self.budgets.sync(&today, &month, now);
        }
        Ok(())
    }

    /// Writes when the database's keys were last used, where that moved on since `written`.
    fn write_last_used(&self, written: &mut HashMap<String, i64>) -> Result<(), LedgerError> {
        let used: Vec<(String, i64)> = self
            .directory
            .entries()
            .iter()
            .filter(|e| e.source == KeySource::Database)
            .filter_map(|e| Some((e.label.clone(), e.last_used_ms()?)))
            .filter(|(label, ms)| written.get(label).is_none_or(|w| w < ms))
            .collect();
        self.ledger.touch_keys(used.clone())?;
        written.extend(used);
        Ok(())
    }
}

/// The running follower; stopped (and joined) by [`Follower::stop`] or when dropped.
#[derive(Debug)]
pub struct Follower {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts following every `interval` (a thread: ledger reads block).
    pub fn spawn(followed: Followed, interval: Duration) -> std::io::Result<Follower> {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::Builder::new()
            .name("hfclaw-follower".to_owned())
            .spawn(move || {
                let tick = Duration::from_millis(50).min(interval);
                let mut waited = Duration::ZERO;
                let mut written = HashMap::new();
                let mut failing = false;
                while flag.load(Ordering::Acquire) {
                    std::thread::sleep(tick);
                    waited += tick;
                    if waited < interval {
                        continue;
                    }
                    waited = Duration::ZERO;
                    let result = followed
                        .sync(false)
                        .and_then(|()| followed.write_last_used(&mut written));
                    match result {
                        Ok(()) if failing => {
                            failing = false;
                            tracing::info!("keys and budgets: reading the ledger again");
                        }
                        Ok(()) => {}
                        // Keys and budgets stay as last read; said once per outage.
                        Err(e) if !failing => {
                            failing = true;
                            tracing::warn!(error = %e, "keys and budgets: reading the ledger failed; keeping the last ones read");
                        }
                        Err(_) => {}
                    }
                }
            })?;
        Ok(Follower {
            running,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(&mut self) {
        self.running.store(false, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyLimits, KeySettings};

    #[test]
    fn flags_override_the_database_for_this_process() {
        let mut alice = KeyRecord::new(
            "alice",
            "hfk_a",
            SystemTime::UNIX_EPOCH,
            KeySettings {
                limits: KeyLimits {
                    usd_per_day: Some(5.0),
                    usd_per_month: Some(50.0),
                    ..KeyLimits::default()
                },
                ..KeySettings::default()
            },
        );
        alice.last_used_ms = None;
        let flags = FlagBudgets {
            usd_per_day: Some(20.0),
            per_key_usd_per_day: vec![("alice".into(), 2.0), ("ci".into(), 1.0)],
        };
        let global = GlobalBudget {
            usd_per_day: Some(30.0),
            usd_per_month: Some(300.0),
        };
        let config = effective_budgets(&flags, Some(global), &[alice]);
        assert_eq!(config.usd_per_day, Some(20.0));
        assert_eq!(config.usd_per_month, Some(300.0));
        assert_eq!(config.per_key_usd_per_day.get("alice"), Some(&2.0));
        assert_eq!(config.per_key_usd_per_day.get("ci"), Some(&1.0));
        assert_eq!(config.per_key_usd_per_month.get("alice"), Some(&50.0));
        assert!(effective_budgets(&FlagBudgets::default(), None, &[]).is_empty());
    }
}
