//! Display names derived from model ids when neither the API nor the built-in list has one.

/// Derives a display name from a model id's last segment: `-`/`_` become spaces, tokens
/// keep their case (`DeepSeek-R1` → "DeepSeek R1"), and parameter counts get an upper-case
/// unit (`120b` → "120B").
pub fn derive_name(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(model, _)| model);
    let last = id.rsplit_once('/').map_or(id, |(_, name)| name);
    let mut out = String::with_capacity(last.len());
    for token in last.split(['-', '_']).filter(|t| !t.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        push_token(&mut out, token);
    }
    if out.is_empty() { last.to_owned() } else { out }
}

/// Copies a token, upper-casing the unit of a size such as `7b`, `1.5b` or `100m`.
fn push_token(out: &mut String, token: &str) {
    let bytes = token.as_bytes();
    let is_size = bytes.len() >= 2
        && matches!(bytes[bytes.len() - 1], b'b' | b'm' | b'k' | b't')
        && bytes[0].is_ascii_digit()
        && bytes[..bytes.len() - 1]
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b'.');
    if is_size {
        out.push_str(&token.to_ascii_uppercase());
    } else {
        out.push_str(token);
    }
}

#[cfg(test)]
mod tests {
    use super::derive_name;

    #[test]
    fn derived_name_keeps_known_tokens() {
        assert_eq!(derive_name("deepseek-ai/DeepSeek-R1"), "DeepSeek R1");
        assert_eq!(
            derive_name("Qwen/Qwen2.5-7B-Instruct"),
            "Qwen2.5 7B Instruct"
        );
        assert_eq!(
            derive_name("meta-llama/Llama-3.3-70B-Instruct"),
            "Llama 3.3 70B Instruct"
        );
        assert_eq!(derive_name("moonshotai/Kimi-K2.5"), "Kimi K2.5");
        assert_eq!(derive_name("zai-org/GLM-4.7"), "GLM 4.7");
    }

    #[test]
    fn derived_name_upper_cases_size_units() {
        assert_eq!(derive_name("openai/gpt-oss-120b"), "gpt oss 120B");
        assert_eq!(
            derive_name("Qwen/Qwen2.5-Coder-1.5b_instruct"),
            "Qwen2.5 Coder 1.5B instruct"
        );
    }

    #[test]
    fn derived_name_ignores_suffix_and_org() {
        assert_eq!(
            derive_name("deepseek-ai/DeepSeek-R1:cheapest"),
            "DeepSeek R1"
        );
        assert_eq!(derive_name("gpt2"), "gpt2");
        assert_eq!(derive_name("org/--"), "--");
    }
}
