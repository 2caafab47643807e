//! The line format the bench binaries share with `cargo xtask bench`.

/// Prints one measurement as a JSON line: `{"name", "value", "unit", "baseline",
/// "baseline_value"}` (read by `xtask/src/bench.rs`).
pub fn emit(name: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    let line = serde_json::json!({
        "name": name, "value": value, "unit": unit,
        "baseline": baseline, "baseline_value": baseline_value,
    });
    println!("{line}");
}
