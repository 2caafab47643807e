//! Where output goes: data on stdout, messages on stderr; colour only on a terminal and
//! never with `NO_COLOR` (anstream strips styles otherwise).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::error::CliError;

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = AnsiColor::Cyan.on_default().bold();
const HINT: Style = AnsiColor::Green.on_default().bold();
/// A passed check.
pub const OK: Style = AnsiColor::Green.on_default().bold();
/// A failed check.
pub const BAD: Style = AnsiColor::Red.on_default().bold();
/// A check that passed with a warning.
pub const WARN_MARK: Style = AnsiColor::Yellow.on_default().bold();
/// Dimmed text (reasoning, closing lines).
pub const DIM: Style = Style::new().dimmed();

/// Message levels on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Messages {
    quiet: bool,
}

impl Messages {
    /// `quiet` hides everything but errors.
    pub fn new(quiet: bool) -> Messages {
        Messages { quiet }
    }

    /// `warning: …`
    pub fn warn(&self, message: impl AsRef<str>) {
        if !self.quiet {
            labelled(WARNING, "warning", message.as_ref());
        }
    }

    /// A plain status line on stderr (what a command did).
    pub fn status(&self, message: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(anstream::stderr(), "{}", message.as_ref());
        }
    }

    /// `note: …`
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            labelled(NOTE, "note", message.as_ref());
        }
    }
}

fn labelled(style: Style, label: &str, message: &str) {
    let _ = writeln!(anstream::stderr(), "{style}{label}{style:#}: {message}");
}

/// Prints an error with its hints; errors print even with `-q`.
pub fn report(error: &CliError) {
    labelled(ERROR, "error", error.message());
    for hint in error.hints() {
        labelled(HINT, "hint", hint);
    }
}

/// Writes data to stdout; a closed pipe (`| head`) is not an error.
pub fn print_data(text: &str) -> Result<(), CliError> {
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::runtime(format!("writing to stdout: {e}"))),
    }
}

/// A borderless table as text, the given columns right-aligned, without the padding the
/// `NOTHING` preset puts at both ends of every line.
pub fn borderless_table(mut table: comfy_table::Table, right_aligned: &[usize]) -> String {
    table.load_style(comfy_table::presets::NOTHING);
    for &index in right_aligned {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    table
        .to_string()
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}
