//! Load generator for `hfclaw serve`, built in release mode by `cargo xtask bench`.
//!
//! `load-gen PATH/TO/hfclaw` starts an in-process fake router on loopback, runs
//! `hfclaw serve` against it, and prints one JSON object per measurement on stdout, in
//! bench-runner's format `{"name", "value", "unit", "baseline", "baseline_value"}`:
//!
//! - added latency p50 and p99 of each API the gateway serves (chat completions,
//!   Anthropic Messages, OpenAI Responses, and warm embeddings against the provider's own
//!   path: gateway minus calling the fake directly, same client, same requests,
//!   interleaved so noise hits all alike);
//! - throughput of small non-streaming answers through the gateway (baseline: direct),
//!   and the gateway's CPU time per request during that run;
//! - what the usage ledger costs: added latency p50 and throughput of a gateway writing
//!   its SQLite ledger against one started with `--no-ledger`, in the same run;
//! - what a client key from the database with limits costs (issue 22): added latency p50
//!   of requests with a key that has rpm, tpm and daily and monthly budgets (key lookup,
//!   the limit checks, the budget reservation, its row shared with other replicas)
//!   against requests with a file key and no limits, to the same gateway, alternating;
//! - the gateway's RSS with 1,000 streams open at once (baseline: its idle RSS).
//!
//! Everything shares the machine (2 cores in CI): the fake and the client run here, the
//! gateway in its own process, so the numbers are upper bounds of the gateway's cost.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "shared/emit.rs"]
mod emit;
use emit::emit;
#[path = "shared/gateway.rs"]
mod gateway;
use gateway::Gateway;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;
use tokio::sync::watch;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Requests per path for the latency percentiles (after warm-up).
const LATENCY_REQUESTS: usize = 4000;
/// Concurrent clients for the throughput run.
const THROUGHPUT_CLIENTS: usize = 16;
/// Length of each throughput run.
const THROUGHPUT_TIME: Duration = Duration::from_secs(3);
/// Streams held open at once for the memory measurement.
const OPEN_STREAMS: usize = 1000;

