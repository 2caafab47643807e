//! Where a catalog's router numbers come from, and as of when: every output that shows
//! prices or providers says so (`source`, `as_of`).

use std::time::{Duration, UNIX_EPOCH};

use crate::builtin;
use crate::cache::rfc3339;

/// The origin of a catalog's router data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DataSource {
    /// Only the built-in snapshot (of [`builtin::AS_OF`]).
    #[default]
    BuiltIn,
    /// The router's list from the disk cache, fetched at `fetched_at` (Unix seconds).
    Cache {
        /// When the list was fetched.
        fetched_at: u64,
    },
    /// The router's list, fetched (or confirmed by a 304) by this run; `fetched_at` is
    /// `None` when the caller did not say when.
    Live {
        /// When the list was fetched.
        fetched_at: Option<u64>,
    },
}

impl DataSource {
    /// `built-in`, `cache` or `live`.
    pub fn name(self) -> &'static str {
        match self {
            DataSource::BuiltIn => "built-in",
            DataSource::Cache { .. } => "cache",
            DataSource::Live { .. } => "live",
        }
    }

    /// The snapshot's date (`2026-07-27`), or the fetch time in RFC 3339 UTC.
    pub fn as_of(self) -> Option<String> {
        match self {
            DataSource::BuiltIn => Some(builtin::AS_OF.to_owned()),
            DataSource::Cache { fetched_at }
            | DataSource::Live {
                fetched_at: Some(fetched_at),
            } => Some(rfc3339(UNIX_EPOCH + Duration::from_secs(fetched_at))),
            DataSource::Live { fetched_at: None } => None,
        }
    }

    /// True for data fetched by this run.
    pub fn is_live(self) -> bool {
        matches!(self, DataSource::Live { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::DataSource;

    #[test]
    fn each_source_says_as_of_when() {
        assert_eq!(DataSource::BuiltIn.as_of().as_deref(), Some("2026-07-27"));
        let cached = DataSource::Cache {
            fetched_at: 1_785_166_260,
        };
        assert_eq!(cached.as_of().as_deref(), Some("2026-07-27T15:31:00Z"));
        assert_eq!(cached.name(), "cache");
        assert_eq!(DataSource::Live { fetched_at: None }.as_of(), None);
        assert!(!cached.is_live());
    }
}
