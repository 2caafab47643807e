//! The embeddings commands end to end: `hfclaw memory use | status` (OpenClaw's
//! `memory.search`, written format-preserving) and `hfclaw models list --task embeddings` /
//! `models show` of an embedding model, against the fake Hub.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;
use common::gateway::Gateway;
use hfclaw_e2e::{Mapping, Reply};
use serde_json::Value;

const CONFIG: &str = r#"// my OpenClaw config
{
  agents: { defaults: {
    model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1' },
    models: { 'huggingface/BAAI/bge-m3': { alias: 'memory' } }, // embeddings
  } },
  memory: { citations: 'on' },
}
"#;

const BGE: &str = "BAAI/bge-m3";

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.router.embedding_model(
        BGE,
        4,
        &[
            Mapping::live("hf-inference", BGE),
            Mapping::live("together", "baai-bge-m3"),
        ],
    );
    s.router.embedding_model(
        "intfloat/multilingual-e5-large",
        4,
        &[Mapping::live(
            "hf-inference",
            "intfloat/multilingual-e5-large",
        )],
    );
    s.router.embedding_model(
        "deepseek-ai/DeepSeek-R1",
        4,
        &[Mapping::new(
            "together",
            "deepseek-ai/DeepSeek-R1",
            "live",
            "conversational",
        )],
    );
    s
}

fn config(s: &Sandbox) -> (String, Value) {
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    let value = json5::from_str(&text).unwrap();
    (text, value)
}

