//! The files `hfclaw service install` writes, as pure functions of a [`ServiceSpec`]: a
//! systemd user unit and a launchd agent plist; and the command line read back out of
//! them for `status`.
//!
//! Neither file ever holds the token: the service reads it where `hfclaw serve` always
//! does (the state dir `.env`, the config's `env.vars`, `env.shellEnv`), so rotating the
//! token never means rewriting the unit.

use std::fmt::Write as _;

/// The systemd unit's name.
pub const SYSTEMD_UNIT: &str = "hfclaw.service";

/// The launchd job's label (and the plist's file stem).
pub const LAUNCHD_LABEL: &str = "ai.hfclaw.gateway";

/// What the service runs. Every string is checked by [`ServiceSpec::new`]: no control
/// characters, which neither file format can carry faithfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The command line: the absolute path of `hfclaw`, then `serve --listen …`.
    pub command: Vec<String>,
    /// Variables the service gets (config and cache locations; never a token).
    pub env: Vec<(String, String)>,
    /// Where the service finds its token, for the file's header comment.
    pub token_note: String,
    /// The log file (launchd only; systemd has the journal).
    pub log_file: Option<String>,
}

/// A string a service file cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnwritableValue {
    /// Which value.
    pub what: &'static str,
    /// The value (a path or address; never a secret).
    pub value: String,
}

impl std::fmt::Display for UnwritableValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} contains a control character, which a service file cannot hold: {:?}",
            self.what, self.value
        )
    }
}

impl ServiceSpec {
    /// Checks the values and builds the spec.
    pub fn new(
        command: Vec<String>,
        env: Vec<(String, String)>,
        token_note: String,
        log_file: Option<String>,
    ) -> Result<ServiceSpec, UnwritableValue> {
        let check = |what: &'static str, value: &str| {
            if value.chars().any(char::is_control) {
                Err(UnwritableValue {
                    what,
                    value: value.to_owned(),
                })
            } else {
                Ok(())
            }
        };
        for arg in &command {
            check("an argument", arg)?;
        }
        for (key, value) in &env {
            check("an environment variable name", key)?;
            check("an environment variable", value)?;
        }
        if let Some(log) = &log_file {
            check("the log file path", log)?;
        }
        Ok(ServiceSpec {
            command,
            env,
            token_note: token_note.replace(char::is_control, " "),
            log_file,
        })
    }
}

/// The systemd user unit (`~/.config/systemd/user/hfclaw.service`).
pub fn systemd_unit(spec: &ServiceSpec) -> String {
    // systemd substitutes variables in the arguments, not in the program's path.
    let exec: Vec<String> = spec
        .command
        .iter()
        .enumerate()
        .map(|(i, a)| systemd_exec_word(a, i > 0))
        .collect();
    let mut unit = String::new();
    let _ = writeln!(
        unit,
        "# Written by `hfclaw service install` (run it again to update it; `hfclaw service uninstall` removes it)."
    );
    let _ = writeln!(
        unit,
        "# The Hugging Face token is not in this file: {}",
        spec.token_note
    );
    unit.push_str(
        "[Unit]\n\
         Description=hfclaw gateway (OpenAI-compatible access to Hugging Face Inference Providers)\n\
         Documentation=https://github.com/hfclaw/hfclaw#hfclaw-service\n\
         \n\
         [Service]\n\
         Type=simple\n",
    );
    let _ = writeln!(unit, "ExecStart={}", exec.join(" "));
    for (key, value) in &spec.env {
        let _ = writeln!(
            unit,
            "Environment={}",
            systemd_quoted(&format!("{key}={value}"), false)
        );
    }
    unit.push_str(
        "Restart=on-failure\n\
         RestartSec=5\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
    );
    unit
}

