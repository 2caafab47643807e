//! Secrets kept out of error snippets: a config that does not parse is shown to the user
//! (and to their terminal scrollback, CI logs, bug reports) one line at a time, and that
//! line may hold their Hugging Face token.
//!
//! Masked, character for character with `*` (so a caret under the line stays aligned):
//! - anything that looks like a Hugging Face token (`hf_` and 4+ letters or digits) —
//!   in strings, comments or broken text alike; the `hf_` stays visible;
//! - the string value of a key whose name says it holds a secret (`apiKey`,
//!   `Authorization`, `HF_TOKEN` and every other `env.vars` name with TOKEN, KEY, SECRET
//!   or PASSWORD in it, `botToken` …): see [`is_secret_key`]. A leading `Bearer ` or
//!   `hf_` stays visible. An unterminated value is masked to the end of its line.
//!
//! The text before the line is scanned (tolerantly: it may not parse) only to know which
//! key a string on the line belongs to.

use std::ops::Range;

/// The line `text[line]` with its secrets masked; as many characters as the line.
pub(crate) fn masked_line(text: &str, line: Range<usize>) -> String {
    let mut secret = secret_values(text, line.clone());
    secret.extend(token_runs(text, line.clone()));
    let source = &text[line.clone()];
    if secret.is_empty() {
        return source.to_owned();
    }
    source
        .char_indices()
        .map(|(i, c)| {
            let at = line.start + i;
            if secret.iter().any(|r| r.contains(&at)) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Whether a key names a value that is a secret (matched ignoring case).
pub(crate) fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "authorization"
        || ["token", "secret", "password", "apikey", "api_key", "api-key"]
            .iter()
            .any(|word| key.contains(word))
        // env.vars names such as OPENAI_KEY, HF_KEY.
        || key.ends_with("_key")
}

/// Byte ranges of `hf_…` token characters (after `hf_`) on the line.
fn token_runs(text: &str, line: Range<usize>) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = line.start;
    while let Some(found) = text[i..line.end].find("hf_") {
        let at = i + found;
        let body = at + 3;
        let len = bytes[body..line.end]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let boundary = at == 0 || !is_word(bytes[at - 1]);
        if boundary && len >= 4 {
            out.push(body..body + len);
        }
        i = body + len;
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// In an object: expecting a key (`None`) or the value of the key that was secret
    /// or not.
    Object(Option<bool>),
    /// In an array whose enclosing key was secret or not.
    Array(bool),
}

/// Byte ranges (on the line) of the contents of string values under secret keys.
fn secret_values(text: &str, line: Range<usize>) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let end = line.end;
    let mut stack: Vec<Frame> = Vec::new();
    // The last key-position token and whether it is a secret key.
    let mut last_key = false;
    let mut out = Vec::new();
    let mut i = 0;
    while i < end {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = bytes[i..end]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(end, |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(end, |n| i + 2 + n + 2);
                continue;
            }
            b'{' => stack.push(Frame::Object(None)),
            b'[' => {
                let secret = match stack.last() {
                    Some(Frame::Object(Some(secret)) | Frame::Array(secret)) => *secret,
                    _ => false,
                };
                stack.push(Frame::Array(secret));
            }
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = Some(last_key);
                }
            }
            b',' => {
                if let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = None;
                }
            }
            b'"' | b'\'' => {
                let content = i + 1;
                let mut j = content;
                while j < bytes.len() && bytes[j] != b && bytes[j] != b'\n' && bytes[j] != b'\r' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let close = j.min(bytes.len());
                match stack.last() {
                    Some(Frame::Object(None)) | None => {
                        last_key = is_secret_key(&text[content..close]);
                    }
                    Some(Frame::Object(Some(true)) | Frame::Array(true)) => {
                        let from = content.max(line.start);
                        let to = close.min(end);
                        if from < to {
                            out.push(skip_visible_prefix(text, from, to)..to);
                        }
                    }
                    Some(_) => {}
                }
                i = if close < bytes.len() && bytes[close] == b {
                    close + 1
                } else {
                    close
                };
                continue;
            }
            _ if is_word(b) || b >= 0x80 => {
                let len = bytes[i..end]
                    .iter()
                    .take_while(|&&b| is_word(b) || b >= 0x80 || b == b'\\')
                    .count();
                if let Some(Frame::Object(None)) | None = stack.last() {
                    last_key = is_secret_key(&text[i..i + len]);
                }
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `Bearer ` and `hf_` at the start of a secret say what it is without giving it away.
fn skip_visible_prefix(text: &str, from: usize, to: usize) -> usize {
    let mut at = from;
    for prefix in ["Bearer ", "hf_"] {
        if text[at..to].starts_with(prefix) {
            at += prefix.len();
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks the line holding `needle` in `text`.
    fn mask(text: &str, needle: &str) -> String {
        let at = text.find(needle).unwrap();
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let masked = masked_line(text, start..end);
        assert_eq!(
            masked.chars().count(),
            text[start..end].chars().count(),
            "the caret must stay aligned"
        );
        masked
    }

    #[test]
    fn hf_tokens_are_masked_anywhere() {
        let text = "{ a: 'x hf_AbCd1234' } // hf_Zz99Zz99 x_hf_NotAToken hf_no";
        assert_eq!(
            mask(text, "hf_A"),
            "{ a: 'x hf_********' } // hf_******** x_hf_NotAToken hf_no"
        );
    }

    #[test]
    fn values_of_secret_keys_are_masked() {
        let text = "{\n  env: { vars: { HF_TOKEN: \"abc\", OTHER: 'visible', OPENAI_API_KEY: 'sk-1' } },\n  models: { providers: { x: { apiKey: 'sk-2', headers: { Authorization: 'Bearer sk-3', 'X-HF-Bill-To': 'org' } } } },\n}";
        assert_eq!(
            mask(text, "HF_TOKEN"),
            "  env: { vars: { HF_TOKEN: \"***\", OTHER: 'visible', OPENAI_API_KEY: '****' } },"
        );
        assert_eq!(
            mask(text, "apiKey"),
            "  models: { providers: { x: { apiKey: '****', headers: { Authorization: 'Bearer ****', 'X-HF-Bill-To': 'org' } } } },"
        );
    }

    #[test]
    fn a_key_on_an_earlier_line_still_counts() {
        let text = "{ apiKey:\n  /* c */ 'sk-secret', name: 'n' }";
        assert_eq!(mask(text, "sk-"), "  /* c */ '*********', name: 'n' }");
    }

    #[test]
    fn an_unterminated_secret_is_masked_to_the_end_of_its_line() {
        let text = "{\n  env: { vars: { HF_TOKEN: \"hf_CoNfIg4h7Gt2Rk9Lm3Np6Qs8Tv1Wx5YzAb\n";
        assert_eq!(
            mask(text, "HF_TOKEN"),
            "  env: { vars: { HF_TOKEN: \"hf_**********************************"
        );
        let text = "{ apiKey: 'sk-1234";
        assert_eq!(mask(text, "apiKey"), "{ apiKey: '*******");
    }

    #[test]
    fn numbers_and_keys_are_never_masked() {
        let text = "{ maxTokens: 8192, tokenizer: { a: 'b' }, 'apiKey': { source: 'env', id: 'HF_TOKEN' } }";
        assert_eq!(mask(text, "maxTokens"), text);
    }
}
