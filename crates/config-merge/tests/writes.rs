//! Safe writes: untouched on error, idempotent, backups, modes, and no lost edit under
//! concurrency.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use hfclaw_config_merge::{
    ConfigDocument, ConfigError, edit_config, edit_loaded_config, edit_models_json,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn parse_error_leaves_bytes_and_mtime_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    let broken = "{ agents: { defaults: { model: 'x' }\n";
    std::fs::write(&path, broken).unwrap();
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let err = edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!("{}:", path.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    assert!(!dir.path().join("openclaw.json.bak").exists());
}

#[test]
fn an_edit_from_a_loaded_document_keeps_a_change_made_since_loading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{\n  // mine\n  agents: {},\n}\n").unwrap();
    let loaded = ConfigDocument::load(&path).unwrap();
    // Another process writes between our read and our locked edit.
    edit_config(&path, |e| e.add_fallback("huggingface/c/d")).unwrap();
    edit_loaded_config(&path, loaded, |e| e.set_primary("huggingface/a/b")).unwrap();
    let value = ConfigDocument::load(&path).unwrap().unwrap();
    let view = value.view();
    assert_eq!(view.primary.as_deref(), Some("huggingface/a/b"));
    assert_eq!(view.fallbacks, ["huggingface/c/d"]);
    assert!(value.text().contains("// mine"));
}

#[test]
fn an_edit_from_an_unchanged_loaded_document_equals_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = "// c\n{ agents: { defaults: { model: 'huggingface/x/y' } }, }\n";
    let fresh = dir.path().join("fresh.json");
    let reused = dir.path().join("reused.json");
    std::fs::write(&fresh, text).unwrap();
    std::fs::write(&reused, text).unwrap();
    let loaded = ConfigDocument::load(&reused).unwrap();
    edit_config(&fresh, |e| e.set_primary("huggingface/a/b")).unwrap();
    edit_loaded_config(&reused, loaded, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&reused).unwrap(),
        std::fs::read_to_string(&fresh).unwrap()
    );
}

#[test]
fn same_edit_twice_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "// mine\n{ agents: {} }\n").unwrap();
    let (_, first) = edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert!(first.changed && !first.created);
    let bytes = std::fs::read(&path).unwrap();
    let (changed, second) = edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert!(!changed && !second.changed && second.backup.is_none());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(
        !dir.path().join("openclaw.json.bak.1").exists(),
        "no backup for a no-op"
    );
}

#[test]
fn backups_rotate_like_openclaw_and_modes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "// v0\n{}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut versions = vec![std::fs::read_to_string(&path).unwrap()];
    for i in 0..7 {
        let (_, outcome) =
            edit_config(&path, |e| e.set_primary(&format!("huggingface/a/m{i}"))).unwrap();
        assert_eq!(outcome.backup, Some(dir.path().join("openclaw.json.bak")));
        assert!(outcome.changed && !outcome.created);
        versions.push(std::fs::read_to_string(&path).unwrap());
    }
    assert_eq!(mode(&path), 0o644, "the file's mode is kept");
    // `.bak` is the version before the last write, `.bak.4` four writes older; older
    // ones are gone.
    let bak = |suffix: &str| {
        std::fs::read_to_string(dir.path().join(format!("openclaw.json{suffix}"))).unwrap()
    };
    assert_eq!(bak(".bak"), versions[6]);
    assert_eq!(bak(".bak.1"), versions[5]);
    assert_eq!(bak(".bak.2"), versions[4]);
    assert_eq!(bak(".bak.3"), versions[3]);
    assert_eq!(bak(".bak.4"), versions[2]);
    assert!(!dir.path().join("openclaw.json.bak.5").exists());
    for suffix in [".bak", ".bak.1", ".bak.4"] {
        assert_eq!(
            mode(&dir.path().join(format!("openclaw.json{suffix}"))),
            0o600,
            "{suffix}"
        );
    }
    let lock = dir.path().join("openclaw.json.lock");
    assert!(lock.exists(), "the lock is a sibling file");
}

#[test]
fn a_file_with_other_hard_links_is_backed_up_by_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    let other = dir.path().join("elsewhere.json");
    std::fs::write(&path, "{}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::hard_link(&path, &other).unwrap();
    edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "{}\n");
    assert_eq!(mode(&other), 0o644, "the other link's mode is not touched");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openclaw.json.bak")).unwrap(),
        "{}\n"
    );
}

#[test]
fn a_symlinked_config_stays_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles/openclaw.json");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::write(&real, "{ agents: {} }\n").unwrap();
    let link = dir.path().join("openclaw.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    edit_config(&link, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("huggingface/a/b")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dotfiles/openclaw.json.bak")).unwrap(),
        "{ agents: {} }\n"
    );
}

#[test]
fn new_files_are_private_and_parents_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/openclaw.json");
    let (_, outcome) = edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert!(outcome.created && outcome.backup.is_none());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    // A no-op on a missing file creates nothing.
    let other = dir.path().join("other/openclaw.json");
    edit_config(&other, |e| e.remove_fallback("huggingface/a/b")).unwrap();
    assert!(!other.exists());
}

