//! `hfclaw service install | uninstall | status`: the gateway as a user service — a
//! systemd user unit on Linux, a launchd agent on macOS.
//!
//! The unit runs `<this binary> serve --listen ADDR [--api-key-file PATH]`, pinned to the
//! config this command used (`--config`, or the `OPENCLAW_*` variables carried into the
//! unit). The token is never written into it: the service finds it like any `hfclaw`
//! run without a shell (state dir `.env`, the config's `env.vars`, `env.shellEnv`), and
//! `install` warns when that would find none. Manager commands are printed, and run only
//! when the manager answers (containers often have `systemctl` without systemd).

mod manager;
pub mod unit;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use hfclaw_config_merge::{OpenClawView, PathSource};
use hfclaw_router_client::TokenSource;
use serde::Serialize;

pub use self::manager::find_in_path;
use self::manager::{FileChange, Layout, Manager, Platform, Shown, Step};
use self::unit::ServiceSpec;
use crate::args::{
    DEFAULT_HEADER_TIMEOUT_SECS, DEFAULT_MAX_BODY_MIB, DEFAULT_MAX_CONCURRENT,
    DEFAULT_TIMEOUT_SECS, ServeArgs, ServiceCommand, ServiceInstallArgs, ServiceStatusArgs,
};
use crate::context::{Context, SERVICE_ENV_VARS, env, env_os, home_dir};
use crate::error::{CliError, CliResult};
use crate::output::print_data;
use hfclaw_accounting::keys::file;
use hfclaw_accounting::{LedgerSpec, redact_url};

/// Runs `service …`.
pub fn run(ctx: &Context, command: &ServiceCommand) -> CliResult {
    let system = System::from_env()?;
    match command {
        ServiceCommand::Install(args) => install(ctx, &system, args),
        ServiceCommand::Uninstall => uninstall(ctx, &system),
        ServiceCommand::Status(args) => status(ctx, &system, args),
    }
}

/// The service file, when one is installed (for `doctor`).
pub fn installed_file() -> Option<PathBuf> {
    let system = System::from_env().ok()?;
    system.layout.file.exists().then_some(system.layout.file)
}

/// The installed service's command line (`hfclaw serve --listen …`), for `hfclaw run`,
/// which uses the gateway it runs; `None` when none is installed or it cannot be read.
pub fn installed_command() -> Option<Vec<String>> {
    let system = System::from_env().ok()?;
    let text = std::fs::read_to_string(&system.layout.file).ok()?;
    match system.platform() {
        Platform::Systemd => unit::systemd_command(&text),
        Platform::Launchd => unit::launchd_command(&text),
    }
}

/// What to add so a service finds a token, for `install`'s warning and `doctor`.
pub fn no_token_hint(ctx: &Context, view: &OpenClawView) -> String {
    let shell = if ctx.shell_env(view).is_some() {
        "or export it in your login shell's profile (env.shellEnv is on)"
    } else {
        "or set env.shellEnv.enabled: true in the config if your shell profile exports it"
    };
    format!(
        "add HF_TOKEN=hf_… to {} (OpenClaw's service reads it too), {shell}",
        ctx.paths.env_file.display()
    )
}

/// The platform and where its files are, from `HOME`/`XDG_CONFIG_HOME`; the manager on
/// `PATH`.
struct System {
    layout: Layout,
    uid: u32,
}

impl System {
    fn from_env() -> CliResult<System> {
        let platform = Platform::current().ok_or_else(|| {
            CliError::input("hfclaw service supports systemd (Linux) and launchd (macOS) only")
                .hint("run `hfclaw serve` under your platform's service manager yourself")
        })?;
        let home = home_dir()
            .ok_or_else(|| CliError::runtime("cannot find your home directory").hint("set HOME"))?;
        let xdg = env_os("XDG_CONFIG_HOME").map(PathBuf::from);
        Ok(System {
            layout: Layout::new(platform, &home, xdg.as_deref()),
            uid: manager::current_uid(),
        })
    }

    fn platform(&self) -> Platform {
        self.layout.platform
    }

