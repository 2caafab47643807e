//! The HTTP client against a loopback fake router (wiremock): discovery, chat, streaming,
//! raw passthrough, whoami, error classification and secrecy.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;
use hfclaw_router_client::{
    ChatEvent, ChatRequest, ClientOptions, ErrorKind, ListResponse, Message, RouterClient, Token,
    Usage,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "hf_testtokentesttoken1234";
const FIXTURE: &[u8] = include_bytes!("fixtures/router-models-synthetic.json");
const FIXTURE_GZ: &[u8] = include_bytes!("fixtures/router-models-synthetic.json.gz");

fn client(server: &MockServer, token: Option<&str>) -> RouterClient {
    client_with(server, token, |_| {})
}

fn client_with(
    server: &MockServer,
    token: Option<&str>,
    tweak: impl FnOnce(&mut ClientOptions),
) -> RouterClient {
    let mut options = ClientOptions::new(format!("{}/v1/", server.uri()));
    options.token = token.and_then(Token::new);
    tweak(&mut options);
    RouterClient::new(options).unwrap()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn list_models_sends_bearer_when_a_token_exists() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(FIXTURE, "application/json")
                .insert_header("etag", "W/\"v1\""),
        )
        .mount(&server)
        .await;

    let got = client(&server, Some(TOKEN))
        .list_models(None)
        .await
        .unwrap();
    assert_eq!(
        got,
        ListResponse::Fresh {
            body: FIXTURE.to_vec().into(),
            etag: Some("W/\"v1\"".to_owned())
        }
    );
    let got = client(&server, None).list_models(None).await.unwrap();
    assert!(matches!(got, ListResponse::Fresh { .. }));

    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(
        header_of(&seen[0], "authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(header_of(&seen[1], "authorization"), None);
    assert_eq!(header_of(&seen[0], "if-none-match"), None);
    assert!(
        header_of(&seen[0], "accept-encoding")
            .unwrap()
            .contains("gzip")
    );
    assert!(
        header_of(&seen[0], "user-agent")
            .unwrap()
            .starts_with("hfclaw-router-client/")
    );
}

#[tokio::test]
async fn list_models_if_none_match_gives_not_modified() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("if-none-match", "\"abc\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    let got = client(&server, None)
        .list_models(Some("\"abc\""))
        .await
        .unwrap();
    assert_eq!(got, ListResponse::NotModified);
}

#[tokio::test]
async fn list_models_decompresses_gzip() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(FIXTURE_GZ, "application/json"),
        )
        .mount(&server)
        .await;
    let ListResponse::Fresh { body, .. } = client(&server, None).list_models(None).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(&body[..], FIXTURE);
    let parsed = hfclaw_catalog::parse_model_list(&body).unwrap();
    assert!(
        parsed
            .models
            .iter()
            .any(|m| m.id == "deepseek-ai/DeepSeek-R1")
    );
}

#[tokio::test]
async fn list_models_errors_are_classified_and_never_show_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": format!("Invalid credentials: token {TOKEN} is expired")}),
        ))
        .mount(&server)
        .await;
    let err = client(&server, Some(TOKEN))
        .list_models(None)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Auth, Some(401)));
    let shown = format!("{err} {err:?} {}", err.hint());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("hf_…1234"), "{shown}");
}

#[tokio::test]
async fn oversized_list_is_a_bad_response() {
    let server = MockServer::start().await;
    let huge = vec![b' '; hfclaw_router_client::client::MAX_LIST_BYTES + 1];
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
        .mount(&server)
        .await;
    let err = client(&server, None).list_models(None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadResponse);
    assert!(err.message.contains("larger than 32 MiB"), "{err}");
}

#[tokio::test]
async fn network_and_timeout_failures() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let closed =
        RouterClient::new(ClientOptions::new(format!("http://127.0.0.1:{port}/v1"))).unwrap();
    let err = closed.list_models(None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network, "{err}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = client_with(&server, None, |o| {
        o.request_timeout = Duration::from_millis(200)
    });
    let err = slow.list_models(None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
}

fn request() -> ChatRequest {
    let mut req = ChatRequest::new(
        "deepseek-ai/DeepSeek-R1:cheapest",
        vec![Message::system("Be brief."), Message::user("Hi")],
    );
    req.max_tokens = Some(32);
    req.extra.insert("top_p".into(), json!(0.5));
    req
}

