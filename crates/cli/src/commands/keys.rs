//! `hfclaw keys …` and `hfclaw budget set`: client keys and the global budget in the
//! ledger database, where every gateway on it reads them (within 5 s). A key is printed
//! once, when made; the database keeps its hash and a prefix.

use std::time::SystemTime;

use hfclaw_accounting::keys::{self, KeyLimits, KeyRecord, KeySettings, file};
use hfclaw_accounting::time::{format_minute, parse_expiry, unix_ms};
use hfclaw_accounting::{GlobalBudget, Ledger, Spend, format_usd};
use serde_json::{Value, json};

use crate::args::{
    BudgetCommand, KeyCreateArgs, KeySettingsArgs, KeyUpdateArgs, KeysCommand, LedgerLocation,
};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::{print_data, table_text};

/// Runs `keys …`.
pub fn run(ctx: &Context, command: &KeysCommand) -> CliResult {
    match command {
        KeysCommand::Create(args) => create(ctx, args),
        KeysCommand::List(args) => list(&args.ledger, args.json),
        KeysCommand::Revoke(args) => {
            let ledger = open(&args.ledger)?;
            let mut record = ledger.find_key(&args.key)?;
            if record.settings.revoked_ms.is_some() {
                ctx.messages
                    .note(format!("the key {:?} was revoked already", record.label));
            } else {
                record.settings.revoked_ms = Some(unix_ms(SystemTime::now()));
                ledger.update_key(&record)?;
                ctx.messages.status(format!(
                    "revoked the key {:?} ({}): every gateway on this ledger refuses it within 5 s",
                    record.label, record.prefix
                ));
            }
            Ok(ledger.close()?)
        }
        KeysCommand::Update(args) => update(ctx, args),
        KeysCommand::Import(args) => {
            let keys = file::read(&args.file)
                .map_err(|e| CliError::input(e.to_string()).hint(e.hint()))?;
            file::check_unique(keys.iter().map(|k| (k.label.as_str(), k.hash())))
                .map_err(|e| CliError::input(e.to_string()).hint(e.hint()))?;
            let ledger = open(&args.ledger)?;
            let now = SystemTime::now();
            let (mut added, mut present) = (0, 0);
            for key in &keys {
                let settings = KeySettings {
                    admin: key.admin,
                    ..KeySettings::default()
                };
                match ledger.add_key(&KeyRecord::new(&key.label, &key.secret, now, settings)) {
                    Ok(()) => added += 1,
                    // Imported before: nothing to do.
                    Err(hfclaw_accounting::LedgerError::KeyTaken { label, existing })
                        if label == existing
                            && ledger
                                .find_key(&label)
                                .is_ok_and(|r| r.hash.same(&key.hash())) =>
                    {
                        present += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            ctx.messages.status(format!(
                "imported {added} key(s) from {} into {} ({present} were there already); \
                 the gateway reads them from there: drop --api-key-file and delete the file",
                args.file.display(),
                ledger.location()
            ));
            Ok(ledger.close()?)
        }
    }
}

/// Runs `budget …`.
pub fn budget(ctx: &Context, command: &BudgetCommand) -> CliResult {
    let BudgetCommand::Set(args) = command;
    let ledger = open(&args.ledger)?;
    let mut budget = ledger.global_budget()?.unwrap_or_default();
    if let Some(v) = optional_number(args.usd_per_day.as_deref(), "--usd-per-day", usd)? {
        budget.usd_per_day = v;
    }
    if let Some(v) = optional_number(args.usd_per_month.as_deref(), "--usd-per-month", usd)? {
        budget.usd_per_month = v;
    }
    ledger.set_global_budget(&budget)?;
    ctx.messages.status(match budget_text(&budget) {
        Some(text) => {
            format!("global budget: {text}; every gateway on this ledger enforces it within 5 s")
        }
        None => "no global budget".to_owned(),
    });
    Ok(ledger.close()?)
}

fn budget_text(budget: &GlobalBudget) -> Option<String> {
    let parts: Vec<String> = [
        budget
            .usd_per_day
            .map(|v| format!("{} per UTC day", format_usd(v, false))),
        budget
            .usd_per_month
            .map(|v| format!("{} per UTC month", format_usd(v, false))),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn open(location: &LedgerLocation) -> CliResult<Ledger> {
    let spec = crate::ledger::spec_at(location)?;
    crate::ledger::open(&spec)
}

fn create(ctx: &Context, args: &KeyCreateArgs) -> CliResult {
    if !keys::valid_label(&args.label) {
        return Err(CliError::input(format!(
            "invalid label {:?}: use letters, digits, `-`, `_` and `.` (at most 64)",
            args.label
        ))
        .hint("e.g. `hfclaw keys create alice`"));
    }
    let now = SystemTime::now();
    let mut settings = KeySettings {
        admin: args.admin,
        ..KeySettings::default()
    };
    apply(&mut settings, &args.settings, unix_ms(now))?;
    let ledger = open(&args.ledger)?;
    let secret = keys::new_secret().map_err(|e| CliError::runtime(e.to_string()))?;
    let record = KeyRecord::new(&args.label, &secret, now, settings);
    ledger.add_key(&record)?;
    ledger.close()?;
    if args.json {
        let mut object = key_json(&record, &Spend::default(), &Spend::default(), now);
        object["key"] = json!(secret);
        print_data(&format!("{:#}\n", object))?;
    } else {
        print_data(&format!("{secret}\n"))?;
    }
    ctx.messages.status(format!(
        "created the key {:?} ({}): it is shown only now, so store it where the client reads it",
        record.label, record.prefix
    ));
    Ok(())
}

fn update(ctx: &Context, args: &KeyUpdateArgs) -> CliResult {
    let ledger = open(&args.ledger)?;
    let mut record = ledger.find_key(&args.key)?;
    apply(
        &mut record.settings,
        &args.settings,
        unix_ms(SystemTime::now()),
    )?;
    if let Some(admin) = args.admin {
        record.settings.admin = admin;
    }
    ledger.update_key(&record)?;
    ctx.messages.status(format!(
        "updated the key {:?}: {}; every gateway on this ledger applies it within 5 s",
        record.label,
        limits_text(&record.settings)
    ));
    Ok(ledger.close()?)
}

/// Applies the flags given (`none`, `never`, `any` remove a setting).
fn apply(settings: &mut KeySettings, args: &KeySettingsArgs, now: i64) -> CliResult {
    let limits = &mut settings.limits;
    if let Some(v) = optional_number(
        args.budget_usd_per_day.as_deref(),
        "--budget-usd-per-day",
        usd,
    )? {
        limits.usd_per_day = v;
    }
    if let Some(v) = optional_number(
        args.budget_usd_per_month.as_deref(),
        "--budget-usd-per-month",
        usd,
    )? {
        limits.usd_per_month = v;
    }
    if let Some(v) = optional_number(args.rpm.as_deref(), "--rpm", count)? {
        limits.rpm = v.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(v) = optional_number(args.tpm.as_deref(), "--tpm", count)? {
        limits.tpm = v;
    }
    if let Some(text) = &args.expires {
        settings.expires_ms = if text.trim() == "never" {
            None
        } else {
            let at = parse_expiry(text, now).ok_or_else(|| {
                CliError::input(format!("invalid --expires {text:?}"))
                    .hint("a duration from now (30d, 12h, 2w), a UTC date (2027-01-31) or `never`")
            })?;
            if at <= now {
                return Err(CliError::input(format!(
                    "--expires {text:?} is in the past ({})",
                    format_minute(at)
                ))
                .hint("to stop a key now, run `hfclaw keys revoke LABEL`"));
            }
            Some(at)
        };
    }
    if let Some(text) = &args.models {
        settings.models = if text.trim() == "any" {
            Vec::new()
        } else {
            let models: Vec<String> = text
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            if models.is_empty() {
                return Err(CliError::input("--models names no model")
                    .hint("comma-separated refs or aliases, or `any`"));
            }
            models
        };
    }
    Ok(())
}

fn usd(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn count(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n > 0)
}

/// `None`: the flag was not given; `Some(None)`: `none` (remove); `Some(Some(v))`: set.
fn optional_number<T>(
    text: Option<&str>,
    flag: &str,
    parse: fn(&str) -> Option<T>,
) -> CliResult<Option<Option<T>>> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    if text == "none" {
        return Ok(Some(None));
    }
    parse(text).map(|v| Some(Some(v))).ok_or_else(|| {
        CliError::input(format!("invalid {flag} {text:?}"))
            .hint("a positive number (USD for budgets), or `none` to remove the limit")
    })
}

/// `$5.00/day $50.00/month 60 rpm 100000 tpm models: a, b admin`, or `no limits`.
fn limits_text(settings: &KeySettings) -> String {
    let KeyLimits {
        usd_per_day,
        usd_per_month,
        rpm,
        tpm,
    } = settings.limits;
    let mut parts: Vec<String> = [
        usd_per_day.map(|v| format!("{}/day", format_usd(v, false))),
        usd_per_month.map(|v| format!("{}/month", format_usd(v, false))),
        rpm.map(|n| format!("{n} rpm")),
        tpm.map(|n| format!("{n} tpm")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !settings.models.is_empty() {
        parts.push(format!("models: {}", settings.models.join(",")));
    }
    if settings.admin {
        parts.push("admin".to_owned());
    }
    if parts.is_empty() {
        "no limits".to_owned()
    } else {
        parts.join(" ")
    }
}

fn key_json(record: &KeyRecord, today: &Spend, month: &Spend, now: SystemTime) -> Value {
    let s = &record.settings;
    let spent = |spend: &Spend| spend.per_key_usd.get(&record.label).copied().unwrap_or(0.0);
    json!({
        "label": record.label,
        "prefix": record.prefix,
        "created_ms": s.created_ms,
        "expires_ms": s.expires_ms,
        "revoked_ms": s.revoked_ms,
        "last_used_ms": record.last_used_ms,
        "limits": s.limits,
        "models": s.models,
        "admin": s.admin,
        "spent_today_usd": spent(today),
        "spent_this_month_usd": spent(month),
        "state": record.state(now),
    })
}

fn list(location: &LedgerLocation, json: bool) -> CliResult {
    let ledger = open(location)?;
    let now = SystemTime::now();
    let records = ledger.keys()?;
    let (today, month) = ledger.budget_spend(now)?;
    ledger.close()?;
    if json {
        let rows: Vec<Value> = records
            .iter()
            .map(|r| key_json(r, &today, &month, now))
            .collect();
        return print_data(&format!("{:#}\n", Value::Array(rows)));
    }
    if records.is_empty() {
        return Err(CliError::input("no client keys in this ledger yet")
            .hint("make one with `hfclaw keys create LABEL`"));
    }
    let time = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), format_minute);
    let spent = |spend: &Spend, label: &str| {
        format_usd(spend.per_key_usd.get(label).copied().unwrap_or(0.0), false)
    };
    let text = table_text(
        &[
            "LABEL",
            "PREFIX",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "LIMITS",
            "TODAY",
            "MONTH",
            "STATE",
        ],
        &[6, 7],
        &records,
        |r, out| {
            out.push(&r.label);
            out.push(&r.prefix);
            out.push(&time(Some(r.settings.created_ms)));
            out.push(&time(r.settings.expires_ms));
            out.push(&time(r.last_used_ms));
            out.push(&limits_text(&r.settings));
            out.push(&spent(&today, &r.label));
            out.push(&spent(&month, &r.label));
            out.push(r.state(now));
        },
    );
    print_data(&format!("{text}\n"))
}