    fn manager(&self) -> Result<Manager, String> {
        let path = env_os("PATH");
        let find = |name: &str| manager::find_in_path(name, path.as_deref());
        manager::probe(self.platform(), &find, self.uid)
    }
}

fn install(ctx: &Context, system: &System, args: &ServiceInstallArgs) -> CliResult {
    let args = &args.serve;
    let listen = listen_addr(&args.listen)?;
    let key_file = args.api_key_file.as_deref().map(api_key_file).transpose()?;
    let view = ctx.load_view()?;
    if !ctx.paths.config.exists() {
        ctx.messages.warn(format!(
            "no config at {}; the service starts with the built-in catalog and no default model (run `hfclaw onboard`)",
            ctx.paths.config.display()
        ));
    }
    // Checked now, as `serve` checks it: the service would fail at every start.
    if let Some(path) = &key_file {
        let bad = |e: file::KeyFileError| CliError::input(e.to_string()).hint(e.hint());
        let keys = file::read(path).map_err(bad)?;
        file::check_unique(keys.iter().map(|k| (k.label.as_str(), k.hash()))).map_err(bad)?;
    }
    let ledger_file = args
        .ledger
        .location
        .ledger_file
        .as_deref()
        .map(|path| {
            crate::ledger::spec_at(&crate::args::LedgerLocation {
                ledger: None,
                ledger_file: Some(path.to_owned()),
            })?;
            absolute(path)
        })
        .transpose()?;
    // Secrets of this shell stay out of the unit file: say what the service will not get.
    for (name, instead) in [
        ("HFCLAW_LEDGER_URL", "--ledger-file PATH"),
        (
            "HFCLAW_SERVE_API_KEY",
            "--api-key-file PATH or `hfclaw keys create`",
        ),
    ] {
        if env(name).is_some() {
            ctx.messages.warn(format!(
                "{name} is set here but the service does not get it (a secret does not belong \
                 in a unit file): use {instead}"
            ));
        }
    }
    if key_file.is_none() && !listen.ip().is_loopback() {
        ctx.messages.warn(format!(
            "the service listens on {listen} without --api-key-file: anyone who can reach this port can spend your credits"
        ));
    }
    if ctx.global.token.is_some() {
        ctx.messages.warn(
            "--token is not written into the service; it reads the token from the state dir .env, env.vars or env.shellEnv",
        );
    }
    // Checked now: the service would fail at every start.
    crate::serve::model_routes(&args.routes)?;
    let carried = carried_flags(ctx, args)?;
    let spec = service_spec(
        ctx,
        system,
        args,
        key_file.as_deref(),
        ledger_file.as_deref(),
        carried,
    )?;
    let text = match system.platform() {
        Platform::Systemd => unit::systemd_unit(&spec),
        Platform::Launchd => unit::launchd_plist(&spec),
    };
    let file = &system.layout.file;
    let change = match std::fs::read(file) {
        Ok(old) if old == text.as_bytes() => FileChange::Unchanged,
        Ok(_) => FileChange::Changed,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileChange::New,
        Err(e) => {
            return Err(CliError::runtime(format!(
                "cannot read {}: {e}",
                file.display()
            )));
        }
    };
    if change == FileChange::Unchanged {
        ctx.messages
            .status(format!("{} already up to date", file.display()));
    } else {
        write_file(file, &text)?;
        if let Some(log) = &system.layout.log_file
            && let Some(dir) = log.parent()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::runtime(format!("cannot create {}: {e}", dir.display())))?;
        }
        let verb = if change == FileChange::New {
            "wrote"
        } else {
            "updated"
        };
        ctx.messages.status(format!(
            "{verb} {} {}",
            system.platform().describe(),
            file.display()
        ));
    }
    warn_about_the_binary(ctx, &spec.command[0]);
    match ctx.service_token(&view)? {
        Some((token, source)) => ctx.messages.status(format!(
            "the service will use the token {} from {source}",
            token.redacted()
        )),
        None => ctx.messages.warn(format!(
            "the service would find no Hugging Face token; {}",
            no_token_hint(ctx, &view)
        )),
    }
    let steps = manager::install_steps(system.platform(), change, file, system.uid);
    match system.manager() {
        Ok(manager) => {
            run_steps(ctx, &manager, &steps)?;
            ctx.messages.status(format!(
                "gateway: http://{} (OPENAI_BASE_URL=http://{}/v1); `hfclaw service status` shows its state",
                args.listen, args.listen
            ));
            if system.platform() == Platform::Systemd {
                ctx.messages.note(
                    "a user service stops when you log out; `loginctl enable-linger` keeps it running",
                );
            }
            Ok(())
        }
        Err(reason) => {
            ctx.messages.warn(format!(
                "{reason}: the service is installed but not started; run these once it is:"
            ));
            let lines: String = steps
                .iter()
                .map(|s| format!("{}\n", Shown(system.platform(), s)))
                .collect();
            print_data(&lines)
        }
    }
}

