//! The CLI's error report: `error: …` plus `hint:` lines, and the exit code.
//!
//! Exit codes: 1 for runtime failures (network, upstream, auth, I/O), 2 for invalid input
//! (usage, bad ref, bad config).

use std::fmt;

use hfclaw_config_merge::ConfigError;
use hfclaw_model_ref::{ParseError, ResolveError};

/// What went wrong, for the user.
#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    message: String,
    hints: Vec<String>,
}

/// Whether the user's input or the world is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Invalid input: exit 2.
    Input,
    /// Runtime failure: exit 1.
    Runtime,
}

impl CliError {
    /// An error in what the user gave us (exit 2).
    pub fn input(message: impl Into<String>) -> CliError {
        CliError {
            kind: Kind::Input,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// A failure of the world: network, router, files (exit 1).
    pub fn runtime(message: impl Into<String>) -> CliError {
        CliError {
            kind: Kind::Runtime,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Adds a line telling the user what to do.
    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Input => 2,
            Kind::Runtime => 1,
        }
    }

    /// The one-line message (without `error:`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint lines.
    pub fn hints(&self) -> &[String] {
        &self.hints
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> CliError {
        let hint = e.hint();
        let error = if e.is_input_error() {
            CliError::input(e.to_string())
        } else {
            CliError::runtime(e.to_string())
        };
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<ParseError> for CliError {
    fn from(e: ParseError) -> CliError {
        let hint = e.hint();
        CliError::input(e.to_string()).hint(hint)
    }
}

impl From<ResolveError> for CliError {
    fn from(e: ResolveError) -> CliError {
        let hint = e.hint();
        CliError::input(e.to_string()).hint(hint)
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;
