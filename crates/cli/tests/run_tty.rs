//! `hfclaw run` in a terminal: Ctrl-C goes from the terminal to its whole foreground
//! process group, hfclaw and the agent alike, so hfclaw must not pass it on a second time
//! (Claude Code reads a second Ctrl-C as "exit"). The agent here counts the SIGINTs it
//! gets.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Sandbox;

/// Says `ready`, counts SIGINTs for a second, prints the count and exits 5.
const COUNTING_AGENT: &str = r#"#!/bin/sh
n=0
trap 'n=$((n+1))' INT
echo ready
i=0
while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done
echo "SIGINTs: $n"
exit 5
"#;

#[test]
fn the_terminals_ctrl_c_reaches_the_agent_once() {
    let s = Sandbox::new();
    let bin = s.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let agent = bin.join("claude");
    std::fs::write(&agent, COUNTING_AGENT).unwrap();
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A service whose address nothing listens on: hfclaw starts a gateway of its own.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let units = s.home().join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(
        units.join("hfclaw.service"),
        format!("[Service]\nExecStart=/usr/local/bin/hfclaw serve --listen {addr}\n"),
    )
    .unwrap();
    let mut cmd = s.cmd(&["--offline", "run", "--no-ledger", "claude"]);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HF_TOKEN", "hf_ttyRunToken0123456789abcdWXYZ")
        .env("TERM", "xterm-256color");
    let mut session = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    session.exp_string("ready").unwrap();
    session.send_control('c').unwrap();
    session.exp_string("SIGINTs: 1").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("hfclaw: no requests"), "{rest}");
    match session.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => assert_eq!(code, 5),
        other => panic!("hfclaw run ended with {other:?}"),
    }
}