fn uninstall(ctx: &Context, system: &System) -> CliResult {
    let file = &system.layout.file;
    let platform = system.platform();
    if !file.exists() {
        ctx.messages.status(format!(
            "no hfclaw service installed ({} does not exist); nothing to do",
            file.display()
        ));
        return Ok(());
    }
    let manager = system.manager();
    let mut failure = None;
    match &manager {
        Ok(manager) => {
            if let Err(e) = run_steps(ctx, manager, &manager::stop_steps(platform, system.uid)) {
                failure = Some(e);
            }
        }
        Err(reason) => ctx.messages.warn(format!(
            "{reason}: removing the files only (a service it does not run needs no stopping)"
        )),
    }
    remove(file)?;
    ctx.messages.status(format!("removed {}", file.display()));
    if platform == Platform::Systemd {
        // What `systemctl disable` removes; left behind when systemd could not be asked.
        for link in system.layout.enable_links() {
            remove(&link)?;
            ctx.messages.status(format!("removed {}", link.display()));
        }
    }
    if let Ok(manager) = &manager {
        run_steps(ctx, manager, &manager::after_removal_steps(platform))?;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `service status`, as printed by `--json` (stable field names).
#[derive(Debug, Serialize)]
struct Status {
    manager: &'static str,
    file: String,
    installed: bool,
    enabled: Option<String>,
    active: Option<String>,
    listen: Option<String>,
    command: Option<Vec<String>>,
    token: Option<TokenStatus>,
    problems: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TokenStatus {
    source: String,
    redacted: String,
}

fn status(ctx: &Context, system: &System, args: &ServiceStatusArgs) -> CliResult {
    let file = &system.layout.file;
    let text = match std::fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(CliError::runtime(format!(
                "cannot read {}: {e}",
                file.display()
            )));
        }
    };
    let mut problems = Vec::new();
    let command = text.as_deref().and_then(|text| match system.platform() {
        Platform::Systemd => unit::systemd_command(text),
        Platform::Launchd => unit::launchd_command(text),
    });
    if text.is_some() && command.is_none() {
        problems.push(format!(
            "{} has no command line hfclaw can read; run `hfclaw service install` again",
            file.display()
        ));
    }
    if let Some(program) = command.as_ref().and_then(|c| c.first())
        && !Path::new(program).exists()
    {
        problems.push(format!(
            "the service runs {program}, which does not exist; run `hfclaw service install` again"
        ));
    }
    let (enabled, active) = match (&text, system.manager()) {
        (None, _) => (None, None),
        (Some(_), Ok(manager)) => {
            let (enabled, active) = manager.state();
            (Some(enabled), Some(active))
        }
        (Some(_), Err(reason)) => (
            Some(format!("unknown: {reason}")),
            Some("unknown".to_owned()),
        ),
    };
    // A broken config is one more problem to show, not a reason to hide the service.
    let token = match ctx.load_view() {
        Ok(view) => service_token_status(ctx, &view, text.is_some(), &mut problems)?,
        Err(e) => {
            problems.push(e.message().to_owned());
            None
        }
    };
    let status = Status {
        manager: match system.platform() {
            Platform::Systemd => "systemd",
            Platform::Launchd => "launchd",
        },
        file: file.display().to_string(),
        installed: text.is_some(),
        enabled,
        active,
        listen: command
            .as_deref()
            .and_then(|c| unit::flag_value(c, "--listen"))
            .map(str::to_owned),
        command,
        token,
        problems,
    };
    if args.json {
        let json = serde_json::to_string_pretty(&status)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        return print_data(&format!("{json}\n"));
    }
    print_data(&render_status(&status, system.platform()))
}

fn service_token_status(
    ctx: &Context,
    view: &OpenClawView,
    installed: bool,
    problems: &mut Vec<String>,
) -> CliResult<Option<TokenStatus>> {
    let found = ctx.service_token(view)?;
    if found.is_none() && installed {
        problems.push(format!(
            "the service finds no Hugging Face token; {}",
            no_token_hint(ctx, view)
        ));
    }
    Ok(found.map(|(token, source): (_, TokenSource)| TokenStatus {
        source: source.to_string(),
        redacted: token.redacted(),
    }))
}

fn render_status(status: &Status, platform: Platform) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        (
            "service",
            format!("{} {}", platform.describe(), status.file),
        ),
        (
            "installed",
            if status.installed {
                "yes".to_owned()
            } else {
                "no (run `hfclaw service install`)".to_owned()
            },
        ),
    ];
    if let Some(enabled) = &status.enabled {
        lines.push(("enabled", enabled.clone()));
    }
    if let Some(active) = &status.active {
        lines.push(("active", active.clone()));
    }
    if let Some(listen) = &status.listen {
        lines.push(("listen", format!("{listen} (http://{listen}/v1)")));
    }
    if let Some(command) = &status.command {
        lines.push(("command", command.join(" ")));
    }
    lines.push((
        "token",
        status.token.as_ref().map_or_else(
            || "none".to_owned(),
            |t| format!("{} (from {})", t.redacted, t.source),
        ),
    ));
    for (i, problem) in status.problems.iter().enumerate() {
        lines.push((if i == 0 { "problems" } else { "" }, format!("- {problem}")));
    }
    lines
        .iter()
        .map(|(label, value)| format!("{label:<10} {value}\n"))
        .collect()
}

