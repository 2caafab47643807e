//! The Hugging Face token: a redacting type, where it may come from, and SPEC §4's
//! precedence between those places.
//!
//! Order: `--token`, `HUGGINGFACE_HUB_TOKEN`, `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, the
//! state dir `.env`, the config's `env.vars`, the login shell (`env.shellEnv`, see
//! [`crate::shell_env`]), then the Hugging Face CLI token file. That is OpenClaw's order
//! for its own sources (process environment, `.env`, config `env`, login-shell import),
//! then hfclaw's extra one. Empty (or all-whitespace) values are skipped as if absent;
//! values are trimmed.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};

use crate::shell_env::ShellImport;

/// Environment variables read for the token, in precedence order.
pub const TOKEN_ENV_VARS: [&str; 3] = [
    "HUGGINGFACE_HUB_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
];

/// Keys looked up in the state dir `.env` and in the config's `env.vars`, in order.
pub const TOKEN_FILE_KEYS: [&str; 2] = ["HUGGINGFACE_HUB_TOKEN", "HF_TOKEN"];

/// The prefix every Hugging Face user access token starts with.
pub const TOKEN_PREFIX: &str = "hf_";

/// A Hugging Face access token; its value only leaves through [`Token::expose`].
///
/// `Debug` prints the redacted form (`Token(hf_…a1b2)`); there is no `Display`.
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// Wraps a token, trimming surrounding whitespace; `None` when nothing is left.
    pub fn new(value: impl Into<String>) -> Option<Token> {
        let mut raw: String = value.into();
        let trimmed = raw.trim();
        let token = if trimmed.is_empty() {
            None
        } else {
            Some(Token(SecretString::from(trimmed.to_owned())))
        };
        raw.zeroize();
        token
    }

    /// The secret value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Redacted form for people: first 3 characters, `…`, last 4 (`hf_…a1b2`); only `…`
    /// for values shorter than 12 characters, which would otherwise be mostly shown.
    pub fn redacted(&self) -> String {
        redact(self.expose())
    }

    /// True when the token has the `hf_` shape of a Hugging Face access token.
    pub fn looks_valid(&self) -> bool {
        self.shape_problem().is_none()
    }

    /// What keeps the token from the `hf_` shape, in words for a message ("the token …
    /// contains a space"), the most telling first; `None` when it has the shape.
    pub fn shape_problem(&self) -> Option<&'static str> {
        let value = self.expose();
        if value.chars().any(char::is_whitespace) {
            return Some("contains a space");
        }
        if !value.starts_with(TOKEN_PREFIX) {
            return Some("does not start with hf_");
        }
        if value.len() == TOKEN_PREFIX.len() {
            return Some("has nothing after hf_");
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Some("has characters a Hugging Face token never has");
        }
        None
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.redacted())
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Token {}

/// The redacted form of any secret string (see [`Token::redacted`]).
pub fn redact(secret: &str) -> String {
    let count = secret.chars().count();
    if count < 12 {
        return "…".to_owned();
    }
    let head: String = secret.chars().take(3).collect();
    let tail: String = secret.chars().skip(count - 4).collect();
    format!("{head}…{tail}")
}

/// Where the token in use was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The `--token` flag.
    Flag,
    /// An environment variable, by name.
    Env(&'static str),
    /// A key of the state dir `.env` file.
    StateEnvFile {
        /// The `.env` file.
        path: PathBuf,
        /// The key that held the token.
        key: &'static str,
    },
    /// A key of the config's `env.vars`.
    ConfigEnvVars {
        /// The key that held the token.
        key: &'static str,
    },
    /// A variable the login shell's profile exports (`env.shellEnv`).
    LoginShell {
        /// The shell that ran.
        shell: PathBuf,
        /// The variable that held the token.
        key: &'static str,
    },
    /// The Hugging Face CLI's token file.
    HfCliTokenFile(PathBuf),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Flag => f.write_str("--token flag"),
            TokenSource::Env(name) => write!(f, "{name} environment variable"),
            TokenSource::StateEnvFile { path, key } => write!(f, "{key} in {}", path.display()),
            TokenSource::ConfigEnvVars { key } => write!(f, "env.vars.{key} in the config"),
            TokenSource::LoginShell { shell, key } => {
                write!(f, "{key} in login shell {}", shell.display())
            }
            TokenSource::HfCliTokenFile(path) => {
                write!(f, "Hugging Face CLI token file {}", path.display())
            }
        }
    }
}