#[tokio::test]
async fn chat_non_streaming_sends_body_and_extra_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("x-hf-bill-to", "my-org"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).insert_header("x-inference-provider", "cerebras").set_body_json(json!({
            "id": "c1", "model": "deepseek-ai/DeepSeek-R1",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Hello!", "reasoning_content": "greet"}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
        })))
        .mount(&server)
        .await;
    let c = client_with(&server, Some(TOKEN), |o| {
        o.extra_headers = vec![("X-HF-Bill-To".into(), "my-org".into())];
    });
    let answer = c.chat(&request()).await.unwrap();
    assert_eq!(answer.content, "Hello!");
    assert_eq!(answer.reasoning.as_deref(), Some("greet"));
    assert_eq!(answer.usage.unwrap().total_tokens, 12);
    assert_eq!(answer.provider.as_deref(), Some("cerebras"));

    let seen = requests(&server).await;
    let body: Value = seen[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({"model": "deepseek-ai/DeepSeek-R1:cheapest",
               "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
               "max_tokens": 32, "top_p": 0.5, "stream": false})
    );
    assert_eq!(
        header_of(&seen[0], "content-type"),
        Some("application/json")
    );
}

#[tokio::test]
async fn chat_errors_carry_status_code_model_and_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "x/unsupported"})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "The requested model 'x/unsupported' is not supported by any provider you have enabled.",
            "type": "invalid_request_error", "code": "model_not_supported"}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "x/busy"})))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "x/broken"})))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let c = client(&server, Some(TOKEN));

    let err = c
        .chat(&request().with_model("x/unsupported"))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::NotFound, Some(400)));
    assert_eq!(err.code.as_deref(), Some("model_not_supported"));
    assert_eq!(err.model.as_deref(), Some("x/unsupported"));

    let err = c
        .chat_stream(&request().with_model("x/busy"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(3)));
    assert_eq!(err.message, "Too many requests");

    let err = c.chat(&request().with_model("x/broken")).await.unwrap_err();
    assert_eq!(
        (err.kind, err.message.as_str()),
        (ErrorKind::Upstream, "<html>Bad Gateway</html>")
    );
}

const SSE_OK: &str = concat!(
    ": OPENROUTER PROCESSING\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Thinking\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\" hard\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":6,\"total_tokens\":10}}\n\n",
    "data: [DONE]\n\n",
);

async fn collect(
    stream: &mut hfclaw_router_client::ChatStream,
) -> Vec<Result<ChatEvent, hfclaw_router_client::RouterError>> {
    let mut out = Vec::new();
    while let Some(event) = stream.next_event().await {
        out.push(event);
    }
    out
}

#[tokio::test]
async fn chat_stream_surfaces_reasoning_content_usage_and_done() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("accept", "text/event-stream"))
        .and(header("x-hf-bill-to", "acme"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-inference-provider", "together")
                .set_body_raw(SSE_OK, "text/event-stream"),
        )
        .mount(&server)
        .await;
    let c = client_with(&server, Some(TOKEN), |o| {
        o.extra_headers = vec![("X-HF-Bill-To".into(), "acme".into())];
    });
    let mut stream = c.chat_stream(&request()).await.unwrap();
    assert!(!stream.emitted_content());
    assert_eq!(stream.provider(), Some("together"));
    let events: Vec<ChatEvent> = collect(&mut stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            ChatEvent::Reasoning("Thinking".into()),
            ChatEvent::Reasoning(" hard".into()),
            ChatEvent::Content("Hel".into()),
            ChatEvent::Content("lo".into()),
            ChatEvent::Finish("stop".into()),
            ChatEvent::Usage(Usage {
                prompt_tokens: 4,
                completion_tokens: 6,
                total_tokens: 10
            }),
            ChatEvent::Done,
        ]
    );
    assert!(stream.emitted_content());
    let body: Value = requests(&server).await[0].body_json().unwrap();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["model"], json!("deepseek-ai/DeepSeek-R1:cheapest"));
}

#[tokio::test]
async fn error_event_mid_stream_ends_the_stream_with_an_error() {
    let server = MockServer::start().await;
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Partial\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"Provider overloaded\",\"type\":\"server_error\",\"code\":503}}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"never seen\"}}]}\n\n",
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let mut stream = client(&server, None).chat_stream(&request()).await.unwrap();
    assert_eq!(stream.provider(), None, "no header, no provider");
    let events = collect(&mut stream).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], Ok(ChatEvent::Content("Partial".into())));
    let err = events[1].clone().unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Upstream, Some(503)));
    assert_eq!(err.message, "Provider overloaded");
    assert_eq!(
        err.model.as_deref(),
        Some("deepseek-ai/DeepSeek-R1:cheapest")
    );
    assert!(stream.emitted_content());
    assert!(stream.next_event().await.is_none());
}

