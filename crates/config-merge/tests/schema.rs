//! `schema_problems`: the keys OpenClaw's strict schema would reject, each with its path.

use hfclaw_config_merge::schema_problems;
use serde_json::json;

#[test]
fn reports_unknown_keys_missing_names_and_bad_values() {
    let config = json!({
        "hfclaw": {"cache": true},
        "memory": {"search": {"provider": "openai-compatible", "model": "m", "dims": 3,
            "remote": {"baseUrl": "u", "apiKey": "k", "key": "x"}}, "index": 1},
        "env": {"HF_TOKEN": "x", "vars": {"A": "1", "B": 2}},
        "agents": {"defaults": {
            "model": {"primary": "a", "fallback": [], "fallbacks": ["b", 3]},
            "models": {"huggingface/a/b": {"alias": 5, "nickname": "y"}, "huggingface/c/d": "x"},
            "modelPolicy": {"allow": "all", "deny": []},
        }, "extra": 1},
        "models": {"mode": "append", "providers": {"huggingface": {
            "baseUrl": "u", "api": "openai", "timeoutSeconds": 1.5, "hfclawCache": true,
            "models": [
                {"id": "a/b", "name": "A", "contextWindow": 0, "maxTokens": -1, "contextTokens": 2.5,
                 "input": ["text", "pdf"], "api": "openai-completions",
                 "cost": {"input": "1", "currency": "usd"}},
                {"id": "c/d"},
                {"name": ""},
                "junk",
            ],
        }}},
    });
    let problems = schema_problems(&config);
    let expected = [
        "hfclaw: OpenClaw rejects this unknown key",
        "memory.index: OpenClaw rejects this unknown key",
        "memory.search.dims: OpenClaw rejects this unknown key",
        "memory.search.remote.key: OpenClaw rejects this unknown key",
        "env.HF_TOKEN: OpenClaw rejects this unknown key",
        "env.vars.B must be a string",
        "agents.extra: OpenClaw rejects this unknown key",
        "agents.defaults.model.fallback: OpenClaw rejects this unknown key",
        "agents.defaults.model.fallbacks must be a list of strings",
        "agents.defaults.models[\"huggingface/a/b\"].nickname: OpenClaw rejects this unknown key",
        "agents.defaults.models[\"huggingface/a/b\"].alias must be a string",
        "agents.defaults.models[\"huggingface/c/d\"] must be an object",
        "agents.defaults.modelPolicy.deny: OpenClaw rejects this unknown key",
        "agents.defaults.modelPolicy.allow must be a list of strings",
        "models.mode must be \"merge\" or \"replace\"",
        "models.providers.huggingface.hfclawCache: OpenClaw rejects this unknown key",
        "models.providers.huggingface.api must be one of openai-completions, openai-responses, openai-chatgpt-responses, anthropic-messages, google-generative-ai, google-vertex, github-copilot, bedrock-converse-stream, ollama, pi-messages, azure-openai-responses",
        "models.providers.huggingface.timeoutSeconds must be a positive integer",
        "models.providers.huggingface.models[0].contextWindow must be a positive number",
        "models.providers.huggingface.models[0].maxTokens must be a positive number",
        "models.providers.huggingface.models[0].contextTokens must be a positive integer",
        "models.providers.huggingface.models[0].input must list only text, image, video, audio",
        "models.providers.huggingface.models[0].cost.currency: OpenClaw rejects this unknown key",
        "models.providers.huggingface.models[0].cost.input must be a number",
        "models.providers.huggingface.models[1].name is required (a non-empty string)",
        "models.providers.huggingface.models[2].id is required (a non-empty string)",
        "models.providers.huggingface.models[2].name is required (a non-empty string)",
        "models.providers.huggingface.models[3] must be an object",
    ];
    for line in &expected {
        assert!(
            problems.iter().any(|p| p == line),
            "missing {line:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn configs_openclaw_accepts_are_clean() {
    for config in [
        json!({}),
        json!({
            "$schema": "x", "meta": {"lastTouchedVersion": "2026.9.6"},
            "env": {"shellEnv": {"enabled": true}, "vars": {"HF_TOKEN": "hf_x"}},
            "agents": {"defaults": {
                "model": "huggingface/a/b",
                "models": {"huggingface/a/b": {"alias": "AB", "params": {}, "streaming": true}, "huggingface/c/d": {}},
                "modelPolicy": {"allow": ["huggingface/*"]},
                "workspace": "~/x",
            }},
            "models": {"mode": "merge", "providers": {
                "huggingface": {"timeoutSeconds": 60},
                "openai": {"anything": "not ours to judge"},
            }},
        }),
        json!({"models": {"providers": {"huggingface": {
            "baseUrl": "https://router.huggingface.co/v1", "api": "openai-completions",
            "apiKey": {"source": "env", "provider": "default", "id": "HF_TOKEN"},
            "models": [{"id": "a/b", "name": "AB", "contextWindow": 131072, "maxTokens": 8192,
                        "reasoning": true, "input": ["text", "image"], "compat": {"supportsTools": false},
                        "cost": {"input": 1, "output": 2, "cacheRead": 0, "cacheWrite": 0}}],
        }}}}),
    ] {
        assert_eq!(schema_problems(&config), Vec::<String>::new(), "{config}");
    }
}

#[test]
fn the_seed_configs_are_clean() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/seed-configs");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let value: serde_json::Value = json5::from_str(&text).unwrap_or_default();
        assert_eq!(
            schema_problems(&value),
            Vec::<String>::new(),
            "{:?}",
            entry.path()
        );
    }
}