/// Everything token resolution reads, injected so tests never touch the real environment.
pub struct TokenInputs<'a> {
    /// The `--token` flag's value.
    pub flag: Option<String>,
    /// Environment lookup (`|k| std::env::var(k).ok()` in production).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The state dir `.env` file (beside the config), when there is one to read.
    pub state_env_file: Option<PathBuf>,
    /// The config's `env.vars`, in file order.
    pub config_env_vars: Vec<(String, String)>,
    /// The user's home directory (for `~/.cache/huggingface/token`).
    pub home: Option<PathBuf>,
    /// The `env.shellEnv` import, asked only when every earlier source is empty; `None`
    /// when disabled. The caller runs [`crate::shell_env::read_token`] in it (and reports
    /// its failure: a shell that fails is a warning, never an error).
    pub login_shell: Option<&'a dyn Fn() -> Option<ShellImport>>,
}

impl fmt::Debug for TokenInputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vars: Vec<&str> = self
            .config_env_vars
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        f.debug_struct("TokenInputs")
            .field("flag", &self.flag.as_deref().map(redact))
            .field("state_env_file", &self.state_env_file)
            .field("config_env_var_keys", &vars)
            .field("home", &self.home)
            .field("login_shell", &self.login_shell.is_some())
            .finish_non_exhaustive()
    }
}

/// A token source exists but could not be read. Never contains a token or a file line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The `.env` file exists but cannot be read or parsed.
    #[error("cannot read the env file {path}: {reason}")]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What went wrong (no file content).
        reason: String,
    },
    /// The Hugging Face CLI token file exists but cannot be read.
    #[error("cannot read the Hugging Face token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Finds the token by SPEC §4's precedence; `Ok(None)` when no source holds one.
///
/// Sources are read lazily in order, so an unreadable `.env` only matters when no earlier
/// source had a token.
pub fn resolve_token(inputs: &TokenInputs<'_>) -> Result<Option<(Token, TokenSource)>, TokenError> {
    if let Some(token) = inputs.flag.clone().and_then(Token::new) {
        return Ok(Some((token, TokenSource::Flag)));
    }
    for name in TOKEN_ENV_VARS {
        if let Some(token) = (inputs.env)(name).and_then(Token::new) {
            return Ok(Some((token, TokenSource::Env(name))));
        }
    }
    if let Some(path) = &inputs.state_env_file
        && let Some((token, key)) = read_env_file(path)?
    {
        let source = TokenSource::StateEnvFile {
            path: path.clone(),
            key,
        };
        return Ok(Some((token, source)));
    }
    for key in TOKEN_FILE_KEYS {
        let value = inputs
            .config_env_vars
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| Token::new(v.as_str()));
        if let Some(token) = value {
            return Ok(Some((token, TokenSource::ConfigEnvVars { key })));
        }
    }
    if let Some(login_shell) = inputs.login_shell
        && let Some(ShellImport {
            shell,
            token: Some((token, key)),
        }) = login_shell()
    {
        return Ok(Some((token, TokenSource::LoginShell { shell, key })));
    }
    if let Some(path) = hf_cli_token_path(inputs.env, inputs.home.as_deref())
        && let Some(token) = read_token_file(&path)?
    {
        return Ok(Some((token, TokenSource::HfCliTokenFile(path))));
    }
    Ok(None)
}

