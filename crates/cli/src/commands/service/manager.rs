//! The service managers: where each keeps its files, which commands install, start, stop
//! and query a service, and whether the manager can be reached at all.
//!
//! Command lists are pure functions, so what `install` runs is decided (and tested)
//! without a manager; only [`Manager::run`] and [`probe`] touch the system.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::unit::{LAUNCHD_LABEL, SYSTEMD_UNIT};

/// Which service manager this platform has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux: a systemd user unit.
    Systemd,
    /// macOS: a launchd agent.
    Launchd,
}

impl Platform {
    /// This machine's manager; `None` where hfclaw knows none.
    pub fn current() -> Option<Platform> {
        if cfg!(target_os = "macos") {
            Some(Platform::Launchd)
        } else if cfg!(target_os = "linux") {
            Some(Platform::Systemd)
        } else {
            None
        }
    }

    /// The manager's command.
    pub fn program(self) -> &'static str {
        match self {
            Platform::Systemd => "systemctl",
            Platform::Launchd => "launchctl",
        }
    }

    /// What the file is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Platform::Systemd => "systemd user unit",
            Platform::Launchd => "launchd agent",
        }
    }
}

/// Where the service's files go, from the home and config directories (injected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The platform.
    pub platform: Platform,
    /// The unit file or plist.
    pub file: PathBuf,
    /// The log file (launchd only).
    pub log_file: Option<PathBuf>,
}

impl Layout {
    /// `$XDG_CONFIG_HOME/systemd/user/hfclaw.service` (else `~/.config/…`), or
    /// `~/Library/LaunchAgents/ai.hfclaw.gateway.plist`.
    pub fn new(platform: Platform, home: &Path, xdg_config_home: Option<&Path>) -> Layout {
        match platform {
            Platform::Systemd => {
                let config = xdg_config_home
                    .filter(|p| p.is_absolute())
                    .map_or_else(|| home.join(".config"), Path::to_path_buf);
                Layout {
                    platform,
                    file: config.join("systemd").join("user").join(SYSTEMD_UNIT),
                    log_file: None,
                }
            }
            Platform::Launchd => Layout {
                platform,
                file: home
                    .join("Library")
                    .join("LaunchAgents")
                    .join(format!("{LAUNCHD_LABEL}.plist")),
                log_file: Some(
                    home.join("Library")
                        .join("Logs")
                        .join("hfclaw")
                        .join("gateway.log"),
                ),
            },
        }
    }

    /// Links `systemctl enable` makes beside the unit (`*.wants/hfclaw.service`), which
    /// `uninstall` removes itself when systemd cannot be asked to.
    pub fn enable_links(&self) -> Vec<PathBuf> {
        let Some(dir) = self.file.parent() else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wants"))
            .map(|p| p.join(SYSTEMD_UNIT))
            .filter(|link| link.symlink_metadata().is_ok())
            .collect()
    }
}

/// What `install` found before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// There was no file.
    New,
    /// The file was different (another address, binary, config).
    Changed,
    /// The file already had these bytes.
    Unchanged,
}

/// One manager command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Arguments after the manager's program name.
    pub args: Vec<String>,
    /// A failure is expected sometimes (stopping what is not loaded) and not reported.
    pub may_fail: bool,
}

impl Step {
    fn new(args: &[&str]) -> Step {
        Step {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            may_fail: false,
        }
    }

    fn may_fail(mut self) -> Step {
        self.may_fail = true;
        self
    }
}

/// A step as the user would type it.
pub struct Shown<'a>(pub Platform, pub &'a Step);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.program())?;
        for arg in &self.1.args {
            f.write_str(" ")?;
            f.write_str(&shell_word(arg))?;
        }
        Ok(())
    }
}

/// `arg` quoted for a POSIX shell when it needs it.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,=%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn launchd_target(uid: u32) -> String {
    format!("gui/{uid}/{LAUNCHD_LABEL}")
}

