//! `env.shellEnv`: the token from the user's login shell, imported the way OpenClaw does.
//!
//! A daemon (systemd, launchd) does not inherit what a user exports in their shell profile.
//! With `env.shellEnv.enabled`, OpenClaw runs the login shell once and imports the
//! variables it is missing; [`read_token`] does the same for the token variables of SPEC §4
//! ([`TOKEN_ENV_VARS`]):
//!
//! - the shell is `$SHELL` when it is an absolute path listed in `/etc/shells`
//!   ([`login_shell_program`]), else `/bin/sh`;
//! - it runs as `SHELL -l -c "printf '\0'; env -0"` (`-lic` for bash: login and
//!   interactive, like the shell the user opens), stdin closed, stderr discarded, in a
//!   session of its own: no controlling terminal (an interactive bash started in the
//!   background of a terminal would stop on it) and one process group to kill;
//! - whatever the profile prints before the first NUL is ignored, the NUL-separated
//!   environment after it is parsed;
//! - a shell that outlives the timeout or prints more than the cap is killed with its
//!   process group and reaped; one that fails or prints no environment is an error the
//!   caller reports as a warning.
//!
//! The token variables are removed from the shell's own environment, so the answer is
//! what the profile sets (what a daemon would get), never an echo of this process. Neither
//! the shell's output nor a value from it ever reaches an error, a log or a panic.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use secrecy::zeroize::Zeroize;

use crate::token::{TOKEN_ENV_VARS, Token};

/// `env.shellEnv.timeoutMs` when the config does not set it (OpenClaw's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(15_000);

/// The most output read from the shell; a profile that floods stdout is cut off.
pub const MAX_OUTPUT: usize = 2 * 1024 * 1024;

/// The system's list of valid login shells.
pub const SHELLS_FILE: &str = "/etc/shells";

/// The shell used when `$SHELL` is unset, relative or not a listed login shell.
pub const FALLBACK_SHELL: &str = "/bin/sh";

/// The command the shell runs: a NUL marker (so profile noise before it is skipped), then
/// the environment, NUL-separated (values may hold newlines).
const SCRIPT: &str = "printf '\\0'; env -0";

/// How often the child is polled while its output is awaited (output itself wakes the
/// loop at once).
const POLL: Duration = Duration::from_millis(10);

/// How often the child is polled once its output ended: it is about to exit.
const POLL_AFTER_EOF: Duration = Duration::from_millis(1);

/// How long output is still awaited after the shell exited: a background job of the
/// profile may hold the pipe open, and its output is not the environment.
const AFTER_EXIT: Duration = Duration::from_millis(200);

/// How to run the login shell; every input injectable so tests never use the user's shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginShell {
    /// `$SHELL`; used when absolute and listed in `shells_file`.
    pub shell_var: Option<PathBuf>,
    /// The list of login shells ([`SHELLS_FILE`] in production).
    pub shells_file: PathBuf,
    /// How long the shell may take ([`DEFAULT_TIMEOUT`] unless `env.shellEnv.timeoutMs`).
    pub timeout: Duration,
    /// The most output read ([`MAX_OUTPUT`]).
    pub max_output: usize,
}

impl LoginShell {
    /// The production settings for `$SHELL` = `shell_var`, with `timeout`.
    pub fn new(shell_var: Option<PathBuf>, timeout: Duration) -> LoginShell {
        LoginShell {
            shell_var,
            shells_file: PathBuf::from(SHELLS_FILE),
            timeout,
            max_output: MAX_OUTPUT,
        }
    }

    /// The shell that will run (see [`login_shell_program`]).
    pub fn program(&self) -> PathBuf {
        login_shell_program(self.shell_var.as_deref(), &self.shells_file)
    }
}

/// What the login shell's environment held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellImport {
    /// The shell that ran.
    pub shell: PathBuf,
    /// The first token variable it set (in [`TOKEN_ENV_VARS`] order), and its name.
    pub token: Option<(Token, &'static str)>,
}

