//! The Hugging Face CLI's `stored_tokens` file: an INI file with one section per token
//! name, read and written the way `huggingface_hub` does with Python's `configparser`
//! (`interpolation=None`, UTF-8).
//!
//! ```ini
//! [oauth-alice]
//! hf_token = hf_oauth…
//! refresh_token = hf_oauth_refresh…
//! expires_at = 1765200000
//!
//! [work]
//! hf_token = hf_…
//! ```
//!
//! Reading follows `configparser`'s rules where a token file can meet them: `=` or `:`
//! (whichever comes first) separates a key from its value, keys are trimmed and
//! lower-cased, values trimmed, whole-line `#`/`;` comments and blank lines are skipped,
//! indented lines continue the previous value, `[DEFAULT]` fields apply to every section,
//! and a duplicate section or key, a key outside a section or a line without a separator
//! makes the whole file unreadable (huggingface_hub then treats it as empty). Writing is
//! `configparser.write`'s: sections sorted by name, `key = value`, a blank line after each
//! section, `[DEFAULT]` folded into the sections.
//!
//! Values are secrets: they are held as [`SecretString`]s and never shown by `Debug` or an
//! error (an error names the line number only).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The section name `configparser` reserves for fields shared by every section.
const DEFAULT_SECTION: &str = "DEFAULT";

/// The field holding the access token.
pub const HF_TOKEN: &str = "hf_token";
/// The field holding the OAuth refresh token.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// The field holding the access token's expiry, in Unix seconds.
pub const EXPIRES_AT: &str = "expires_at";

/// Keys and the lines of their values, while parsing.
type RawFields = Vec<(String, Vec<String>)>;

/// The parsed file: its sections in file order.
#[derive(Debug, Default)]
pub struct StoredTokens {
    sections: Vec<Section>,
}

/// One token name and its fields, in file order.
#[derive(Debug)]
pub struct Section {
    name: String,
    fields: Vec<(String, SecretString)>,
}

/// Why a `stored_tokens` text is unreadable (as `configparser` would refuse it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong (never the line's content, which may hold a token).
    pub what: &'static str,
}

