//! Every hint names only flags that exist on the command printing it (issue 19, defect 6).
//!
//! The test reads the workspace's sources, finds each `--flag` in a string literal, works
//! out which commands can print that string (from the file it is in), and asks clap's
//! command tree whether those commands take the flag. A flag inside a backtick code span
//! belongs to the command the span names (`` `hfclaw models list --refresh` `` is right
//! anywhere; `` `journalctl --user` `` is another program's). A literal that is only a flag
//! name (`"--since"`) is code (a name passed around, an argument list), not a hint.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::args::{Cli, command_has_flag};

/// Which commands may print the strings of a source file.
#[derive(Debug, Clone)]
enum Scope {
    /// Printed by any command: only flags every command takes (the global ones).
    Every,
    /// Printed by each of these commands: the flag must exist on all of them.
    Each(Vec<Vec<String>>),
    /// One file serving several subcommands, each printing its own hints: the flag must
    /// exist on one of them.
    Any(Vec<Vec<String>>),
}

fn path(words: &str) -> Vec<String> {
    words.split_whitespace().map(str::to_owned).collect()
}

fn under(prefix: &str, leaves: &[Vec<String>]) -> Vec<Vec<String>> {
    let prefix = path(prefix);
    leaves
        .iter()
        .filter(|leaf| leaf.starts_with(&prefix))
        .cloned()
        .collect()
}

/// The scope of the file at `relative` (from the `crates` directory); `None` for a
/// command module nobody mapped yet (the test then asks for it).
fn scope_of(relative: &str, leaves: &[Vec<String>]) -> Option<Scope> {
    let single = |words: &str| Some(Scope::Each(vec![path(words)]));
    let ledger = || {
        Some(Scope::Each(vec![
            path("chat"),
            path("run"),
            path("serve"),
            path("usage"),
            path("keys create"),
            path("keys list"),
            path("keys revoke"),
            path("keys update"),
            path("keys import"),
            path("budget set"),
        ]))
    };
    if let Some(name) = relative.strip_prefix("cli/src/commands/") {
        return match name {
            "doctor.rs" => single("doctor"),
            "models_status.rs" => single("models status"),
            "models_list.rs" => single("models list"),
            "models_show.rs" => single("models show"),
            "models_sync.rs" => single("models sync"),
            "chat.rs" => single("chat"),
            "onboard.rs" => single("onboard"),
            "usage.rs" => single("usage"),
            "completions.rs" => single("completions"),
            "keys.rs" => Some(Scope::Any(
                [under("keys", leaves), under("budget", leaves)].concat(),
            )),
            "memory.rs" => Some(Scope::Any(under("memory", leaves))),
            "models_tasks.rs" => Some(Scope::Any(vec![path("models list"), path("models show")])),
            "run.rs" => single("run"),
            "models_edit.rs" => Some(Scope::Any(
                [
                    under("models set", leaves),
                    under("models fallbacks", leaves),
                    under("models aliases", leaves),
                ]
                .concat(),
            )),
            name if name.starts_with("service/") => Some(Scope::Any(under("service", leaves))),
            "mod.rs" => Some(Scope::Every),
            _ => None,
        };
    }
    match relative {
        "cli/src/serve.rs" => single("serve"),
        "cli/src/ledger.rs" => ledger(),
        r if r.starts_with("gateway/src/") => single("serve"),
        r if r.starts_with("accounting/src/ledger/") => ledger(),
        _ => Some(Scope::Every),
    }
}

/// A flag named in a hint, and the command the hint's code span names, if any.
#[derive(Debug, PartialEq, Eq)]
struct Named {
    flag: String,
    /// `Some(path)` inside `` `hfclaw …` ``; `Some(None)` inside another program's code
    /// span (not ours to check); `None` outside code spans.
    span: Option<Option<Vec<String>>>,
}

/// The flags `line` names in its string literals.
fn flags_in(line: &str) -> Vec<Named> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") || !line.contains('"') {
        return Vec::new();
    }
    // Only what follows the first quote is (part of) a string literal.
    let text = &line[line.find('"').unwrap_or(0)..];
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--").map(|at| at + i) {
        i = at + 2;
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        let end = at + 2 + name.len();
        let before = &text[..at];
        // CSS custom properties (`var(--err)`, `--ok: #0a0`) of the status page.
        if before.ends_with("var(") || text[end..].starts_with(':') {
            continue;
        }
        // A literal that is just a flag's name.
        if bytes.get(at.wrapping_sub(1)) == Some(&b'"') && bytes.get(end) == Some(&b'"') {
            continue;
        }
        let ticks = before.matches('`').count();
        let span = (ticks % 2 == 1).then(|| {
            let open = before.rfind('`').map_or(0, |p| p + 1);
            let mut words = before[open..].split_whitespace();
            match words.next() {
                Some("hfclaw") => Some(
                    words
                        .take_while(|w| !w.starts_with('-') && !w.starts_with('{'))
                        .map(str::to_owned)
                        .collect(),
                ),
                _ => None,
            }
        });
        found.push(Named { flag: name, span });
    }
    found
}

