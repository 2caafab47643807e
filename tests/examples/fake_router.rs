//! The end-to-end tests' fake router, started by hand for trials (TRIALS.md): it serves
//! the synthetic model list, answers every chat, Messages and Responses request, plays
//! the Hub (whoami for any token; two embedding models, `BAAI/bge-m3` at together and
//! hf-inference, `Qwen/Qwen3-Embedding-8B` at scaleway) and their providers' paths.
//!
//! ```sh
//! cargo run -p hfclaw-e2e --example fake_router          # prints its base URL
//! export HFCLAW_ROUTER_URL=http://127.0.0.1:PORT/v1 HFCLAW_HUB_URL=http://127.0.0.1:PORT
//! hfclaw chat hi
//! ```
//!
//! It stops when stdin closes (Ctrl-D) or on Ctrl-C.
#![allow(clippy::print_stdout)]

use std::io::Read;

use hfclaw_e2e::{FakeRouter, Mapping, Reply};

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");

fn main() {
    let router = FakeRouter::start();
    router
        .models(Reply::json(200, ROUTER_LIST))
        .answer_any(|model| format!("Hello from the fake router ({model})."))
        .whoami(Reply::json(
            200,
            r#"{"name":"trial-user","auth":{"accessToken":{"role":"fineGrained","fineGrained":{"scoped":[],"global":["inference.serverless.write"]}}}}"#,
        ))
        .embedding_model(
            "BAAI/bge-m3",
            1024,
            &[
                Mapping::live("together", "BAAI/bge-m3-together"),
                Mapping::live("hf-inference", "BAAI/bge-m3"),
            ],
        )
        .embedding_model(
            "Qwen/Qwen3-Embedding-8B",
            4096,
            &[Mapping::live("scaleway", "qwen3-embedding-8b")],
        );
    println!("{}", router.base_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
