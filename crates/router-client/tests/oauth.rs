//! The refresh of `hf auth login` tokens against a loopback fake Hub (`/oauth/token`):
//! what is sent, what is written, and what happens on each kind of answer.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_router_client::Token;
use hfclaw_router_client::oauth::{
    Check, DEFAULT_CLIENT_ID, Event, Failure, LoginFiles, RefreshSettings, Refresher,
};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OLD: &str = "hf_oauth_access_old_0000";
const NEW: &str = "hf_oauth_access_new_1111";
const REFRESH: &str = "hf_oauth_refresh_secret_2222";
const ROTATED: &str = "hf_oauth_refresh_rotated_3333";
const HOUR: i64 = 3600;
/// A fixed "now" for deterministic expiries.
const NOW: i64 = 1_800_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    files: LoginFiles,
    hub: MockServer,
}

impl Fixture {
    /// A Hugging Face home with `token` = OLD and `stored_tokens` holding its login
    /// (expiring at `expires_at`) plus a classic token under another name.
    async fn new(expires_at: i64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("hf/token");
        std::fs::create_dir_all(token.parent().unwrap()).unwrap();
        std::fs::write(&token, OLD).unwrap();
        let files = LoginFiles::beside(&token);
        std::fs::write(
            files.stored_tokens(),
            format!(
                "[oauth-alice]\nhf_token = {OLD}\nrefresh_token = {REFRESH}\nexpires_at = {expires_at}\n\n[work]\nhf_token = hf_classic_9999\n\n"
            ),
        )
        .unwrap();
        Fixture {
            _dir: dir,
            files,
            hub: MockServer::start().await,
        }
    }

    fn refresher(&self) -> Refresher {
        Refresher::new(self.files.clone(), self.settings(DEFAULT_CLIENT_ID))
    }

    fn settings(&self, client_id: &str) -> RefreshSettings {
        RefreshSettings {
            hub_url: self.hub.uri(),
            client_id: client_id.to_owned(),
            user_agent: "hfclaw-test".to_owned(),
        }
    }

    fn token_file(&self) -> String {
        std::fs::read_to_string(self.files.token()).unwrap()
    }

    fn stored(&self) -> String {
        std::fs::read_to_string(self.files.stored_tokens()).unwrap()
    }

    /// Answers `/oauth/token` with `status` and `body`, expecting `calls` calls.
    async fn answer(&self, status: u16, body: serde_json::Value, calls: u64) {
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(calls)
            .mount(&self.hub)
            .await;
    }
}

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
}

fn token(value: &str) -> Token {
    Token::new(value).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn oauth_refresh_sends_huggingface_hubs_form_and_rewrites_both_files() {
    let fx = Fixture::new(NOW + HOUR).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(format!(
            "grant_type=refresh_token&refresh_token={REFRESH}&client_id={DEFAULT_CLIENT_ID}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": NEW, "refresh_token": ROTATED, "expires_in": 30 * 24 * HOUR,
            "token_type": "bearer"
        })))
        .expect(1)
        .mount(&fx.hub)
        .await;
    let refresher = fx.refresher();
    let resolved = refresher.resolve(&token(OLD), at(NOW)).await;
    assert_eq!(resolved.token.expose(), NEW);
    assert_eq!(
        resolved.event,
        Some(Event::Refreshed {
            name: "oauth-alice".into()
        })
    );
    assert_eq!(fx.token_file(), NEW);
    // huggingface_hub's layout: sections sorted, the refreshed one replaced whole.
    assert_eq!(
        fx.stored(),
        format!(
            "[oauth-alice]\nhf_token = {NEW}\nrefresh_token = {ROTATED}\nexpires_at = {}\n\n[work]\nhf_token = hf_classic_9999\n\n",
            NOW + 30 * 24 * HOUR
        )
    );
    assert_eq!(mode(fx.files.token()), 0o600);
    assert_eq!(mode(fx.files.stored_tokens()), 0o600);
    assert!(
        fx.files.lock().exists(),
        "stored_tokens.lock, as filelock leaves it"
    );
    // The new token is good for 30 days: no further call (the mock expects one).
    let again = refresher.resolve(&token(NEW), at(NOW + 60)).await;
    assert_eq!(again.token.expose(), NEW);
    assert!(again.event.is_none());
    let status = refresher.status(&token(NEW)).unwrap();
    assert_eq!(status.name, "oauth-alice");
    assert_eq!(status.expires_at, Some(NOW + 30 * 24 * HOUR));
    assert!(!status.expired(at(NOW)));
}

