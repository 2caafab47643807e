//! Keys OpenClaw's strict schema would reject, in the parts of the config hfclaw knows.
//! OpenClaw refuses the whole file on one unknown key, so `doctor` reports them all.

use serde_json::{Map, Value};

/// `agents.defaults.model` as an object.
const MODEL_KEYS: &[&str] = &["primary", "fallbacks"];
/// An entry of `agents.defaults.models`.
const AGENT_MODEL_KEYS: &[&str] = &[
    "alias",
    "params",
    "streaming",
    "agentRuntime",
    "pickerRuntimes",
    "codeMode",
];
/// `env`.
const ENV_KEYS: &[&str] = &["shellEnv", "vars"];
/// `models`.
const MODELS_KEYS: &[&str] = &["mode", "providers", "catalogRefresh"];
/// A provider block.
const PROVIDER_KEYS: &[&str] = &[
    "baseUrl",
    "apiKey",
    "auth",
    "api",
    "maxTokens",
    "timeoutSeconds",
    "region",
    "injectNumCtxForOpenAICompat",
    "params",
    "agentRuntime",
    "localService",
    "headers",
    "authHeader",
    "request",
    "models",
];
/// A model entry of a provider.
const MODEL_ENTRY_KEYS: &[&str] = &[
    "id",
    "name",
    "api",
    "baseUrl",
    "reasoning",
    "input",
    "cost",
    "contextWindow",
    "contextTokens",
    "maxTokens",
    "thinkingLevelMap",
    "params",
    "agentRuntime",
    "headers",
    "compat",
    "mediaInput",
    "metadataSource",
];
/// A model entry's `cost`.
const COST_KEYS: &[&str] = &[
    "input",
    "output",
    "cacheRead",
    "cacheWrite",
    "tieredPricing",
];
/// Allowed `input` modalities.
const MODALITIES: &[&str] = &["text", "image", "video", "audio"];

/// Every problem, each naming its key path.
pub fn schema_problems(root: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(Value::Object(env)) = root.get("env") {
        unknown_keys(env, ENV_KEYS, "env", &mut problems);
    }
    if let Some(Value::Object(model)) = root.pointer("/agents/defaults/model") {
        unknown_keys(model, MODEL_KEYS, "agents.defaults.model", &mut problems);
    }
    if let Some(Value::Object(models)) = root.pointer("/agents/defaults/models") {
        for (key, entry) in models {
            let at = format!("agents.defaults.models[\"{key}\"]");
            match entry {
                Value::Object(entry) => unknown_keys(entry, AGENT_MODEL_KEYS, &at, &mut problems),
                _ => problems.push(format!("{at} must be an object")),
            }
        }
    }
    if let Some(Value::Object(models)) = root.get("models") {
        unknown_keys(models, MODELS_KEYS, "models", &mut problems);
    }
    if let Some(Value::Object(block)) = root.pointer("/models/providers/huggingface") {
        provider_problems(block, "models.providers.huggingface", &mut problems);
    }
    problems
}

fn provider_problems(block: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    unknown_keys(block, PROVIDER_KEYS, at, problems);
    if let Some(timeout) = block.get("timeoutSeconds")
        && timeout.as_u64().is_none_or(|t| t == 0)
    {
        problems.push(format!("{at}.timeoutSeconds must be a positive integer"));
    }
    let Some(Value::Array(models)) = block.get("models") else {
        return;
    };
    for (i, entry) in models.iter().enumerate() {
        let at = format!("{at}.models[{i}]");
        let Value::Object(entry) = entry else {
            problems.push(format!("{at} must be an object"));
            continue;
        };
        unknown_keys(entry, MODEL_ENTRY_KEYS, &at, problems);
        for required in ["id", "name"] {
            if entry
                .get(required)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                problems.push(format!("{at}.{required} is required (a non-empty string)"));
            }
        }
        for positive in ["contextWindow", "maxTokens"] {
            if let Some(v) = entry.get(positive)
                && !v.as_f64().is_some_and(|n| n > 0.0)
            {
                problems.push(format!("{at}.{positive} must be a positive number"));
            }
        }
        if let Some(input) = entry.get("input") {
            let ok = input.as_array().is_some_and(|items| {
                items
                    .iter()
                    .all(|m| m.as_str().is_some_and(|m| MODALITIES.contains(&m)))
            });
            if !ok {
                problems.push(format!(
                    "{at}.input must list only {}",
                    MODALITIES.join(", ")
                ));
            }
        }
        if let Some(Value::Object(cost)) = entry.get("cost") {
            unknown_keys(cost, COST_KEYS, &format!("{at}.cost"), problems);
        }
    }
}

fn unknown_keys(object: &Map<String, Value>, known: &[&str], at: &str, problems: &mut Vec<String>) {
    for key in object.keys() {
        if !known.contains(&key.as_str()) {
            problems.push(format!("{at}.{key}: OpenClaw rejects this unknown key"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_unknown_keys_missing_names_and_bad_values() {
        let config = serde_json::json!({
            "env": {"HF_TOKEN": "x", "vars": {}},
            "agents": {"defaults": {
                "model": {"primary": "a", "fallback": []},
                "models": {"huggingface/a/b": {"alias": "x", "nickname": "y"}},
            }},
            "models": {"providers": {"huggingface": {
                "baseUrl": "u", "timeoutSeconds": 1.5, "hfclawCache": true,
                "models": [
                    {"id": "a/b", "name": "A", "contextWindow": 0, "input": ["text", "pdf"], "cost": {"input": 1, "currency": "usd"}},
                    {"id": "c/d"},
                ],
            }}},
        });
        assert_eq!(
            schema_problems(&config),
            [
                "env.HF_TOKEN: OpenClaw rejects this unknown key",
                "agents.defaults.model.fallback: OpenClaw rejects this unknown key",
                "agents.defaults.models[\"huggingface/a/b\"].nickname: OpenClaw rejects this unknown key",
                "models.providers.huggingface.hfclawCache: OpenClaw rejects this unknown key",
                "models.providers.huggingface.timeoutSeconds must be a positive integer",
                "models.providers.huggingface.models[0].contextWindow must be a positive number",
                "models.providers.huggingface.models[0].input must list only text, image, video, audio",
                "models.providers.huggingface.models[0].cost.currency: OpenClaw rejects this unknown key",
                "models.providers.huggingface.models[1].name is required (a non-empty string)",
            ]
        );
    }

    #[test]
    fn seed_shapes_are_clean() {
        let config = serde_json::json!({
            "agents": {"defaults": {"model": "huggingface/a/b", "models": {"huggingface/a/b": {}}}},
            "models": {"providers": {"huggingface": {"timeoutSeconds": 60}}},
        });
        assert!(schema_problems(&config).is_empty());
    }
}
