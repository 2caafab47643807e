//! The state dir `.env`: one variable set in place, everything else kept, mode 0600.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hfclaw_config_merge::ConfigError;
use hfclaw_config_merge::env_file::{read_var, set_var};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn new_file_is_created_private_with_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/.env");
    assert!(set_var(&path, "HF_TOKEN", "hf_abc").unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "HF_TOKEN=hf_abc\n");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(
        read_var(&path, "HF_TOKEN").unwrap().as_deref(),
        Some("hf_abc")
    );
    assert_eq!(read_var(&path, "OTHER").unwrap(), None);
    assert_eq!(
        read_var(&dir.path().join("nope"), "HF_TOKEN").unwrap(),
        None
    );
}

#[test]
fn replaces_in_place_keeps_comments_and_other_lines_and_never_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(
        &path,
        "# my env\nOPENAI_API_KEY=sk-1\n\nexport HF_TOKEN=old # note\nHF_TOKENX=1\nHF_TOKEN=older\n# end",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(set_var(&path, "HF_TOKEN", "hf_new").unwrap());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# my env\nOPENAI_API_KEY=sk-1\n\nexport HF_TOKEN=hf_new\nHF_TOKENX=1\n# end"
    );
    assert_eq!(
        mode(&path),
        0o600,
        "a file holding a secret is made private"
    );
    // Same value again: no write.
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert!(!set_var(&path, "HF_TOKEN", "hf_new").unwrap());
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    // A missing variable is appended after a last line without a newline.
    assert!(set_var(&path, "HF_BILL_TO", "my-org").unwrap());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("# end\nHF_BILL_TO=my-org\n")
    );
    assert_eq!(read_var(&path, "HF_TOKENX").unwrap().as_deref(), Some("1"));
}

#[test]
fn crlf_lines_stay_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "A=1\r\nHF_TOKEN=x\r\nB=2\r\n").unwrap();
    set_var(&path, "HF_TOKEN", "y").unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "A=1\r\nHF_TOKEN=y\r\nB=2\r\n"
    );
}

#[test]
fn values_read_back_as_dotenv_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(
        &path,
        "A='x y'\nB=\"q\\nr\"\nC=plain # note\nexport D = spaced\nE=first\nE=last\n",
    )
    .unwrap();
    assert_eq!(read_var(&path, "A").unwrap().as_deref(), Some("x y"));
    assert_eq!(read_var(&path, "B").unwrap().as_deref(), Some("q\nr"));
    assert_eq!(read_var(&path, "C").unwrap().as_deref(), Some("plain"));
    assert_eq!(read_var(&path, "D").unwrap().as_deref(), Some("spaced"));
    assert_eq!(
        read_var(&path, "E").unwrap().as_deref(),
        Some("last"),
        "dotenv: last wins"
    );
    for value in [
        "with space",
        "hash#inside",
        "it's",
        "two\nlines",
        "say \"hi\"",
        "",
    ] {
        set_var(&path, "V", value).unwrap();
        assert_eq!(
            read_var(&path, "V").unwrap().as_deref(),
            Some(value),
            "{value:?}"
        );
    }
}

#[test]
fn unwritable_names_and_values_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    for (name, value) in [("BAD NAME", "x"), ("", "x"), ("V", "it's \"both\"\n")] {
        let err = set_var(&path, name, value).unwrap_err();
        assert!(matches!(err, ConfigError::EnvValue { .. }), "{err}");
        assert!(err.is_input_error() && err.hint().is_some());
    }
    assert!(!path.exists(), "nothing written");
}
