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