/// The unit's command line and environment: this binary, `serve` with the flags, and the
/// config location pinned (the service has none of this shell's variables).
/// The `serve` flags of `install` that the service gets as they are (beside `--listen`,
/// `--api-key-file`, `--ledger-file` and the routes), made absolute where they are paths;
/// a warning for each one it cannot carry: a secret (`--api-key`, a ledger URL with a
/// password: a unit file is no place for them), the budgets (they live in the ledger
/// database, where the service and every replica read them) and `--refresh` (one start's).
fn carried_flags(ctx: &Context, args: &ServeArgs) -> CliResult<Vec<String>> {
    let mut flags = Vec::new();
    let mut flag = |name: &str, value: Option<String>| {
        flags.push(format!("--{name}"));
        flags.extend(value);
    };
    match args
        .ledger
        .location
        .ledger
        .as_deref()
        .map(LedgerSpec::parse)
    {
        Some(LedgerSpec::Sqlite(path)) => flag("ledger", Some(utf8(&absolute(&path)?)?)),
        Some(LedgerSpec::Postgres(url)) if redact_url(&url) == url => flag("ledger", Some(url)),
        Some(LedgerSpec::Postgres(url)) => ctx.messages.warn(format!(
            "--ledger {} is not written into the service (its password does not belong in a \
             unit file): put the URL in a file readable by you only and pass --ledger-file PATH",
            redact_url(&url)
        )),
        None => {}
    }
    if args.ledger.no_ledger {
        flag("no-ledger", None);
    }
    for host in &args.allowed_host {
        flag("allowed-host", Some(host.clone()));
    }
    for origin in &args.cors_origin {
        flag("cors-origin", Some(origin.clone()));
    }
    if args.allow_unauthenticated_lan {
        flag("allow-unauthenticated-lan", None);
    }
    for (name, value, default) in [
        (
            "max-concurrent",
            u64::from(args.max_concurrent),
            u64::from(DEFAULT_MAX_CONCURRENT),
        ),
        ("timeout", args.timeout, DEFAULT_TIMEOUT_SECS),
        (
            "max-body",
            u64::from(args.max_body),
            u64::from(DEFAULT_MAX_BODY_MIB),
        ),
        (
            "header-timeout",
            args.header_timeout,
            DEFAULT_HEADER_TIMEOUT_SECS,
        ),
    ] {
        if value != default {
            flag(name, Some(value.to_string()));
        }
    }
    if args.split_reasoning {
        flag("split-reasoning", None);
    }
    // Where `hfclaw budget set` / `keys update` must write for the service to see it.
    let ledger = match (
        &args.ledger.location.ledger_file,
        &args.ledger.location.ledger,
    ) {
        (Some(path), _) => format!(" --ledger-file {}", path.display()),
        (None, Some(text)) => format!(" --ledger {}", redact_url(text)),
        (None, None) => String::new(),
    };
    // The environment's key has its own warning (see `install`).
    if args.api_key.is_some() && env("HFCLAW_SERVE_API_KEY").is_none() {
        ctx.messages.warn(
            "--api-key is not written into the service (a secret does not belong in a unit \
             file): pass --api-key-file PATH, or create keys in the ledger with `hfclaw keys create LABEL`",
        );
    }
    if let Some(usd) = args.budget_usd_per_day {
        ctx.messages.warn(format!(
            "--budget-usd-per-day is not written into the service: budgets live in the ledger \
             database, where the service and every replica read them; run `hfclaw budget set \
             --usd-per-day {usd}{ledger}`"
        ));
    }
    for entry in &args.key_budget {
        let (label, usd) = entry.split_once('=').unwrap_or((entry.as_str(), "USD"));
        ctx.messages.warn(format!(
            "--key-budget {entry} is not written into the service: budgets live in the ledger \
             database, where the service and every replica read them; run `hfclaw keys update \
             {} --budget-usd-per-day {}{ledger}`",
            label.trim(),
            usd.trim()
        ));
    }
    if args.refresh {
        ctx.messages.warn(
            "--refresh is not written into the service: it is for one start (the service \
             fetches the router's list whenever its cache is stale)",
        );
    }
    Ok(flags)
}