/// The leaf commands of the tree (`["models", "list"]`, `["doctor"]`, …).
fn leaves() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = command
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() && !prefix.is_empty() {
            out.push(prefix.to_vec());
        }
        for sub in subs {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    out
}

/// What is wrong with `named` in a file of `scope`, if anything.
fn check(named: &Named, scope: &Scope, leaves: &[Vec<String>]) -> Option<String> {
    let has = |command: &[String]| command_has_flag(command, &named.flag);
    let show = |command: &[String]| format!("`hfclaw {}`", command.join(" "));
    match (&named.span, scope) {
        (Some(None), _) => None,
        (Some(Some(command)), _) => {
            (!has(command)).then(|| format!("{} has no --{}", show(command), named.flag))
        }
        (None, Scope::Every) => leaves.iter().find(|c| !has(c)).map(|c| {
            format!(
                "printed by any command, but {} has no --{}",
                show(c),
                named.flag
            )
        }),
        (None, Scope::Each(commands)) => commands
            .iter()
            .find(|c| !has(c))
            .map(|c| format!("{} has no --{}", show(c), named.flag)),
        (None, Scope::Any(commands)) => (!commands.iter().any(|c| has(c))).then(|| {
            let names: Vec<String> = commands.iter().map(|c| show(c)).collect();
            format!("none of {} has --{}", names.join(", "), named.flag)
        }),
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn hints_name_only_flags_of_the_command_printing_them() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let leaves = leaves();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap().flatten() {
        // The fuzz targets print nothing a user reads.
        if entry.file_name() != "fuzz" {
            sources(&entry.path().join("src"), &mut files);
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file
            .strip_prefix(&crates)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // Clap's own definitions, and generated data.
        if relative == "cli/src/args.rs"
            || relative.ends_with("builtin_data.rs")
            || relative.ends_with("hint_flags.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        // Tests print nothing a user reads.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let Some(scope) = scope_of(&relative, &leaves) else {
            problems.push(format!(
                "{relative}: a command module the test does not know; add it to scope_of"
            ));
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            for named in flags_in(line) {
                checked += 1;
                if let Some(problem) = check(&named, &scope, &leaves) {
                    problems.push(format!("{relative}:{}: {problem}", number + 1));
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} flags found in hints");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_hint_naming_a_missing_flag_is_caught() {
    let leaves = leaves();
    let doctor = Scope::Each(vec![path("doctor")]);
    let bad = flags_in(r#"        format!("next try in {}, or now with --refresh", x)"#);
    assert_eq!(
        check(&bad[0], &doctor, &leaves).as_deref(),
        Some("`hfclaw doctor` has no --refresh")
    );
    let every = flags_in(r#"    .hint("run it again with --json")"#);
    assert!(check(&every[0], &Scope::Every, &leaves).is_some());
    // Right anywhere: a global flag, and a command named in full.
    let global = flags_in(r#"    .hint("pass --config PATH")"#);
    assert_eq!(check(&global[0], &Scope::Every, &leaves), None);
    let spelled = flags_in(r#"  "run `hfclaw models list --refresh` for live data""#);
    assert_eq!(spelled[0].span, Some(Some(path("models list"))));
    assert_eq!(check(&spelled[0], &doctor, &leaves), None);
    let wrong = flags_in(r#"  "run `hfclaw models set --refresh`""#);
    assert!(check(&wrong[0], &Scope::Every, &leaves).is_some());
    // Not hints: another program's flags, a flag's bare name, CSS.
    assert_eq!(
        flags_in(r#"  "see `journalctl --user -u hfclaw`""#)[0].span,
        Some(None)
    );
    assert!(flags_in(r#"  time_arg("--since", text)"#).is_empty());
    assert!(flags_in(r#"  "<b style=\"color:var(--err)\">""#).is_empty());
    assert!(flags_in("    // a comment naming --refresh").is_empty());
}
