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
/// The root (OpenClaw 2026.9's `strictObject`).
const ROOT_KEYS: &[&str] = &[
    "$schema",
    "meta",
    "env",
    "wizard",
    "diagnostics",
    "logging",
    "update",
    "telemetry",
    "browser",
    "ui",
    "secrets",
    "auth",
    "accessGroups",
    "acp",
    "models",
    "nodeHost",
    "agents",
    "worktreeRoot",
    "worktreeAcceleration",
    "tools",
    "security",
    "bindings",
    "broadcast",
    "attachments",
    "messages",
    "tts",
    "commands",
    "approvals",
    "session",
    "cron",
    "transcripts",
    "hooks",
    "channels",
    "discovery",
    "talk",
    "gateway",
    "cloudWorkers",
    "desktop",
    "memory",
    "mcp",
    "skills",
    "plugins",
    "surfaces",
    "proxy",
];
/// `memory` (OpenClaw 2026.9's `MemorySchema`).
const MEMORY_KEYS: &[&str] = &["citations", "search"];
/// `memory.search` (`MemorySearchSchema`).
const MEMORY_SEARCH_KEYS: &[&str] = &[
    "enabled",
    "rememberAcrossConversations",
    "sources",
    "extraPaths",
    "multimodal",
    "experimental",
    "provider",
    "remote",
    "fallback",
    "model",
    "inputType",
    "queryInputType",
    "documentInputType",
    "outputDimensionality",
    "local",
    "store",
    "query",
    "cache",
];
/// `memory.search.remote`.
const MEMORY_REMOTE_KEYS: &[&str] = &["baseUrl", "apiKey", "headers", "batch"];
/// `agents`.
const AGENTS_KEYS: &[&str] = &["ownership", "defaults", "entries"];
/// `agents.defaults.modelPolicy`.
const POLICY_KEYS: &[&str] = &["allow"];
/// `api` of a provider or a model entry.
const APIS: &[&str] = &[
    "openai-completions",
    "openai-responses",
    "openai-chatgpt-responses",
    "anthropic-messages",
    "google-generative-ai",
    "google-vertex",
    "github-copilot",
    "bedrock-converse-stream",
    "ollama",
    "pi-messages",
    "azure-openai-responses",
];

/// Every problem, each naming its key path.
pub fn schema_problems(root: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Value::Object(top) = root else {
        return vec!["the top level must be an object".to_owned()];
    };
    unknown_keys(top, ROOT_KEYS, "", &mut problems);
    if let Some(Value::Object(env)) = root.get("env") {
        unknown_keys(env, ENV_KEYS, "env", &mut problems);
        if let Some(Value::Object(vars)) = env.get("vars") {
            for (name, value) in vars {
                if !value.is_string() {
                    problems.push(format!("env.vars.{name} must be a string"));
                }
            }
        }
    }
    if let Some(Value::Object(agents)) = root.get("agents") {
        unknown_keys(agents, AGENTS_KEYS, "agents", &mut problems);
    }
    if let Some(Value::Object(memory)) = root.get("memory") {
        unknown_keys(memory, MEMORY_KEYS, "memory", &mut problems);
        if let Some(Value::Object(search)) = memory.get("search") {
            unknown_keys(search, MEMORY_SEARCH_KEYS, "memory.search", &mut problems);
            if let Some(Value::Object(remote)) = search.get("remote") {
                unknown_keys(
                    remote,
                    MEMORY_REMOTE_KEYS,
                    "memory.search.remote",
                    &mut problems,
                );
            }
        }
    }
    match root.pointer("/agents/defaults/model") {
        None | Some(Value::String(_)) => {}
        Some(Value::Object(model)) => {
            unknown_keys(model, MODEL_KEYS, "agents.defaults.model", &mut problems);
            if model.get("primary").is_some_and(|p| !p.is_string()) {
                problems.push("agents.defaults.model.primary must be a string".to_owned());
            }
            string_list(
                model.get("fallbacks"),
                "agents.defaults.model.fallbacks",
                &mut problems,
            );
        }
        Some(_) => problems.push("agents.defaults.model must be a string or an object".to_owned()),
    }
    if let Some(Value::Object(models)) = root.pointer("/agents/defaults/models") {
        for (key, entry) in models {
            let at = format!("agents.defaults.models[\"{key}\"]");
            match entry {
                Value::Object(entry) => {
                    unknown_keys(entry, AGENT_MODEL_KEYS, &at, &mut problems);
                    if entry.get("alias").is_some_and(|a| !a.is_string()) {
                        problems.push(format!("{at}.alias must be a string"));
                    }
                }
                _ => problems.push(format!("{at} must be an object")),
            }
        }
    }
    if let Some(Value::Object(policy)) = root.pointer("/agents/defaults/modelPolicy") {
        unknown_keys(
            policy,
            POLICY_KEYS,
            "agents.defaults.modelPolicy",
            &mut problems,
        );
        string_list(
            policy.get("allow"),
            "agents.defaults.modelPolicy.allow",
            &mut problems,
        );
    }
    if let Some(Value::Object(models)) = root.get("models") {
        unknown_keys(models, MODELS_KEYS, "models", &mut problems);
        if let Some(mode) = models.get("mode")
            && !matches!(mode.as_str(), Some("merge" | "replace"))
        {
            problems.push("models.mode must be \"merge\" or \"replace\"".to_owned());
        }
    }
    if let Some(Value::Object(block)) = root.pointer("/models/providers/huggingface") {
        provider_problems(block, "models.providers.huggingface", &mut problems);
    }
    problems
}

/// An optional array of strings.
fn string_list(value: Option<&Value>, at: &str, problems: &mut Vec<String>) {
    let ok = value.is_none_or(|v| {
        v.as_array()
            .is_some_and(|items| items.iter().all(Value::is_string))
    });
    if !ok {
        problems.push(format!("{at} must be a list of strings"));
    }
}

/// `api`, when present, is one OpenClaw knows.
fn api_problem(object: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    if let Some(api) = object.get("api")
        && !api.as_str().is_some_and(|a| APIS.contains(&a))
    {
        problems.push(format!("{at}.api must be one of {}", APIS.join(", ")));
    }
}

fn provider_problems(block: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    unknown_keys(block, PROVIDER_KEYS, at, problems);
    api_problem(block, at, problems);
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
        api_problem(entry, &at, problems);
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
        if let Some(tokens) = entry.get("contextTokens")
            && tokens.as_u64().is_none_or(|t| t == 0)
        {
            problems.push(format!("{at}.contextTokens must be a positive integer"));
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
            for part in &COST_KEYS[..4] {
                if cost.get(*part).is_some_and(|v| !v.is_number()) {
                    problems.push(format!("{at}.cost.{part} must be a number"));
                }
            }
        }
    }
}

fn unknown_keys(object: &Map<String, Value>, known: &[&str], at: &str, problems: &mut Vec<String>) {
    for key in object.keys() {
        if !known.contains(&key.as_str()) {
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            problems.push(format!("{path}: OpenClaw rejects this unknown key"));
        }
    }
}
