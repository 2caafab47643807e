//! Logins of the Hugging Face CLI that expire: `hf auth login` (browser, OAuth) stores an
//! access token that lives for a while and a refresh token, and refreshes it when less
//! than a day is left. This module does the same, the same way, so `hf` and hfclaw share
//! one login.
//!
//! Mirrored from `huggingface_hub` 2.5.0 (`utils/_auth.py`:
//! `_refresh_oauth_token_if_needed`; `utils/_oauth_device.py`: `refresh_access_token`):
//! - the active token is the Hugging Face CLI token file's (`$HF_TOKEN_PATH`, …); it is an
//!   OAuth login when a section of `stored_tokens` (beside the token file) holds it as
//!   `hf_token` with a `refresh_token` and an `expires_at` (Unix seconds);
//! - with less than [`REFRESH_MARGIN`] left, `POST {hub}/oauth/token` with
//!   `grant_type=refresh_token`, the refresh token and the client id
//!   (`$HF_DEVICE_CODE_OAUTH_CLIENT_ID`, else [`DEFAULT_CLIENT_ID`]) — under the
//!   cross-process lock `stored_tokens.lock` (`flock`, as Python's `filelock`), after
//!   re-reading `stored_tokens` under it (another process may have refreshed: then its
//!   token is adopted); the section is rewritten (the old refresh token kept when none
//!   comes back) and the token file too, if it still holds the old token;
//! - decisions are cached per token: no file is read again before the next deadline;
//!   a failed refresh is retried after [`RECHECK_INTERVAL`] and warned about once per
//!   process; `invalid_grant` (the session expired or was revoked) is final for that
//!   token and warned about once: run `hf auth login`.
//!
//! Neither a token nor a refresh token ever appears in a log, an error or `Debug`.

pub mod exchange;
pub mod files;
pub mod stored_tokens;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};

use crate::discovery::format_age;
use crate::token::{Token, hf_cli_token_path, read_token_file};
use exchange::ExchangeError;
use files::FileError;
use stored_tokens::{EXPIRES_AT, HF_TOKEN, REFRESH_TOKEN, Section, StoredTokens};

/// huggingface_hub's public OAuth client id for `hf auth login`.
pub const DEFAULT_CLIENT_ID: &str = "26be6b09-91c5-47da-9861-d2d2bb7a7e36";
/// The environment variable naming another OAuth client id (as huggingface_hub reads it).
pub const CLIENT_ID_ENV: &str = "HF_DEVICE_CODE_OAUTH_CLIENT_ID";
/// A login is refreshed when less than this is left (huggingface_hub: 1 day).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(24 * 3600);
/// How soon a failed refresh, or a token without refresh data, is looked at again.
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(300);
/// [`Refresher::keep_fresh`] never looks more often than this.
const MIN_WAIT: Duration = Duration::from_secs(1);
/// The name of the file beside the token file that holds every login.
pub const STORED_TOKENS_FILE: &str = "stored_tokens";

/// The Hugging Face CLI's files: the active token, `stored_tokens`, and the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFiles {
    token: PathBuf,
    stored_tokens: PathBuf,
    lock: PathBuf,
}

impl LoginFiles {
    /// The files of a token file: `stored_tokens` and `stored_tokens.lock` beside it.
    pub fn beside(token_file: &Path) -> LoginFiles {
        let dir = token_file.parent().unwrap_or(Path::new(""));
        LoginFiles {
            token: token_file.to_owned(),
            stored_tokens: dir.join(STORED_TOKENS_FILE),
            lock: dir.join(format!("{STORED_TOKENS_FILE}.lock")),
        }
    }