/// The login shell did not yield an environment. Never holds anything the shell printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShellEnvError {
    /// The shell could not be started.
    #[error("cannot start the login shell {}: {source}", shell.display())]
    Spawn {
        /// The shell.
        shell: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The shell was still running when the timeout passed; it was killed.
    #[error(
        "the login shell {} did not finish within {} ms (env.shellEnv.timeoutMs); it was stopped",
        shell.display(),
        timeout.as_millis()
    )]
    Timeout {
        /// The shell.
        shell: PathBuf,
        /// The timeout that passed.
        timeout: Duration,
    },
    /// The shell printed more than the cap; it was killed.
    #[error("the login shell {} printed more than {limit} bytes; it was stopped", shell.display())]
    TooMuchOutput {
        /// The shell.
        shell: PathBuf,
        /// The cap.
        limit: usize,
    },
    /// The shell exited unsuccessfully (a profile that fails or exits early).
    #[error("the login shell {} failed ({status})", shell.display())]
    Failed {
        /// The shell.
        shell: PathBuf,
        /// Its exit status.
        status: ExitStatus,
    },
    /// The shell succeeded but printed no NUL-separated environment.
    #[error("the login shell {} printed no environment (no NUL marker in its output)", shell.display())]
    NoEnvironment {
        /// The shell.
        shell: PathBuf,
    },
    /// Reading or waiting for the shell failed.
    #[error("reading the login shell {}: {source}", shell.display())]
    Io {
        /// The shell.
        shell: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// This platform has no login shell to ask.
    #[error("env.shellEnv is not supported on this platform")]
    Unsupported,
}

/// `$SHELL` when it is an absolute path listed in `shells_file` (comments and blank lines
/// ignored; an unreadable file lists nothing), else [`FALLBACK_SHELL`].
pub fn login_shell_program(shell_var: Option<&Path>, shells_file: &Path) -> PathBuf {
    let listed = |shell: &Path| {
        std::fs::read_to_string(shells_file).is_ok_and(|text| {
            text.lines()
                .map(str::trim)
                .any(|line| !line.starts_with('#') && Path::new(line) == shell)
        })
    };
    match shell_var {
        Some(shell) if shell.is_absolute() && listed(shell) => shell.to_path_buf(),
        _ => PathBuf::from(FALLBACK_SHELL),
    }
}

/// The arguments for `shell`: `-l -c SCRIPT`, or `-lic SCRIPT` for bash.
pub fn login_shell_args(shell: &Path) -> &'static [&'static str] {
    if shell.file_name().is_some_and(|name| name == "bash") {
        &["-lic", SCRIPT]
    } else {
        &["-l", "-c", SCRIPT]
    }
}

/// Runs the login shell and takes the token variables from its environment.
pub fn read_token(options: &LoginShell) -> Result<ShellImport, ShellEnvError> {
    let shell = options.program();
    let mut output = run(&shell, options)?;
    let token = token_from_output(&output);
    output.zeroize();
    match token {
        Some(token) => Ok(ShellImport { shell, token }),
        None => Err(ShellEnvError::NoEnvironment { shell }),
    }
}

/// The first token variable of the environment after the first NUL; `None` when the
/// output has no NUL at all. Entries that are not `NAME=value` or not UTF-8 are skipped.
fn token_from_output(output: &[u8]) -> Option<Option<(Token, &'static str)>> {
    let start = output.iter().position(|&b| b == 0)? + 1;
    let mut found: [Option<Token>; TOKEN_ENV_VARS.len()] = Default::default();
    for entry in output[start..].split(|&b| b == 0) {
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (&entry[..eq], &entry[eq + 1..]);
        if let Some(i) = TOKEN_ENV_VARS.iter().position(|v| v.as_bytes() == name)
            && found[i].is_none()
            && let Ok(value) = std::str::from_utf8(value)
        {
            found[i] = Token::new(value);
        }
    }
    let first = found
        .into_iter()
        .zip(TOKEN_ENV_VARS)
        .find_map(|(token, name)| Some((token?, name)));
    Some(first)
}

#[cfg(not(unix))]
fn run(_shell: &Path, _options: &LoginShell) -> Result<Vec<u8>, ShellEnvError> {
    Err(ShellEnvError::Unsupported)
}

