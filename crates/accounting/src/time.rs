//! UTC days and the time forms `hfclaw usage` accepts, over Unix milliseconds.
//!
//! Everything is UTC: budgets reset at UTC midnight and `--since 2026-12-01` means that
//! day's UTC midnight, so every replica of a gateway agrees whatever its time zone. The
//! calendar arithmetic is Howard Hinnant's `days_from_civil`/`civil_from_days` (public
//! domain), a few lines that spare a date-time crate for what is only UTC dates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Unix time in milliseconds (negative before 1970).
pub fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The `SystemTime` of a Unix time in milliseconds.
pub fn from_unix_ms(ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// The UTC day number (days since 1970-01-01) of a Unix time in milliseconds.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// UTC midnight starting the day of `ms`.
pub fn start_of_day(ms: i64) -> i64 {
    day_of(ms) * DAY_MS
}

/// UTC midnight starting the calendar month of `ms`.
pub fn start_of_month(ms: i64) -> i64 {
    let (year, month, _) = civil_from_days(day_of(ms));
    days_from_civil(year, month, 1) * DAY_MS
}

/// UTC midnight starting the calendar month after that of `ms`.
pub fn start_of_next_month(ms: i64) -> i64 {
    let (year, month, _) = civil_from_days(day_of(ms));
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(year, month, 1) * DAY_MS
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-12-01` for a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-12-01 13:05 UTC` for a Unix time in milliseconds.
pub fn format_minute(ms: i64) -> String {
    let minutes = ms.rem_euclid(DAY_MS) / 60_000;
    format!(
        "{} {:02}:{:02} UTC",
        format_day(day_of(ms)),
        minutes / 60,
        minutes % 60
    )
}

/// The forms `--since`/`--until` accept, for error messages.
pub const ACCEPTED_TIME_FORMS: &str = "a duration back from now (30m, 24h, 7d, 2w), a UTC date (2026-12-01), a UTC time (2026-12-01T13:00, 2026-12-01T13:00:00Z), `today` or `yesterday`";

/// Reads a `--since`/`--until` value relative to `now_ms`: a duration ago (`30m`, `24h`,
/// `7d`, `2w`), a UTC date (`2026-12-01` = its midnight), a UTC date-time
/// (`2026-12-01T13:00[:00][Z]`), `today` or `yesterday` (UTC midnights). `None` when the
/// text is none of these.
pub fn parse_time(text: &str, now_ms: i64) -> Option<i64> {
    let text = text.trim();
    match text {
        "today" => return Some(start_of_day(now_ms)),
        "yesterday" => return Some(start_of_day(now_ms) - DAY_MS),
        "now" => return Some(now_ms),
        _ => {}
    }
    if let Some(ago) = parse_duration_ms(text) {
        return Some(now_ms.saturating_sub(ago));
    }
    parse_utc(text)
}

/// Reads an expiry relative to `now_ms`: a duration from now (`30d`, `12h`, `2w`) or a
/// UTC date or date-time as [`parse_time`] reads them. `None` when it is neither.
pub fn parse_expiry(text: &str, now_ms: i64) -> Option<i64> {
    let text = text.trim();
    match parse_duration_ms(text) {
        Some(ahead) => Some(now_ms.saturating_add(ahead)),
        None => parse_utc(text),
    }
}

/// `30m`, `24h`, `7d`, `2w` (also `90s`) in milliseconds.
fn parse_duration_ms(text: &str) -> Option<i64> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let number: i64 = number.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        _ => return None,
    };
    number.checked_mul(unit_ms)
}

/// `YYYY-MM-DD`, optionally followed by `T` (or a space) and `HH:MM[:SS]`, optionally `Z`.
fn parse_utc(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, clock) = match text.split_once(['T', ' ']) {
        Some((date, clock)) => (date, Some(clock)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: u32 = digits(parts.next()?, 2)?;
    let day: u32 = digits(parts.next()?, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject 2026-02-30 and the like: the date must survive the round trip.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let mut ms = days * DAY_MS;
    if let Some(clock) = clock {
        let mut parts = clock.split(':');
        let hour: i64 = digits(parts.next()?, 2)?;
        let minute: i64 = digits(parts.next()?, 2)?;
        let second: i64 = match parts.next() {
            Some(s) => digits(s, 2)?,
            None => 0,
        };
        if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        ms += ((hour * 60 + minute) * 60 + second) * 1_000;
    }
    Some(ms)
}

fn digits<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000; // 2026-11-30T00:53:20Z

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(format_day(days_from_civil(2026, 12, 1)), "2026-12-01");
        assert_eq!(format_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(format_day(-1), "1969-12-31");
        assert_eq!(format_minute(NOW), "2026-11-30 00:53 UTC");
    }

    proptest::proptest! {
        #[test]
        fn every_day_round_trips(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn since_accepts_durations_dates_and_times() {
        assert_eq!(parse_time("24h", NOW), Some(NOW - DAY_MS));
        assert_eq!(parse_time("7d", NOW), Some(NOW - 7 * DAY_MS));
        assert_eq!(parse_time("2w", NOW), Some(NOW - 14 * DAY_MS));
        assert_eq!(parse_time("30m", NOW), Some(NOW - 1_800_000));
        let dec1 = days_from_civil(2026, 12, 1) * DAY_MS;
        assert_eq!(parse_time("2026-12-01", NOW), Some(dec1));
        assert_eq!(
            parse_time("2026-12-01T13:00", NOW),
            Some(dec1 + 13 * 3_600_000)
        );
        assert_eq!(
            parse_time("2026-12-01T13:00:05Z", NOW),
            Some(dec1 + 13 * 3_600_000 + 5_000)
        );
        assert_eq!(parse_time("today", NOW), Some(start_of_day(NOW)));
        assert_eq!(
            parse_time("yesterday", NOW),
            Some(start_of_day(NOW) - DAY_MS)
        );
        assert_eq!(from_unix_ms(unix_ms(from_unix_ms(NOW))), from_unix_ms(NOW));
    }

    #[test]
    fn since_rejects_garbage() {
        for bad in [
            "",
            "yesterdayish",
            "7",
            "d",
            "7x",
            "-7d",
            "2026-13-01",
            "2026-02-30",
            "2026-1-01",
            "26-12-01",
            "2026-12-01T25:00",
            "2026-12-01T10",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_time(bad, NOW), None, "{bad:?}");
        }
    }
}