/// Where the Hugging Face CLI keeps its token: `$HF_TOKEN_PATH`, else `$HF_HOME/token`,
/// else `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`.
pub fn hf_cli_token_path(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    let var = |name: &str| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    };
    if let Some(path) = var("HF_TOKEN_PATH") {
        return Some(path);
    }
    if let Some(hf_home) = var("HF_HOME") {
        return Some(hf_home.join("token"));
    }
    if let Some(cache) = var("XDG_CACHE_HOME") {
        return Some(cache.join("huggingface").join("token"));
    }
    home.map(|h| h.join(".cache").join("huggingface").join("token"))
}

/// Reads the token keys of a `.env` file; a missing file is `None`.
fn read_env_file(path: &Path) -> Result<Option<(Token, &'static str)>, TokenError> {
    let env_error = |reason: String| TokenError::EnvFile {
        path: path.to_owned(),
        reason,
    };
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(e) if e.not_found() => return Ok(None),
        Err(e) => return Err(env_error(describe_dotenv_error(&e))),
    };
    let mut found: [Option<Token>; TOKEN_FILE_KEYS.len()] = Default::default();
    let mut first_error = None;
    for item in iter {
        match item {
            Ok((key, mut value)) => {
                if let Some(i) = TOKEN_FILE_KEYS.iter().position(|k| *k == key)
                    && found[i].is_none()
                {
                    found[i] = Token::new(value.as_str());
                }
                value.zeroize();
            }
            Err(dotenvy::Error::Io(source)) => return Err(env_error(source.to_string())),
            Err(e) => {
                first_error.get_or_insert_with(|| describe_dotenv_error(&e));
            }
        }
    }
    for (slot, key) in found.into_iter().zip(TOKEN_FILE_KEYS) {
        if let Some(token) = slot {
            return Ok(Some((token, key)));
        }
    }
    match first_error {
        Some(reason) => Err(env_error(reason)),
        None => Ok(None),
    }
}

/// Describes a dotenvy error without the offending line (which may hold a secret).
fn describe_dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, column) => {
            format!("a line could not be parsed (error at character {column})")
        }
        dotenvy::Error::Io(io) => io.to_string(),
        dotenvy::Error::EnvVar(_) => "a variable substitution failed".to_owned(),
        _ => "unreadable".to_owned(),
    }
}

