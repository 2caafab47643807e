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

/// Whether stderr gets colour, by anstream's rule (a terminal, no `NO_COLOR`, …), for
/// writers that do not go through anstream, such as the `-v` log.
pub fn colour_on_stderr() -> bool {
    !matches!(
        anstream::AutoStream::choice(&io::stderr()),
        anstream::ColorChoice::Never
    )
}

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

/// Writes `value` to stdout as pretty JSON and a newline (the `--json` outputs).
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
    print_data(&format!("{json}\n"))
}

/// Writes data to stdout through a buffer, for output too large to build as one string
/// first; a closed pipe is not an error, as for [`print_data`]. The data carries no
/// styles, so it goes to stdout as is: anstream would scan every byte for escapes to strip
/// (6% of `models list` on a 50 MB config).
pub fn write_data(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::runtime(format!("writing to stdout: {e}"))),
    }
}

/// The cells of a table, all rows' in one buffer: a table of 100,000s of rows then
/// allocates nothing per cell.
#[derive(Debug, Default)]
pub struct Cells {
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<usize>,
}

impl Cells {
    /// Adds a cell.
    pub fn push(&mut self, cell: &str) {
        let start = self.text.len();
        self.text.push_str(cell);
        self.end_cell(start);
    }

    /// Adds a cell `write` writes.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.end_cell(start);
    }

    /// Ends the cell begun at `start`. Cells show names from configs and the router: a
    /// control character in one (an escape sequence, a carriage return) is shown as `�`
    /// rather than sent to the terminal; `\n` starts another line of the row.
    fn end_cell(&mut self, start: usize) {
        let cell = &self.text[start..];
        // A quick look at the bytes first (no early exit, so it runs wide): C1 controls
        // are `\xC2\x80`..`\xC2\x9F`.
        let suspect = cell.bytes().fold(false, |seen, b| {
            seen | ((b < 0x20) & (b != b'\n')) | (b == 0x7f) | (b == 0xc2)
        });
        if suspect && cell.contains(|c: char| c.is_control() && c != '\n') {
            let clean: String = cell
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\n' {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect();
            self.text.truncate(start);
            self.text.push_str(&clean);
        }
        self.ends.push(self.text.len());
    }

    /// Cells `from..to`, each with its text.
    fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &str> + Clone {
        let start = |i: usize| if i == 0 { 0 } else { self.ends[i - 1] };
        (from..to).map(move |i| &self.text[start(i)..self.ends[i]])
    }
}

/// A borderless table, the layout comfy-table's `NOTHING` preset gave (hfclaw's tables
/// used it before this): each column as wide as its widest line (display width, at least
/// 1), cells two spaces apart, the given columns right-aligned, a cell's `\n` starting
/// another line of its row, the header first, line ends trimmed.
///
/// Made with one call of `cells` per row, it keeps the rows' text until it is written
/// (a few dozen bytes a row), not the rows.
pub struct Table {
    cells: Cells,
    /// Where each row's cells end in `cells.ends`; the header is the first row.
    row_ends: Vec<usize>,
    right_aligned: Vec<usize>,
}

impl Table {
    /// The table of `header` and `rows`, whose cells `cells` writes.
    pub fn new<R>(
        header: &[&str],
        right_aligned: &[usize],
        rows: impl IntoIterator<Item = R>,
        mut cells: impl FnMut(R, &mut Cells),
    ) -> Table {
        let mut all = Cells::default();
        let mut row_ends: Vec<usize> = Vec::new();
        header.iter().for_each(|h| all.push(h));
        row_ends.push(all.ends.len());
        for row in rows {
            cells(row, &mut all);
            row_ends.push(all.ends.len());
        }
        Table {
            cells: all,
            row_ends,
            right_aligned: right_aligned.to_vec(),
        }
    }

    /// True when there is no row below the header.
    pub fn is_empty(&self) -> bool {
        self.row_ends.len() <= 1
    }

