//! The router base URL: `--router-url`, `$HFCLAW_ROUTER_URL`, the config's
//! `models.providers.huggingface.baseUrl`, else the public router.

use std::fmt;

/// The public Hugging Face router.
pub const DEFAULT_BASE_URL: &str = "https://router.huggingface.co/v1";

/// The environment variable that overrides the router URL.
pub const ROUTER_URL_ENV: &str = "HFCLAW_ROUTER_URL";

/// Where the base URL in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseUrlSource {
    /// The `--router-url` flag.
    Flag,
    /// `$HFCLAW_ROUTER_URL`.
    Env,
    /// `models.providers.huggingface.baseUrl` in the config.
    Config,
    /// [`DEFAULT_BASE_URL`].
    Default,
}

impl fmt::Display for BaseUrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BaseUrlSource::Flag => "--router-url flag",
            BaseUrlSource::Env => "HFCLAW_ROUTER_URL environment variable",
            BaseUrlSource::Config => "models.providers.huggingface.baseUrl in the config",
            BaseUrlSource::Default => "default",
        })
    }
}

/// Picks the base URL by precedence; empty values are skipped, trailing `/` trimmed.
///
/// The URL is not validated here: [`crate::RouterClient::new`] rejects a malformed one.
pub fn resolve_base_url(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    config_base_url: Option<&str>,
) -> (String, BaseUrlSource) {
    let env_value = env(ROUTER_URL_ENV);
    let candidates = [
        (flag, BaseUrlSource::Flag),
        (env_value.as_deref(), BaseUrlSource::Env),
        (config_base_url, BaseUrlSource::Config),
    ];
    for (value, source) in candidates {
        if let Some(url) = value.map(normalize_base_url).filter(|u| !u.is_empty()) {
            return (url, source);
        }
    }
    (DEFAULT_BASE_URL.to_owned(), BaseUrlSource::Default)
}

/// The environment variable that points hfclaw at another Hub (a mirror, a test fake).
pub const HUB_URL_ENV: &str = "HFCLAW_HUB_URL";

/// The Hugging Face Hub (whoami, OAuth refresh): `$HFCLAW_HUB_URL`, else
/// [`crate::DEFAULT_HUB_URL`]; trailing `/` trimmed.
pub fn resolve_hub_url(env: &dyn Fn(&str) -> Option<String>) -> String {
    env(HUB_URL_ENV)
        .map(|url| normalize_base_url(&url))
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| crate::DEFAULT_HUB_URL.to_owned())
}

/// Trims whitespace and trailing slashes, so `…/v1/` and `…/v1` name the same router.
pub fn normalize_base_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_trimming() {
        let none = |_: &str| None;
        let env = |k: &str| (k == ROUTER_URL_ENV).then(|| "http://env/v1/".to_owned());
        let empty_env = |_: &str| Some("  ".to_owned());
        assert_eq!(
            resolve_base_url(None, &none, None),
            (DEFAULT_BASE_URL.to_owned(), BaseUrlSource::Default)
        );
        assert_eq!(
            resolve_base_url(None, &none, Some("http://cfg/v1//")),
            ("http://cfg/v1".to_owned(), BaseUrlSource::Config)
        );
        assert_eq!(
            resolve_base_url(None, &env, Some("http://cfg/v1")),
            ("http://env/v1".to_owned(), BaseUrlSource::Env)
        );
        assert_eq!(
            resolve_base_url(Some("http://flag/v1"), &env, Some("http://cfg/v1")),
            ("http://flag/v1".to_owned(), BaseUrlSource::Flag)
        );
        assert_eq!(
            resolve_base_url(Some(""), &empty_env, Some("/")),
            (DEFAULT_BASE_URL.to_owned(), BaseUrlSource::Default)
        );
    }

    #[test]
    fn hub_url_from_env_else_huggingface_co() {
        let none = |_: &str| None;
        let env = |k: &str| (k == HUB_URL_ENV).then(|| "http://127.0.0.1:9/ ".to_owned());
        assert_eq!(resolve_hub_url(&none), "https://huggingface.co");
        assert_eq!(resolve_hub_url(&env), "http://127.0.0.1:9");
    }
}
