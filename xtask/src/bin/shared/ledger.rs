//! Usage-ledger measurements for `cargo xtask bench` (bench-runner subcommands).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use hfclaw_accounting::{
    Api, Cost, Ledger, LedgerOptions, LedgerSpec, Outcome, Row, Usage, key_label,
};

use super::emit::emit;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A realistic row: one of 24 models, 6 providers, 4 keys, 3 APIs; 3% errors; spread over
/// the 30 days before now.
fn sample_row(i: u64, now: SystemTime) -> Row {
    const PROVIDERS: [&str; 6] = [
        "together",
        "cerebras",
        "novita",
        "groq",
        "fireworks-ai",
        "sambanova",
    ];
    const APIS: [Api; 3] = [Api::Chat, Api::Messages, Api::Responses];
    let model = format!("huggingface/org-{}/Model-{}-Instruct", i % 6, i % 24);
    let error = i.is_multiple_of(33);
    let age = Duration::from_millis((i * 2_591) % (30 * 86_400_000));
    Row {
        key: Some(key_label(&format!("client-key-{}", i % 4))),
        answered_ref: (!error).then(|| model.clone()),
        provider: (!error).then(|| PROVIDERS[(i % 6) as usize].to_owned()),
        fallback_index: Some(i.is_multiple_of(7) as u32),
        outcome: if error {
            Outcome::error("rate_limited")
        } else {
            Outcome::Ok
        },
        status: Some(if error { 429 } else { 200 }),
        usage: (!error).then_some(Usage {
            input_tokens: 1_000 + i % 9_000,
            output_tokens: 50 + i % 2_000,
            cached_tokens: i.is_multiple_of(3).then_some(512),
            cache_write_tokens: None,
        }),
        cost: (!error).then_some(Cost {
            usd: 0.0001 * (1 + i % 50) as f64,
            estimated: i.is_multiple_of(5),
        }),
        ttfb: Some(Duration::from_millis(100 + i % 900)),
        total: Duration::from_millis(800 + i % 20_000),
        streamed: !i.is_multiple_of(4),
        ..Row::new(now - age, APIS[(i % 3) as usize], model)
    }
}

/// `ledger-fill PATH ROWS`: writes ROWS rows through a ledger and reports the file size
/// per 1M rows against the same rows as JSON lines, then the writer's cost per row
/// (queue, insert, rollup, commit; batches of 10,000) against encoding the row as JSON.
pub fn fill(args: &[String]) -> Result<()> {
    let [path, rows] = args else {
        return Err("usage: bench-runner ledger-fill PATH ROWS".into());
    };
    let rows: u64 = rows.parse()?;
    let path = Path::new(path);
    let _ = std::fs::remove_file(path);
    const CHUNK: u64 = 10_000;
    let options = LedgerOptions {
        batch_max: CHUNK as usize,
        close_timeout: Duration::from_secs(60),
        ..LedgerOptions::default()
    };
    let ledger = Ledger::open_with(&LedgerSpec::Sqlite(path.to_owned()), options)?;
    let recorder = ledger.recorder();
    let now = SystemTime::now();
    let mut json_bytes = 0u64;
    let mut writing = Duration::ZERO;
    let mut encoding = Duration::ZERO;
    let started = Instant::now();
    for chunk_start in (0..rows).step_by(CHUNK as usize) {
        let chunk: Vec<Row> = (chunk_start..rows.min(chunk_start + CHUNK))
            .map(|i| sample_row(i, now))
            .collect();
        let t = Instant::now();
        for row in &chunk {
            json_bytes += serde_json::to_vec(row)?.len() as u64 + 1;
        }
        encoding += t.elapsed();
        // Timed: the rows through the queue and the writer, committed (the chunk fits the
        // queue, so nothing is dropped).
        let t = Instant::now();
        for row in chunk {
            recorder.record(row);
        }
        ledger.flush()?;
        writing += t.elapsed();
    }
    ledger.close()?;
    let stats = ledger.stats();
    if stats.written != rows {
        return Err(format!("wrote {} of {rows} rows ({stats:?})", stats.written).into());
    }
    eprintln!(
        "ledger-fill: {rows} rows in {:.1} s ({:.1} s of it writing)",
        started.elapsed().as_secs_f64(),
        writing.as_secs_f64()
    );
    let wal = path.with_extension("sqlite3-wal");
    let size = std::fs::metadata(path)?.len() + std::fs::metadata(&wal).map_or(0, |m| m.len());
    let per_million = |bytes: u64| bytes as f64 / rows as f64 * 1e6 / 1e6;
    emit(
        "ledger file size per 1M rows",
        per_million(size),
        "MB",
        "the rows as JSON lines",
        per_million(json_bytes),
    );
    let us_per_row = |d: Duration| d.as_secs_f64() * 1e6 / rows as f64;
    emit(
        "ledger writer, per row (batches of 10k)",
        us_per_row(writing),
        "µs/row",
        "encoding the row as JSON",
        us_per_row(encoding),
    );
    Ok(())
}

/// `ledger-record`: the cost of `Recorder::record` on the request path, against cloning
/// the row (what building one costs a handler anyway).
pub fn record() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::open(&LedgerSpec::Sqlite(dir.path().join("u.sqlite3")))?;
    let recorder = ledger.recorder();
    let template = sample_row(7, SystemTime::now());
    const BATCH: u32 = 2_000;
    let mut best_record = Duration::MAX;
    let mut best_clone = Duration::MAX;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let rows: Vec<Row> = (0..BATCH).map(|_| template.clone()).collect();
        let t = Instant::now();
        for row in rows {
            recorder.record(row);
        }
        best_record = best_record.min(t.elapsed());
        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(template.clone());
        }
        best_clone = best_clone.min(t.elapsed());
        // Let the writer drain so the queue never fills (a full queue drops, cheaply).
        ledger.flush()?;
    }
    let stats = ledger.stats();
    ledger.close()?;
    if stats.dropped > 0 {
        return Err(format!("the bench dropped rows: {stats:?}").into());
    }
    let ns = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(BATCH);
    emit(
        "ledger record() on the request path",
        ns(best_record),
        "ns/row",
        "cloning the row",
        ns(best_clone),
    );
    Ok(())
}