    /// The files where the Hugging Face CLI keeps its token (see
    /// [`crate::token::hf_cli_token_path`]).
    pub fn locate(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Option<LoginFiles> {
        hf_cli_token_path(env, home).map(|path| LoginFiles::beside(&path))
    }

    /// The token file.
    pub fn token(&self) -> &Path {
        &self.token
    }

    /// `stored_tokens`.
    pub fn stored_tokens(&self) -> &Path {
        &self.stored_tokens
    }

    /// `stored_tokens.lock`.
    pub fn lock(&self) -> &Path {
        &self.lock
    }
}

/// Where refreshes go and as whom.
#[derive(Debug, Clone)]
pub struct RefreshSettings {
    /// The Hub, e.g. `https://huggingface.co`.
    pub hub_url: String,
    /// The OAuth client the login was issued to.
    pub client_id: String,
    /// `User-Agent` of the refresh request.
    pub user_agent: String,
}

impl RefreshSettings {
    /// The Hub from `$HFCLAW_HUB_URL` (see [`crate::base_url::resolve_hub_url`]) and the
    /// client id from `$HF_DEVICE_CODE_OAUTH_CLIENT_ID`, else huggingface_hub's.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>, user_agent: &str) -> RefreshSettings {
        RefreshSettings {
            hub_url: crate::base_url::resolve_hub_url(env),
            client_id: env(CLIENT_ID_ENV)
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned()),
            user_agent: user_agent.to_owned(),
        }
    }
}

/// Something the operator should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The login was refreshed (a status line).
    Refreshed {
        /// The token name (`stored_tokens` section).
        name: String,
    },
    /// The refresh token no longer works (`invalid_grant`): a new login is needed. Given
    /// once per token.
    LoginExpired {
        /// The token name.
        name: String,
        /// How long the current token still lives; `None` when it already expired.
        left: Option<Duration>,
    },
    /// A refresh failed for another reason; retried later. Given once per process.
    RefreshFailed {
        /// The token name.
        name: String,
        /// What went wrong (no secret).
        reason: String,
    },
}

impl Event {
    /// True for the events that are warnings.
    pub fn is_warning(&self) -> bool {
        !matches!(self, Event::Refreshed { .. })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Refreshed { name } => {
                write!(
                    f,
                    "refreshed the Hugging Face login `{name}` (hf auth login)"
                )
            }
            Event::LoginExpired { name, left } => {
                write!(
                    f,
                    "the Hugging Face login `{name}` cannot be refreshed (the session expired or was revoked) and "
                )?;
                match left {
                    Some(left) => write!(f, "its token stops working in {}", format_age(*left))?,
                    None => f.write_str("its token has expired")?,
                }
                f.write_str(": run `hf auth login`")
            }
            Event::RefreshFailed { name, reason } => write!(
                f,
                "could not refresh the Hugging Face login `{name}`: {reason}; trying again in {} min",
                RECHECK_INTERVAL.as_secs() / 60
            ),
        }
    }
}

/// Why the last refresh of a login failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `invalid_grant`: only `hf auth login` helps.
    SessionEnded,
    /// Anything else (network, the Hub, the files); retried.
    Failed(String),
}

/// What is known about the login behind a token (for `doctor` and `models status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginStatus {
    /// The token name (`stored_tokens` section).
    pub name: String,
    /// When the access token expires (Unix seconds), if known.
    pub expires_at: Option<i64>,
    /// True when a refresh token is stored.
    pub refreshable: bool,
    /// The last refresh failure in this process.
    pub failure: Option<Failure>,
}

impl LoginStatus {
    /// True when the login needs `hf auth login`: the session ended, or the token expired
    /// and cannot be (or was not) refreshed.
    pub fn expired(&self, now: SystemTime) -> bool {
        self.failure == Some(Failure::SessionEnded)
            || self.expires_at.is_some_and(|at| at <= unix(now))
    }

    /// Time left before the token expires; `None` when unknown or past.
    pub fn left(&self, now: SystemTime) -> Option<Duration> {
        let left = self.expires_at? - unix(now);
        (left > 0).then(|| Duration::from_secs(left.unsigned_abs()))
    }
}