/// The launchd agent (`~/Library/LaunchAgents/ai.hfclaw.gateway.plist`).
pub fn launchd_plist(spec: &ServiceSpec) -> String {
    let mut plist = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
    );
    let _ = writeln!(
        plist,
        "<!-- Written by `hfclaw service install` (run it again to update it; `hfclaw service uninstall` removes it). -->"
    );
    let _ = writeln!(
        plist,
        "<!-- The Hugging Face token is not in this file: {} -->",
        xml_comment(&spec.token_note)
    );
    plist.push_str("<plist version=\"1.0\">\n<dict>\n");
    let _ = writeln!(
        plist,
        "\t<key>Label</key>\n\t<string>{LAUNCHD_LABEL}</string>"
    );
    plist.push_str("\t<key>ProgramArguments</key>\n\t<array>\n");
    for arg in &spec.command {
        let _ = writeln!(plist, "\t\t<string>{}</string>", xml_text(arg));
    }
    plist.push_str("\t</array>\n");
    if !spec.env.is_empty() {
        plist.push_str("\t<key>EnvironmentVariables</key>\n\t<dict>\n");
        for (key, value) in &spec.env {
            let _ = writeln!(
                plist,
                "\t\t<key>{}</key>\n\t\t<string>{}</string>",
                xml_text(key),
                xml_text(value)
            );
        }
        plist.push_str("\t</dict>\n");
    }
    // KeepAlive on unsuccessful exit only: the analogue of Restart=on-failure, so a clean
    // stop (`launchctl bootout`, SIGTERM) is not undone.
    plist.push_str(
        "\t<key>RunAtLoad</key>\n\t<true/>\n\
         \t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n\
         \t<key>ThrottleInterval</key>\n\t<integer>5</integer>\n",
    );
    if let Some(log) = &spec.log_file {
        for key in ["StandardOutPath", "StandardErrorPath"] {
            let _ = writeln!(
                plist,
                "\t<key>{key}</key>\n\t<string>{}</string>",
                xml_text(log)
            );
        }
    }
    plist.push_str("</dict>\n</plist>\n");
    plist
}

/// The command line of a unit written by [`systemd_unit`] (its `ExecStart=`).
pub fn systemd_command(unit: &str) -> Option<Vec<String>> {
    let line = unit
        .lines()
        .find_map(|line| line.trim().strip_prefix("ExecStart="))?;
    systemd_split(line)
}

/// The command line of a plist written by [`launchd_plist`] (its `ProgramArguments`).
pub fn launchd_command(plist: &str) -> Option<Vec<String>> {
    let after_key = plist.split_once("<key>ProgramArguments</key>")?.1;
    let array = after_key.split_once("<array>")?.1.split_once("</array>")?.0;
    let mut args = Vec::new();
    let mut rest = array;
    while let Some((_, after)) = rest.split_once("<string>") {
        let (text, tail) = after.split_once("</string>")?;
        args.push(xml_unescape(text)?);
        rest = tail;
    }
    Some(args)
}

/// The value after `flag` in a command line (`--listen ADDR`).
pub fn flag_value<'a>(command: &'a [String], flag: &str) -> Option<&'a str> {
    let at = command.iter().position(|a| a == flag)?;
    command.get(at + 1).map(String::as_str)
}

/// A word of `ExecStart=`: `%` escaped (systemd expands specifiers), `$` too in an
/// argument (`dollars`: variables are expanded there); quoted when it holds anything
/// beyond a plain path or flag.
fn systemd_exec_word(word: &str, dollars: bool) -> String {
    if word == ";" {
        // A bare `;` separates command lines.
        return "\\;".to_owned();
    }
    systemd_quoted(word, dollars)
}

/// `text` as one systemd word; `dollars` also escapes `$` (only `ExecStart=` expands it).
fn systemd_quoted(text: &str, dollars: bool) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,=[]".contains(c));
    if plain {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '%' => out.push_str("%%"),
            '$' if dollars => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits an `ExecStart=` value the way systemd does for what [`systemd_exec_word`]
/// writes: whitespace-separated words, double or single quotes, backslash escapes,
/// `%%` and `$$`.
fn systemd_split(line: &str) -> Option<Vec<String>> {
    let mut words: Vec<String> = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                (c, None) if c.is_whitespace() => break,
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                ('\\', _) => word.push(chars.next()?),
                ('%', _) if chars.peek() == Some(&c) => {
                    chars.next();
                    word.push(c);
                }
                ('$', _) if !words.is_empty() && chars.peek() == Some(&c) => {
                    chars.next();
                    word.push(c);
                }
                (c, _) => word.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        words.push(word);
    }
}

fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn xml_unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (entity, tail) = rest[at + 1..].split_once(';')?;
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// An XML comment may not contain `--`.
fn xml_comment(text: &str) -> String {
    text.replace("--", "- -")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn spec(command: &[&str], env: &[(&str, &str)]) -> ServiceSpec {
        ServiceSpec::new(
            command.iter().map(|s| (*s).to_owned()).collect(),
            env.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            "hfclaw reads it from /home/u/.openclaw/.env, the config's env.vars or env.shellEnv."
                .to_owned(),
            Some("/home/u/Library/Logs/hfclaw/gateway.log".to_owned()),
        )
        .unwrap()
    }

    fn typical() -> ServiceSpec {
        spec(
            &[
                "/home/u/.cargo/bin/hfclaw",
                "serve",
                "--listen",
                "127.0.0.1:4000",
                "--api-key-file",
                "/home/u/.config/hfclaw/gateway.key",
                "--config",
                "/home/u/agents/openclaw.json",
            ],
            &[("OPENCLAW_STATE_DIR", "/home/u/state dir")],
        )
    }

    #[test]
    fn systemd_unit_snapshot() {
        insta::assert_snapshot!(systemd_unit(&typical()));
    }

    #[test]
    fn launchd_plist_snapshot() {
        insta::assert_snapshot!(launchd_plist(&typical()));
    }

    #[test]
    fn both_files_give_their_command_line_back() {
        let odd = spec(
            &[
                "/opt/my tools/hf%claw$HOME",
                "serve",
                "--config",
                "/x/\"quoted\" 'single' back\\slash <&>/c.json",
                ";",
                "",
            ],
            &[("A", "1 % $x \"y\"")],
        );
        assert_eq!(systemd_command(&systemd_unit(&odd)).unwrap(), odd.command);
        assert_eq!(launchd_command(&launchd_plist(&odd)).unwrap(), odd.command);
        let typical = typical();
        let command = systemd_command(&systemd_unit(&typical)).unwrap();
        assert_eq!(flag_value(&command, "--listen"), Some("127.0.0.1:4000"));
        assert_eq!(flag_value(&command, "--nope"), None);
    }

    #[test]
    fn systemd_escapes_specifiers_and_variables() {
        assert_eq!(
            systemd_exec_word("/usr/bin/hfclaw", false),
            "/usr/bin/hfclaw"
        );
        assert_eq!(systemd_exec_word("[::1]:4000", true), "[::1]:4000");
        assert_eq!(systemd_exec_word("a b", true), "\"a b\"");
        assert_eq!(systemd_exec_word("100%$X", true), "\"100%%$$X\"");
        assert_eq!(systemd_exec_word("/a/100%$X", false), "\"/a/100%%$X\"");
        assert_eq!(systemd_quoted("K=100%$X", false), "\"K=100%%$X\"");
        assert_eq!(systemd_exec_word("", true), "\"\"");
    }

    #[test]
    fn control_characters_are_refused() {
        let err = ServiceSpec::new(vec!["/bin/x\n".into()], vec![], String::new(), None);
        assert_eq!(err.unwrap_err().what, "an argument");
        let note = ServiceSpec::new(vec![], vec![], "a\nb".into(), None).unwrap();
        assert_eq!(note.token_note, "a b");
    }

    #[test]
    fn malformed_files_give_no_command() {
        assert_eq!(systemd_command("[Service]\nType=simple\n"), None);
        assert_eq!(systemd_command("ExecStart=\"/unterminated\n"), None);
        assert_eq!(launchd_command("<plist/>"), None);
        assert_eq!(
            launchd_command("<key>ProgramArguments</key><array><string>a&bogus;</string></array>"),
            None
        );
    }

    /// Python's `plistlib` (a real plist parser) reads the plist back to the same values.
    #[test]
    fn plist_parses_with_a_real_plist_reader() {
        let _turn = super::super::tests::PROCESSES
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let python = ["python3", "python"].into_iter().find(|p| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok()
        });
        let Some(python) = python else {
            eprintln!("skipped: no python3 to read the plist with plistlib");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.plist");
        let odd = spec(
            &["/opt/a & b/<hfclaw>", "serve", "--listen", "127.0.0.1:4000"],
            &[("OPENCLAW_STATE_DIR", "/s/'x'\"y\"")],
        );
        std::fs::write(&path, launchd_plist(&odd)).unwrap();
        let script = "import json, plistlib, sys\n\
                      p = plistlib.load(open(sys.argv[1], 'rb'))\n\
                      print(json.dumps([p['Label'], p['ProgramArguments'], p['EnvironmentVariables'], p['KeepAlive'], p['RunAtLoad']]))";
        let out = std::process::Command::new(python)
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            value,
            serde_json::json!([
                LAUNCHD_LABEL,
                odd.command,
                { "OPENCLAW_STATE_DIR": "/s/'x'\"y\"" },
                { "SuccessfulExit": false },
                true
            ])
        );
    }
}