impl StoredTokens {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<StoredTokens, ParseError> {
        let mut defaults: RawFields = Vec::new();
        let mut sections: Vec<(String, RawFields)> = Vec::new();
        // Where keys go: `None` before the first header, `Some(None)` in `[DEFAULT]`,
        // `Some(Some(i))` in `sections[i]`.
        let mut current: Option<Option<usize>> = None;
        let mut option: Option<String> = None;
        let mut indent_level = usize::MAX;
        let mut seen_default = false;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let error = |what| ParseError { line, what };
            let value = raw.trim();
            let is_comment = value.starts_with('#') || value.starts_with(';');
            let fields = match current {
                Some(Some(i)) => Some(&mut sections[i].1),
                Some(None) => Some(&mut defaults),
                None => None,
            };
            if value.is_empty() || is_comment {
                // configparser keeps blank lines inside a multi-line value (trimmed at the
                // end); a comment neither ends nor extends one.
                if value.is_empty()
                    && let (Some(fields), Some(name)) = (fields, &option)
                    && let Some((_, lines)) = fields.iter_mut().find(|(k, _)| k == name)
                {
                    lines.push(String::new());
                }
                continue;
            }
            let cur_indent = raw.len() - raw.trim_start().len();
            if let (Some(fields), Some(name)) = (fields, &option)
                && cur_indent > indent_level
            {
                if let Some((_, lines)) = fields.iter_mut().find(|(k, _)| k == name) {
                    lines.push(value.to_owned());
                }
                continue;
            }
            indent_level = cur_indent;
            if let Some(name) = section_header(value) {
                option = None;
                if name == DEFAULT_SECTION {
                    if seen_default {
                        return Err(error("a duplicate [DEFAULT] section"));
                    }
                    seen_default = true;
                    current = Some(None);
                } else if sections.iter().any(|(n, _)| n == name) {
                    return Err(error("a duplicate section"));
                } else {
                    sections.push((name.to_owned(), Vec::new()));
                    current = Some(Some(sections.len() - 1));
                }
                continue;
            }
            let fields = match current {
                Some(Some(i)) => &mut sections[i].1,
                Some(None) => &mut defaults,
                None => return Err(error("a key before the first [section]")),
            };
            let Some(at) = value.find(['=', ':']) else {
                return Err(error(
                    "a line that is neither a [section] nor `key = value`",
                ));
            };
            let key = value[..at].trim_end().to_lowercase();
            if key.is_empty() {
                return Err(error("a value without a key"));
            }
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(error("a duplicate key in its section"));
            }
            fields.push((key.clone(), vec![value[at + 1..].trim().to_owned()]));
            option = Some(key);
        }
        let join = |lines: Vec<String>| SecretString::from(lines.join("\n").trim_end().to_owned());
        let defaults: Vec<(String, String)> = defaults
            .into_iter()
            .map(|(k, v)| (k, v.join("\n").trim_end().to_owned()))
            .collect();
        let sections = sections
            .into_iter()
            .map(|(name, own)| {
                // `configparser.items(section)`: the defaults first, then the section's own
                // keys, a key of both keeping the default's place and the section's value.
                let mut fields: Vec<(String, SecretString)> = defaults
                    .iter()
                    .map(|(k, v)| (k.clone(), SecretString::from(v.clone())))
                    .collect();
                for (key, lines) in own {
                    let value = join(lines);
                    match fields.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => fields.push((key, value)),
                    }
                }
                Section { name, fields }
            })
            .collect();
        Ok(StoredTokens { sections })
    }

    /// The sections, in file order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The first section whose `hf_token` is `token` (as huggingface_hub looks it up).
    pub fn find_token(&self, token: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.get(HF_TOKEN).is_some_and(|t| t.expose_secret() == token))
    }

    /// Replaces the whole section `name` (or adds it): a new login under the same name
    /// drops stale fields, as huggingface_hub's `_save_token` does.
    pub fn set_section(&mut self, name: &str, fields: Vec<(String, SecretString)>) {
        let section = Section {
            name: name.to_owned(),
            fields,
        };
        match self.sections.iter_mut().find(|s| s.name == name) {
            Some(slot) => *slot = section,
            None => self.sections.push(section),
        }
    }

    /// The file's text as `configparser.write` makes it, sections sorted by name.
    pub fn render(&self) -> String {
        let mut sorted: Vec<&Section> = self.sections.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = String::new();
        for section in sorted {
            out.push('[');
            out.push_str(&section.name);
            out.push_str("]\n");
            for (key, value) in &section.fields {
                out.push_str(key);
                out.push_str(" = ");
                out.push_str(&value.expose_secret().replace('\n', "\n\t"));
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

impl Section {
    /// The token name (the section's header).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `expires_at` as Unix seconds; `None` when missing or not an integer (as
    /// huggingface_hub's `_parse_expires_at`).
    pub fn expires_at(&self) -> Option<i64> {
        let text = self.get(EXPIRES_AT)?.expose_secret().trim();
        text.parse().ok()
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// `[name]` → `name`: from the first `[` to the last `]` (configparser's greedy
/// `\[(?P<header>.+)\]`, matched at the start of the trimmed line).
fn section_header(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn value(tokens: &StoredTokens, section: &str, key: &str) -> Option<String> {
        tokens
            .section(section)?
            .get(key)
            .map(|v| v.expose_secret().to_owned())
    }

    /// What `huggingface_hub` 2.5 writes after `hf auth login` (browser) and a classic
    /// token login, byte for byte (`configparser.write`).
    const WRITTEN_BY_HF: &str = "[oauth-alice]\nhf_token = hf_oauth_access_1111\nrefresh_token = hf_oauth_refresh_2222\nexpires_at = 1765200000\n\n[work]\nhf_token = hf_classic_3333\n\n";

    #[test]
    fn stored_tokens_round_trip_byte_for_byte() {
        let tokens = StoredTokens::parse(WRITTEN_BY_HF).unwrap();
        assert_eq!(tokens.render(), WRITTEN_BY_HF);
        let alice = tokens.section("oauth-alice").unwrap();
        assert_eq!(alice.expires_at(), Some(1_765_200_000));
        assert_eq!(
            value(&tokens, "oauth-alice", REFRESH_TOKEN).as_deref(),
            Some("hf_oauth_refresh_2222")
        );
        assert_eq!(tokens.find_token("hf_classic_3333").unwrap().name(), "work");
        assert!(tokens.find_token("hf_oauth").is_none());
    }

    #[test]
    fn stored_tokens_read_like_configparser() {
        let text = "\u{20}; a comment\n# another\n[DEFAULT]\nshared = x\n\n[b]\nHF_Token: hf_b  \nmulti = one\n   two\n\n   three\n\n[a]\nshared = own\nempty =\n";
        let tokens = StoredTokens::parse(text).unwrap();
        let names: Vec<&str> = tokens.sections().iter().map(Section::name).collect();
        assert_eq!(names, ["b", "a"], "file order, [DEFAULT] is not a section");
        assert_eq!(value(&tokens, "b", "hf_token").as_deref(), Some("hf_b"));
        assert_eq!(value(&tokens, "b", "shared").as_deref(), Some("x"));
        assert_eq!(
            value(&tokens, "b", "multi").as_deref(),
            Some("one\ntwo\n\nthree")
        );
        assert_eq!(value(&tokens, "a", "shared").as_deref(), Some("own"));
        assert_eq!(value(&tokens, "a", "empty").as_deref(), Some(""));
        // Written back as Python would: sorted, defaults folded in, continuation tabbed.
        assert_eq!(
            tokens.render(),
            "[a]\nshared = own\nempty = \n\n[b]\nshared = x\nhf_token = hf_b\nmulti = one\n\ttwo\n\t\n\tthree\n\n"
        );
    }

    #[test]
    fn stored_tokens_key_separator_is_the_first_of_equals_or_colon() {
        let tokens = StoredTokens::parse("[s]\nurl: http://x=y\nk = a:b\n").unwrap();
        assert_eq!(value(&tokens, "s", "url").as_deref(), Some("http://x=y"));
        assert_eq!(value(&tokens, "s", "k").as_deref(), Some("a:b"));
    }

    #[test]
    fn stored_tokens_that_configparser_refuses_are_errors_without_content() {
        for (text, line) in [
            ("hf_token = hf_secret_value\n", 1),
            ("[a]\nhf_token = 1\n[a]\n", 3),
            ("[a]\nhf_token = 1\nHF_TOKEN = hf_secret_value\n", 3),
            ("[a]\nhf_secret_value\n", 2),
            ("[a]\n= hf_secret_value\n", 2),
            ("[]\n", 1),
        ] {
            let err = StoredTokens::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn stored_tokens_header_spans_first_to_last_bracket() {
        let tokens = StoredTokens::parse("[we]ird] x\nk = v\n").unwrap();
        assert_eq!(tokens.sections()[0].name(), "we]ird");
    }

    #[test]
    fn stored_tokens_set_section_replaces_all_fields() {
        let mut tokens = StoredTokens::parse(WRITTEN_BY_HF).unwrap();
        tokens.set_section(
            "oauth-alice",
            vec![(HF_TOKEN.to_owned(), SecretString::from("hf_new"))],
        );
        tokens.set_section(
            "0-first",
            vec![(HF_TOKEN.to_owned(), SecretString::from("hf_zero"))],
        );
        assert_eq!(
            tokens.render(),
            "[0-first]\nhf_token = hf_zero\n\n[oauth-alice]\nhf_token = hf_new\n\n[work]\nhf_token = hf_classic_3333\n\n"
        );
    }

    #[test]
    fn stored_tokens_expiry_must_be_an_integer() {
        let tokens =
            StoredTokens::parse("[a]\nexpires_at = soon\n[b]\nexpires_at = +12 \n").unwrap();
        assert_eq!(tokens.section("a").unwrap().expires_at(), None);
        assert_eq!(tokens.section("b").unwrap().expires_at(), Some(12));
    }

    #[test]
    fn stored_tokens_debug_shows_no_value() {
        let tokens = StoredTokens::parse(WRITTEN_BY_HF).unwrap();
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("hf_oauth_access"), "{debug}");
        assert!(!debug.contains("refresh_2222"), "{debug}");
    }
}
