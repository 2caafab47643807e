//! Temporary profiling harness (removed before handing back).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]
use std::time::Instant;
use hfclaw_config_merge::Editor;
use jsonc_parser::cst::CstRootNode;

fn config_with_models(entries: usize) -> String {
    let mut text = String::from(
        "// generated for benchmarks\n{\n  agents: {\n    defaults: {\n      model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1' }, // default\n      models: { 'huggingface/deepseek-ai/DeepSeek-R1': { alias: 'R1' } },\n    },\n  },\n  models: {\n    providers: {\n      huggingface: {\n        baseUrl: 'https://router.huggingface.co/v1',\n        models: [\n",
    );
    for i in 0..entries {
        text.push_str(&format!(
            "          {{ id: 'org-{}/Model-{i}-Instruct', name: 'Model {i}', contextWindow: 131072, maxTokens: 8192, cost: {{ input: 0.1, output: 0.3 }} }}, // #{i}\n",
            i % 97
        ));
    }
    text.push_str("        ],\n      },\n    },\n  },\n}\n");
    text
}

fn time<T>(label: &str, f: impl Fn() -> T) -> T {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..5 {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        out = Some(v);
    }
    println!("{label:40} {best:8.2} ms");
    out.unwrap()
}

fn main() {
    let text = config_with_models(10_000);
    println!("{} bytes", text.len());
    time("json5 -> Value", || json5::from_str::<serde_json::Value>(&text).unwrap());
    time("json5 -> IgnoredAny", || json5::from_str::<serde::de::IgnoredAny>(&text).unwrap());
    let root = time("cst parse", || CstRootNode::parse(&text, &Default::default()).unwrap());
    time("cst to_string", || root.to_string());
    time("cst to_serde_value", || root.to_serde_value());
    time("Editor::new", || Editor::new(std::path::Path::new("x"), &text).unwrap());
    let entry = hfclaw_catalog::ConfigModel { id: "new-org/New-Model".into(), name: Some("New".into()), context_window: Some(32768), ..Default::default() };
    time("new+merge+text", || {
        let mut e = Editor::new(std::path::Path::new("x"), &text).unwrap();
        e.merge_provider_models(std::slice::from_ref(&entry)).unwrap();
        e.text()
    });
    time("new+set_primary+text", || {
        let mut e = Editor::new(std::path::Path::new("x"), &text).unwrap();
        e.set_primary("huggingface/a/b").unwrap();
        e.text()
    });
    let e = Editor::new(std::path::Path::new("x"), &text).unwrap();
    time("text() unedited", || e.text());
    time("view()", || e.view());
}