#[tokio::test]
async fn oauth_refresh_keeps_the_old_refresh_token_when_none_comes_back() {
    let fx = Fixture::new(NOW + HOUR).await;
    fx.answer(
        200,
        serde_json::json!({"access_token": NEW, "expires_in": 8 * HOUR}),
        1,
    )
    .await;
    let resolved = fx.refresher().resolve(&token(OLD), at(NOW)).await;
    assert_eq!(resolved.token.expose(), NEW);
    assert!(
        fx.stored().starts_with(&format!(
            "[oauth-alice]\nhf_token = {NEW}\nrefresh_token = {REFRESH}\nexpires_at = {}\n",
            NOW + 8 * HOUR
        )),
        "{}",
        fx.stored()
    );
}

#[tokio::test]
async fn oauth_refresh_is_not_due_with_more_than_a_day_left() {
    let fx = Fixture::new(NOW + 25 * HOUR).await;
    fx.answer(200, serde_json::json!({"access_token": NEW}), 0)
        .await;
    let refresher = fx.refresher();
    assert!(matches!(refresher.check(&token(OLD), at(NOW)), Check::Ready(t) if t.expose() == OLD));
    // Until the deadline the decision is cached: a changed file is not even read.
    std::fs::write(fx.files.stored_tokens(), "garbage").unwrap();
    assert!(matches!(
        refresher.check(&token(OLD), at(NOW + HOUR - 1)),
        Check::Ready(_)
    ));
}

#[tokio::test]
async fn oauth_refresh_uses_the_client_id_the_login_was_issued_to() {
    let fx = Fixture::new(NOW).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string(format!(
            "grant_type=refresh_token&refresh_token={REFRESH}&client_id=my-client"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": NEW})),
        )
        .expect(1)
        .mount(&fx.hub)
        .await;
    let env = |name: &str| (name == "HF_DEVICE_CODE_OAUTH_CLIENT_ID").then(|| "my-client".into());
    let mut settings = RefreshSettings::from_env(&env, "ua");
    assert_eq!(settings.hub_url, "https://huggingface.co");
    settings.hub_url = fx.hub.uri();
    let resolved = Refresher::new(fx.files.clone(), settings)
        .resolve(&token(OLD), at(NOW))
        .await;
    assert_eq!(resolved.token.expose(), NEW);
    // No `expires_in`: no `expires_at` either (huggingface_hub writes none).
    assert!(!fx.stored().contains("expires_at"), "{}", fx.stored());
}

#[tokio::test]
async fn oauth_invalid_grant_warns_once_and_stops_asking() {
    let fx = Fixture::new(NOW + HOUR).await;
    fx.answer(
        400,
        serde_json::json!({"error": "invalid_grant", "error_description": "Refresh token expired"}),
        1,
    )
    .await;
    let refresher = fx.refresher();
    let first = refresher.resolve(&token(OLD), at(NOW)).await;
    assert_eq!(first.token.expose(), OLD, "the current token is kept");
    let event = first.event.unwrap();
    assert!(event.is_warning());
    assert_eq!(
        event.to_string(),
        "the Hugging Face login `oauth-alice` cannot be refreshed (the session expired or was revoked) and its token stops working in 1 h: run `hf auth login`"
    );
    // Never again for this token, however late (the mock expects one call).
    let later = refresher.resolve(&token(OLD), at(NOW + 10 * HOUR)).await;
    assert!(later.event.is_none());
    let status = refresher.status(&token(OLD)).unwrap();
    assert_eq!(status.failure, Some(Failure::SessionEnded));
    assert!(status.expired(at(NOW)));
    assert_eq!(fx.token_file(), OLD, "nothing rewritten");
}

#[tokio::test]
async fn oauth_server_error_is_retried_after_five_minutes_and_warned_once() {
    let fx = Fixture::new(NOW - 60).await;
    fx.answer(500, serde_json::json!({"error": "server_error"}), 2)
        .await;
    let refresher = fx.refresher();
    let first = refresher.resolve(&token(OLD), at(NOW)).await;
    let Some(Event::RefreshFailed { reason, .. }) = &first.event else {
        panic!("{:?}", first.event);
    };
    assert_eq!(reason, "the Hub refused it: server_error");
    assert!(
        first
            .event
            .unwrap()
            .to_string()
            .ends_with("trying again in 5 min")
    );
    assert!(
        refresher
            .resolve(&token(OLD), at(NOW + 299))
            .await
            .event
            .is_none()
    );
    // Asked again after the interval, but not warned about again.
    let third = refresher.resolve(&token(OLD), at(NOW + 300)).await;
    assert_eq!(third.token.expose(), OLD);
    assert!(third.event.is_none());
    let status = refresher.status(&token(OLD)).unwrap();
    assert!(matches!(status.failure, Some(Failure::Failed(_))));
    assert!(status.expired(at(NOW)), "past expires_at and not refreshed");
}

#[tokio::test]
async fn oauth_answer_that_is_not_json_is_a_transient_failure() {
    let fx = Fixture::new(NOW).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&fx.hub)
        .await;
    let resolved = fx.refresher().resolve(&token(OLD), at(NOW)).await;
    let Some(Event::RefreshFailed { reason, .. }) = resolved.event else {
        panic!("{:?}", resolved.event);
    };
    assert_eq!(
        reason,
        "the Hub's answer (HTTP 502) is not an OAuth token answer"
    );
}

