//! Web pages must not be able to use `hfclaw serve` (issue 24): a foreign `Host` (DNS
//! rebinding) or `Origin`, or a body not declared JSON, is refused before any routing and
//! the router never hears of it; the names and origins the operator allows work, with
//! CORS; errors never quote the router URL; a keyless gateway on every interface needs
//! `--allow-unauthenticated-lan`. The last test is a real headless Chromium on a page of
//! another loopback port (skipped without `HFCLAW_TEST_CHROMIUM`, see `common/browser.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::browser::{chromium, run_chromium};
use common::gateway::Gateway;
use common::{CHAIN_CONFIG, Sandbox};
use hfclaw_e2e::Reply;
use serde_json::{Value, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    s.router
        .chat(R1, [Reply::chat_json(R1, "Hello from R1")])
        .messages(R1, [Reply::messages_json(R1, "Hello from R1")])
        .responses(R1, [Reply::responses_json(R1, "Hello from R1")]);
    s
}

fn chat_body() -> String {
    json!({"model": "r1", "messages": [{"role": "user", "content": "hi"}]}).to_string()
}

/// What the gateway answered: status, headers, body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn send(
    gw: &Gateway,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", gw.base()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// Every route, with a body where it takes one.
fn routes() -> Vec<(&'static str, &'static str, Option<String>)> {
    vec![
        ("GET", "/", None),
        ("GET", "/metrics", None),
        ("GET", "/healthz", None),
        ("GET", "/v1/models", None),
        ("GET", "/v1/models/r1", None),
        ("POST", "/v1/chat/completions", Some(chat_body())),
        ("POST", "/v1/messages", Some(chat_body())),
        ("POST", "/v1/messages/count_tokens", Some(chat_body())),
        (
            "POST",
            "/v1/responses",
            Some(json!({"model": "r1", "input": "hi"}).to_string()),
        ),
        ("GET", "/v1/responses/resp_1", None),
        ("DELETE", "/v1/responses/resp_1", None),
        ("GET", "/no/such/route", None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_on_every_route_before_the_router() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let before = s.router.requests().len();
    for (method, path, body) in routes() {
        let answer = send(
            &gw,
            method,
            path,
            &[
                ("host", "evil.example:4000"),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await;
        assert_eq!(answer.status, 421, "{method} {path}: {}", answer.text);
        let json = answer.json();
        if path.starts_with("/v1/messages") {
            assert_eq!(json["type"], "error", "{json}");
            assert_eq!(json["error"]["type"], "invalid_request_error", "{json}");
        } else {
            assert_eq!(json["error"]["code"], "host_not_allowed", "{json}");
        }
        // Nothing of the gateway's: no alias, model, spend or router.
        for secret in ["r1", "DeepSeek", "qwen", "$"] {
            assert!(
                !answer.text.contains(secret),
                "{path}: {secret} in {}",
                answer.text
            );
        }
    }
    assert_eq!(
        s.router.requests().len(),
        before,
        "the router was reached: {:?}",
        s.router.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_s_own_names_and_allowed_hosts_are_served() {
    let s = sandbox();
    let gw = Gateway::start(&s, &["--allowed-host", "gw.example.com"]);
    let port = gw.addr.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "gw.example.com".to_owned(),
        format!("GW.Example.com:{port}"),
    ] {
        let answer = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            &[("host", &host), ("content-type", "application/json")],
            Some(chat_body()),
        )
        .await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text);
        let page = send(&gw, "GET", "/", &[("host", &host)], None).await;
        assert_eq!(page.status, 200, "{host}");
        assert!(page.text.contains("<h1>hfclaw gateway</h1>"));
    }
    let other = send(
        &gw,
        "GET",
        "/v1/models",
        &[("host", "gw.example.org")],
        None,
    )
    .await;
    assert_eq!(other.status, 421);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_and_non_json_bodies_are_refused() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let before = s.router.requests().len();
    for content_type in ["application/json", "text/plain"] {
        let answer = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            &[
                ("origin", "http://evil.example"),
                ("content-type", content_type),
            ],
            Some(chat_body()),
        )
        .await;
        assert_eq!(answer.status, 403, "{content_type}: {}", answer.text);
        assert_eq!(answer.json()["error"]["code"], "origin_not_allowed");
        assert_eq!(answer.header("access-control-allow-origin"), "");
    }
    // A page on another port of the same machine is another origin too.
    let answer = send(
        &gw,
        "POST",
        "/v1/messages",
        &[
            ("origin", "http://127.0.0.1:1"),
            ("content-type", "application/json"),
        ],
        Some(chat_body()),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["error"]["type"], "permission_error");
    // What a page can send without a preflight, and what curl -d sends.
    for content_type in [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let answer = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            &[("content-type", content_type)],
            Some(chat_body()),
        )
        .await;
        assert_eq!(answer.status, 415, "{content_type}: {}", answer.text);
        let error = &answer.json()["error"];
        assert_eq!(error["code"], "unsupported_media_type");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{error}"
        );
    }
    let answer = send(&gw, "POST", "/v1/responses", &[], Some("{}".to_owned())).await;
    assert_eq!(answer.status, 415);
    // A browser's no-cors GET from another site (an <img>, a fetch) is refused; the user
    // following a link to the status page is not.
    let answer = send(
        &gw,
        "GET",
        "/healthz",
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "no-cors"),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 403);
    let answer = send(
        &gw,
        "GET",
        "/",
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        s.router.requests().len(),
        before,
        "{:?}",
        s.router.requests()
    );

    // The gateway's own origin (a same-origin request from its status page) is served, and
    // so are clients that send no Origin, with JSON parameters.
    let own = format!("http://{}", gw.addr);
    let answer = send(
        &gw,
        "POST",
        "/v1/chat/completions",
        &[
            ("origin", &own),
            ("content-type", "application/json; charset=utf-8"),
        ],
        Some(chat_body()),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(s.router.chat_models(), [R1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_get_cors_preflights_and_headers() {
    let s = sandbox();
    let key = "ui-key-123";
    let origin = "http://localhost:3000";
    let gw = Gateway::start(
        &s,
        &["--cors-origin", "http://localhost:3000/", "--api-key", key],
    );
    // The preflight needs no key (browsers send none with it).
    let preflight = send(
        &gw,
        "OPTIONS",
        "/v1/chat/completions",
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        None,
    )
    .await;
    assert_eq!(preflight.status, 204, "{}", preflight.text);
    assert_eq!(preflight.header("access-control-allow-origin"), origin);
    assert!(
        preflight
            .header("access-control-allow-methods")
            .contains("POST")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        "authorization, content-type"
    );
    assert!(preflight.header("vary").contains("Origin"));
    let auth = format!("Bearer {key}");
    let answer = send(
        &gw,
        "POST",
        "/v1/chat/completions",
        &[
            ("origin", origin),
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(chat_body()),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("access-control-allow-origin"), origin);
    assert!(answer.header("vary").contains("Origin"));
    assert!(
        answer
            .header("access-control-expose-headers")
            .contains("x-hfclaw-model")
    );
    // Without the key: refused, but readable by the allowed page.
    let answer = send(&gw, "GET", "/v1/models", &[("origin", origin)], None).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("access-control-allow-origin"), origin);
    // Another origin's preflight is refused.
    let preflight = send(
        &gw,
        "OPTIONS",
        "/v1/chat/completions",
        &[
            ("origin", "http://localhost:3001"),
            ("access-control-request-method", "POST"),
        ],
        None,
    )
    .await;
    assert_eq!(preflight.status, 403);
    assert_eq!(preflight.header("access-control-allow-origin"), "");
    assert_eq!(s.router.chat_models(), [R1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_never_name_the_router_url() {
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    // A router URL nothing listens on.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/secret-path/v1", dead.local_addr().unwrap());
    drop(dead);
    let gw = Gateway::start_at(&s, "127.0.0.1:0", &dead_url, &[]);
    for (path, body) in [
        ("/v1/chat/completions", chat_body()),
        ("/v1/messages", chat_body()),
        (
            "/v1/responses",
            json!({"model": "r1", "input": "hi"}).to_string(),
        ),
        ("/v1/messages/count_tokens", chat_body()),
    ] {
        let answer = send(
            &gw,
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body),
        )
        .await;
        assert_eq!(answer.status, 502, "{path}: {}", answer.text);
        assert!(
            !answer.text.contains("secret-path") && !answer.text.contains("http://"),
            "{path}: {}",
            answer.text
        );
        assert!(
            answer.text.contains("Connection refused"),
            "{}",
            answer.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_gateway_on_every_interface_needs_the_operator_s_word() {
    let s = sandbox();
    let router = s.router.base_url();
    let out = s
        .cmd(&["serve", "--listen", "0.0.0.0:0", "--router-url", &router])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without a client key")
            && stderr.contains("could spend your Hugging Face credits")
            && stderr.contains("--allow-unauthenticated-lan"),
        "{stderr}"
    );
    // A start that is refused never announces that it serves.
    assert!(
        !stderr.contains("serving") && !stderr.contains("routes:"),
        "{stderr}"
    );
    for [flag, value] in [
        ["--cors-origin", "localhost:3000"],
        ["--allowed-host", "http://gw/"],
    ] {
        let out = s.cmd(&["serve", flag, value]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("invalid") && stderr.contains(flag),
            "{stderr}"
        );
    }
    // With the word, it serves: any IP literal names it, other names need --allowed-host.
    let gw = Gateway::start_at(&s, "0.0.0.0:0", &router, &["--allow-unauthenticated-lan"]);
    let port = gw.addr.rsplit(':').next().unwrap().to_owned();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let get = |host: &'static str| {
        let url = url.clone();
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("host", host)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(get("192.168.7.7:1").await, 200);
    assert_eq!(get("rebound.example").await, 421);
    assert!(gw.stderr_text().contains("without a client key"));
}

/// A page server on a loopback port of its own (another origin than the gateway's): every
/// request gets the HTML last set. Returns its origin and the HTML's slot.
fn page_server() -> (String, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let html = Arc::new(Mutex::new(String::new()));
    let slot = html.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let html = slot.lock().unwrap().clone();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (origin, html)
}

/// The page: a no-cors `text/plain` POST (a "simple" request, no preflight), a no-cors
/// `GET /`, and a CORS JSON POST that reads the answer; what happened goes into `#out`.
fn attack_page(gateway: &str) -> String {
    format!(
        r#"<!doctype html><html><body><pre id="out">pending</pre><script>
const gw = "{gateway}";
const body = JSON.stringify({{model: "r1", messages: [{{role: "user", content: "hi"}}]}});
async function attempt(name, run) {{
  try {{ return name + ":" + await run(); }} catch (e) {{ return name + ":blocked"; }}
}}
(async () => {{
  const results = [];
  results.push(await attempt("simple-post", async () => {{
    const r = await fetch(gw + "/v1/chat/completions", {{method: "POST", mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}}, body}});
    return r.type;
  }}));
  results.push(await attempt("simple-get", async () => {{
    const r = await fetch(gw + "/", {{mode: "no-cors"}});
    return r.type;
  }}));
  results.push(await attempt("cors-post", async () => {{
    const r = await fetch(gw + "/v1/chat/completions", {{method: "POST",
      headers: {{"Content-Type": "application/json"}}, body}});
    const answer = await r.json();
    return r.status + ":" + answer.choices[0].message.content;
  }}));
  document.getElementById("out").textContent = "done " + results.join(" ");
}})();
</script></body></html>"#
    )
}

/// Loads the attack page in headless Chromium; returns the page's `#out` text.
fn run_page(chromium: &std::path::Path, dir: &std::path::Path, name: &str, page: &str) -> String {
    let dom = run_chromium(
        chromium,
        dir,
        name,
        &["--virtual-time-budget=15000", "--dump-dom", page],
    );
    let start = dom.find("<pre id=\"out\">").expect("the page's output") + 14;
    let end = start + dom[start..].find("</pre>").unwrap();
    dom[start..end].to_owned()
}

#[test]
fn a_web_page_in_chromium_cannot_use_the_gateway() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (origin, html) = page_server();
    let page = format!("{origin}/page.html");

    let s = sandbox();
    let gw = Gateway::start(&s, &["-v"]);
    *html.lock().unwrap() = attack_page(&gw.base());
    let before = s.router.requests().len();
    let out = run_page(&chromium, dir.path(), "attack", &page);
    assert!(out.starts_with("done "), "{out}");
    assert!(out.contains("cors-post:blocked"), "{out}");
    assert_eq!(
        s.router.requests().len(),
        before,
        "a web page reached the router: {:?}\n{out}",
        s.router.requests()
    );
    // The browser's requests did reach the gateway (its log shows them), and were refused.
    let log = gw.stderr_text();
    assert!(
        log.lines()
            .any(|l| l.contains("path=\"/v1/chat/completions\"") && l.contains("status=403")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("path=\"/\"") && l.contains("status=403")),
        "{log}"
    );
    drop(gw);

    // The control: with the page's origin allowed, its CORS request is answered (the test
    // does see requests that get through) while the simple POST is still refused (415).
    let s = sandbox();
    let gw = Gateway::start(&s, &["-v", "--cors-origin", &origin]);
    *html.lock().unwrap() = attack_page(&gw.base());
    let before = s.router.requests().len();
    let out = run_page(&chromium, dir.path(), "allowed", &page);
    assert!(out.contains("cors-post:200:Hello from R1"), "{out}");
    assert_eq!(s.router.requests().len(), before + 1, "{out}");
    assert_eq!(s.router.chat_models(), [R1]);
    let log = gw.stderr_text();
    assert!(
        log.lines()
            .any(|l| l.contains("path=\"/v1/chat/completions\"") && l.contains("status=415")),
        "{log}"
    );
}

#[test]
fn a_taken_port_fails_the_start_before_anything_is_announced() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let router = s.router.base_url();
    let out = s
        .cmd(&["serve", "--listen", &gw.addr, "--router-url", &router])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {}", gw.addr))
            && stderr.contains("if it is an hfclaw gateway")
            && stderr.contains(&format!("http://{}/healthz", gw.addr)),
        "{stderr}"
    );
    assert!(
        !stderr.contains("serving") && !stderr.contains("recording usage"),
        "{stderr}"
    );
}
