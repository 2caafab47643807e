//! The `hf auth login` side of a command's token: when the token came from the Hugging
//! Face CLI's token file and is an expiring OAuth login, refresh it as huggingface_hub does
//! (`hfclaw_router_client::oauth`), say what happened, and describe the login for `doctor`
//! and `models status`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_router_client::discovery::format_age;
use hfclaw_router_client::oauth::{Check, Event, Failure, LoginStatus, Refresher};
use hfclaw_router_client::{Token, TokenSource};

use crate::context::{Context, runtime};
use crate::error::CliResult;

/// `token` as the command should use it: refreshed first when it is an `hf auth login`
/// token of the token file with less than a day left (not with `--offline`). Records
/// which token is active for a long-running process's [`Refresher::keep_fresh`].
pub fn refreshed(
    ctx: &Context,
    refresher: &Refresher,
    found: Option<(Token, TokenSource)>,
) -> CliResult<Option<(Token, TokenSource)>> {
    let Some((token, source)) = found else {
        refresher.set_active(None);
        return Ok(None);
    };
    if !is_login_file(refresher, &source) {
        refresher.set_active(None);
        return Ok(Some((token, source)));
    }
    let now = SystemTime::now();
    let token = match refresher.check(&token, now) {
        Check::Ready(token) => token,
        Check::Due(due) if ctx.global.offline => {
            tracing::debug!(login = due.name(), "not refreshed: --offline");
            due.current().clone()
        }
        Check::Due(due) => {
            let resolved = runtime()?.block_on(refresher.refresh(due, now));
            if let Some(event) = &resolved.event {
                report(ctx, event);
            }
            resolved.token
        }
    };
    refresher.set_active(Some(token.clone()));
    Ok(Some((token, source)))
}

/// True when `source` is the token file `refresher` looks after.
pub fn is_login_file(refresher: &Refresher, source: &TokenSource) -> bool {
    matches!(source, TokenSource::HfCliTokenFile(path) if path == refresher.files().token())
}

/// A refresh's news on stderr: a warning, or a status line.
pub fn report(ctx: &Context, event: &Event) {
    if event.is_warning() {
        ctx.messages.warn(event.to_string());
    } else {
        ctx.messages.status(event.to_string());
    }
}

/// How a login looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Works and will keep working.
    Good,
    /// Works for now; something needs attention.
    Warn,
    /// Expired: `hf auth login` is needed.
    Expired,
}

/// One line about the login for people, and how it looks.
pub fn describe(status: &LoginStatus, now: SystemTime) -> (Health, String) {
    let name = format!("`{}` (hf auth login)", status.name);
    let relogin = "run `hf auth login`";
    let left = status.left(now);
    let ago = status
        .expires_at
        .and_then(|at| u64::try_from(at).ok())
        .map(|at| {
            let at = UNIX_EPOCH + Duration::from_secs(at);
            format_age(now.duration_since(at).unwrap_or_default())
        })
        .unwrap_or_default();
    match (&status.failure, left) {
        (Some(Failure::SessionEnded), _) => (
            Health::Expired,
            format!("{name} has expired: the session expired or was revoked; {relogin}"),
        ),
        (Some(Failure::Failed(reason)), None) => (
            Health::Expired,
            format!(
                "{name} expired {ago} ago and could not be refreshed ({reason}); {relogin} if this persists"
            ),
        ),
        (Some(Failure::Failed(reason)), Some(left)) => (
            Health::Warn,
            format!(
                "{name} expires in {}; refreshing it failed ({reason}), trying again later",
                format_age(left)
            ),
        ),
        (None, None) if status.expires_at.is_some() => (
            Health::Expired,
            if status.refreshable {
                format!("{name} expired {ago} ago and was not refreshed (--offline)")
            } else {
                format!("{name} expired {ago} ago and cannot be refreshed; {relogin}")
            },
        ),
        (None, None) => (Health::Good, format!("{name}, no expiry recorded")),
        (None, Some(left)) if status.refreshable => (
            Health::Good,
            format!(
                "{name} expires in {}; refreshed automatically when less than a day is left",
                format_age(left)
            ),
        ),
        (None, Some(left)) => (
            Health::Warn,
            format!(
                "{name} expires in {} and cannot be refreshed (no refresh token); {relogin} before then",
                format_age(left)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn status(expires_in: i64, refreshable: bool, failure: Option<Failure>) -> LoginStatus {
        LoginStatus {
            name: "oauth-alice".to_owned(),
            expires_at: Some(NOW as i64 + expires_in),
            refreshable,
            failure,
        }
    }

    fn line(status: &LoginStatus) -> (Health, String) {
        describe(status, UNIX_EPOCH + Duration::from_secs(NOW))
    }

    #[test]
    fn login_lines_say_when_hf_auth_login_is_needed() {
        let day = 86_400;
        assert_eq!(
            line(&status(29 * day, true, None)),
            (
                Health::Good,
                "`oauth-alice` (hf auth login) expires in 29 days; refreshed automatically when less than a day is left".to_owned()
            )
        );
        assert_eq!(
            line(&status(3600, true, Some(Failure::SessionEnded))),
            (
                Health::Expired,
                "`oauth-alice` (hf auth login) has expired: the session expired or was revoked; run `hf auth login`".to_owned()
            )
        );
        assert_eq!(
            line(&status(
                -7200,
                true,
                Some(Failure::Failed("offline".into()))
            ))
            .0,
            Health::Expired
        );
        assert_eq!(
            line(&status(3600, true, Some(Failure::Failed("offline".into())))),
            (
                Health::Warn,
                "`oauth-alice` (hf auth login) expires in 1 h; refreshing it failed (offline), trying again later".to_owned()
            )
        );
        assert_eq!(
            line(&status(-60, false, None)),
            (
                Health::Expired,
                "`oauth-alice` (hf auth login) expired 1 min ago and cannot be refreshed; run `hf auth login`".to_owned()
            )
        );
        assert_eq!(line(&status(2 * day, false, None)).0, Health::Warn);
    }
}
