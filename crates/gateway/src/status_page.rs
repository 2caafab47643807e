//! The status page (`GET /`; its handler is in `routes.rs`): one server-rendered HTML
//! document with its styles inline and an inline SVG chart; no script, no external asset
//! (the `Content-Security-Policy` forbids both), so it works offline and in any browser.
//! It refreshes itself every [`REFRESH_SECS`] seconds. Everything that comes from a
//! client or the config is HTML-escaped; the client key never appears in it.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_accounting::{BUDGET_EXCEEDED, format_usd};
use hfclaw_catalog::display::thousands;
use hfclaw_model_ref::{HUGGINGFACE_PREFIX, ModelRef};

use crate::activity::{DayTotals, Recent, RouterSeen, View};

/// Seconds between the page's own reloads.
pub const REFRESH_SECS: u32 = 15;
/// The page's security policy: inline styles and nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Models drawn in the chart (the rest are summed up in a line).
const CHART_ROWS: usize = 12;
/// Requests listed.
const TABLE_ROWS: usize = 25;
/// Aliases listed (the rest are counted).
const ALIAS_ROWS: usize = 12;

/// Everything the page shows.
#[derive(Debug)]
pub struct Page<'a> {
    /// hfclaw's version.
    pub version: &'a str,
    /// When the page is rendered.
    pub now: SystemTime,
    /// How long the gateway has been running.
    pub uptime: Duration,
    /// The default model.
    pub primary: Option<&'a ModelRef>,
    /// Its fallbacks.
    pub fallbacks: &'a [ModelRef],
    /// The config's aliases: alias, then ref.
    pub aliases: &'a [(String, String)],
    /// Whether the catalog has the router's live list (else the built-in one).
    pub live_data: bool,
    /// Whether the gateway has a Hugging Face token.
    pub has_token: bool,
    /// Requests in flight, and the limit.
    pub in_flight: (usize, u32),
    /// Models cooling down (labels) with the time left.
    pub cooldowns: &'a [(String, Duration)],
    /// The time left of the account's hold after a 402.
    pub account_hold: Option<Duration>,
    /// Recent traffic.
    pub activity: &'a View,
}

