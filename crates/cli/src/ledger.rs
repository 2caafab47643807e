//! Where the usage ledger is, and its errors as the user sees them.

use hfclaw_accounting::{Ledger, LedgerError, LedgerSpec};

use crate::context::env;
use crate::error::CliError;

/// The ledger `--ledger` (or `$HFCLAW_LEDGER_URL`, else the data dir's SQLite file) names.
pub fn spec(flag: Option<&str>) -> Result<LedgerSpec, CliError> {
    LedgerSpec::resolve(flag, &env).map_err(CliError::from)
}

/// Opens (creating or migrating) the ledger.
pub fn open(spec: &LedgerSpec) -> Result<Ledger, CliError> {
    Ledger::open(spec).map_err(CliError::from)
}

impl From<LedgerError> for CliError {
    fn from(e: LedgerError) -> CliError {
        let hint = e.hint();
        let error = CliError::runtime(e.to_string());
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

/// The ledger `--ledger`, `--ledger-file` (a file holding the URL, so that a password stays
/// off the command line) or `$HFCLAW_LEDGER_URL` names.
pub fn spec_at(location: &crate::args::LedgerLocation) -> Result<LedgerSpec, CliError> {
    match &location.ledger_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::input(format!("cannot read --ledger-file {}: {e}", path.display()))
                    .hint("the file holds the ledger's URL or path on one line")
            })?;
            let url = text.trim();
            if url.is_empty() {
                return Err(
                    CliError::input(format!("--ledger-file {} is empty", path.display()))
                        .hint("write the ledger's URL (postgres://…) or path into it"),
                );
            }
            Ok(LedgerSpec::parse(url))
        }
        None => spec(location.ledger.as_deref()),
    }
}
