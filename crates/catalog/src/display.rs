//! How catalog numbers read in hfclaw's tables, so `models list`, `models show` and the
//! pickers print them alike.
//!
//! Context sizes follow the convention model cards use: a multiple of 1,024 counts in
//! binary thousands (131,072 → `128K`, 32,768 → `32K`), any other number in decimal
//! thousands (64,000 → `64K`, 123,000 → `123K`); millions the same way (1,048,576 → `1M`,
//! 1,000,000 → `1M`). One decimal at most, dropped when it is zero (65,535 → `65.5K`).

/// What a table shows for a value the data does not state (never `0`).
pub const MISSING: &str = "—";

/// A context size in tokens, e.g. `128K` (see the module docs for the convention).
pub fn context_size(tokens: u64) -> String {
    let (value, unit) = if tokens.is_multiple_of(1024) && tokens >= 1024 {
        scaled(tokens as f64 / 1024.0, 1024.0)
    } else if tokens >= 1000 {
        scaled(tokens as f64 / 1000.0, 1000.0)
    } else {
        return tokens.to_string();
    };
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{unit}")
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
    let text = format!("{usd:.4}");
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
    let decimals = decimals.trim_end_matches('0');
    format!("{whole}.{decimals:0<2}")
}

/// Input/output prices, e.g. `0.15/0.60`.
pub fn prices(input: f64, output: f64) -> String {
    format!("{}/{}", price(input), price(output))
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