const STYLE: &str = "
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--muted:#6b7385;--line:#e3e6ec;--req:#4f6bed;--err:#d64545;--spend:#2e9e6a;--warn:#c98a00}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif}
header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;padding:18px 28px;background:#1d2330;color:#fff}
header h1{margin:0;font-size:20px;font-weight:650}
header .sub{color:#b8bfce;font-size:13px}
main{padding:20px 28px;max-width:1200px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 8px;font-weight:600}
.mono{font-family:ui-monospace,'SFMono-Regular',Menlo,'Liberation Mono',monospace;font-size:13px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
ol{margin:4px 0 0;padding-left:22px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;background:var(--muted)}
.dot.ok{background:var(--spend)}.dot.bad{background:var(--err)}.dot.warn{background:var(--warn)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;background:#e8f5ee;color:#1f7a4d;white-space:nowrap}
.pill.bad{background:#fbe9e9;color:#a32d2d}.pill.note{background:#eef0fb;color:#3a4fc2}
.totals{display:flex;gap:26px;flex-wrap:wrap;margin:2px 0 10px}
.totals b{font-size:18px;display:block}
svg text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;fill:var(--ink)}
svg .bar.req{fill:var(--req)}svg .bar.err{fill:var(--err)}svg .bar.spend{fill:var(--spend)}
svg text.value{fill:var(--muted)}
footer{padding:4px 28px 24px;color:var(--muted);font-size:12px}
.scroll{overflow-x:auto}
svg.chart{display:block;width:100%;max-width:480px;height:auto}
@media (max-width:600px){header{padding:12px 12px}main{padding:12px 10px}.card{padding:10px 12px}footer{padding:4px 12px 16px}.cards{grid-template-columns:1fr}}
";

/// The page.
pub fn render(page: &Page<'_>) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>hfclaw gateway</title><style>{STYLE}</style></head><body>\
         <header><h1>hfclaw gateway</h1><span class=\"sub\">v{} · up {} · {} UTC · \
         reloads every {REFRESH_SECS} s</span></header><main>",
        escape(page.version),
        duration_words(page.uptime),
        clock(page.now),
    );
    html.push_str("<section class=\"cards\">");
    models_card(&mut html, page);
    router_card(&mut html, page);
    cooldown_card(&mut html, page);
    html.push_str("</section>");
    today_card(&mut html, page);
    recent_card(&mut html, page);
    html.push_str(
        "</main><footer>Prometheus metrics at <span class=\"mono\">/metrics</span> · \
         health at <span class=\"mono\">/healthz</span> · times in UTC</footer></body></html>\n",
    );
    html
}

fn models_card(html: &mut String, page: &Page<'_>) {
    html.push_str("<div class=\"card\"><h2>Default model</h2>");
    match page.primary {
        Some(primary) => {
            let _ = write!(
                html,
                "<div class=\"mono\">{}</div>",
                short_ref(primary.as_str())
            );
        }
        None => html.push_str(
            "<div class=\"muted\">none configured: requests must name a model \
             (<span class=\"mono\">hfclaw models set REF</span>)</div>",
        ),
    }
    html.push_str("<h2 style=\"margin-top:12px\">Fallbacks</h2>");
    if page.fallbacks.is_empty() {
        html.push_str("<div class=\"muted\">none</div>");
    } else {
        html.push_str("<ol>");
        for fallback in page.fallbacks {
            let _ = write!(
                html,
                "<li class=\"mono\">{}</li>",
                short_ref(fallback.as_str())
            );
        }
        html.push_str("</ol>");
    }
    html.push_str("<h2 style=\"margin-top:12px\">Aliases</h2>");
    if page.aliases.is_empty() {
        html.push_str("<div class=\"muted\">none</div>");
    } else {
        html.push_str("<table>");
        for (alias, model) in page.aliases.iter().take(ALIAS_ROWS) {
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"mono\">{}</td></tr>",
                escape(alias),
                short_ref(model)
            );
        }
        html.push_str("</table>");
        if page.aliases.len() > ALIAS_ROWS {
            let _ = write!(
                html,
                "<div class=\"muted\">and {} more</div>",
                page.aliases.len() - ALIAS_ROWS
            );
        }
    }
    html.push_str("</div>");
}

fn router_card(html: &mut String, page: &Page<'_>) {
    html.push_str("<div class=\"card\"><h2>Router</h2><div>");
    match &page.activity.router {
        None => html.push_str(
            "<span class=\"dot\"></span>no request has reached the router since the start",
        ),
        Some(RouterSeen { at, failure: None }) => {
            let _ = write!(
                html,
                "<span class=\"dot ok\"></span>answering: last answer {}",
                ago(page.now, *at)
            );
        }
        Some(RouterSeen {
            at,
            failure: Some((kind, status)),
        }) => {
            let (class, what) = match kind.as_str() {
                "auth" => ("bad", "the router rejects the gateway's token"),
                "rate_limited" => ("warn", "rate limited"),
                "payment" => ("warn", "out of credits"),
                "forbidden" => ("warn", "permission denied"),
                "network" | "timeout" => ("bad", "unreachable"),
                _ => ("bad", "failing"),
            };
            let _ = write!(
                html,
                "<span class=\"dot {class}\"></span>{what}: last request got HTTP {status} \
                 ({}) {}",
                escape(kind),
                ago(page.now, *at)
            );
        }
    }
    let _ = write!(
        html,
        "</div><div class=\"muted\" style=\"margin-top:8px\">model list: {}<br>token: {}<br>\
         in flight: {} of {}</div></div>",
        if page.live_data {
            "the router's live list"
        } else {
            "built-in (the router's list was not fetched)"
        },
        if page.has_token {
            "set"
        } else {
            "<b style=\"color:var(--err)\">missing</b> (run <span class=\"mono\">hfclaw \
             doctor</span>)"
        },
        page.in_flight.0,
        page.in_flight.1
    );
}

fn cooldown_card(html: &mut String, page: &Page<'_>) {
    html.push_str("<div class=\"card\"><h2>Cooldowns</h2>");
    if let Some(left) = page.account_hold {
        let _ = write!(
            html,
            "<div><span class=\"pill bad\">account</span> the Hugging Face account answered \
             402 (credits exhausted or a spending limit): every request is answered 402 for {} \
             s more</div>",
            left.as_secs().max(1)
        );
    }
    if page.cooldowns.is_empty() {
        html.push_str("<div class=\"muted\">no model is cooling down</div></div>");
        return;
    }
    html.push_str("<table><tr><th>model</th><th class=\"num\">seconds left</th></tr>");
    for (model, left) in page.cooldowns {
        let _ = write!(
            html,
            "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>",
            short_ref(model),
            left.as_secs()
        );
    }
    html.push_str("</table></div>");
}

fn today_card(html: &mut String, page: &Page<'_>) {
    let today = &page.activity.today;
    let sum = today.iter().fold(DayTotals::default(), |mut all, (_, t)| {
        all.requests += t.requests;
        all.errors += t.errors;
        all.budget_refusals += t.budget_refusals;
        all.input_tokens += t.input_tokens;
        all.output_tokens += t.output_tokens;
        all.cost_usd += t.cost_usd;
        all.costed += t.costed;
        all
    });
    // Budget refusals are not errors: counted apart, shown once there are any.
    let refusals = if sum.budget_refusals > 0 {
        format!(
            "<div><b>{}</b>over budget</div>",
            thousands(sum.budget_refusals)
        )
    } else {
        String::new()
    };
    let _ = write!(
        html,
        "<section class=\"card\" style=\"margin-bottom:16px\"><h2>Today ({} UTC)</h2>\
         <div class=\"totals\"><div><b>{}</b>requests</div><div><b>{}</b>errors</div>{refusals}\
         <div><b>{}</b>tokens in</div><div><b>{}</b>tokens out</div><div><b>{}</b>spend</div>\
         </div>",
        date(page.now),
        thousands(sum.requests),
        thousands(sum.errors),
        thousands(sum.input_tokens),
        thousands(sum.output_tokens),
        if sum.costed > 0 {
            format_usd(sum.cost_usd, false)
        } else {
            "—".to_owned()
        },
    );
    if today.is_empty() {
        html.push_str("<div class=\"muted\">no requests yet today</div></section>");
        return;
    }
    chart(html, today);
    if sum.costed == 0 {
        html.push_str("<div class=\"muted\">spend: no request has a known cost yet</div>");
    } else if sum.costed < sum.requests {
        let _ = write!(
            html,
            "<div class=\"muted\">spend counts the {} of {} requests whose cost is known</div>",
            thousands(sum.costed),
            thousands(sum.requests)
        );
    }
    html.push_str("</section>");
}

/// Requests (errors in red) and spend per model, as horizontal bars, each under its
/// model's name. The SVG scales to its card (a phone's 420 px included): names never
/// compete with the bars for width.
fn chart(html: &mut String, today: &[(String, DayTotals)]) {
    /// The drawing's width; the bars take [`BAR_W`] of it, their values the rest.
    const WIDTH: f64 = 420.0;
    const BAR_W: f64 = 320.0;
    const ROW_H: f64 = 50.0;
    const TOP: f64 = 24.0;
    let rows = &today[..today.len().min(CHART_ROWS)];
    let max_requests = rows
        .iter()
        .map(|(_, t)| t.requests)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let max_cost = rows.iter().map(|(_, t)| t.cost_usd).fold(0.0, f64::max);
    let height = TOP + ROW_H * rows.len() as f64;
    let _ = write!(
        html,
        "<svg class=\"chart\" role=\"img\" aria-label=\"requests and spend today per model\" \
         xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\">\
         <rect x=\"0\" y=\"4\" width=\"10\" height=\"10\" class=\"bar req\"/>\
         <text x=\"14\" y=\"13\">requests</text>\
         <rect x=\"84\" y=\"4\" width=\"10\" height=\"10\" class=\"bar err\"/>\
         <text x=\"98\" y=\"13\">errors</text>\
         <rect x=\"152\" y=\"4\" width=\"10\" height=\"10\" class=\"bar spend\"/>\
         <text x=\"166\" y=\"13\">spend (USD)</text>",
    );
    for (i, (model, totals)) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let shown = model.strip_prefix(HUGGINGFACE_PREFIX).unwrap_or(model);
        let req_w = (BAR_W * totals.requests as f64 / max_requests).max(2.0);
        let err_w = req_w * totals.errors as f64 / totals.requests.max(1) as f64;
        let _ = write!(
            html,
            "<g><title>{}: {} requests, {} errors, {}</title>\
             <text x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"bar req\" x=\"0\" y=\"{}\" width=\"{req_w:.1}\" height=\"12\" rx=\"2\"/>",
            escape(model),
            totals.requests,
            totals.errors,
            if totals.costed > 0 {
                format_usd(totals.cost_usd, false)
            } else {
                "spend unknown".to_owned()
            },
            y + 12.0,
            escape(&ellipsize(shown, 58)),
            y + 17.0,
        );
        if totals.errors > 0 {
            let _ = write!(
                html,
                "<rect class=\"bar err\" x=\"{:.1}\" y=\"{}\" width=\"{err_w:.1}\" height=\"12\" rx=\"2\"/>",
                req_w - err_w,
                y + 17.0,
            );
        }
        let _ = write!(
            html,
            "<text class=\"value\" x=\"{:.1}\" y=\"{}\">{}</text>",
            req_w + 6.0,
            y + 27.0,
            thousands(totals.requests),
        );
        if totals.costed > 0 && max_cost > 0.0 {
            let spend_w = (BAR_W * totals.cost_usd / max_cost).max(2.0);
            let _ = write!(
                html,
                "<rect class=\"bar spend\" x=\"0\" y=\"{}\" width=\"{spend_w:.1}\" height=\"7\" rx=\"2\"/>\
                 <text class=\"value\" x=\"{:.1}\" y=\"{}\">{}</text>",
                y + 32.0,
                spend_w + 6.0,
                y + 40.0,
                format_usd(totals.cost_usd, false),
            );
        }
        html.push_str("</g>");
    }
    html.push_str("</svg>");
    if today.len() > rows.len() {
        let rest: u64 = today[rows.len()..].iter().map(|(_, t)| t.requests).sum();
        let _ = write!(
            html,
            "<div class=\"muted\">and {} more model(s): {} requests</div>",
            today.len() - rows.len(),
            thousands(rest)
        );
    }
}