#[test]
fn models_json_gets_the_same_merge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agents/main/agent/models.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // As OpenClaw writes it: `JSON.stringify(…, null, 2) + "\n"`.
    let original = "{\n  \"providers\": {\n    \"other\": {\n      \"baseUrl\": \"x\",\n      \"models\": []\n    }\n  }\n}\n";
    std::fs::write(&path, original).unwrap();
    let entry = hfclaw_catalog::ConfigModel {
        id: "a/b".into(),
        name: Some("AB".into()),
        context_window: Some(131072),
        cost: Some(hfclaw_catalog::ConfigCost {
            input: Some(1.0),
            output: Some(2.0),
            cache_read: Some(0.0),
            cache_write: Some(0.0),
        }),
        ..Default::default()
    };
    let (report, outcome) =
        edit_models_json(&path, "http://router/v1", std::slice::from_ref(&entry)).unwrap();
    assert_eq!(report.added, ["a/b"]);
    assert!(outcome.changed);
    let text = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!("models_json", text);
    let value: serde_json::Value = serde_json::from_str(&text).expect("still plain JSON");
    assert_eq!(value["providers"]["other"]["baseUrl"], "x");
    assert_eq!(
        value["providers"]["huggingface"]["baseUrl"],
        "http://router/v1"
    );
    // Same command again: same bytes, no new backup.
    let (again, outcome) = edit_models_json(&path, "http://router/v1", &[entry]).unwrap();
    assert_eq!((again.added.len(), again.kept), (0, 1));
    assert_eq!(outcome, hfclaw_config_merge::EditOutcome::default());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("agents/main/agent/models.json.bak")).unwrap(),
        original
    );
}

#[test]
fn a_missing_models_json_is_created_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agents/main/agent/models.json");
    let entry = hfclaw_catalog::ConfigModel {
        id: "a/b".into(),
        ..Default::default()
    };
    let (_, outcome) = edit_models_json(&path, "http://router/v1", &[entry]).unwrap();
    assert!(outcome.created && outcome.backup.is_none());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        value["providers"]["huggingface"]["models"][0]["name"],
        "a/b"
    );
}

#[test]
fn an_error_inside_the_edit_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(
        &path,
        "{ agents: { defaults: { model: { fallbacks: 'x' } } } }",
    )
    .unwrap();
    let err = edit_config(&path, |e| {
        e.set_primary("huggingface/a/b")?;
        e.add_fallback("huggingface/c/d")
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::WrongType { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{ agents: { defaults: { model: { fallbacks: 'x' } } } }",
        "the first edit is not written either"
    );
}

const WORKER_ENV: &str = "HFCLAW_CONCURRENCY_WORKER";

/// Not a test on its own: the body of each concurrent writer process.
#[test]
fn concurrency_worker() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let (path, name) = spec.split_once('|').unwrap();
    for i in 0..200 {
        edit_config(Path::new(path), |e| {
            e.set_alias(&format!("huggingface/{name}/m{i}"), &format!("{name}-{i}"))
        })
        .unwrap();
    }
}

#[test]
fn two_processes_editing_200_times_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(
        &path,
        "// shared\n{ agents: { defaults: { models: {} } } }\n",
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let workers: Vec<_> = ["alpha", "beta"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency_worker",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WORKER_ENV, format!("{}|{name}", path.display()))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut worker in workers {
        assert!(worker.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("// shared\n"));
    let value: serde_json::Value = json5::from_str(&text).unwrap();
    let models = value["agents"]["defaults"]["models"].as_object().unwrap();
    assert_eq!(models.len(), 400, "every edit of both processes is there");
    for name in ["alpha", "beta"] {
        for i in 0..200 {
            assert_eq!(
                models[&format!("huggingface/{name}/m{i}")]["alias"],
                format!("{name}-{i}")
            );
        }
    }
}

#[test]
fn a_blank_file_stays_untouched_by_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "\n").unwrap();
    let (_, outcome) = edit_config(&path, |e| e.remove_fallback("a/b")).unwrap();
    assert!(!outcome.changed);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "\n");
    let (_, outcome) = edit_config(&path, |e| e.set_primary("a/b")).unwrap();
    assert!(outcome.changed && !outcome.created);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openclaw.json.bak")).unwrap(),
        "\n"
    );
}

#[test]
fn files_beside_the_config_are_private() {
    // Issue 19, defect 12: the lock files (of the config and of the `.env`) and backups
    // are 0600 whatever the config's own mode and the umask; temp files are 0600 from their
    // creation (`hfclaw_catalog::safe_write`'s tests).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert_eq!(mode(&path), 0o644, "the config keeps its mode");
    assert_eq!(mode(&dir.path().join("openclaw.json.lock")), 0o600);
    assert_eq!(mode(&dir.path().join("openclaw.json.bak")), 0o600);
    let env = dir.path().join(".env");
    hfclaw_config_merge::env_file::set_var(&env, "HF_TOKEN", "hf_x").unwrap();
    assert_eq!(mode(&env), 0o600);
    assert_eq!(mode(&dir.path().join(".env.lock")), 0o600);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".env",
            ".env.lock",
            "openclaw.json",
            "openclaw.json.bak",
            "openclaw.json.lock"
        ]
    );
}