/// What `install` runs after writing the file. Re-running with nothing changed only makes
/// sure the service is enabled and running (no restart); a changed file restarts it.
pub fn install_steps(platform: Platform, change: FileChange, file: &Path, uid: u32) -> Vec<Step> {
    match platform {
        Platform::Systemd => {
            let mut steps = vec![Step::new(&["--user", "daemon-reload"])];
            if change == FileChange::Changed {
                steps.push(Step::new(&["--user", "enable", SYSTEMD_UNIT]));
                steps.push(Step::new(&["--user", "restart", SYSTEMD_UNIT]));
            } else {
                steps.push(Step::new(&["--user", "enable", "--now", SYSTEMD_UNIT]));
            }
            steps
        }
        Platform::Launchd => {
            let target = launchd_target(uid);
            let domain = format!("gui/{uid}");
            let plist = file.to_string_lossy();
            let mut steps = vec![Step::new(&["enable", &target])];
            if change != FileChange::New {
                // A loaded job keeps its old definition until it is booted out.
                steps.push(Step::new(&["bootout", &target]).may_fail());
            }
            steps.push(Step::new(&["bootstrap", &domain, &plist]));
            steps
        }
    }
}

/// What `uninstall` runs before removing the file.
pub fn stop_steps(platform: Platform, uid: u32) -> Vec<Step> {
    match platform {
        Platform::Systemd => vec![Step::new(&["--user", "disable", "--now", SYSTEMD_UNIT])],
        Platform::Launchd => vec![Step::new(&["bootout", &launchd_target(uid)]).may_fail()],
    }
}

/// What `uninstall` runs after removing the file.
pub fn after_removal_steps(platform: Platform) -> Vec<Step> {
    match platform {
        Platform::Systemd => vec![
            Step::new(&["--user", "daemon-reload"]),
            Step::new(&["--user", "reset-failed", SYSTEMD_UNIT]).may_fail(),
        ],
        Platform::Launchd => Vec::new(),
    }
}

/// A reachable service manager.
#[derive(Debug, Clone)]
pub struct Manager {
    /// The platform.
    pub platform: Platform,
    /// The manager's program, as found on `PATH`.
    pub program: PathBuf,
    /// The user's id (launchd's `gui/<uid>` domain).
    pub uid: u32,
}

/// What a step did.
pub struct StepOutput {
    /// Whether it exited 0.
    pub success: bool,
    /// Its stdout, trimmed.
    pub stdout: String,
    /// The first line of its stderr, else its exit status when it failed.
    pub stderr: String,
}

impl Manager {
    /// Runs a step (stdin closed, output captured).
    pub fn run(&self, step: &Step) -> std::io::Result<StepOutput> {
        run_program(&self.program, &step.args)
    }

    /// `enabled` and `active` as the manager says them.
    pub fn state(&self) -> (String, String) {
        match self.platform {
            Platform::Systemd => {
                let ask = |what: &str| {
                    let step = Step::new(&["--user", what, SYSTEMD_UNIT]);
                    match self.run(&step) {
                        Ok(out) if !out.stdout.is_empty() => out.stdout,
                        Ok(out) => format!("unknown ({})", out.stderr),
                        Err(e) => format!("unknown ({e})"),
                    }
                };
                (ask("is-enabled"), ask("is-active"))
            }
            Platform::Launchd => {
                let step = Step::new(&["print", &launchd_target(self.uid)]);
                match self.run(&step) {
                    Ok(out) if out.success => {
                        let state = out
                            .stdout
                            .lines()
                            .find_map(|l| l.trim().strip_prefix("state = "))
                            .unwrap_or("unknown")
                            .to_owned();
                        ("loaded".to_owned(), state)
                    }
                    Ok(_) => ("not loaded".to_owned(), "inactive".to_owned()),
                    Err(e) => (format!("unknown ({e})"), format!("unknown ({e})")),
                }
            }
        }
    }
}