fn service_spec(
    ctx: &Context,
    system: &System,
    args: &ServeArgs,
    key_file: Option<&Path>,
    ledger_file: Option<&Path>,
    carried: Vec<String>,
) -> CliResult<ServiceSpec> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::runtime(format!("cannot find this hfclaw binary: {e}")))?;
    let mut command = vec![
        utf8(&exe)?,
        "serve".to_owned(),
        "--listen".to_owned(),
        args.listen.clone(),
    ];
    if let Some(key_file) = key_file {
        command.extend(["--api-key-file".to_owned(), utf8(key_file)?]);
    }
    if let Some(ledger_file) = ledger_file {
        command.extend(["--ledger-file".to_owned(), utf8(ledger_file)?]);
    }
    // `--route` flags or `HFCLAW_ROUTES` (clap reads either), as flags: the unit gets no
    // variables of this shell.
    for route in args.routes.routes.iter().filter(|r| !r.trim().is_empty()) {
        command.extend(["--route".to_owned(), route.trim().to_owned()]);
    }
    if args.routes.no_default_routes {
        command.push("--no-default-routes".to_owned());
    }
    command.extend(carried);
    if ctx.paths.source == PathSource::Flag {
        command.extend(["--config".to_owned(), utf8(&absolute(&ctx.paths.config)?)?]);
    }
    if let Some(url) = &ctx.global.router_url {
        command.extend(["--router-url".to_owned(), url.clone()]);
    }
    let mut vars = Vec::new();
    for name in SERVICE_ENV_VARS {
        let Some(value) = env(name) else { continue };
        let value = if is_path_var(name) {
            utf8(&absolute(Path::new(&value))?)?
        } else {
            value
        };
        vars.push(((*name).to_owned(), value));
    }
    let token_note = format!(
        "hfclaw reads it from {} (or the config's env.vars, or env.shellEnv's login shell).",
        absolute(&ctx.paths.env_file)?.display()
    );
    let log_file = system.layout.log_file.as_deref().map(utf8).transpose()?;
    ServiceSpec::new(command, vars, token_note, log_file)
        .map_err(|e| CliError::input(e.to_string()))
}