/// The token to use now, or a refresh to make first ([`Refresher::check`]).
#[derive(Debug)]
pub enum Check {
    /// Use this token.
    Ready(Token),
    /// The login needs a refresh: pass this to [`Refresher::refresh`].
    Due(Due),
}

/// A login to refresh.
pub struct Due {
    token: Token,
    name: String,
    refresh_token: SecretString,
    expires_at: i64,
}

impl fmt::Debug for Due {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Due")
            .field("token", &self.token)
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Due {
    /// The token name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The token as it is (what to use when the refresh is skipped, e.g. offline).
    pub fn current(&self) -> &Token {
        &self.token
    }
}

/// The outcome of a resolution: the token to use and what to tell the operator.
#[derive(Debug)]
pub struct Resolved {
    /// The token to use.
    pub token: Token,
    /// Something to report, if any.
    pub event: Option<Event>,
}

/// Refreshes the Hugging Face CLI's login when it is due, for one process: keeps the
/// per-token decision (huggingface_hub's `_OAUTH_REFRESH_CACHE`), serialises refreshes
/// within the process, and remembers which token is active for [`Refresher::keep_fresh`].
pub struct Refresher {
    files: LoginFiles,
    settings: RefreshSettings,
    cache: Mutex<Option<Cached>>,
    refreshing: tokio::sync::Mutex<()>,
    active: Mutex<Option<Token>>,
    warned: AtomicBool,
}

/// The decision for one token.
struct Cached {
    file_token: Token,
    resolved: Token,
    /// Unix seconds after which the token is looked at again; `None`: never.
    recheck_at: Option<i64>,
    failure: Option<Failure>,
}

/// A refresh that did not happen.
#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    File(#[from] FileError),
}

