//! The end-to-end tests' fake router, started by hand for trials (TRIALS.md): it serves
//! the synthetic model list and answers every chat, Messages and Responses request.
//!
//! ```sh
//! cargo run -p hfclaw-e2e --example fake_router          # prints its base URL
//! HFCLAW_ROUTER_URL=http://127.0.0.1:PORT/v1 hfclaw chat hi
//! ```
//!
//! It stops when stdin closes (Ctrl-D) or on Ctrl-C.
#![allow(clippy::print_stdout)]

use std::io::Read;

use hfclaw_e2e::{FakeRouter, Reply};

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");

fn main() {
    let router = FakeRouter::start();
    router
        .models(Reply::json(200, ROUTER_LIST))
        .answer_any(|model| format!("Hello from the fake router ({model})."));
    println!("{}", router.base_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