fn run_program(program: &Path, args: &[impl AsRef<OsStr>]) -> std::io::Result<StepOutput> {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let stderr = String::from_utf8_lossy(&stderr);
    Ok(StepOutput {
        success: status.success(),
        stdout: String::from_utf8_lossy(&stdout).trim().to_owned(),
        stderr: match stderr.lines().find(|l| !l.trim().is_empty()) {
            Some(line) => line.trim().to_owned(),
            None if status.success() => String::new(),
            None => status.to_string(),
        },
    })
}

/// Finds the manager and checks it answers: `systemctl --user is-system-running` must
/// report a running user manager (containers and WSL often have `systemctl` but no
/// systemd). `Err` says why not, for people.
pub fn probe(
    platform: Platform,
    find_program: &dyn Fn(&str) -> Option<PathBuf>,
    uid: u32,
) -> Result<Manager, String> {
    let name = platform.program();
    let Some(program) = find_program(name) else {
        return Err(format!("{name} was not found on PATH"));
    };
    let manager = Manager {
        platform,
        program,
        uid,
    };
    if platform == Platform::Launchd {
        return Ok(manager);
    }
    let step = Step::new(&["--user", "is-system-running"]);
    match manager.run(&step) {
        // `degraded` means some other unit failed: the manager itself works.
        Ok(out)
            if matches!(
                out.stdout.as_str(),
                "running" | "degraded" | "starting" | "initializing" | "maintenance"
            ) =>
        {
            Ok(manager)
        }
        Ok(out) => {
            let said = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            Err(format!(
                "the systemd user manager is not running (`systemctl --user is-system-running`: {said})"
            ))
        }
        Err(e) => Err(format!("cannot run {}: {e}", manager.program.display())),
    }
}