const MODEL: &str = "deepseek-ai/DeepSeek-R1";
/// The embedding model the fake Hub maps to `together` as [`EMBED_PROVIDER_ID`].
const EMBED_MODEL: &str = "bench/embed";
const EMBED_PROVIDER_ID: &str = "bench-embed";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(hfclaw) = args.first().map(PathBuf::from) else {
        eprintln!("usage: load-gen PATH/TO/hfclaw");
        return ExitCode::from(2);
    };
    raise_fd_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&hfclaw)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(hfclaw: &Path) -> Result<()> {
    let fake = FakeRouter::start().await?;
    let home = tempfile::tempdir()?;
    let gateway = Gateway::start(hfclaw, home.path(), &fake.base_url(), &[])?;
    let unrecorded = Gateway::start(hfclaw, home.path(), &fake.base_url(), &["--no-ledger"])?;
    let idle_rss = gateway.rss_mib()?;
    let chat_body =
        serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    let messages_body = serde_json::json!({"model": MODEL, "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}]});
    let responses_body = serde_json::json!({"model": MODEL, "input": "hi"});
    let apis = [
        ("chat", "/chat/completions", chat_body),
        ("messages", "/messages", messages_body),
        ("responses", "/responses", responses_body),
    ];
    // (name, direct URL, gateway URL, body): the same body both ways for the router's APIs.
    let mut targets: Vec<(&str, String, String, Bytes)> = apis
        .iter()
        .map(|(name, path, body)| {
            (
                *name,
                format!("{}{path}", fake.base_url()),
                format!("http://{}/v1{path}", gateway.addr),
                Bytes::from(body.to_string()),
            )
        })
        .collect();
    // Embeddings go to the provider's own path, with the provider's model id; the
    // gateway is warm (the mapping cached) after the warm-up requests.
    let embed_direct =
        Bytes::from(serde_json::json!({"input": ["hi"], "model": EMBED_PROVIDER_ID}).to_string());
    let embed_via =
        Bytes::from(serde_json::json!({"model": EMBED_MODEL, "input": ["hi"]}).to_string());
    let embed_gateway = format!("http://{}/v1/embeddings", gateway.addr);

    // Latency: one connection per path, requests one after the other, paths alternating.
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let mut times = vec![(Vec::new(), Vec::new()); targets.len() + 1];
    targets.push((
        "embeddings",
        format!("{}/together/v1/embeddings", fake.root_url()),
        embed_gateway,
        embed_via,
    ));
    for i in 0..LATENCY_REQUESTS + 400 {
        for ((name, direct, via, body), (direct_times, gateway_times)) in
            targets.iter().zip(times.iter_mut())
        {
            let direct_body = if *name == "embeddings" {
                &embed_direct
            } else {
                body
            };
            let d = timed(&client, direct, direct_body).await?;
            let g = timed(&client, via, body).await?;
            if i >= 400 {
                direct_times.push(d);
                gateway_times.push(g);
            }
        }
    }
    // Chat's added latency, then how much the other front doors add on top of it.
    let mut chat_added = (0.0, 0.0);
    for ((name, ..), (direct_times, gateway_times)) in targets.iter().zip(times.iter_mut()) {
        let (d50, d99) = percentiles(direct_times);
        let (g50, g99) = percentiles(gateway_times);
        let added = (g50 - d50, g99 - d99);
        if *name == "chat" {
            chat_added = added;
            emit(
                "gateway added latency p50, chat",
                added.0,
                "ms",
                "fake router direct p50",
                d50,
            );
            emit(
                "gateway added latency p99, chat",
                added.1,
                "ms",
                "fake router direct p99",
                d99,
            );
        } else {
            emit(
                &format!("{name} added latency p50 minus chat's"),
                added.0 - chat_added.0,
                "ms",
                "chat added p50",
                chat_added.0,
            );
            emit(
                &format!("{name} added latency p99 minus chat's"),
                added.1 - chat_added.1,
                "ms",
                "chat added p99",
                chat_added.1,
            );
        }
    }

    // Throughput: small non-streaming chat answers, many clients at once; the gateway's
    // CPU time per request over the same run.
    let (_, direct, via, body) = &targets[0];
    let direct_rate = throughput(direct, body).await?.0;
    let cpu_before = gateway.cpu_seconds()?;
    let (gateway_rate, gateway_requests) = throughput(via, body).await?;
    let cpu = gateway.cpu_seconds()? - cpu_before;
    emit(
        &format!("gateway throughput, {THROUGHPUT_CLIENTS} clients, small answers"),
        gateway_rate,
        "req/s",
        "fake router direct",
        direct_rate,
    );
    emit(
        "gateway CPU per chat request",
        cpu * 1e3 / gateway_requests.max(1) as f64,
        "ms",
        "requests measured",
        gateway_requests as f64,
    );

    // The ledger's cost: the same chat requests through a gateway without one.
    let via_unrecorded = format!("http://{}/v1/chat/completions", unrecorded.addr);
    let (mut with_ledger, mut without) = (Vec::new(), Vec::new());
    for i in 0..LATENCY_REQUESTS + 400 {
        let w = timed(&client, via, body).await?;
        let n = timed(&client, &via_unrecorded, body).await?;
        if i >= 400 {
            with_ledger.push(w);
            without.push(n);
        }
    }
    let (w50, _) = percentiles(&mut with_ledger);
    let (n50, _) = percentiles(&mut without);
    emit(
        "usage ledger added latency p50",
        w50 - n50,
        "ms",
        "--no-ledger gateway p50",
        n50,
    );
    // Side by side, alternating, median of three each: one run against the other taken
    // minutes apart measured the machine's drift as much as the ledger.
    let (mut recorded_rates, mut unrecorded_rates) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        recorded_rates.push(throughput(via, body).await?.0);
        unrecorded_rates.push(throughput(&via_unrecorded, body).await?.0);
    }
    emit(
        "gateway throughput with the usage ledger",
        median(&mut recorded_rates),
        "req/s",
        "--no-ledger gateway",
        median(&mut unrecorded_rates),
    );
    unrecorded.stop()?;

    limited_key_cost(hfclaw, &fake, body).await?;

    // Memory: many streams open at once, each held by the fake after its first event.
    let open_rss = open_streams(&fake, via, &gateway).await?;
    emit(
        &format!("gateway RSS, {OPEN_STREAMS} open streams"),
        open_rss,
        "MiB",
        "idle gateway",
        idle_rss,
    );
    gateway.stop()?;
    Ok(())
}

/// Latency p50 of a client key from the database with every limit (rpm, tpm, budgets
/// per day and month, all far from reached) against a file key with none, requests to
/// one gateway alternating between the two.
async fn limited_key_cost(hfclaw: &Path, fake: &FakeRouter, body: &Bytes) -> Result<()> {
    let home = tempfile::tempdir()?;
    let file_key = "sk-bench-file-key-0001";
    let keys = home.path().join("keys.txt");
    std::fs::write(&keys, format!("filed {file_key}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600))?;
    }
    let created = gateway::command(hfclaw, home.path(), &fake.base_url())
        .args([
            "keys",
            "create",
            "limited",
            "--rpm",
            "100000000",
            "--tpm",
            "100000000000",
        ])
        .args([
            "--budget-usd-per-day",
            "1000000",
            "--budget-usd-per-month",
            "1000000",
        ])
        .output()?;
    if !created.status.success() {
        return Err(format!(
            "hfclaw keys create failed: {}",
            String::from_utf8_lossy(&created.stderr)
        )
        .into());
    }
    let db_key = String::from_utf8(created.stdout)?.trim().to_owned();
    let keys_arg = keys.to_str().ok_or("a non-UTF-8 temp path")?;
    let gateway = Gateway::start(
        hfclaw,
        home.path(),
        &fake.base_url(),
        &["--api-key-file", keys_arg],
    )?;
    let url = format!("http://{}/v1/chat/completions", gateway.addr);
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let (mut limited, mut filed) = (Vec::new(), Vec::new());
    for i in 0..LATENCY_REQUESTS + 400 {
        let l = timed_as(&client, &url, body, Some(&db_key)).await?;
        let f = timed_as(&client, &url, body, Some(file_key)).await?;
        if i >= 400 {
            limited.push(l);
            filed.push(f);
        }
    }
    gateway.stop()?;
    let (l50, _) = percentiles(&mut limited);
    let (f50, _) = percentiles(&mut filed);
    emit(
        "database key with rpm, tpm, budgets: added p50",
        l50 - f50,
        "ms",
        "file key, no limits, p50",
        f50,
    );
    Ok(())
}

/// One request; milliseconds until the whole answer is read.
async fn timed(client: &reqwest::Client, url: &str, body: &Bytes) -> Result<f64> {
    timed_as(client, url, body, None).await
}

/// One request with a client key; milliseconds until the whole answer is read.
async fn timed_as(
    client: &reqwest::Client,
    url: &str,
    body: &Bytes,
    key: Option<&str>,
) -> Result<f64> {
    let started = Instant::now();
    let mut request = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.clone());
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()).into());
    }
    response.bytes().await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// Completed requests per second with [`THROUGHPUT_CLIENTS`] clients for
