//! Where output goes: data on stdout, messages on stderr; colour only on a terminal and
//! never with `NO_COLOR` (anstream strips styles otherwise).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthStr;

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

/// Writes data to stdout through a buffer, for output too large to build as one string
/// first; a closed pipe is not an error, as for [`print_data`].
pub fn write_data(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let mut out = io::BufWriter::with_capacity(1 << 16, anstream::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::runtime(format!("writing to stdout: {e}"))),
    }
}

/// The cells of one table row, written into one reused buffer: a table of 100,000s of
/// rows then allocates nothing per cell.
#[derive(Debug, Default)]
pub struct Cells {
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<usize>,
}

impl Cells {
    /// Adds a cell.
    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    /// Adds a cell `write` writes.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends.push(self.text.len());
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn get(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        Some(&self.text[start..*self.ends.get(i)?])
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start..end])
    }
}

/// A borderless table, the layout comfy-table's `NOTHING` preset gave (hfclaw's tables
/// used it before this): each column as wide as its widest line (display width, at least
/// 1), cells two spaces apart, the given columns right-aligned, a cell's `\n` starting
/// another line of its row, the header first, line ends trimmed.
///
/// The rows are visited twice, to measure and to write: `cells` is called per row and
/// pass, so nothing is kept between them.
pub fn write_table<R>(
    out: &mut dyn Write,
    header: &[&str],
    right_aligned: &[usize],
    rows: impl IntoIterator<Item = R> + Clone,
    mut cells: impl FnMut(R, &mut Cells),
) -> io::Result<()> {
    let mut scratch = Cells::default();
    let mut widths: Vec<usize> = Vec::new();
    let mut measure = |row: &Cells| {
        for (i, cell) in row.iter().enumerate() {
            let width = cell.split('\n').map(str::width).max().unwrap_or(0).max(1);
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    };
    header.iter().for_each(|h| scratch.push(h));
    measure(&scratch);
    for row in rows.clone() {
        scratch.clear();
        cells(row, &mut scratch);
        measure(&scratch);
    }
    let layout = Layout {
        right: (0..widths.len())
            .map(|i| right_aligned.contains(&i))
            .collect(),
        widths,
    };
    let mut line = String::new();
    scratch.clear();
    header.iter().for_each(|h| scratch.push(h));
    layout.write_row(out, &scratch, &mut line)?;
    for row in rows {
        scratch.clear();
        cells(row, &mut scratch);
        layout.write_row(out, &scratch, &mut line)?;
    }
    Ok(())
}

/// [`write_table`] as text, without the final newline.
pub fn table_text<R>(
    header: &[&str],
    right_aligned: &[usize],
    rows: impl IntoIterator<Item = R> + Clone,
    cells: impl FnMut(R, &mut Cells),
) -> String {
    let mut out = Vec::new();
    // Writing to a `Vec` does not fail.
    let _ = write_table(&mut out, header, right_aligned, rows, cells);
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    // Only `str`s went in.
    String::from_utf8_lossy(&out).into_owned()
}

struct Layout {
    widths: Vec<usize>,
    right: Vec<bool>,
}

impl Layout {
    /// One row's lines (more than one when a cell holds `\n`); `line` is scratch space.
    fn write_row(&self, out: &mut dyn Write, row: &Cells, line: &mut String) -> io::Result<()> {
        if !row.text.contains('\n') {
            return self.write_line(out, |i| row.get(i), line);
        }
        let height = row.iter().map(|c| c.split('\n').count()).max().unwrap_or(0);
        let mut parts: Vec<_> = row.iter().map(|c| c.split('\n')).collect();
        for _ in 0..height {
            self.write_line(out, |i| parts.get_mut(i).and_then(Iterator::next), line)?;
        }
        Ok(())
    }

    /// One line: `part(i)` is column `i`'s text on it, `None` for a blank.
    fn write_line<'a>(
        &self,
        out: &mut dyn Write,
        mut part: impl FnMut(usize) -> Option<&'a str>,
        line: &mut String,
    ) -> io::Result<()> {
        line.clear();
        for (i, &width) in self.widths.iter().enumerate() {
            let text = part(i).unwrap_or("");
            let pad = width.saturating_sub(text.width());
            // One space of padding at both sides of every cell.
            line.push(' ');
            if self.right[i] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(text);
            } else {
                line.push_str(text);
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.push(' ');
        }
        // Without the padding at the start of the line, and without trailing blanks.
        let text = line.strip_prefix(' ').unwrap_or(line).trim_end();
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")
    }
}