/// The first executable file named `name` in `path` (a `PATH` value).
pub fn find_in_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The user's id, for launchd's `gui/<uid>` domain.
pub fn current_uid() -> u32 {
    #[cfg(unix)]
    {
        rustix::process::getuid().as_raw()
    }
    #[cfg(not(unix))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn shown(platform: Platform, steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| Shown(platform, s).to_string())
            .collect()
    }

    #[test]
    fn systemd_files_follow_xdg_config_home() {
        let home = Path::new("/home/u");
        let layout = Layout::new(Platform::Systemd, home, None);
        assert_eq!(
            layout.file,
            Path::new("/home/u/.config/systemd/user/hfclaw.service")
        );
        let xdg = Layout::new(Platform::Systemd, home, Some(Path::new("/cfg")));
        assert_eq!(xdg.file, Path::new("/cfg/systemd/user/hfclaw.service"));
        let relative = Layout::new(Platform::Systemd, home, Some(Path::new("cfg")));
        assert_eq!(relative.file, layout.file, "a relative XDG dir is ignored");
        let mac = Layout::new(Platform::Launchd, home, Some(Path::new("/cfg")));
        assert_eq!(
            mac.file,
            Path::new("/home/u/Library/LaunchAgents/ai.hfclaw.gateway.plist")
        );
        assert_eq!(
            mac.log_file.unwrap(),
            Path::new("/home/u/Library/Logs/hfclaw/gateway.log")
        );
    }

    #[test]
    fn systemd_install_restarts_only_a_changed_unit() {
        let file = Path::new("/u/hfclaw.service");
        let steps = |change| {
            shown(
                Platform::Systemd,
                &install_steps(Platform::Systemd, change, file, 0),
            )
        };
        let start = [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now hfclaw.service",
        ];
        assert_eq!(steps(FileChange::New), start);
        assert_eq!(steps(FileChange::Unchanged), start);
        assert_eq!(
            steps(FileChange::Changed),
            [
                "systemctl --user daemon-reload",
                "systemctl --user enable hfclaw.service",
                "systemctl --user restart hfclaw.service",
            ]
        );
        assert_eq!(
            shown(Platform::Systemd, &stop_steps(Platform::Systemd, 0)),
            ["systemctl --user disable --now hfclaw.service"]
        );
        assert_eq!(
            shown(Platform::Systemd, &after_removal_steps(Platform::Systemd)),
            [
                "systemctl --user daemon-reload",
                "systemctl --user reset-failed hfclaw.service"
            ]
        );
    }

    #[test]
    fn launchd_install_boots_out_an_old_definition_first() {
        let file = Path::new("/Users/u/Library/LaunchAgents/ai.hfclaw.gateway.plist");
        let steps = |change| install_steps(Platform::Launchd, change, file, 501);
        assert_eq!(
            shown(Platform::Launchd, &steps(FileChange::New)),
            [
                "launchctl enable gui/501/ai.hfclaw.gateway",
                "launchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/ai.hfclaw.gateway.plist",
            ]
        );
        let changed = steps(FileChange::Changed);
        assert_eq!(
            shown(Platform::Launchd, &changed)[1],
            "launchctl bootout gui/501/ai.hfclaw.gateway"
        );
        assert!(changed[1].may_fail);
        assert_eq!(
            shown(Platform::Launchd, &stop_steps(Platform::Launchd, 501)),
            ["launchctl bootout gui/501/ai.hfclaw.gateway"]
        );
        assert!(after_removal_steps(Platform::Launchd).is_empty());
    }

    #[test]
    fn shown_steps_quote_for_the_shell() {
        let step = Step::new(&["bootstrap", "gui/501", "/Users/a b/it's.plist"]);
        assert_eq!(
            Shown(Platform::Launchd, &step).to_string(),
            "launchctl bootstrap gui/501 '/Users/a b/it'\\''s.plist'"
        );
    }

    #[cfg(unix)]
    #[test]
    fn probe_needs_a_running_user_manager() {
        use std::os::unix::fs::PermissionsExt;
        let _turn = super::super::tests::PROCESSES
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let fake = |answer: &str| {
            let path = dir.path().join("systemctl");
            std::fs::write(&path, format!("#!/bin/sh\n{answer}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let none = |_: &str| None;
        assert_eq!(
            probe(Platform::Systemd, &none, 0).unwrap_err(),
            "systemctl was not found on PATH"
        );
        let offline = fake("echo offline; exit 1");
        let find = |_: &str| Some(offline.clone());
        assert_eq!(
            probe(Platform::Systemd, &find, 0).unwrap_err(),
            "the systemd user manager is not running (`systemctl --user is-system-running`: offline)"
        );
        let no_bus = fake("echo 'Failed to connect to bus: No medium found' >&2; exit 1");
        let find = |_: &str| Some(no_bus.clone());
        assert!(
            probe(Platform::Systemd, &find, 0)
                .unwrap_err()
                .ends_with("is-system-running`: Failed to connect to bus: No medium found)")
        );
        let silent = fake("exit 3");
        let find = |_: &str| Some(silent.clone());
        assert!(
            probe(Platform::Systemd, &find, 0)
                .unwrap_err()
                .ends_with("is-system-running`: exit status: 3)")
        );
        let degraded = fake("echo degraded; exit 1");
        let find = |_: &str| Some(degraded.clone());
        assert!(probe(Platform::Systemd, &find, 0).is_ok());
    }

    #[test]
    fn path_lookup_finds_executables_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain"), "").unwrap();
        let path = std::env::join_paths([dir.path(), Path::new("relative")]).unwrap();
        assert_eq!(find_in_path("plain", Some(&path)), None);
        assert_eq!(find_in_path("sh", None), None);
        let sh_dir = std::env::join_paths([Path::new("/bin")]).unwrap();
        if Path::new("/bin/sh").exists() {
            assert_eq!(
                find_in_path("sh", Some(&sh_dir)).unwrap(),
                Path::new("/bin/sh")
            );
        }
    }
}
