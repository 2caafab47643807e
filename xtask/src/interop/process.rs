//! Running one tool under test: output into files, a deadline, and its whole process group.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::Result;

/// What a finished run printed.
pub(super) struct Captured {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
    pub(super) elapsed: Duration,
}

/// Runs `cmd` (stdin closed) in its own process group with stdout and stderr going to
/// `{name}.stdout` / `{name}.stderr` in `dir` — files, not pipes, so a chatty child
/// cannot fill a pipe and stall. After `timeout` the whole group is killed and the run is
/// an error; after a normal exit, helpers the tool left behind are killed too.
pub(super) fn run_captured(
    cmd: &mut Command,
    dir: &Path,
    name: &str,
    timeout: Duration,
) -> Result<Captured> {
    let stdout_path = dir.join(format!("{name}.stdout"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    cmd.stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path)?)
        .stderr(fs::File::create(&stderr_path)?)
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let status = wait_or_kill(&mut child, timeout);
    kill_group(&child);
    let read = |path: &Path| fs::read_to_string(path).unwrap_or_default();
    let Some(status) = status? else {
        return Err(format!(
            "{name} did not finish within {timeout:?}; its stderr ended with:\n{}",
            tail(&read(&stderr_path), 12)
        )
        .into());
    };
    Ok(Captured {
        code: status.code(),
        stdout: read(&stdout_path),
        stderr: read(&stderr_path),
        elapsed: started.elapsed(),
    })
}

/// Waits for `child` at most `timeout`; `None` (after killing it) when it took longer.
pub(super) fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills what is left of the process group `child` leads (none: nothing happens).
fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// The last `lines` non-empty lines of `text`, indented, for failure messages.
pub(super) fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = kept.len().saturating_sub(lines);
    kept[start..]
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
