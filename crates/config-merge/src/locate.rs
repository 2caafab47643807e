//! Where the config, the state directory and the `.env` file are (SPEC §3).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::ConfigError;

/// The files hfclaw reads and writes for one OpenClaw installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `openclaw.json`.
    pub config: PathBuf,
    /// OpenClaw's state directory (`$OPENCLAW_STATE_DIR`, else `~/.openclaw`).
    pub state_dir: PathBuf,
    /// The `.env` file OpenClaw reads: `$OPENCLAW_STATE_DIR/.env` when that is set, else
    /// the one beside the config.
    pub env_file: PathBuf,
    /// Which rule chose the config path, for `models status`.
    pub source: PathSource,
}

/// How the config path was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSource {
    /// `--config PATH`.
    Flag,
    /// `$OPENCLAW_CONFIG_PATH`.
    ConfigEnv,
    /// `$OPENCLAW_STATE_DIR/openclaw.json`.
    StateDirEnv,
    /// `~/.openclaw/openclaw.json`.
    Default,
}

impl std::fmt::Display for PathSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathSource::Flag => "--config",
            PathSource::ConfigEnv => "OPENCLAW_CONFIG_PATH",
            PathSource::StateDirEnv => "OPENCLAW_STATE_DIR",
            PathSource::Default => "default",
        })
    }
}

/// Finds the config: `--config`, `$OPENCLAW_CONFIG_PATH`, `$OPENCLAW_STATE_DIR/openclaw.json`,
/// else `<home>/.openclaw/openclaw.json`. Empty variables count as unset.
pub fn locate(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    home: Option<&Path>,
) -> Result<ConfigPaths, ConfigError> {
    let env_path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let default_state = home.map(|h| h.join(".openclaw"));
    let state_env = env_path("OPENCLAW_STATE_DIR");
    let (config, source) = if let Some(path) = explicit {
        (path.to_path_buf(), PathSource::Flag)
    } else if let Some(path) = env_path("OPENCLAW_CONFIG_PATH") {
        (path, PathSource::ConfigEnv)
    } else if let Some(dir) = &state_env {
        (dir.join("openclaw.json"), PathSource::StateDirEnv)
    } else {
        let dir = default_state.clone().ok_or(ConfigError::NoHome)?;
        (dir.join("openclaw.json"), PathSource::Default)
    };
    let config_dir = parent_dir(&config);
    // OpenClaw loads `.env` from its state dir, wherever the config is: with an explicit
    // state dir, a token stored beside a config kept elsewhere would never be read.
    let env_file = state_env.as_deref().unwrap_or(&config_dir).join(".env");
    let state_dir = state_env
        .or(default_state)
        .unwrap_or_else(|| config_dir.clone());
    Ok(ConfigPaths {
        env_file,
        config,
        state_dir,
        source,
    })
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl ConfigPaths {
    /// OpenClaw's per-agent provider file for the default agent.
    pub fn default_models_json(&self) -> PathBuf {
        self.state_dir
            .join("agents")
            .join("main")
            .join("agent")
            .join("models.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn precedence_flag_then_config_env_then_state_dir_then_home() {
        let home = Path::new("/home/u");
        let all = env_of(&[
            ("OPENCLAW_CONFIG_PATH", "/etc/oc.json"),
            ("OPENCLAW_STATE_DIR", "/var/oc"),
        ]);
        let p = locate(Some(Path::new("/x/c.json")), &all, Some(home)).unwrap();
        assert_eq!(p.config, Path::new("/x/c.json"));
        assert_eq!(p.env_file, Path::new("/var/oc/.env"));
        assert_eq!(p.state_dir, Path::new("/var/oc"));
        assert_eq!(p.source, PathSource::Flag);

        let p = locate(Some(Path::new("/x/c.json")), &env_of(&[]), Some(home)).unwrap();
        assert_eq!(
            p.env_file,
            Path::new("/x/.env"),
            "beside the config (SPEC §3)"
        );

        let p = locate(None, &all, Some(home)).unwrap();
        assert_eq!(p.config, Path::new("/etc/oc.json"));
        assert_eq!(p.source, PathSource::ConfigEnv);

        let state_only = env_of(&[
            ("OPENCLAW_STATE_DIR", "/var/oc"),
            ("OPENCLAW_CONFIG_PATH", ""),
        ]);
        let p = locate(None, &state_only, Some(home)).unwrap();
        assert_eq!(p.config, Path::new("/var/oc/openclaw.json"));
        assert_eq!(p.env_file, Path::new("/var/oc/.env"));
        assert_eq!(p.source, PathSource::StateDirEnv);

        let none = env_of(&[]);
        let p = locate(None, &none, Some(home)).unwrap();
        assert_eq!(p.config, Path::new("/home/u/.openclaw/openclaw.json"));
        assert_eq!(p.state_dir, Path::new("/home/u/.openclaw"));
        assert_eq!(
            p.default_models_json(),
            Path::new("/home/u/.openclaw/agents/main/agent/models.json")
        );
        assert_eq!(p.source, PathSource::Default);
    }

    #[test]
    fn no_home_and_nothing_set_is_an_error() {
        let none = env_of(&[]);
        assert!(matches!(
            locate(None, &none, None),
            Err(ConfigError::NoHome)
        ));
        let p = locate(Some(Path::new("c.json")), &none, None).unwrap();
        assert_eq!(p.env_file, Path::new("./.env"));
    }
}