impl fmt::Debug for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresher")
            .field("files", &self.files)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Refresher {
    /// A refresher for the login in `files`.
    pub fn new(files: LoginFiles, settings: RefreshSettings) -> Refresher {
        Refresher {
            files,
            settings,
            cache: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            active: Mutex::new(None),
            warned: AtomicBool::new(false),
        }
    }

    /// The files it reads and writes.
    pub fn files(&self) -> &LoginFiles {
        &self.files
    }

    /// Decides, without the network, whether `file_token` (read from the token file) can
    /// be used as it is: a cached decision, else a look at `stored_tokens`.
    pub fn check(&self, file_token: &Token, now: SystemTime) -> Check {
        let now = unix(now);
        if let Some(token) = self.cached(file_token, now) {
            return Check::Ready(token);
        }
        let stored = self.read_stored();
        let login = stored.find_token(file_token.expose()).and_then(|section| {
            let refresh_token = section
                .get(REFRESH_TOKEN)
                .filter(|t| !t.expose_secret().is_empty())?;
            Some((section.name(), refresh_token, section.expires_at()?))
        });
        let Some((name, refresh_token, expires_at)) = login else {
            // The token may have just been replaced by another process's refresh (then it
            // is no longer in `stored_tokens`): use the file's new token, decide nothing.
            if let Ok(Some(current)) = read_token_file(&self.files.token)
                && current != *file_token
            {
                return Check::Ready(current);
            }
            // Not a refreshable login (or its data was lost): nothing to do for a while.
            self.remember(
                file_token,
                file_token,
                Some(now + secs(RECHECK_INTERVAL)),
                None,
            );
            return Check::Ready(file_token.clone());
        };
        let deadline = expires_at.saturating_sub(secs(REFRESH_MARGIN));
        if deadline > now {
            self.remember(file_token, file_token, Some(deadline), None);
            return Check::Ready(file_token.clone());
        }
        Check::Due(Due {
            token: file_token.clone(),
            name: name.to_owned(),
            refresh_token: refresh_token.clone(),
            expires_at,
        })
    }

    /// Refreshes a due login: under the cross-process lock, re-reads `stored_tokens`
    /// (adopting another process's refresh), asks the Hub, rewrites `stored_tokens` and
    /// the token file. Never fails: on failure the current token is returned with an
    /// event to report (see [`Event`]).
    pub async fn refresh(&self, due: Due, now: SystemTime) -> Resolved {
        let _one_at_a_time = self.refreshing.lock().await;
        let now = unix(now);
        // Another task of this process may have refreshed while this one waited.
        if let Some(token) = self.cached(&due.token, now) {
            return Resolved { token, event: None };
        }
        match self.refresh_locked(&due, now).await {
            Ok((token, expires_at, event)) => {
                // Never sooner than the recheck interval, even for a token that lives less
                // than the margin (else every call would refresh).
                let recheck = (now + secs(RECHECK_INTERVAL))
                    .max(expires_at.map_or(0, |at| at.saturating_sub(secs(REFRESH_MARGIN))));
                self.remember(&token, &token, Some(recheck), None);
                Resolved { token, event }
            }
            Err(RefreshError::Exchange(e)) if e.is_invalid_grant() => {
                tracing::debug!(login = %due.name, "refresh refused: {e}");
                self.remember(&due.token, &due.token, None, Some(Failure::SessionEnded));
                let left = due.expires_at - now;
                let event = Event::LoginExpired {
                    name: due.name.clone(),
                    left: (left > 0).then(|| Duration::from_secs(left.unsigned_abs())),
                };
                Resolved {
                    token: due.token,
                    event: Some(event),
                }
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::debug!(login = %due.name, "refresh failed: {reason}");
                let recheck = Some(now + secs(RECHECK_INTERVAL));
                self.remember(
                    &due.token,
                    &due.token,
                    recheck,
                    Some(Failure::Failed(reason.clone())),
                );
                let first = !self.warned.swap(true, Ordering::Relaxed);
                Resolved {
                    token: due.token,
                    event: first.then(|| Event::RefreshFailed {
                        name: due.name.clone(),
                        reason,
                    }),
                }
            }
        }
    }

    /// [`Refresher::check`], then [`Refresher::refresh`] when due.
    pub async fn resolve(&self, file_token: &Token, now: SystemTime) -> Resolved {
        match self.check(file_token, now) {
            Check::Ready(token) => Resolved { token, event: None },
            Check::Due(due) => self.refresh(due, now).await,
        }
    }

    /// What `stored_tokens` and this process know about the login behind `token`;
    /// `None` when it is not an OAuth login (a classic access token).
    pub fn status(&self, token: &Token) -> Option<LoginStatus> {
        let stored = self.read_stored();
        let section = stored.find_token(token.expose())?;
        let refreshable = section
            .get(REFRESH_TOKEN)
            .is_some_and(|t| !t.expose_secret().is_empty());
        let expires_at = section.expires_at();
        if !refreshable && expires_at.is_none() {
            return None;
        }
        let failure = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|c| c.file_token == *token)
            .and_then(|c| c.failure.clone());
        Some(LoginStatus {
            name: section.name().to_owned(),
            expires_at,
            refreshable,
            failure,
        })
    }

    /// Records the token this process now uses when it came from the token file (`None`
    /// when another source won), for [`Refresher::keep_fresh`].
    pub fn set_active(&self, token: Option<Token>) {
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// The token recorded by [`Refresher::set_active`].
    pub fn active(&self) -> Option<Token> {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// For a long-running process: resolves the active token every `every`, and when its
    /// refresh deadline comes (refreshing it when due, which rewrites the token file — the
    /// process's file watcher then re-resolves it); hands what happened to `report`. Runs
    /// until dropped.
    pub async fn keep_fresh(self: Arc<Self>, every: Duration, report: impl Fn(&Event)) {
        loop {
            let wait = self
                .until_recheck(SystemTime::now())
                .map_or(every, |until| every.min(until.max(MIN_WAIT)));
            tokio::time::sleep(wait).await;
            let Some(token) = self.active() else {
                continue;
            };
            let resolved = self.resolve(&token, SystemTime::now()).await;
            if resolved.token != token {
                let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
                // Unless the process switched tokens meanwhile.
                if active.as_ref() == Some(&token) {
                    *active = Some(resolved.token.clone());
                }
            }
            if let Some(event) = &resolved.event {
                report(event);
            }
        }
    }

    /// Time until the cached decision is to be looked at again; `None`: never.
    fn until_recheck(&self, now: SystemTime) -> Option<Duration> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let at = cache.as_ref()?.recheck_at?;
        Some(Duration::from_secs(
            at.saturating_sub(unix(now)).max(0).unsigned_abs(),
        ))
    }

    /// The cached decision for `file_token`, while it holds.
    fn cached(&self, file_token: &Token, now: i64) -> Option<Token> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = cache.as_ref()?;
        (cached.file_token == *file_token && cached.recheck_at.is_none_or(|at| now < at))
            .then(|| cached.resolved.clone())
    }

    fn remember(
        &self,
        file_token: &Token,
        resolved: &Token,
        recheck_at: Option<i64>,
        failure: Option<Failure>,
    ) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            file_token: file_token.clone(),
            resolved: resolved.clone(),
            recheck_at,
            failure,
        });
    }

    /// `stored_tokens`, empty when missing or unreadable (as huggingface_hub reads it).
    fn read_stored(&self) -> StoredTokens {
        let path = &self.files.stored_tokens;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return StoredTokens::default(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                return StoredTokens::default();
            }
        };
        StoredTokens::parse(&text).unwrap_or_else(|e| {
            tracing::warn!("cannot parse {}: {e}", path.display());
            StoredTokens::default()
        })
    }

    /// The refresh proper, under the cross-process lock: the new token, its expiry, and
    /// the event (none when another process had refreshed already).
    async fn refresh_locked(
        &self,
        due: &Due,
        now: i64,
    ) -> Result<(Token, Option<i64>, Option<Event>), RefreshError> {
        let _lock = files::lock_exclusive(&self.files.lock).await?;
        let mut stored = self.read_stored();
        let section = stored.section(&due.name);
        let current = section.and_then(|s| s.get(HF_TOKEN));
        if current.is_none_or(|t| t.expose_secret() != due.token.expose()) {
            // Another process refreshed this login meanwhile: adopt its result.
            let token = current
                .and_then(|t| Token::new(t.expose_secret()))
                .unwrap_or_else(|| due.token.clone());
            let expires_at = section.and_then(Section::expires_at);
            tracing::debug!(login = %due.name, "refreshed by another process");
            return Ok((token, expires_at, None));
        }
        let answer = exchange::refresh_access_token(
            &self.settings.hub_url,
            &self.settings.client_id,
            &due.refresh_token,
            &self.settings.user_agent,
        )
        .await?;
        let expires_at = answer.expires_in.map(|s| now.saturating_add(s));
        // The Hub may rotate the refresh token; the old one is kept when it does not.
        let refresh_token = answer
            .refresh_token
            .unwrap_or_else(|| due.refresh_token.clone());
        let mut fields = vec![
            (
                HF_TOKEN.to_owned(),
                SecretString::from(answer.access_token.expose().to_owned()),
            ),
            (REFRESH_TOKEN.to_owned(), refresh_token),
        ];
        if let Some(at) = expires_at {
            fields.push((EXPIRES_AT.to_owned(), SecretString::from(at.to_string())));
        }
        stored.set_section(&due.name, fields);
        files::write_secret(&self.files.stored_tokens, &stored.render())?;
        // The token file, unless another login was made active meanwhile.
        if matches!(read_token_file(&self.files.token), Ok(Some(t)) if t == due.token) {
            files::write_secret(&self.files.token, answer.access_token.expose())?;
        }
        tracing::info!(login = %due.name, "refreshed the Hugging Face login");
        Ok((
            answer.access_token,
            expires_at,
            Some(Event::Refreshed {
                name: due.name.clone(),
            }),
        ))
    }
}

/// Seconds since the Unix epoch.
fn unix(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