/// Runs `shell` and returns its stdout; kills and reaps it on timeout or overflow.
#[cfg(unix)]
fn run(shell: &Path, options: &LoginShell) -> Result<Vec<u8>, ShellEnvError> {
    use process_wrap::std::{ChildWrapper, CommandWrap, ProcessSession};

    let mut command = CommandWrap::with_new(shell, |command| {
        command
            .args(login_shell_args(shell))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for name in TOKEN_ENV_VARS {
            command.env_remove(name);
        }
    });
    // A session of its own (setsid): no controlling terminal, so an interactive bash does
    // not stop trying to take the terminal over, and a terminal's Ctrl-C meant for hfclaw
    // does not reach it; a timeout kills the profile's children along with it.
    command.wrap(ProcessSession);
    let io_error = |source| ShellEnvError::Io {
        shell: shell.to_owned(),
        source,
    };
    let mut child = command.spawn().map_err(|source| ShellEnvError::Spawn {
        shell: shell.to_owned(),
        source,
    })?;
    // Kills the whole process group (the shell leads it) and reaps the shell: no zombie.
    let kill_and_reap = |child: &mut Box<dyn ChildWrapper>| {
        let _ = child.start_kill();
        let _ = child.wait();
    };
    let Some(mut stdout) = child.stdout().take() else {
        kill_and_reap(&mut child);
        return Err(io_error(std::io::Error::other("no stdout pipe")));
    };
    // A reader thread, so the deadline holds even while a read blocks. It ends at EOF;
    // if a background job of the profile keeps the pipe open, it is left to end then.
    let (sender, receiver) = mpsc::channel::<std::io::Result<Vec<u8>>>();
    let reader = std::thread::Builder::new()
        .name("hfclaw-login-shell".to_owned())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let message = match stdout.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => Ok(buf[..n].to_vec()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = message.is_err();
                if sender.send(message).is_err() || failed {
                    break;
                }
            }
            buf.zeroize();
        });
    if let Err(source) = reader {
        kill_and_reap(&mut child);
        return Err(io_error(source));
    }
    let deadline = Instant::now() + options.timeout;
    let mut output = Vec::new();
    let mut eof = false;
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let failure = loop {
        if eof {
            std::thread::sleep(POLL_AFTER_EOF);
        } else {
            match receiver.recv_timeout(POLL) {
                Ok(Ok(mut chunk)) => {
                    output.extend_from_slice(&chunk);
                    chunk.zeroize();
                    if output.len() > options.max_output {
                        break Some(ShellEnvError::TooMuchOutput {
                            shell: shell.to_owned(),
                            limit: options.max_output,
                        });
                    }
                }
                Ok(Err(source)) => break Some(io_error(source)),
                Err(RecvTimeoutError::Disconnected) => eof = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => exited = Some((status, Instant::now())),
                Ok(None) => {}
                Err(source) => break Some(io_error(source)),
            }
        }
        match exited {
            Some(_) if eof => break None,
            Some((_, at)) if at.elapsed() >= AFTER_EXIT => break None,
            _ => {}
        }
        if Instant::now() >= deadline {
            break Some(ShellEnvError::Timeout {
                shell: shell.to_owned(),
                timeout: options.timeout,
            });
        }
    };
    if let Some(error) = failure {
        kill_and_reap(&mut child);
        output.zeroize();
        return Err(error);
    }
    match exited {
        Some((status, _)) if status.success() => Ok(output),
        Some((status, _)) => {
            output.zeroize();
            Err(ShellEnvError::Failed {
                shell: shell.to_owned(),
                status,
            })
        }
        None => Err(io_error(std::io::Error::other("the shell vanished"))),
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    use super::*;

    const SECRET: &str = "hf_fromtheloginshell0123456789";

    /// Writing a script while another test thread forks can make exec fail with "text
    /// file busy": tests that write and run scripts take turns.
    static SPAWNING: Mutex<()> = Mutex::new(());

    struct Fixture {
        dir: tempfile::TempDir,
        shells: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let shells = dir.path().join("shells");
            Fixture { dir, shells }
        }

        /// A fake login shell named `name` running `body`, listed in the shells file.
        fn shell(&self, name: &str, body: &str) -> PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            let mut list = std::fs::read_to_string(&self.shells).unwrap_or_default();
            list.push_str(&format!("{}\n", path.display()));
            std::fs::write(&self.shells, list).unwrap();
            path
        }

        fn options(&self, shell: &Path, timeout_ms: u64) -> LoginShell {
            LoginShell {
                shell_var: Some(shell.to_owned()),
                shells_file: self.shells.clone(),
                timeout: Duration::from_millis(timeout_ms),
                max_output: MAX_OUTPUT,
            }
        }
    }

    fn read(options: &LoginShell) -> Result<ShellImport, ShellEnvError> {
        let _turn = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        read_token(options)
    }

    #[test]
    fn login_shell_must_be_absolute_and_listed() {
        let fx = Fixture::new();
        std::fs::write(&fx.shells, "# comment\n/bin/zsh\n  /usr/bin/fish  \n\n").unwrap();
        let pick = |shell: Option<&str>| login_shell_program(shell.map(Path::new), &fx.shells);
        assert_eq!(pick(Some("/bin/zsh")), Path::new("/bin/zsh"));
        assert_eq!(pick(Some("/usr/bin/fish")), Path::new("/usr/bin/fish"));
        assert_eq!(pick(Some("/bin/evil")), Path::new(FALLBACK_SHELL));
        assert_eq!(pick(Some("zsh")), Path::new(FALLBACK_SHELL));
        assert_eq!(pick(None), Path::new(FALLBACK_SHELL));
        let missing = fx.dir.path().join("no-shells-file");
        assert_eq!(
            login_shell_program(Some(Path::new("/bin/zsh")), &missing),
            Path::new(FALLBACK_SHELL)
        );
    }

    #[test]
    fn bash_runs_interactive_others_do_not() {
        assert_eq!(login_shell_args(Path::new("/bin/bash")), ["-lic", SCRIPT]);
        assert_eq!(
            login_shell_args(Path::new("/bin/zsh")),
            ["-l", "-c", SCRIPT]
        );
        assert_eq!(login_shell_args(Path::new("/bin/sh")), ["-l", "-c", SCRIPT]);
    }

    #[test]
    fn a_token_exported_by_the_profile_is_found() {
        let fx = Fixture::new();
        // Profile noise before the marker, then the real command line run by /bin/sh.
        let shell = fx.shell(
            "zsh",
            &format!("echo 'Welcome!'\nexport HF_TOKEN={SECRET}\nexec /bin/sh \"$@\""),
        );
        let import = read(&fx.options(&shell, 5_000)).unwrap();
        assert_eq!(import.shell, shell);
        let (token, key) = import.token.unwrap();
        assert_eq!((token.expose(), key), (SECRET, "HF_TOKEN"));
    }

    #[test]
    fn bash_gets_lic_and_spec_order_picks_among_variables() {
        let fx = Fixture::new();
        let args = fx.dir.path().join("args");
        let shell = fx.shell(
            "bash",
            &format!(
                "printf '%s\\n' \"$@\" > '{}'\nprintf 'noise\\0HF_TOKEN=hf_second000000000000\\0HUGGINGFACE_HUB_TOKEN=hf_first0000000000000\\0'",
                args.display()
            ),
        );
        let import = read(&fx.options(&shell, 5_000)).unwrap();
        let (token, key) = import.token.unwrap();
        assert_eq!(key, "HUGGINGFACE_HUB_TOKEN");
        assert_eq!(token.expose(), "hf_first0000000000000");
        assert_eq!(
            std::fs::read_to_string(&args).unwrap(),
            format!("-lic\n{SCRIPT}\n")
        );
    }

    #[test]
    fn a_shell_that_hangs_is_killed_with_its_group_after_the_timeout() {
        let fx = Fixture::new();
        let pids = fx.dir.path().join("pids");
        let shell = fx.shell(
            "hang",
            &format!("sleep 30 &\necho $$ $! > '{}'\nwait", pids.display()),
        );
        let started = Instant::now();
        let err = read(&fx.options(&shell, 300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(matches!(err, ShellEnvError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("300 ms"), "{err}");
        let text = std::fs::read_to_string(&pids).unwrap();
        let mut ids = text.split_whitespace();
        let (shell_pid, sleep_pid) = (ids.next().unwrap(), ids.next().unwrap());
        if cfg!(target_os = "linux") {
            // The shell was reaped (no zombie of ours); its background job got SIGKILL
            // too: gone, or a zombie of whoever adopted it, once the kernel delivered it.
            assert!(!Path::new(&format!("/proc/{shell_pid}")).exists());
            let dead = || match std::fs::read_to_string(format!("/proc/{sleep_pid}/stat")) {
                Ok(stat) => stat
                    .rsplit(')')
                    .next()
                    .unwrap()
                    .trim_start()
                    .starts_with('Z'),
                Err(_) => true,
            };
            let killed_at = Instant::now();
            while !dead() && killed_at.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(dead(), "the shell's background job is still alive");
        }
    }

    #[test]
    fn a_shell_that_prints_no_nul_is_an_error_without_its_output() {
        let fx = Fixture::new();
        let shell = fx.shell("garbage", &format!("echo 'HF_TOKEN={SECRET}'"));
        let err = read(&fx.options(&shell, 5_000)).unwrap_err();
        assert!(matches!(err, ShellEnvError::NoEnvironment { .. }), "{err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("fromtheloginshell"), "{text}");
    }

    #[test]
    fn a_failing_shell_is_an_error() {
        let fx = Fixture::new();
        let shell = fx.shell(
            "fails",
            &format!("printf '\\0HF_TOKEN={SECRET}\\0'\nexit 1"),
        );
        let err = read(&fx.options(&shell, 5_000)).unwrap_err();
        assert!(matches!(err, ShellEnvError::Failed { .. }), "{err}");
        assert!(!format!("{err:?}").contains("fromtheloginshell"));
    }

    #[test]
    fn a_flood_of_output_is_cut_off() {
        let fx = Fixture::new();
        let shell = fx.shell("flood", "exec yes");
        let mut options = fx.options(&shell, 5_000);
        options.max_output = 100_000;
        let err = read(&options).unwrap_err();
        assert!(
            matches!(err, ShellEnvError::TooMuchOutput { limit: 100_000, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_background_job_holding_the_pipe_does_not_delay_the_answer() {
        let fx = Fixture::new();
        let shell = fx.shell(
            "daemonizes",
            &format!("sleep 5 &\nprintf '\\0HF_TOKEN={SECRET}\\0'"),
        );
        let started = Instant::now();
        let import = read(&fx.options(&shell, 4_000)).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(import.token.unwrap().1, "HF_TOKEN");
    }

    #[test]
    fn an_unstartable_shell_is_an_error() {
        let fx = Fixture::new();
        let shell = fx.shell("not-executable", "");
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read(&fx.options(&shell, 5_000)).unwrap_err();
        assert!(matches!(err, ShellEnvError::Spawn { .. }), "{err}");
    }

    #[test]
    fn output_parsing_skips_junk_and_empty_values() {
        let parse = |bytes: &[u8]| {
            token_from_output(bytes).map(|t| t.map(|(t, k)| (t.expose().to_owned(), k)))
        };
        assert_eq!(parse(b"no marker at all"), None);
        assert_eq!(parse(b"\0"), Some(None));
        assert_eq!(
            parse(b"x\0junk\0HF_TOKEN=\0HUGGING_FACE_HUB_TOKEN=hf_legacy00000000000\0\xff=\0"),
            Some(Some((
                "hf_legacy00000000000".to_owned(),
                "HUGGING_FACE_HUB_TOKEN"
            )))
        );
        assert_eq!(
            parse(b"\0HF_TOKEN=line1\nline2\0"),
            Some(Some(("line1\nline2".to_owned(), "HF_TOKEN")))
        );
    }
}
