//! `hfclaw serve` under abuse, end to end over raw TCP: connections that never finish a
//! request header are closed, idle keep-alive connections too, an oversized body is
//! refused as soon as it passes the cap, and normal requests are served meanwhile.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Sandbox;
use common::gateway::Gateway;
use hfclaw_e2e::Reply;

const CONFIG: &str =
    r#"{ agents: { defaults: { model: { primary: "huggingface/Qwen/Qwen3-8B" } } } }"#;

fn start(args: &[&str]) -> (Sandbox, Gateway) {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.router
        .chat("Qwen/Qwen3-8B", [Reply::chat_json("Qwen/Qwen3-8B", "ok")]);
    let gw = Gateway::start(&s, args);
    (s, gw)
}

/// Reads until the server closes the connection (or `limit` passes); returns what came
/// and how long it took.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

fn chat_request(keep_alive: bool) -> String {
    let body = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: {}\r\n\r\n{body}",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    )
}

#[test]
fn stalled_connections_are_closed_after_the_header_timeout() {
    let (_s, gw) = start(&["--header-timeout", "1"]);
    // Idle from the start, half a header, and idle after a complete keep-alive request.
    let mut idle = TcpStream::connect(&gw.addr).unwrap();
    let mut half = TcpStream::connect(&gw.addr).unwrap();
    half.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let mut kept = TcpStream::connect(&gw.addr).unwrap();
    kept.write_all(chat_request(true).as_bytes()).unwrap();
    for (name, stream) in [
        ("idle", &mut idle),
        ("half", &mut half),
        ("kept", &mut kept),
    ] {
        let (text, took) = read_until_closed(stream, Duration::from_secs(10));
        assert!(took < Duration::from_secs(5), "{name} stayed open {took:?}");
        if name == "kept" {
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        }
    }
}

#[test]
fn normal_requests_are_served_during_a_slowloris_attack() {
    let (_s, gw) = start(&["--header-timeout", "2"]);
    let mut attackers: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut stream = TcpStream::connect(&gw.addr).unwrap();
            let _ = stream.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nX-a: ");
            stream
        })
        .collect();
    for _ in 0..5 {
        let mut client = TcpStream::connect(&gw.addr).unwrap();
        client.write_all(chat_request(false).as_bytes()).unwrap();
        let (text, took) = read_until_closed(&mut client, Duration::from_secs(5));
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        // The attackers trickle a byte now and then.
        for a in &mut attackers {
            let _ = a.write_all(b"x");
        }
    }
    std::thread::sleep(Duration::from_millis(2500));
    let closed = attackers
        .iter_mut()
        .filter(|a: &&mut TcpStream| {
            let mut a: &TcpStream = a;
            a.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            match a.read(&mut [0u8; 64]) {
                Ok(0) => true,
                Err(e) => !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                Ok(_) => false,
            }
        })
        .count();
    assert!(
        closed > 250,
        "only {closed} of 300 stalled connections were closed"
    );
}

#[test]
fn an_oversized_chunked_body_is_refused_once_it_passes_the_cap() {
    let (s, gw) = start(&["--max-body", "1"]);
    let mut stream = TcpStream::connect(&gw.addr).unwrap();
    stream
        .write_all(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
    // Just past the 1 MiB cap, then the client stalls mid-body: the answer must not wait
    // for the rest.
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..17 {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        stream.write_all(&chunk).unwrap();
        stream.write_all(b"\r\n").unwrap();
    }
    let (text, took) = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("request_too_large"), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A declared Content-Length over the cap is refused before the body is read.
    let mut stream = TcpStream::connect(&gw.addr).unwrap();
    stream
        .write_all(
            b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 99999999\r\n\r\n{",
        )
        .unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(5));
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(r#""type":"request_too_large""#), "{text}");
    assert!(s.router.chat_models().is_empty());
}
