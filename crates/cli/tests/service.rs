//! `hfclaw service install | status | uninstall` on Linux: the unit written into a scratch
//! `~/.config/systemd/user`, the `systemctl` commands run against a fake `systemctl` on
//! `PATH` (or printed when the user manager is not running), and the unit checked by
//! `systemd-analyze verify` when it is installed. Never touches the real user's files.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use common::Sandbox;

const TOKEN: &str = "hf_serviceSecret0123456789abcdWXYZ";

/// A `systemctl` that logs its arguments and keeps "enabled"/"active" as marker files.
const FAKE_SYSTEMCTL: &str = r#"#!/bin/sh
d=${0%/*}
echo "$*" >> "$d/systemctl.log"
case "$*" in
  "--user is-system-running") echo running ;;
  "--user daemon-reload"|"--user reset-failed hfclaw.service") ;;
  "--user enable --now hfclaw.service") : > "$d/enabled"; : > "$d/active" ;;
  "--user enable hfclaw.service") : > "$d/enabled" ;;
  "--user restart hfclaw.service") : > "$d/active" ;;
  "--user disable --now hfclaw.service") /bin/rm -f "$d/enabled" "$d/active" ;;
  "--user is-enabled hfclaw.service") if [ -e "$d/enabled" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  "--user is-active hfclaw.service") if [ -e "$d/active" ]; then echo active; else echo inactive; exit 3; fi ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
"#;

/// What `systemctl` says where systemd is installed but not running (containers, WSL).
const OFFLINE_SYSTEMCTL: &str =
    "#!/bin/sh\necho \"$*\" >> \"${0%/*}/systemctl.log\"\necho offline\nexit 1\n";

/// Tests take turns: a script written while another test thread forks can fail to start
/// ("text file busy").
static SERIAL: Mutex<()> = Mutex::new(());

/// A command's arguments and the variables it runs with.
type Run<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);

struct Service {
    sandbox: Sandbox,
    bin: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Service {
    fn new(systemctl: Option<&str>) -> Service {
        let turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let sandbox = Sandbox::new();
        let bin = sandbox.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        if let Some(script) = systemctl {
            let path = bin.join("systemctl");
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Service {
            sandbox,
            bin,
            _turn: turn,
        }
    }

    fn unit_path(&self) -> PathBuf {
        self.sandbox
            .home()
            .join(".config/systemd/user/hfclaw.service")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.cmd(args);
        cmd.env("PATH", &self.bin).current_dir(self.sandbox.home());
        cmd
    }

    /// Runs the commands and renders outputs, the unit after each, and the systemctl log.
    fn session(&self, commands: &[Run<'_>]) -> String {
        let mut out = String::new();
        for (args, vars) in commands {
            let mut cmd = self.cmd(args);
            for (k, v) in *vars {
                cmd.env(k, v);
            }
            let shown: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v} ")).collect();
            let line = format!("$ {}hfclaw {}\n", shown.concat(), args.join(" "));
            out.push_str(&line.replace(TOKEN, "[TOKEN]"));
            out.push_str(&self.sandbox.run_cmd(cmd));
        }
        out.push_str("=== systemctl.log\n");
        out.push_str(&std::fs::read_to_string(self.bin.join("systemctl.log")).unwrap_or_default());
        redact(&out, self.sandbox.home())
    }

    fn unit(&self) -> String {
        redact(
            &std::fs::read_to_string(self.unit_path()).unwrap(),
            self.sandbox.home(),
        )
    }
}

fn exe() -> String {
    std::fs::canonicalize(env!("CARGO_BIN_EXE_hfclaw"))
        .unwrap()
        .display()
        .to_string()
}

fn redact(text: &str, home: &Path) -> String {
    assert!(!text.contains(TOKEN), "the token leaked:\n{text}");
    text.replace(&exe(), "[EXE]")
        .replace(&home.display().to_string(), "[HOME]")
}

#[test]
fn install_status_reinstall_uninstall_with_systemd() {
    let s = Service::new(Some(FAKE_SYSTEMCTL));
    s.sandbox.write_config(
        r#"{ agents: { defaults: { model: "huggingface/deepseek-ai/DeepSeek-R1" } } }"#,
    );
    std::fs::write(
        s.sandbox.home().join(".openclaw/.env"),
        format!("HF_TOKEN={TOKEN}\n"),
    )
    .unwrap();
    let first = s.session(&[(&["service", "install"], &[])]);
    let unit = s.unit();
    let rest = s.session(&[
        (&["service", "install"], &[]),
        (&["service", "status"], &[]),
        (&["service", "install", "--listen", "127.0.0.1:4100"], &[]),
        (&["service", "status", "--json"], &[]),
        (&["service", "uninstall"], &[]),
        (&["service", "uninstall"], &[]),
        (&["service", "status"], &[]),
    ]);
    assert!(!s.unit_path().exists());
    insta::assert_snapshot!(format!("{first}=== hfclaw.service\n{unit}=== then\n{rest}"));
}

#[test]
fn without_a_running_systemd_install_prints_the_commands() {
    let s = Service::new(Some(OFFLINE_SYSTEMCTL));
    let installed = s.session(&[
        (&["service", "install"], &[("HF_TOKEN", TOKEN)]),
        (&["service", "status"], &[]),
    ]);
    // What `systemctl enable` would have made, had systemd run: uninstall removes it too.
    let wants = s.unit_path().with_file_name("default.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink("../hfclaw.service", wants.join("hfclaw.service")).unwrap();
    let removed = s.session(&[(&["service", "uninstall"], &[])]);
    assert!(!s.unit_path().exists());
    assert!(wants.join("hfclaw.service").symlink_metadata().is_err());
    insta::assert_snapshot!(format!("{installed}=== then\n{removed}"));
}

#[test]
fn install_pins_the_config_and_never_writes_the_token() {
    let s = Service::new(None);
    let home = s.sandbox.home();
    std::fs::create_dir_all(home.join("agents")).unwrap();
    std::fs::write(home.join("agents/oc.json"), "{}").unwrap();
    std::fs::write(home.join("gateway.key"), "client-key\n").unwrap();
    std::fs::set_permissions(
        home.join("gateway.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // A key file others can read is refused, as `serve` would refuse it at every start.
    let refused = s.session(&[(
        &["service", "install", "--api-key-file", "gateway.key"],
        &[],
    )]);
    assert!(!s.unit_path().exists());
    std::fs::set_permissions(
        home.join("gateway.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(home.join("state")).unwrap();
    std::fs::write(
        home.join("state/.env"),
        format!("HUGGINGFACE_HUB_TOKEN={TOKEN}\n"),
    )
    .unwrap();
    let out = s.session(&[(
        &[
            "service",
            "install",
            "--config",
            "agents/oc.json",
            "--api-key-file",
            "gateway.key",
            "--listen",
            "0.0.0.0:4000",
            "--token",
            TOKEN,
        ],
        &[
            ("OPENCLAW_STATE_DIR", "state"),
            ("HFCLAW_CACHE_DIR", "/var/cache/hfclaw"),
            ("HF_TOKEN", TOKEN),
        ],
    )]);
    insta::assert_snapshot!(format!("{refused}{out}=== hfclaw.service\n{}", s.unit()));
}

#[test]
fn install_rejects_bad_input_and_writes_nothing() {
    let s = Service::new(None);
    let out = s.session(&[
        (&["service", "install", "--listen", "nonsense"], &[]),
        (&["service", "install", "--listen", "127.0.0.1:0"], &[]),
        (
            &["service", "install", "--api-key-file", "missing.key"],
            &[],
        ),
    ]);
    assert!(!s.unit_path().exists());
    // A broken config: no service that would fail at start; status still reports.
    s.sandbox.write_config("{ agents: ");
    let broken = s.session(&[
        (&["service", "install"], &[]),
        (&["service", "status"], &[]),
    ]);
    assert!(!s.unit_path().exists());
    insta::assert_snapshot!(format!("{out}=== broken config\n{broken}"));
}

/// `systemd-analyze verify` accepts the unit, also for a binary in a directory whose name
/// needs quoting and escaping (space, `%`, `$`).
#[test]
fn systemd_analyze_verifies_the_unit() {
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    assert!(version.status.success());
    let s = Service::new(None);
    let odd_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("service test %i $HOME");
    std::fs::create_dir_all(&odd_dir).unwrap();
    let odd_exe = odd_dir.join("hf claw");
    let _ = std::fs::remove_file(&odd_exe);
    if std::fs::hard_link(exe(), &odd_exe).is_err() {
        std::fs::copy(exe(), &odd_exe).unwrap();
    }
    for program in [PathBuf::from(exe()), odd_exe] {
        let mut cmd = Command::new(&program);
        cmd.env_clear()
            .env("HOME", s.sandbox.home())
            .env("PATH", &s.bin)
            .env("NO_COLOR", "1")
            .args(["service", "install", "--listen", "[::1]:4000"]);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let runtime = tempfile::tempdir().unwrap();
        let verify = Command::new("systemd-analyze")
            .args(["--user", "verify"])
            .arg(s.unit_path())
            .env("XDG_RUNTIME_DIR", runtime.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&verify.stderr);
        assert!(
            verify.status.success() && stderr.trim().is_empty(),
            "systemd-analyze verify on the unit for {}:\n{stderr}\n{}",
            program.display(),
            std::fs::read_to_string(s.unit_path()).unwrap()
        );
        let unit = std::fs::read_to_string(s.unit_path()).unwrap();
        assert!(unit.contains("--listen [::1]:4000"), "{unit}");
    }
}

/// `--route` flags, or `HFCLAW_ROUTES` when there are none, and `--no-default-routes` go
/// into the unit as flags (the service sees none of this shell's variables); a route that
/// is not PATTERN=MODEL writes nothing.
#[test]
fn install_carries_the_routes_into_the_unit() {
    let s = Service::new(None);
    let out = s.session(&[
        (
            &["service", "install", "--route", "claude-*"],
            &[("HF_TOKEN", TOKEN)],
        ),
        (
            &["service", "install", "--no-default-routes"],
            &[
                ("HF_TOKEN", TOKEN),
                ("HFCLAW_ROUTES", "claude-*haiku*=qwen; gpt-* = default;"),
            ],
        ),
    ]);
    insta::assert_snapshot!(format!("{out}=== hfclaw.service\n{}", s.unit()));
    let unit = s.unit();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(
        exec.contains("claude-*haiku*=qwen")
            && exec.contains("gpt-* = default")
            && exec.ends_with("--no-default-routes"),
        "{exec}"
    );
}

#[test]
fn install_carries_the_serve_flags_it_can_and_warns_about_the_rest() {
    let s = Service::new(None);
    let carried = s.session(&[(
        &[
            "service",
            "install",
            "--max-concurrent",
            "64",
            "--timeout",
            "300",
            "--split-reasoning",
            "--allowed-host",
            "gw.lan",
            "--ledger",
            "data/usage.sqlite3",
            "--budget-usd-per-day",
            "5",
            "--key-budget",
            "ci=2",
            "--api-key",
            "sk-on-the-command-line",
            "--refresh",
        ],
        &[("HF_TOKEN", TOKEN)],
    )]);
    let carried = format!("{carried}=== hfclaw.service\n{}", s.unit());
    let url = s.session(&[(
        &[
            "service",
            "install",
            "--ledger",
            "postgres://hfclaw:hunter2@db:5432/hfclaw",
        ],
        &[("HF_TOKEN", TOKEN)],
    )]);
    let out = format!("{carried}{url}");
    // The secrets are on the command lines shown (`$ …`), nowhere else.
    let said: String = out.lines().filter(|l| !l.starts_with("$ ")).collect();
    let unit = s.unit();
    for secret in ["sk-on-the-command-line", "hunter2"] {
        assert!(!said.contains(secret) && !unit.contains(secret), "{out}");
    }
    insta::assert_snapshot!(out);
}