/// [`THROUGHPUT_TIME`] (after a short warm-up), and every request the run made.
async fn throughput(url: &str, body: &Bytes) -> Result<(f64, u64)> {
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let done = Arc::new(AtomicU64::new(0));
    let all = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deadline = Instant::now() + THROUGHPUT_TIME + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for _ in 0..THROUGHPUT_CLIENTS {
        let (client, url, body) = (client.clone(), url.to_owned(), body.clone());
        let (done, all, measuring) = (done.clone(), all.clone(), measuring.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                timed(&client, &url, &body).await?;
                all.fetch_add(1, Ordering::Relaxed);
                if measuring.load(Ordering::Relaxed) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(THROUGHPUT_TIME).await;
    let count = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for task in tasks {
        task.await??;
    }
    Ok((count as f64 / elapsed, all.load(Ordering::Relaxed)))
}

/// Opens [`OPEN_STREAMS`] streams through the gateway, waits until each has its first
/// event, reads the gateway's RSS, then lets them all finish.
async fn open_streams(fake: &FakeRouter, url: &str, gateway: &Gateway) -> Result<f64> {
    let body = Bytes::from(
        serde_json::json!({"model": MODEL, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]})
        .to_string(),
    );
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel::<()>(OPEN_STREAMS);
    let mut tasks = Vec::new();
    for _ in 0..OPEN_STREAMS {
        let (client, url, body, started) = (
            client.clone(),
            url.to_owned(),
            body.clone(),
            started_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(&url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(format!("stream answered {}", response.status()).into());
            }
            let mut stream = response.bytes_stream();
            let mut first = true;
            let mut text = Vec::new();
            while let Some(chunk) = stream.next().await {
                text.extend_from_slice(&chunk?);
                if first {
                    first = false;
                    let _ = started.send(()).await;
                }
            }
            if !text.ends_with(b"data: [DONE]\n\n") {
                return Err("a stream ended early".into());
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    drop(started_tx);
    let wait = tokio::time::timeout(Duration::from_secs(60), async {
        for _ in 0..OPEN_STREAMS {
            if started_rx.recv().await.is_none() {
                break;
            }
        }
    });
    let all_open = wait.await.is_ok();
    let rss = gateway.rss_mib()?;
    fake.release_streams();
    for task in tasks {
        task.await??;
    }
    if !all_open {
        return Err(format!("{OPEN_STREAMS} streams did not all open within 60 s").into());
    }
    Ok(rss)
}

/// The fake router: a fixed small answer, or a stream held open after its first event
/// until [`FakeRouter::release_streams`].
struct FakeRouter {
    addr: SocketAddr,
    release: watch::Sender<bool>,
}

const MESSAGES_ANSWER: &str = r#"{"id":"msg_bench","type":"message","role":"assistant","model":"deepseek-ai/DeepSeek-R1","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9}}"#;
const RESPONSES_ANSWER: &str = r#"{"id":"resp_bench","object":"response","created_at":1,"status":"completed","model":"deepseek-ai/DeepSeek-R1","output":[{"type":"message","id":"msg_bench","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello! How can I help you today?","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14}}"#;
const ANSWER: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"deepseek-ai/DeepSeek-R1","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}"#;
const EMBED_MAPPING: &str = r#"{"id":"bench/embed","inferenceProviderMapping":{"together":{"status":"live","providerId":"bench-embed","task":"feature-extraction"}}}"#;

/// One 384-float vector in OpenAI's shape, as a provider prints f32s.
fn embed_answer() -> String {
    let floats: Vec<String> = (0..384)
        .map(|i| format!("{:.17}", (i as f64 * 0.37).sin() * 0.1))
        .collect();
    format!(
        r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":[{}]}}],"model":"bench-embed","usage":{{"prompt_tokens":1,"total_tokens":1}}}}"#,
        floats.join(",")
    )
}

const FIRST_EVENT: &str = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-ai/DeepSeek-R1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n";
const LAST_EVENTS: &str = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-ai/DeepSeek-R1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

impl FakeRouter {
    async fn start() -> Result<FakeRouter> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (release, released) = watch::channel(false);
        let app = Router::new()
            .route(
                "/v1/models",
                get(|| async { json(Bytes::from_static(br#"{"object":"list","data":[]}"#)) }),
            )
            .route(
                "/v1/chat/completions",
                post(move |body: Bytes| {
                    let released = released.clone();
                    async move { chat(&body, released) }
                }),
            )
            .route(
                "/v1/messages",
                post(|| async { json(Bytes::from_static(MESSAGES_ANSWER.as_bytes())) }),
            )
            .route(
                "/v1/responses",
                post(|| async { json(Bytes::from_static(RESPONSES_ANSWER.as_bytes())) }),
            )
            .route(
                "/api/models/{*id}",
                get(|| async { json(Bytes::from_static(EMBED_MAPPING.as_bytes())) }),
            )
            .route(
                "/together/v1/embeddings",
                post(|| async { json(Bytes::from(embed_answer())) }),
            );
        tokio::spawn(async move {
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeRouter { addr, release })
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The router's root (providers' paths) and the Hub.
    fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn release_streams(&self) {
        let _ = self.release.send(true);
    }
}

fn json(body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn chat(body: &[u8], mut released: watch::Receiver<bool>) -> Response {
    let streaming = body.windows(13).any(|w| w == b"\"stream\":true");
    if !streaming {
        return json(Bytes::from_static(ANSWER.as_bytes()));
    }
    let first = futures_util::stream::once(async {
        Ok::<_, std::convert::Infallible>(Bytes::from_static(FIRST_EVENT.as_bytes()))
    });
    let rest = futures_util::stream::once(async move {
        let _ = released.wait_for(|r| *r).await;
        Ok::<_, std::convert::Infallible>(Bytes::from_static(LAST_EVENTS.as_bytes()))
    });
    let mut response = Response::new(Body::from_stream(first.chain(rest)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// 1,000 streams need about 3,000 descriptors here and in the gateway (which inherits
/// the limit): raise the soft limit to the hard one.
fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// The median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