fn recent_card(html: &mut String, page: &Page<'_>) {
    html.push_str("<section class=\"card\"><h2>Last requests</h2>");
    let recent = &page.activity.recent;
    if recent.is_empty() {
        html.push_str("<div class=\"muted\">none yet</div></section>");
        return;
    }
    html.push_str(
        "<div class=\"scroll\"><table><tr><th>time</th><th>API</th><th>model</th><th>provider</th>\
         <th class=\"num\">tokens in / out</th><th class=\"num\">cost</th>\
         <th class=\"num\">first byte</th><th class=\"num\">total</th><th>outcome</th></tr>",
    );
    for r in recent.iter().take(TABLE_ROWS) {
        row(html, r);
    }
    html.push_str("</table></div></section>");
}

fn row(html: &mut String, r: &Recent) {
    let tokens = r.tokens.map_or_else(
        || "—".to_owned(),
        |t| {
            format!(
                "{} / {}",
                thousands(t.input_tokens),
                thousands(t.output_tokens)
            )
        },
    );
    let _ = write!(
        html,
        "<tr><td class=\"num\">{}</td><td>{}{}</td><td class=\"mono\">{}</td><td>{}</td>\
         <td class=\"num\">{tokens}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td>",
        clock(r.at),
        r.api.label(),
        if r.streamed {
            " <span class=\"pill note\">stream</span>"
        } else {
            ""
        },
        r.model.as_deref().map_or_else(|| "—".to_owned(), short_ref),
        r.provider.as_deref().map_or_else(|| "—".to_owned(), escape),
        r.cost_usd
            .map_or_else(|| "—".to_owned(), |usd| format_usd(usd, false)),
        r.ttfb.map_or_else(|| "—".to_owned(), millis),
        millis(r.total),
    );
    match &r.error {
        None => html.push_str("<span class=\"pill\">ok</span>"),
        // A budget refusal is the gateway doing its job, not a failure.
        Some((kind, status)) if kind == BUDGET_EXCEEDED => {
            let _ = write!(
                html,
                "<span class=\"pill note\">{status} over budget</span>"
            );
        }
        Some((kind, status)) => {
            let _ = write!(
                html,
                "<span class=\"pill bad\">{status} {}</span>",
                escape(kind)
            );
        }
    }
    if let Some(fallback) = r.fallback.filter(|f| *f > 0) {
        let _ = write!(
            html,
            " <span class=\"pill note\">fallback {fallback}</span>"
        );
    }
    html.push_str("</td></tr>");
}

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A model for a narrow cell: without `huggingface/` (the full ref is its tooltip),
/// [`escape`]d, with line-break opportunities after each `/`.
fn short_ref(text: &str) -> String {
    match text.strip_prefix(HUGGINGFACE_PREFIX) {
        Some(short) => format!(
            "<span title=\"{}\">{}</span>",
            escape(text),
            escape(short).replace('/', "/<wbr>")
        ),
        None => escape(text).replace('/', "/<wbr>"),
    }
}

fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let tail: String = text
        .chars()
        .rev()
        .take(max - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn duration_words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

fn ago(now: SystemTime, at: SystemTime) -> String {
    format!(
        "{} ago",
        duration_words(now.duration_since(at).unwrap_or_default())
    )
}

/// `HH:MM:SS` (UTC).
fn clock(at: SystemTime) -> String {
    let s = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// `YYYY-MM-DD` (UTC), by Howard Hinnant's `civil_from_days`.
fn date(at: SystemTime) -> String {
    let days = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::api::Api;
    use hfclaw_accounting::Usage;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn recent(model: &str, error: Option<(&'static str, u16)>) -> Recent {
        Recent {
            at: at(1_764_547_200 + 3723),
            api: Api::Messages,
            model: Some(model.to_owned()),
            provider: Some("<b>groq</b>".to_owned()),
            fallback: Some(1),
            tokens: Some(Usage {
                input_tokens: 1234,
                output_tokens: 56,
                ..Usage::default()
            }),
            cost_usd: None,
            ttfb: Some(Duration::from_millis(80)),
            total: Duration::from_millis(1500),
            error: error.map(|(class, status)| (class.to_owned(), status)),
            streamed: true,
        }
    }

    fn page<'a>(
        view: &'a View,
        fallbacks: &'a [ModelRef],
        cooling: &'a [(String, Duration)],
        aliases: &'a [(String, String)],
    ) -> Page<'a> {
        Page {
            version: "0.1.0",
            now: at(1_764_547_200 + 3730),
            uptime: Duration::from_secs(125),
            primary: fallbacks.first(),
            fallbacks: &fallbacks[1..],
            aliases,
            live_data: true,
            has_token: true,
            in_flight: (1, 256),
            cooldowns: cooling,
            account_hold: None,
            activity: view,
        }
    }

    #[test]
    fn everything_from_clients_and_config_is_escaped() {
        let evil = "<script>alert('x')</script>";
        let view = View {
            recent: vec![recent(evil, Some(("api_error", 502)))],
            today: vec![(
                "huggingface/a/<img src=x onerror=alert(1)>".to_owned(),
                DayTotals {
                    requests: 3,
                    errors: 1,
                    ..DayTotals::default()
                },
            )],
            router: None,
        };
        let refs: Vec<ModelRef> = vec!["huggingface/Qwen/Qwen3-8B:cheapest".parse().unwrap()];
        let cooling = [("\"><script>".to_owned(), Duration::from_secs(12))];
        let aliases = [("<i>".to_owned(), "huggingface/a/<b>".to_owned())];
        let html = render(&page(&view, &refs, &cooling, &aliases));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>groq"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/<wbr>script&gt;"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;</td><td class=\"num\">12</td>"));
    }

    #[test]
    fn the_page_shows_models_router_chart_and_requests() {
        let view = View {
            recent: vec![
                recent("huggingface/a/b", None),
                recent("gpt-4o", Some(("invalid_request_error", 404))),
                recent("huggingface/a/b", Some(("budget_exceeded", 429))),
            ],
            today: vec![
                (
                    "huggingface/a/b".to_owned(),
                    DayTotals {
                        requests: 8,
                        errors: 2,
                        input_tokens: 1000,
                        output_tokens: 200,
                        cost_usd: 0.012,
                        costed: 8,
                        budget_refusals: 0,
                    },
                ),
                (
                    "other".to_owned(),
                    DayTotals {
                        requests: 2,
                        budget_refusals: 1,
                        ..DayTotals::default()
                    },
                ),
            ],
            router: Some(RouterSeen {
                at: at(1_764_547_200 + 3700),
                failure: None,
            }),
        };
        let refs: Vec<ModelRef> = vec![
            "huggingface/deepseek-ai/DeepSeek-R1".parse().unwrap(),
            "huggingface/Qwen/Qwen3-8B:cheapest".parse().unwrap(),
        ];
        let aliases = [
            (
                "qwen".to_owned(),
                "huggingface/Qwen/Qwen3-8B:cheapest".to_owned(),
            ),
            (
                "r1".to_owned(),
                "huggingface/deepseek-ai/DeepSeek-R1".to_owned(),
            ),
        ];
        let html = render(&page(&view, &refs, &[], &aliases));
        for expected in [
            // Refs as the chart and the tables show them, the full ref as their title.
            "<div class=\"mono\"><span title=\"huggingface/deepseek-ai/DeepSeek-R1\">\
             deepseek-ai/<wbr>DeepSeek-R1</span></div>",
            "<li class=\"mono\"><span title=\"huggingface/Qwen/Qwen3-8B:cheapest\">\
             Qwen/<wbr>Qwen3-8B:cheapest</span></li>",
            "<tr><td>qwen</td><td class=\"mono\"><span title=\"huggingface/Qwen/Qwen3-8B:cheapest\">\
             Qwen/<wbr>Qwen3-8B:cheapest</span></td></tr>",
            "answering: last answer 30 s ago",
            "no model is cooling down",
            "Today (2025-12-01 UTC)",
            "<b>10</b>requests",
            "<b>2</b>errors</div><div><b>1</b>over budget",
            "<b>1,000</b>tokens in",
            "<b>$0.012</b>spend",
            "<td class=\"num\">01:02:03</td>",
            "<span class=\"pill bad\">404 invalid_request_error</span>",
            "<span class=\"pill note\">429 over budget</span>",
            "fallback 1",
            "1,234 / 56",
            "80 ms",
            "1500 ms",
            "up 2 min 5 s",
        ] {
            assert!(html.contains(expected), "{expected} missing from\n{html}");
        }
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        assert_eq!(svg.matches("class=\"bar req\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("class=\"bar err\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar spend\"").count(), 2);
        // The busiest model's bar is the full width; the other is a quarter of it. The
        // drawing scales to its card: no fixed width.
        assert!(svg.contains("width=\"320.0\""), "{svg}");
        assert!(svg.contains("width=\"80.0\""), "{svg}");
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert!(!svg[..svg.find('>').unwrap()].contains(" width="), "{svg}");
        assert!(!html.contains("answered 402"));
        let held = render(&Page {
            account_hold: Some(Duration::from_secs(42)),
            ..page(&view, &refs, &[], &aliases)
        });
        assert!(
            held.contains(
                "<span class=\"pill bad\">account</span> the Hugging Face account answered 402"
            ) && held.contains("for 42 s more"),
            "{held}"
        );
    }

    #[test]
    fn costs_read_as_hfclaw_usage_writes_them() {
        let view = View {
            recent: vec![Recent {
                cost_usd: Some(0.000_036),
                ..recent("huggingface/a/b", None)
            }],
            today: vec![(
                "huggingface/a/b".to_owned(),
                DayTotals {
                    requests: 1,
                    cost_usd: 0.000_036,
                    costed: 1,
                    ..DayTotals::default()
                },
            )],
            router: None,
        };
        let refs: Vec<ModelRef> = vec!["huggingface/a/b".parse().unwrap()];
        let html = render(&page(&view, &refs, &[], &[]));
        assert!(!html.contains("$0.0000<"), "{html}");
        assert!(html.contains("<b>$0.000036</b>spend"), "{html}");
        assert!(html.contains("<td class=\"num\">$0.000036</td>"), "{html}");
    }

    #[test]
    fn numbers_and_dates_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(date(at(0)), "1970-01-01");
        assert_eq!(date(at(951_782_400)), "2000-02-29");
        assert_eq!(date(at(1_798_675_200)), "2026-12-31");
        assert_eq!(clock(at(86_399)), "23:59:59");
        assert_eq!(ellipsize("abcdef", 4), "…def");
        assert_eq!(escape("a\u{0}b"), "a\u{fffd}b");
    }
}