#[tokio::test]
async fn truncated_stream_is_an_error_but_finish_without_done_is_fine() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "cut/off"})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hal\"}}]}\n\n",
            "text/event-stream",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "no/done"})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}",
            "text/event-stream",
        ))
        .mount(&server)
        .await;
    let c = client(&server, None);
    let events = collect(
        &mut c
            .chat_stream(&request().with_model("cut/off"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(events[0], Ok(ChatEvent::Content("Hal".into())));
    assert_eq!(events[1].clone().unwrap_err().kind, ErrorKind::BadResponse);
    let events = collect(
        &mut c
            .chat_stream(&request().with_model("no/done"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        events,
        [
            Ok(ChatEvent::Content("ok".into())),
            Ok(ChatEvent::Finish("stop".into())),
            Ok(ChatEvent::Done)
        ]
    );
}

#[tokio::test]
async fn json_answer_to_a_stream_request_is_replayed_as_events() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-inference-provider", " novita ")
                .set_body_json(json!({
                    "choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}]
                })),
        )
        .mount(&server)
        .await;
    let mut stream = client(&server, None).chat_stream(&request()).await.unwrap();
    assert_eq!(
        stream.provider(),
        Some("novita"),
        "the provider of a replayed JSON answer too"
    );
    let events = collect(&mut stream).await;
    assert_eq!(
        events,
        [
            Ok(ChatEvent::Content("whole".into())),
            Ok(ChatEvent::Finish("stop".into())),
            Ok(ChatEvent::Done)
        ]
    );
}

#[tokio::test]
async fn raw_passthrough_forwards_bytes_and_classifies_failures() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "ok/model"})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "r1")
                .set_body_raw(SSE_OK, "text/event-stream"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"model": "gated/model"})))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": "Access to model gated/model is restricted"})),
        )
        .mount(&server)
        .await;
    let c = client(&server, Some(TOKEN));
    let body = json!({"model": "ok/model", "messages": [], "stream": true, "tools": [{"type": "function"}]});
    let raw = c.send_chat_raw(&body).await.unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(raw.headers.get("x-request-id").unwrap(), "r1");
    let mut bytes = Vec::new();
    let mut stream = Box::pin(raw.bytes_stream());
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, SSE_OK.as_bytes());
    let sent: Value = requests(&server).await[0].body_json().unwrap();
    assert_eq!(sent, body, "the raw body is sent as is");

    let err = c
        .send_chat_raw(&json!({"model": "gated/model", "messages": []}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.model.as_deref()),
        (ErrorKind::Forbidden, Some("gated/model"))
    );
    assert!(err.hint().contains("https://huggingface.co/gated/model"));
}

#[tokio::test]
async fn whoami_checks_the_token_at_the_hub() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/whoami-v2"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "user", "name": "alice",
            "auth": {"type": "access_token", "accessToken": {"displayName": "cli", "role": "fineGrained",
                "fineGrained": {"global": ["inference.serverless.write"], "scoped": []}}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/whoami-v2"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Invalid credentials in Authorization header"})),
        )
        .mount(&server)
        .await;
    let c = client_with(&server, Some(TOKEN), |o| {
        o.extra_headers = vec![("X-HF-Bill-To".into(), "acme".into())];
    });
    let me = c.whoami(&server.uri()).await.unwrap();
    assert_eq!(me.name, "alice");
    assert_eq!(me.token_kind.as_deref(), Some("fineGrained"));
    assert_eq!(me.fine_grained_scopes_ok, Some(true));
    assert_eq!(header_of(&requests(&server).await[0], "x-hf-bill-to"), None);

    let wrong = client(&server, Some("hf_wrongwrongwrong0000"));
    assert_eq!(
        wrong.whoami(&server.uri()).await.unwrap_err().kind,
        ErrorKind::Auth
    );
    let none = client(&server, None);
    assert_eq!(
        none.whoami(&server.uri()).await.unwrap_err().kind,
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn explicit_authorization_header_replaces_the_token_for_router_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let c = client_with(&server, Some(TOKEN), |o| {
        o.extra_headers = vec![("Authorization".into(), "Bearer other".into())];
    });
    c.list_models(None).await.unwrap();
    let seen = requests(&server).await;
    let values: Vec<_> = seen[0].headers.get_all("authorization").iter().collect();
    assert_eq!(values, ["Bearer other"]);
}