#[tokio::test]
async fn oauth_refresh_by_another_process_is_adopted_under_the_lock() {
    let fx = Fixture::new(NOW + HOUR).await;
    fx.answer(
        200,
        serde_json::json!({"access_token": "hf_should_not_be_asked"}),
        0,
    )
    .await;
    let refresher = fx.refresher();
    let Check::Due(due) = refresher.check(&token(OLD), at(NOW)) else {
        panic!("due");
    };
    // Another process (hf, another hfclaw) refreshes before this one takes the lock.
    std::fs::write(
        fx.files.stored_tokens(),
        format!(
            "[oauth-alice]\nhf_token = {NEW}\nrefresh_token = {ROTATED}\nexpires_at = {}\n",
            NOW + 30 * 24 * HOUR
        ),
    )
    .unwrap();
    std::fs::write(fx.files.token(), NEW).unwrap();
    let resolved = refresher.refresh(due, at(NOW)).await;
    assert_eq!(resolved.token.expose(), NEW);
    assert!(resolved.event.is_none());
}

#[tokio::test]
async fn oauth_refresh_does_not_overwrite_a_token_file_switched_meanwhile() {
    let fx = Fixture::new(NOW).await;
    fx.answer(
        200,
        serde_json::json!({"access_token": NEW, "expires_in": 3600}),
        1,
    )
    .await;
    let refresher = fx.refresher();
    let Check::Due(due) = refresher.check(&token(OLD), at(NOW)) else {
        panic!("due");
    };
    // `hf auth switch` to the classic token between the check and the refresh.
    std::fs::write(fx.files.token(), "hf_classic_9999").unwrap();
    let resolved = refresher.refresh(due, at(NOW)).await;
    assert_eq!(resolved.token.expose(), NEW);
    assert_eq!(fx.token_file(), "hf_classic_9999");
    assert!(fx.stored().contains(NEW));
}

