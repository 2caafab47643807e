//! Typed errors of reading, editing and writing configs.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong with a config file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid JSON5; nothing was changed.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What the parser expected.
        message: String,
        /// The offending line with a caret under the column.
        snippet: String,
    },
    /// The root of the file is not an object.
    #[error("{}: the top level must be an object `{{ … }}`", path.display())]
    NotAnObject {
        /// The file.
        path: PathBuf,
    },
    /// A key hfclaw must edit holds a value of the wrong type (e.g. `fallbacks: "x"`).
    #[error("{}: `{key}` must be {expected}", path.display())]
    WrongType {
        /// The file.
        path: PathBuf,
        /// Dotted key path.
        key: String,
        /// What it should be.
        expected: &'static str,
    },
    /// Reading, writing, locking or renaming failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("reading", "writing", …).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file is read-only (its owner may not write it): hfclaw does not replace it.
    #[error("{} is read-only", path.display())]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// An edit produced text the strict parser refuses: a bug in hfclaw, caught before
    /// anything was written.
    #[error("{}: internal error: {detail}", path.display())]
    Bug {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A value cannot be written to a `.env` file so that it reads back the same.
    #[error("{}: cannot write {name}: {reason}", path.display())]
    EnvValue {
        /// The `.env` file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// Neither `--config`, the environment nor a home directory says where the config is.
    #[error("cannot find the config: no home directory")]
    NoHome,
}

impl ConfigError {
    /// Wraps an I/O error with what was being done to which file.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> ConfigError {
        ConfigError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// `true` when the user's input is at fault (exit code 2), `false` for I/O (exit 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            ConfigError::Io { .. } | ConfigError::Bug { .. } | ConfigError::ReadOnly { .. }
        )
    }

    /// What the user should do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Parse { snippet, .. } => Some(format!(
                "fix the syntax at the marked spot (the file was not changed):\n{snippet}"
            )),
            ConfigError::NotAnObject { .. } => {
                Some("an OpenClaw config is a JSON5 object, e.g. `{ agents: { … } }`".to_owned())
            }
            ConfigError::WrongType { .. } => {
                Some("fix that key by hand (the file was not changed)".to_owned())
            }
            ConfigError::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                Some("check the file's owner and permissions".to_owned())
            }
            ConfigError::Io { .. } => None,
            ConfigError::ReadOnly { path } => Some(format!(
                "make it writable (`chmod u+w {}`) to let hfclaw edit it; the file was not changed",
                path.display()
            )),
            ConfigError::Bug { .. } => Some(
                "the file was not changed; please report this bug with the command you ran"
                    .to_owned(),
            ),
            ConfigError::EnvValue { .. } => Some(
                "set the variable in your shell instead, or edit the .env file by hand".to_owned(),
            ),
            ConfigError::NoHome => Some(
                "pass --config PATH or set OPENCLAW_CONFIG_PATH or OPENCLAW_STATE_DIR".to_owned(),
            ),
        }
    }
}
