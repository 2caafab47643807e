//! A running `hfclaw serve` for end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;

use super::{Sandbox, TOKEN};

/// A running `hfclaw serve`; killed on drop if still running.
pub struct Gateway {
    pub child: Child,
    pub addr: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    /// Starts `hfclaw serve --listen 127.0.0.1:0 ARGS` and waits for its address.
    pub fn start(sandbox: &Sandbox, args: &[&str]) -> Gateway {
        let router_url = sandbox.router.base_url();
        Gateway::launch(sandbox, "127.0.0.1:0", &router_url, args, Sandbox::cmd)
    }

    /// `hfclaw serve --listen LISTEN --router-url ROUTER_URL ARGS`.
    pub fn start_at(sandbox: &Sandbox, listen: &str, router_url: &str, args: &[&str]) -> Gateway {
        Gateway::launch(sandbox, listen, router_url, args, Sandbox::cmd)
    }

    /// [`Gateway::start`] without the test token in the environment.
    pub fn start_without_token(sandbox: &Sandbox, args: &[&str]) -> Gateway {
        let router_url = sandbox.router.base_url();
        Gateway::launch(
            sandbox,
            "127.0.0.1:0",
            &router_url,
            args,
            Sandbox::cmd_without_token,
        )
    }

    fn launch(
        sandbox: &Sandbox,
        listen: &str,
        router_url: &str,
        args: &[&str],
        command: fn(&Sandbox, &[&str]) -> std::process::Command,
    ) -> Gateway {
        let mut all = vec!["serve", "--listen", listen, "--router-url", router_url];
        all.extend_from_slice(args);
        let mut child = command(sandbox, &all)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hfclaw serve");
        let stderr = child.stderr.take().expect("stderr");
        let text = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = text.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("hfclaw serve did not start:\n{}", text.lock().unwrap());
            }
        };
        Gateway {
            child,
            addr,
            stderr: text,
            reader: Some(reader),
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn v1(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn openai(&self, key: &str) -> Client<OpenAIConfig> {
        Client::with_config(
            OpenAIConfig::new()
                .with_api_base(self.v1())
                .with_api_key(key),
        )
    }

    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits (at most `limit`) for the process to exit; returns its status and stderr.
    pub fn wait(mut self, limit: Duration) -> (ExitStatus, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < limit,
                "hfclaw serve did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr_text())
    }

    pub fn stderr_text(&self) -> String {
        let text = self.stderr.lock().unwrap().clone();
        assert!(
            !text.contains(TOKEN),
            "the token leaked into the log:\n{text}"
        );
        text
    }
}

/// A gateway's answer as reqwest saw it.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// A header's value (`""` when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Gateway {
    /// POSTs `body` to `path` (e.g. `/v1/messages`) with `headers`; panics if the token
    /// reached the client.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base()))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let answer = Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        };
        assert!(
            !answer.text.contains(TOKEN),
            "the token leaked to a client: {}",
            answer.text
        );
        answer
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