/// Reads a token file: trimmed content; missing or empty is `None`.
pub(crate) fn read_token_file(path: &Path) -> Result<Option<Token>, TokenError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Token::new(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TokenError::TokenFile {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    const T1: &str = "hf_flagflagflagflag1111";
    const T2: &str = "hf_envenvenvenvenv2222";

    struct Fixture {
        dir: tempfile::TempDir,
        env: HashMap<String, String>,
        flag: Option<String>,
        env_file: Option<PathBuf>,
        vars: Vec<(String, String)>,
        shell: Option<ShellImport>,
        shell_runs: std::cell::Cell<u32>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                dir: tempfile::tempdir().unwrap(),
                env: HashMap::new(),
                flag: None,
                env_file: None,
                vars: Vec::new(),
                shell: None,
                shell_runs: std::cell::Cell::new(0),
            }
        }
        fn home(&self) -> PathBuf {
            self.dir.path().join("home")
        }
        fn set(&mut self, k: &str, v: &str) -> &mut Self {
            self.env.insert(k.to_owned(), v.to_owned());
            self
        }
        fn env_file(&mut self, content: &str) -> &mut Self {
            let path = self.dir.path().join("state/.env");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
            self.env_file = Some(path);
            self
        }
        fn write(&self, rel: &str, content: &str) -> PathBuf {
            let path = self.dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
            path
        }
        fn resolve(&self) -> Result<Option<(Token, TokenSource)>, TokenError> {
            let env = |k: &str| self.env.get(k).cloned();
            let login_shell = || {
                self.shell_runs.set(self.shell_runs.get() + 1);
                self.shell.clone()
            };
            let inputs = TokenInputs {
                flag: self.flag.clone(),
                env: &env,
                state_env_file: self.env_file.clone(),
                config_env_vars: self.vars.clone(),
                home: Some(self.home()),
                login_shell: self.shell.is_some().then_some(&login_shell as _),
            };
            resolve_token(&inputs)
        }
        fn winner(&self) -> Option<(String, TokenSource)> {
            self.resolve()
                .unwrap()
                .map(|(t, s)| (t.expose().to_owned(), s))
        }
    }

    #[test]
    fn precedence_follows_spec_order() {
        let mut fx = Fixture::new();
        fx.write("home/.cache/huggingface/token", "hf_fromclifile0000000\n");
        assert_eq!(
            fx.winner().unwrap().1,
            TokenSource::HfCliTokenFile(fx.home().join(".cache/huggingface/token"))
        );
        fx.shell = Some(ShellImport {
            shell: "/bin/zsh".into(),
            token: Token::new("hf_loginshell00000000").map(|t| (t, "HF_TOKEN")),
        });
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_loginshell00000000".to_owned(),
                TokenSource::LoginShell {
                    shell: "/bin/zsh".into(),
                    key: "HF_TOKEN"
                }
            )
        );
        fx.vars = vec![
            ("OTHER".into(), "x".into()),
            ("HF_TOKEN".into(), "hf_configvarhftoken00".into()),
        ];
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_configvarhftoken00".to_owned(),
                TokenSource::ConfigEnvVars { key: "HF_TOKEN" }
            )
        );
        fx.vars.push((
            "HUGGINGFACE_HUB_TOKEN".into(),
            "hf_configvarhub000000".into(),
        ));
        assert_eq!(
            fx.winner().unwrap().1,
            TokenSource::ConfigEnvVars {
                key: "HUGGINGFACE_HUB_TOKEN"
            }
        );
        fx.env_file("# comment\nHF_TOKEN=hf_envfileenvfile0000\nOTHER=1\n");
        let path = fx.env_file.clone().unwrap();
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_envfileenvfile0000".to_owned(),
                TokenSource::StateEnvFile {
                    path: path.clone(),
                    key: "HF_TOKEN"
                }
            )
        );
        fx.env_file(
            "HF_TOKEN=hf_envfileenvfile0000\nHUGGINGFACE_HUB_TOKEN='hf_envfilehub00000000'\n",
        );
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_envfilehub00000000".to_owned(),
                TokenSource::StateEnvFile {
                    path,
                    key: "HUGGINGFACE_HUB_TOKEN"
                }
            )
        );
        fx.set("HUGGING_FACE_HUB_TOKEN", "hf_legacylegacy00000");
        assert_eq!(
            fx.winner().unwrap().1,
            TokenSource::Env("HUGGING_FACE_HUB_TOKEN")
        );
        fx.set("HF_TOKEN", T2);
        assert_eq!(
            fx.winner().unwrap(),
            (T2.to_owned(), TokenSource::Env("HF_TOKEN"))
        );
        fx.set("HUGGINGFACE_HUB_TOKEN", "hf_hubhubhubhubhub000");
        assert_eq!(
            fx.winner().unwrap().1,
            TokenSource::Env("HUGGINGFACE_HUB_TOKEN")
        );
        fx.flag = Some(T1.to_owned());
        assert_eq!(fx.winner().unwrap(), (T1.to_owned(), TokenSource::Flag));
    }

    #[test]
    fn login_shell_runs_only_when_earlier_sources_are_empty() {
        let mut fx = Fixture::new();
        fx.shell = Some(ShellImport {
            shell: "/bin/zsh".into(),
            token: None,
        });
        fx.write("home/.cache/huggingface/token", "hf_fromclifile0000000");
        // A shell without a token falls through to the CLI token file.
        assert!(matches!(
            fx.winner().unwrap().1,
            TokenSource::HfCliTokenFile(_)
        ));
        assert_eq!(fx.shell_runs.get(), 1);
        fx.vars = vec![("HF_TOKEN".into(), "hf_configvarhftoken00".into())];
        fx.winner();
        fx.vars.clear();
        fx.env_file("HF_TOKEN=hf_envfileenvfile0000\n");
        fx.winner();
        fx.env_file = None;
        fx.set("HF_TOKEN", T2);
        fx.winner();
        fx.env.clear();
        fx.flag = Some(T1.to_owned());
        fx.winner();
        assert_eq!(fx.shell_runs.get(), 1, "a token was found before the shell");
    }

    #[test]
    fn empty_values_are_skipped_everywhere() {
        let mut fx = Fixture::new();
        fx.flag = Some("  ".to_owned());
        fx.set("HUGGINGFACE_HUB_TOKEN", "").set("HF_TOKEN", " \n");
        fx.env_file("HUGGINGFACE_HUB_TOKEN=\nHF_TOKEN=\"\"\n");
        fx.vars = vec![("HUGGINGFACE_HUB_TOKEN".into(), String::new())];
        fx.write("home/.cache/huggingface/token", "\n  \n");
        assert_eq!(fx.winner(), None);
        fx.vars
            .push(("HF_TOKEN".into(), " hf_padded00000000000 ".into()));
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_padded00000000000".to_owned(),
                TokenSource::ConfigEnvVars { key: "HF_TOKEN" }
            )
        );
    }

    #[test]
    fn hf_cli_token_file_location_order() {
        let mut fx = Fixture::new();
        let default = fx.write("home/.cache/huggingface/token", "hf_default0000000000");
        assert_eq!(fx.winner().unwrap().1, TokenSource::HfCliTokenFile(default));
        let xdg = fx.write("xdg/huggingface/token", "hf_xdgxdgxdg00000000");
        fx.set(
            "XDG_CACHE_HOME",
            fx.dir.path().join("xdg").to_str().unwrap(),
        );
        assert_eq!(fx.winner().unwrap().1, TokenSource::HfCliTokenFile(xdg));
        let hf_home = fx.write("hfhome/token", "hf_hfhomehfhome00000");
        fx.set("HF_HOME", fx.dir.path().join("hfhome").to_str().unwrap());
        assert_eq!(fx.winner().unwrap().1, TokenSource::HfCliTokenFile(hf_home));
        let explicit = fx.write("elsewhere/tok", "hf_explicit000000000");
        fx.set("HF_TOKEN_PATH", explicit.to_str().unwrap());
        assert_eq!(
            fx.winner().unwrap(),
            (
                "hf_explicit000000000".to_owned(),
                TokenSource::HfCliTokenFile(explicit.clone())
            )
        );
        // The chosen location is not abandoned for a later one when it is empty.
        std::fs::write(&explicit, "").unwrap();
        assert_eq!(fx.winner(), None);
    }

    #[test]
    fn no_home_and_no_env_means_no_cli_token_file() {
        let env = |_: &str| None;
        assert_eq!(hf_cli_token_path(&env, None), None);
    }

    #[test]
    fn missing_env_file_is_not_an_error_but_a_broken_one_is() {
        let mut fx = Fixture::new();
        fx.env_file = Some(fx.dir.path().join("nope/.env"));
        assert_eq!(fx.winner(), None);
        fx.env_file("HF_TOKEN='hf_secretsecret00000\n");
        let err = fx.resolve().unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("cannot read the env file"), "{text}");
        assert!(!text.contains("secretsecret"), "{text}");
    }

    #[test]
    fn broken_unrelated_line_does_not_hide_the_token() {
        let mut fx = Fixture::new();
        fx.env_file("BROKEN='x\nHF_TOKEN=hf_stillfound0000000\n");
        // dotenvy swallows the rest of the file into the unterminated quote: then the
        // error is reported, which is the honest answer.
        let result = fx.resolve();
        match result {
            Ok(Some((t, _))) => assert_eq!(t.expose(), "hf_stillfound0000000"),
            Ok(None) => panic!("a broken file must not read as empty"),
            Err(e) => assert!(e.to_string().contains(".env")),
        }
        fx.env_file("HF_TOKEN=hf_stillfound0000000\nBAD LINE WITHOUT EQUALS\n");
        assert_eq!(fx.winner().unwrap().0, "hf_stillfound0000000".to_owned());
    }

    #[test]
    fn unreadable_token_file_is_an_error() {
        let mut fx = Fixture::new();
        let dir = fx.dir.path().join("adir");
        std::fs::create_dir_all(&dir).unwrap();
        fx.set("HF_TOKEN_PATH", dir.to_str().unwrap());
        assert!(matches!(fx.resolve(), Err(TokenError::TokenFile { .. })));
    }

    #[test]
    fn redaction_shows_prefix_and_last_four_only() {
        let token = Token::new("hf_abcdefghijklmnopqrstuvwxyza1b2").unwrap();
        assert_eq!(token.redacted(), "hf_…a1b2");
        assert_eq!(format!("{token:?}"), "Token(hf_…a1b2)");
        assert_eq!(Token::new("hf_short").unwrap().redacted(), "…");
        assert_eq!(redact("ééééééééééééé"), "ééé…éééé");
    }

    #[test]
    fn shape_check() {
        assert!(Token::new("hf_AbC123xyz").unwrap().looks_valid());
        assert!(!Token::new("sk-abc").unwrap().looks_valid());
        assert!(!Token::new("hf_").unwrap().looks_valid());
        assert!(!Token::new("hf_abc def").unwrap().looks_valid());
    }

    #[test]
    fn a_token_with_a_space_is_said_to_contain_one() {
        let problem = |t: &str| Token::new(t).unwrap().shape_problem();
        assert_eq!(problem("hf_abc def"), Some("contains a space"));
        assert_eq!(problem("hf abcdef"), Some("contains a space"));
        assert_eq!(problem("sk-abc"), Some("does not start with hf_"));
        assert_eq!(problem("hf_"), Some("has nothing after hf_"));
        assert_eq!(
            problem("hf_ab-c"),
            Some("has characters a Hugging Face token never has")
        );
        assert_eq!(problem("hf_AbC123"), None);
        assert!(Token::new("   ").is_none());
        assert_eq!(Token::new(" hf_x \n").unwrap().expose(), "hf_x");
    }

    #[test]
    fn debug_of_inputs_and_sources_hides_the_token() {
        let secret = "hf_verysecretvalue9876";
        let env = |_: &str| Some(secret.to_owned());
        let inputs = TokenInputs {
            flag: Some(secret.to_owned()),
            env: &env,
            state_env_file: None,
            config_env_vars: vec![("HF_TOKEN".into(), secret.into())],
            home: None,
            login_shell: None,
        };
        let debug = format!("{inputs:?}");
        assert!(!debug.contains("verysecret"), "{debug}");
        let (token, source) = resolve_token(&inputs).unwrap().unwrap();
        assert_eq!(source.to_string(), "--token flag");
        assert!(!format!("{token:?}").contains("verysecret"));
    }

    #[test]
    fn source_display() {
        assert_eq!(
            TokenSource::Env("HF_TOKEN").to_string(),
            "HF_TOKEN environment variable"
        );
        assert_eq!(
            TokenSource::ConfigEnvVars { key: "HF_TOKEN" }.to_string(),
            "env.vars.HF_TOKEN in the config"
        );
        assert_eq!(
            TokenSource::LoginShell {
                shell: "/bin/zsh".into(),
                key: "HF_TOKEN"
            }
            .to_string(),
            "HF_TOKEN in login shell /bin/zsh"
        );
        assert_eq!(
            TokenSource::HfCliTokenFile("/h/token".into()).to_string(),
            "Hugging Face CLI token file /h/token"
        );
        assert_eq!(
            TokenSource::StateEnvFile {
                path: "/s/.env".into(),
                key: "HF_TOKEN"
            }
            .to_string(),
            "HF_TOKEN in /s/.env"
        );
    }
}