#[tokio::test]
async fn oauth_concurrent_refreshes_in_one_process_ask_once() {
    let fx = Fixture::new(NOW).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": NEW, "expires_in": 86400 * 30}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&fx.hub)
        .await;
    let refresher = fx.refresher();
    let old = token(OLD);
    let (a, b) = tokio::join!(
        refresher.resolve(&old, at(NOW)),
        refresher.resolve(&old, at(NOW))
    );
    assert_eq!((a.token.expose(), b.token.expose()), (NEW, NEW));
    assert_eq!(
        usize::from(a.event.is_some()) + usize::from(b.event.is_some()),
        1,
        "one refresh reported"
    );
}

#[tokio::test]
async fn oauth_classic_tokens_are_not_logins() {
    let fx = Fixture::new(NOW).await;
    fx.answer(200, serde_json::json!({"access_token": NEW}), 0)
        .await;
    let refresher = fx.refresher();
    let classic = token("hf_classic_9999");
    std::fs::write(fx.files.token(), classic.expose()).unwrap();
    assert!(matches!(refresher.check(&classic, at(NOW)), Check::Ready(t) if t == classic));
    assert!(refresher.status(&classic).is_none());
    // Nor is a token of no section, or anything when stored_tokens is unreadable.
    std::fs::write(fx.files.stored_tokens(), [0xff, 0xfe]).unwrap();
    let other = Refresher::new(fx.files.clone(), fx.settings(DEFAULT_CLIENT_ID));
    assert!(matches!(other.check(&classic, at(NOW)), Check::Ready(_)));
    assert!(other.status(&token(OLD)).is_none());
}

#[tokio::test]
async fn oauth_keep_fresh_refreshes_the_active_token_on_its_timer() {
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let fx = Fixture::new(now + 2 * HOUR).await;
    fx.answer(
        200,
        serde_json::json!({"access_token": NEW, "expires_in": 30 * 24 * HOUR}),
        1,
    )
    .await;
    let refresher = Arc::new(fx.refresher());
    refresher.set_active(Some(token(OLD)));
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = events.clone();
    let task = tokio::spawn(
        refresher
            .clone()
            .keep_fresh(Duration::from_millis(20), move |event: &Event| {
                sink.lock().unwrap().push(event.clone())
            }),
    );
    for _ in 0..250 {
        if !events.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    task.abort();
    assert_eq!(
        *events.lock().unwrap(),
        [Event::Refreshed {
            name: "oauth-alice".into()
        }]
    );
    assert_eq!(fx.token_file(), NEW);
    assert_eq!(refresher.active().unwrap().expose(), NEW);
}

#[tokio::test]
async fn oauth_secrets_never_show_in_errors_or_debug() {
    let fx = Fixture::new(NOW).await;
    fx.answer(
        400,
        serde_json::json!({"error": "invalid_request", "error_description": format!("bad {REFRESH} for {OLD}")}),
        1,
    )
    .await;
    let refresher = fx.refresher();
    let Check::Due(due) = refresher.check(&token(OLD), at(NOW)) else {
        panic!("due");
    };
    let debug = format!("{due:?} {refresher:?}");
    let resolved = refresher.refresh(due, at(NOW)).await;
    let shown = format!(
        "{debug} {:?} {} {:?}",
        resolved.event,
        resolved.event.as_ref().unwrap(),
        refresher.status(&token(OLD))
    );
    assert!(
        shown.contains("invalid_request (bad … for hf_…)"),
        "{shown}"
    );
    assert!(!shown.contains(REFRESH), "{shown}");
    assert!(!shown.contains("access_old"), "{shown}");
}

/// Where a test Hugging Face home puts its files.
#[test]
fn login_files_sit_beside_the_token_file() {
    let files = LoginFiles::beside(Path::new("/h/.cache/huggingface/token"));
    assert_eq!(
        files.stored_tokens(),
        PathBuf::from("/h/.cache/huggingface/stored_tokens")
    );
    assert_eq!(
        files.lock(),
        PathBuf::from("/h/.cache/huggingface/stored_tokens.lock")
    );
    let env = |name: &str| (name == "HF_TOKEN_PATH").then(|| "/elsewhere/tok".to_owned());
    let located = LoginFiles::locate(&env, None).unwrap();
    assert_eq!(
        located.stored_tokens(),
        Path::new("/elsewhere/stored_tokens")
    );
}