#[test]
fn memory_use_writes_openclaws_block_and_says_the_index_needs_a_rebuild() {
    let s = sandbox();
    std::fs::write(s.home().join("keys.txt"), "openclaw sk-gw-0001\n").unwrap();
    // A key file others can read is refused, as `hfclaw serve` refuses it.
    std::fs::set_permissions(
        s.home().join("keys.txt"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let keys = s.home().join("keys.txt").display().to_string();
    let out = s.run(&["memory", "use", "memory", "--api-key-file", &keys]);
    insta::assert_snapshot!(out);
    let (text, value) = config(&s);
    assert!(
        text.starts_with("// my OpenClaw config\n{\n  agents: { defaults: {\n"),
        "{text}"
    );
    assert!(text.contains("}, // embeddings\n"), "{text}");
    assert_eq!(
        value["memory"],
        serde_json::json!({"citations": "on", "search": {"provider": "openai-compatible",
            "model": "huggingface/BAAI/bge-m3",
            "remote": {"baseUrl": "http://127.0.0.1:4000/v1/", "apiKey": "sk-gw-0001"}}})
    );
    // The key never shows in the output.
    assert!(!out.contains("sk-gw-0001"), "{out}");
    // Again: nothing changes, nothing to rebuild.
    let again = s.run(&["memory", "use", "memory", "--api-key-file", &keys]);
    assert!(again.contains("already up to date"), "{again}");
    assert!(!again.contains("index"), "{again}");
    assert_eq!(config(&s).0, text);
    // Another model and gateway: the old vectors do not compare with the new ones.
    let out = s.run(&[
        "memory",
        "use",
        "intfloat/multilingual-e5-large",
        "--gateway",
        "http://127.0.0.1:4555",
    ]);
    assert!(
        out.contains("holds vectors of huggingface/BAAI/bge-m3 (openai-compatible)")
            && out.contains("`openclaw memory index --force`"),
        "{out}"
    );
    let (_, value) = config(&s);
    assert_eq!(
        value["memory"]["search"]["model"],
        "huggingface/intfloat/multilingual-e5-large"
    );
    assert_eq!(
        value["memory"]["search"]["remote"]["baseUrl"],
        "http://127.0.0.1:4555/v1/"
    );
    // Without --api-key-file the key already written stays.
    assert_eq!(value["memory"]["search"]["remote"]["apiKey"], "sk-gw-0001");
    // And OpenClaw's strict schema holds nothing it would refuse (doctor checks it).
    let doctor = s.run(&["--offline", "doctor"]);
    assert!(!doctor.contains("memory.search"), "{doctor}");
}

#[test]
fn memory_use_refuses_a_model_no_provider_embeds_and_touches_nothing() {
    let s = sandbox();
    let out = s.run(&["memory", "use", "huggingface/deepseek-ai/DeepSeek-R1"]);
    insta::assert_snapshot!(out);
    assert_eq!(config(&s).0, CONFIG);
    let out = s.run(&["memory", "use", "nobody/nothing"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("not a model on the Hugging Face Hub"), "{out}");
    let out = s.run(&["memory", "use", BGE, "--gateway", "ftp://x"]);
    assert!(
        out.starts_with("exit: 2\n") && out.contains("--gateway"),
        "{out}"
    );
    assert_eq!(config(&s).0, CONFIG);
}

#[test]
fn memory_status_shows_what_openclaw_uses_and_whether_the_gateway_answers() {
    let s = sandbox();
    let before = s.run(&["memory", "status"]);
    assert!(before.contains("OpenClaw's default"), "{before}");
    let gw = Gateway::start(&s, &[]);
    let gateway = format!("http://{}", gw.addr);
    s.run(&["memory", "use", BGE, "--gateway", &gateway]);
    let status = s.run(&["memory", "status"]).replace(&gw.addr, "[GATEWAY]");
    insta::assert_snapshot!(status);
    let json = s.run(&["memory", "status", "--json"]);
    assert!(json.contains("\"reachable\": true"), "{json}");
    let addr = gw.addr.clone();
    drop(gw);
    let down = s.run(&["memory", "status"]);
    assert!(down.contains("gateway   not answering"), "{down}");
    // The command that starts a gateway where OpenClaw looks: not the default address.
    assert!(
        down.contains(&format!("`hfclaw serve --listen {addr}`")),
        "{down}"
    );
}

#[test]
fn memory_status_says_when_the_gateway_refuses_openclaws_key() {
    let s = sandbox();
    let gw = Gateway::start(&s, &["--api-key", "sk-gw-0002"]);
    let gateway = format!("http://{}", gw.addr);
    // No key written: the gateway answers, but OpenClaw's requests would get 401s.
    s.run(&["memory", "use", BGE, "--gateway", &gateway]);
    let status = s.run(&["memory", "status"]).replace(&gw.addr, "[GATEWAY]");
    insta::assert_snapshot!(status);
    let json = s.run(&["memory", "status", "--json"]);
    assert!(json.contains("\"keyAccepted\": false"), "{json}");
    // The gateway's key file: the key is taken.
    let keys = s.home().join("keys.txt");
    std::fs::write(&keys, "openclaw sk-gw-0002\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let keys = keys.display().to_string();
    s.run(&[
        "memory",
        "use",
        BGE,
        "--gateway",
        &gateway,
        "--api-key-file",
        &keys,
    ]);
    // The port may hold "401" (127.0.0.1:40147): look at the text around it.
    let status = s.run(&["memory", "status"]).replace(&gw.addr, "[GATEWAY]");
    assert!(status.starts_with("exit: 0\n"), "{status}");
    assert!(status.contains("gateway   answering (ok)\n"), "{status}");
    assert!(!status.contains("401"), "{status}");
    let json = s.run(&["memory", "status", "--json"]);
    assert!(json.contains("\"keyAccepted\": true"), "{json}");
    assert!(!json.contains("sk-gw-0002"), "{json}");
}

#[test]
fn memory_use_takes_the_installed_services_key_for_its_gateway() {
    let s = sandbox();
    let keys = s.home().join("service-keys.txt");
    std::fs::write(&keys, "openclaw sk-svc-0003\nadmin sk-svc-0004\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let units = s.home().join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(
        units.join("hfclaw.service"),
        format!(
            "[Service]\nExecStart=/usr/local/bin/hfclaw serve --listen 0.0.0.0:4555 --api-key-file {}\n",
            keys.display()
        ),
    )
    .unwrap();
    let key_of = |s: &Sandbox| config(s).1["memory"]["search"]["remote"]["apiKey"].clone();
    // Another gateway than the service's: no key.
    s.run(&["memory", "use", BGE]);
    assert_eq!(key_of(&s), Value::Null);
    // The service's gateway: its first key.
    let out = s.run(&["memory", "use", BGE, "--gateway", "http://127.0.0.1:4555"]);
    assert!(out.starts_with("exit: 0\n"), "{out}");
    assert!(
        out.contains("service-keys.txt: writing its first key"),
        "{out}"
    );
    assert!(!out.contains("sk-svc"), "{out}");
    assert_eq!(key_of(&s), "sk-svc-0003");
    // A key file it cannot use: a warning, the key already written stays.
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = s.run(&["memory", "use", BGE, "--gateway", "http://127.0.0.1:4555"]);
    assert!(
        out.starts_with("exit: 0\n")
            && out.contains("cannot be used")
            && out.contains("--api-key-file"),
        "{out}"
    );
    assert_eq!(key_of(&s), "sk-svc-0003");
}

#[test]
fn models_list_task_embeddings_reads_the_hubs_list_once_then_its_cache() {
    let s = sandbox();
    let out = s.run(&["models", "list", "--task", "embeddings"]);
    insta::assert_snapshot!(out);
    let hub: Vec<String> = s
        .router
        .hub_requests()
        .into_iter()
        .map(|r| r.route)
        .collect();
    assert_eq!(
        hub,
        [
            "GET /api/models?inference_provider=all&pipeline_tag=feature-extraction&expand[]=inferenceProviderMapping"
        ]
    );
    let json = s.run(&[
        "models",
        "list",
        "--task",
        "embeddings",
        "--json",
        "--provider",
        "together",
    ]);
    let stdout = json
        .split("--- stdout\n")
        .nth(1)
        .unwrap()
        .split("--- stderr")
        .next()
        .unwrap();
    let items: Vec<Value> = serde_json::from_str(stdout).unwrap();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["ref"], "huggingface/BAAI/bge-m3");
    assert_eq!(items[0]["providers"][0]["providerId"], "baai-bge-m3");
    assert_eq!(items[0]["providers"][0]["callable"], true);
    // Cached: the second run did not ask.
    assert_eq!(s.router.hub_requests().len(), 1);
    let all = s.run(&[
        "models",
        "list",
        "--task",
        "embeddings",
        "--all",
        "--search",
        "deepseek",
    ]);
    assert!(
        all.contains("huggingface/deepseek-ai/DeepSeek-R1  together (conversational, live)"),
        "{all}"
    );
    let wrong = s.run(&["models", "list", "--task", "embeddings", "--tools"]);
    assert!(
        wrong.starts_with("exit: 2\n") && wrong.contains("--tools describes chat models"),
        "{wrong}"
    );
    let unknown = s.run(&["models", "list", "--task", "images"]);
    assert!(unknown.starts_with("exit: 2\n"), "{unknown}");
    // A Hub that fails after a good answer: the cache serves, with a warning.
    s.router.hub_list(Reply::json(503, "down"));
    let stale = s.run(&["models", "list", "--task", "embeddings", "--refresh"]);
    assert!(
        stale.starts_with("exit: 0\n") && stale.contains("the Hub did not answer"),
        "{stale}"
    );
}

#[test]
fn models_show_describes_an_embedding_model_from_its_mapping() {
    let s = sandbox();
    let out = s.run(&["models", "show", "memory"]);
    insta::assert_snapshot!(out);
    let json = s.run(&["models", "show", BGE, "--json"]);
    assert!(
        json.contains("\"order\": [\n    \"together\",\n    \"hf-inference\"\n  ]"),
        "{json}"
    );
}
