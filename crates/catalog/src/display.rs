//! How catalog numbers read in hfclaw's tables, so `models list`, `models show` and the
//! pickers print them alike.
//!
//! Context sizes follow the convention model cards use: a multiple of 1,024 counts in
//! binary thousands (131,072 → `128K`, 32,768 → `32K`), any other number in decimal
//! thousands (64,000 → `64K`, 123,000 → `123K`); millions the same way (1,048,576 → `1M`,
//! 1,000,000 → `1M`). One decimal at most, dropped when it is zero (65,535 → `65.5K`).

use std::fmt::Write as _;

/// What a table shows for a value the data does not state (never `0`).
pub const MISSING: &str = "—";

/// A context size in tokens, e.g. `128K` (see the module docs for the convention).
pub fn context_size(tokens: u64) -> String {
    let mut text = String::new();
    write_context_size(&mut text, tokens);
    text
}

/// [`context_size`] appended to `out`: a table of 100,000s of rows formats one per row.
pub fn write_context_size(out: &mut String, tokens: u64) {
    let (value, unit) = if tokens.is_multiple_of(1024) && tokens >= 1024 {
        scaled(tokens as f64 / 1024.0, 1024.0)
    } else if tokens >= 1000 {
        scaled(tokens as f64 / 1000.0, 1000.0)
    } else {
        let _ = write!(out, "{tokens}");
        return;
    };
    let start = out.len();
    let _ = write!(out, "{value:.1}");
    if out[start..].ends_with(".0") {
        out.truncate(out.len() - 2);
    }
    out.push_str(unit);
}

/// Thousands to `K`, or to `M` from a thousand thousands on.
fn scaled(thousands: f64, base: f64) -> (f64, &'static str) {
    if thousands >= base {
        (thousands / base, "M")
    } else {
        (thousands, "K")
    }
}

/// A price in USD per 1M tokens: at least two decimals, up to four when the price has
/// them (`3.00`, `0.17`, `0.037`, `0.0005`).
pub fn price(usd: f64) -> String {
    let mut text = String::new();
    write_price(&mut text, usd);
    text
}

/// [`price`] appended to `out`.
pub fn write_price(out: &mut String, usd: f64) {
    let start = out.len();
    let _ = write!(out, "{usd:.4}");
    match out[start..].find('.') {
        Some(dot) => {
            // Trailing zeros go, down to two decimals.
            let keep = start + dot + 3;
            while out.len() > keep && out.ends_with('0') {
                out.pop();
            }
        }
        None => out.push_str(".00"),
    }
}

/// Input/output prices, e.g. `0.15/0.60`.
pub fn prices(input: f64, output: f64) -> String {
    let mut text = String::new();
    write_prices(&mut text, input, output);
    text
}

/// [`prices`] appended to `out`.
pub fn write_prices(out: &mut String, input: f64, output: f64) {
    write_price(out, input);
    out.push('/');
    write_price(out, output);
}

/// A price range, `0.10/0.70–1.75/7.00`: the cheapest offering's in/out to the
/// priciest's, for a ref whose provider is unknown.
pub fn write_price_range(out: &mut String, low: (f64, f64), high: (f64, f64)) {
    write_prices(out, low.0, low.1);
    out.push('–');
    write_prices(out, high.0, high.1);
}

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Tokens per second, e.g. `48.3`.
pub fn throughput(tokens_per_second: f64) -> String {
    format!("{tokens_per_second:.1}")
}

/// A latency: `446 ms` below a second, else `1.8 s`.
pub fn latency(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// `yes`, `no` or [`MISSING`].
pub fn flag(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => MISSING,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_sizes_read_as_model_cards_write_them() {
        for (tokens, text) in [
            (64_000, "64K"),
            (131_072, "128K"),
            (163_840, "160K"),
            (32_768, "32K"),
            (40_960, "40K"),
            (202_752, "198K"),
            (262_144, "256K"),
            (123_000, "123K"),
            (6_000, "6K"),
            (65_535, "65.5K"),
            (1_048_576, "1M"),
            (1_000_000, "1M"),
            (1_572_864, "1.5M"),
            (512, "512"),
            (0, "0"),
        ] {
            assert_eq!(context_size(tokens), text, "{tokens}");
        }
    }

    #[test]
    fn prices_keep_the_digits_that_matter() {
        assert_eq!(price(3.0), "3.00");
        assert_eq!(price(0.17), "0.17");
        assert_eq!(price(0.037), "0.037");
        assert_eq!(price(0.30000000000000004), "0.30");
        assert_eq!(price(0.0005), "0.0005");
        assert_eq!(price(0.0), "0.00");
        assert_eq!(prices(0.15, 0.6), "0.15/0.60");
        assert_eq!(price(f64::NAN), "NaN.00", "as before the buffered writer");
        assert_eq!(price(-1.5), "-1.50");
        assert_eq!(price(12345.0), "12345.00");
    }

    #[test]
    fn speeds_and_flags_read_plainly() {
        assert_eq!(throughput(48.33260928233352), "48.3");
        assert_eq!(latency(446.0), "446 ms");
        assert_eq!(latency(2119.0), "2.1 s");
        assert_eq!(latency(1836.2), "1.8 s");
        assert_eq!(flag(Some(true)), "yes");
        assert_eq!(flag(None), "—");
    }
}