fn is_path_var(name: &str) -> bool {
    !matches!(
        name,
        "HFCLAW_ROUTER_URL" | "OPENCLAW_LOAD_SHELL_ENV" | "OPENCLAW_SHELL_ENV_TIMEOUT_MS"
    )
}

/// `--listen`: `IP:PORT` or `HOST:PORT`, as `hfclaw serve` takes it.
fn listen_addr(text: &str) -> CliResult<SocketAddr> {
    let invalid = |reason: String| {
        CliError::input(format!("invalid --listen {text:?}: {reason}"))
            .hint("use HOST:PORT, e.g. --listen 127.0.0.1:4000")
    };
    let mut addrs = text.to_socket_addrs().map_err(|e| invalid(e.to_string()))?;
    let addr = addrs
        .next()
        .ok_or_else(|| invalid("it resolves to no address".to_owned()))?;
    if addr.port() == 0 {
        return Err(invalid(
            "a service needs a fixed port (0 picks a new one at every start)".to_owned(),
        ));
    }
    Ok(addr)
}

/// `--api-key-file`: must exist (the service would fail at every start); absolute.
fn api_key_file(path: &Path) -> CliResult<PathBuf> {
    let path = absolute(path)?;
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(CliError::input(format!(
            "--api-key-file {} is not a file",
            path.display()
        ))),
        Err(e) => Err(
            CliError::input(format!("--api-key-file {}: {e}", path.display()))
                .hint("write the key clients must send into that file (one line, mode 0600) first"),
        ),
    }
}

fn warn_about_the_binary(ctx: &Context, program: &str) {
    let parts: Vec<&str> = program.split('/').collect();
    let in_build_dir = parts
        .windows(2)
        .any(|w| w[0] == "target" && matches!(w[1], "debug" | "release"));
    if in_build_dir {
        ctx.messages.note(format!(
            "the service runs {program}, a build output: a rebuild or `cargo clean` changes it under the service; install hfclaw (`cargo install --path crates/cli`) and run `hfclaw service install` from there"
        ));
    }
}

/// Runs each step, printing it first; a failed step (not expected to fail) stops.
fn run_steps(ctx: &Context, manager: &Manager, steps: &[Step]) -> CliResult {
    for step in steps {
        let shown = Shown(manager.platform, step).to_string();
        ctx.messages.status(format!("$ {shown}"));
        let out = manager
            .run(step)
            .map_err(|e| CliError::runtime(format!("cannot run `{shown}`: {e}")))?;
        if !out.success && !step.may_fail {
            let hint = match manager.platform {
                Platform::Systemd => {
                    "see `journalctl --user -u hfclaw` and `hfclaw service status`"
                }
                Platform::Launchd => {
                    "see `hfclaw service status` and ~/Library/Logs/hfclaw/gateway.log"
                }
            };
            return Err(CliError::runtime(format!("`{shown}` failed: {}", out.stderr)).hint(hint));
        }
    }
    Ok(())
}

/// Writes the service file with the one safe write (`hfclaw_catalog::safe_write`: lock,
/// stale temp files swept, temp file, fsync, rename, fsync of the directory), 0644 as
/// systemd and launchd expect.
fn write_file(path: &Path, text: &str) -> CliResult {
    let fail =
        |e: std::io::Error| CliError::runtime(format!("cannot write {}: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| fail(std::io::Error::other("no parent directory")))?;
    std::fs::create_dir_all(dir).map_err(fail)?;
    hfclaw_catalog::safe_write::write_locked(path, text.as_bytes(), 0o644).map_err(fail)
}

fn remove(path: &Path) -> CliResult {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::runtime(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}

fn absolute(path: &Path) -> CliResult<PathBuf> {
    std::path::absolute(path)
        .map_err(|e| CliError::runtime(format!("cannot make {} absolute: {e}", path.display())))
}

fn utf8(path: &Path) -> CliResult<String> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        CliError::input(format!(
            "{} is not valid UTF-8, which a service file cannot hold",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    /// Tests that write scripts and start processes take turns: a script written while
    /// another test thread forks can fail to start ("text file busy").
    pub(super) static PROCESSES: std::sync::Mutex<()> = std::sync::Mutex::new(());
}