    /// Each row's cells, the header's first.
    fn rows(&self) -> impl Iterator<Item = impl Iterator<Item = &str> + Clone> {
        let starts = std::iter::once(0).chain(self.row_ends.iter().copied());
        starts
            .zip(&self.row_ends)
            .map(|(from, &to)| self.cells.range(from, to))
    }

    /// Writes the table, a line per row (more for a cell holding `\n`).
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = Vec::new();
        for row in self.rows() {
            for (i, cell) in row.enumerate() {
                let width = display_width(cell).max(1);
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        let layout = Layout {
            right: (0..widths.len())
                .map(|i| self.right_aligned.contains(&i))
                .collect(),
            widths,
        };
        let mut line = String::new();
        for row in self.rows() {
            layout.write_row(out, row, &mut line)?;
        }
        Ok(())
    }
}

/// [`Table::new`] written to `out`.
pub fn write_table<R>(
    out: &mut dyn Write,
    header: &[&str],
    right_aligned: &[usize],
    rows: impl IntoIterator<Item = R>,
    cells: impl FnMut(R, &mut Cells),
) -> io::Result<()> {
    Table::new(header, right_aligned, rows, cells).write(out)
}

/// The display width of a cell: its widest line's.
fn display_width(cell: &str) -> usize {
    if cell.is_ascii() && !cell.contains('\n') {
        return cell.len();
    }
    cell.split('\n').map(str::width).max().unwrap_or(0)
}

/// [`write_table`] as text, without the final newline.
pub fn table_text<R>(
    header: &[&str],
    right_aligned: &[usize],
    rows: impl IntoIterator<Item = R>,
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
    fn write_row<'a>(
        &self,
        out: &mut dyn Write,
        row: impl Iterator<Item = &'a str> + Clone,
        line: &mut String,
    ) -> io::Result<()> {
        if !row.clone().any(|cell| cell.contains('\n')) {
            let mut cells = row;
            return self.write_line(out, |_| cells.next(), line);
        }
        let height = row
            .clone()
            .map(|c| c.split('\n').count())
            .max()
            .unwrap_or(0);
        let mut parts: Vec<_> = row.map(|c| c.split('\n')).collect();
        for _ in 0..height {
            self.write_line(out, |i| parts.get_mut(i).and_then(Iterator::next), line)?;
        }
        Ok(())
    }

    /// One line: `part(i)` is column `i`'s text on it (asked in column order), `None`
    /// for a blank.
    fn write_line<'a>(
        &self,
        out: &mut dyn Write,
        mut part: impl FnMut(usize) -> Option<&'a str>,
        line: &mut String,
    ) -> io::Result<()> {
        line.clear();
        for (i, &width) in self.widths.iter().enumerate() {
            let text = part(i).unwrap_or("");
            let pad = width.saturating_sub(display_width(text));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[[&str; 2]]) -> String {
        table_text(&["A", "B"], &[1], rows, |row, cells| {
            cells.push(row[0]);
            cells.push_with(|text| text.push_str(row[1]));
        })
    }

    #[test]
    fn columns_are_padded_and_right_aligned_where_asked() {
        assert_eq!(
            table(&[["x", "1"], ["long", "100"]]),
            "A       B\nx       1\nlong  100"
        );
    }

    #[test]
    fn control_characters_in_cells_do_not_reach_the_terminal() {
        let shown = table(&[["evil\u{1b}[2J", "a\rb"], ["c1\u{9b}31m", "ok"]]);
        assert!(
            !shown.contains(|c: char| c.is_control() && c != '\n'),
            "{shown:?}"
        );
        assert_eq!(shown, "A           B\nevil�[2J  a�b\nc1�31m     ok");
    }

    #[test]
    fn a_newline_in_a_cell_starts_another_line_of_its_row() {
        assert_eq!(table(&[["two\nlines", "1"]]), "A      B\ntwo    1\nlines");
    }
}
