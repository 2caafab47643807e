//! Against the real router; needs `HF_TOKEN` and the internet, so ignored by default:
//! `HF_TOKEN=hf_… cargo test -p hfclaw-router-client --test live -- --ignored`.
#![allow(clippy::unwrap_used)]

use hfclaw_router_client::{
    ChatEvent, ChatRequest, ClientOptions, DEFAULT_BASE_URL, ListResponse, Message, RouterClient,
    Token,
};

#[tokio::test]
#[ignore = "reaches the internet and needs HF_TOKEN"]
async fn lists_models_and_chats_for_real() {
    let token = std::env::var("HF_TOKEN")
        .ok()
        .and_then(Token::new)
        .expect("set HF_TOKEN");
    let mut options = ClientOptions::new(DEFAULT_BASE_URL);
    options.token = Some(token);
    let client = RouterClient::new(options).unwrap();

    let ListResponse::Fresh { body, .. } = client.list_models(None).await.unwrap() else {
        panic!("no list");
    };
    let list = hfclaw_catalog::parse_model_list(&body).unwrap();
    assert!(list.models.len() > 10);

    let mut request = ChatRequest::new(
        "Qwen/Qwen2.5-7B-Instruct",
        vec![Message::user("Say OK and nothing else.")],
    );
    request.max_tokens = Some(8);
    let answer = client.chat(&request).await.unwrap();
    assert!(!answer.content.is_empty());

    let mut stream = client.chat_stream(&request).await.unwrap();
    let mut text = String::new();
    let mut usage = None;
    while let Some(event) = stream.next_event().await {
        match event.unwrap() {
            ChatEvent::Content(t) => text.push_str(&t),
            ChatEvent::Usage(u) => usage = Some(u),
            _ => {}
        }
    }
    assert!(!text.is_empty());
    assert!(usage.is_some_and(|u| u.total_tokens > 0));
}
