//! A throw-away PostgreSQL server for the ledger's tests (`cargo xtask ci`).
//!
//! Uses Debian's `postgresql` package (`/usr/lib/postgresql/<v>/bin`), installing it with
//! apt-get when it is missing; `initdb` into a fresh directory under
//! `target/postgres/`, starts it on a free loopback port (socket in the data dir, fsync
//! off, trust auth for the `hfclaw` role on 127.0.0.1 only) and stops it when the
//! [`Server`] is dropped — also when a step failed. PostgreSQL refuses to run as root, so
//! as root the server runs as the `postgres` user (or `nobody`) through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Result, root};

/// The environment variable the ledger's PostgreSQL tests read.
pub const URL_VAR: &str = "HFCLAW_TEST_POSTGRES_URL";

/// A running server; stopped and deleted on drop.
pub struct Server {
    bin: PathBuf,
    /// `target/postgres/run-<pid>`, removed on drop.
    dir: PathBuf,
    /// The cluster, `<dir>/db`.
    data: PathBuf,
    user: Option<String>,
    /// `postgres://hfclaw@127.0.0.1:PORT/postgres`.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.data.join("postmaster.pid").exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!(
                "postgres: stopping the test server in {} failed",
                self.data.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn command(&self, program: &str) -> Command {
        as_user(self.user.as_deref(), &self.bin.join(program))
    }
}

fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Starts a server, installing PostgreSQL first if needed. `Err` says why it could not.
pub fn start() -> Result<Server> {
    let bin = match find_bin() {
        Some(bin) => bin,
        None => {
            install()?;
            find_bin().ok_or("the postgresql package installed no initdb")?
        }
    };
    let base = root().join("target/postgres");
    std::fs::create_dir_all(&base)?;
    stop_stale(&bin, &base);
    let dir = base.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let user = if nix::unistd::geteuid().is_root() {
        let user = ["postgres", "nobody"]
            .into_iter()
            .find(|u| nix::unistd::User::from_name(u).ok().flatten().is_some())
            .ok_or(
                "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as",
            )?;
        let status = Command::new("chown")
            .arg("-R")
            .arg(user)
            .arg(&dir)
            .status()?;
        if !status.success() {
            return Err(format!("chown {user} {} failed", dir.display()).into());
        }
        Some(user.to_owned())
    } else {
        None
    };
    let port = free_port()?;
    let server = Server {
        bin,
        data: dir.join("db"),
        dir,
        user,
        url: format!("postgres://hfclaw@127.0.0.1:{port}/postgres"),
    };
    let output = server
        .command("initdb")
        .arg("-D")
        .arg(&server.data)
        .args([
            "-U",
            "hfclaw",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ])
        .output()?;
    if !output.status.success() {
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        server.data.display()
    );
    let output = server
        .command("pg_ctl")
        .arg("-D")
        .arg(&server.data)
        .args(["-o", &options, "-l"])
        .arg(server.data.join("server.log"))
        .args(["-w", "-t", "60", "start"])
        .output()?;
    if !output.status.success() {
        let log = std::fs::read_to_string(server.data.join("server.log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}{log}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    println!(
        "postgres: test server at {} (data in {})",
        server.url,
        server.data.display()
    );
    Ok(server)
}

/// The newest `/usr/lib/postgresql/<v>/bin` with an `initdb`.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// `apt-get install postgresql` (after `apt-get update` when the package is unknown).
fn install() -> Result<()> {
    println!("postgres: installing Debian's postgresql package (once)");
    let apt = |args: &[&str]| -> Result<bool> {
        Ok(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()?
            .success())
    };
    let install = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "postgresql",
    ];
    if apt(&install)? {
        return Ok(());
    }
    if apt(&["update", "-q"])? && apt(&install)? {
        return Ok(());
    }
    Err("apt-get install postgresql failed".into())
}

/// Stops servers a killed earlier run left behind in `base`.
fn stop_stale(bin: &Path, base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let db = entry.path().join("db");
        if db.join("postmaster.pid").exists() {
            let owner = std::fs::metadata(&db).ok().and_then(|m| {
                use std::os::unix::fs::MetadataExt;
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(m.uid()))
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            });
            let owner = owner.filter(|_| nix::unistd::geteuid().is_root());
            let _ = as_user(owner.as_deref(), &bin.join("pg_ctl"))
                .arg("-D")
                .arg(&db)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
