//! The targets and the properties each checks.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use hfclaw_catalog::cache::CachedList;
use hfclaw_catalog::listing::{Filter, Selection, rows};
use hfclaw_catalog::{Catalog, ConfigModel, builtin, parse_model_list};
use hfclaw_config_merge::{ConfigDocument, Editor, fuzzing};
use hfclaw_model_ref::{Aliases, Ids, ModelRef, UserModels};
use hfclaw_router_client::sse::{ChatDecoder, OwnedSseEvent, SseParser, decode_all};
use serde_json::Value;

use crate::Target;

pub(crate) const ALL: &[Target] = &[
    Target {
        name: "model_ref",
        run: model_ref,
        dictionary: &[
            "huggingface/",
            "/",
            ":",
            ":fastest",
            ":cheapest",
            ":preferred",
            ":together",
            "deepseek-ai",
            "Qwen3-8B",
            ".",
            "..",
            "-",
            "_",
            "HuggingFace/",
            "huggingface/huggingface/",
            " ",
            "é",
            "A",
        ],
    },
    Target {
        name: "json5_parsers",
        run: json5_parsers,
        dictionary: JSON5,
    },
    Target {
        name: "editor",
        run: editor,
        dictionary: JSON5,
    },
    Target {
        name: "sse",
        run: sse,
        dictionary: &[
            "data: ",
            "data:",
            "event: error\n",
            "\n\n",
            "\r\n",
            "\r",
            ":",
            "id: 1\n",
            "retry: 10\n",
            "[DONE]",
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}",
            "{\"error\":{\"message\":\"m\",\"code\":429}}",
            "\"reasoning_content\":\"r\"",
            "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}",
            "\"finish_reason\":\"stop\"",
            "\u{feff}",
            "[[[[",
        ],
    },
    Target {
        name: "router_list",
        run: router_list,
        dictionary: &[
            "{\"object\":\"list\",\"data\":[",
            "]}",
            "{\"id\":\"a/b\"}",
            ",",
            "\"providers\":[",
            "{\"provider\":\"p\",\"status\":\"live\"}",
            "\"pricing\":{\"input\":1,\"output\":2}",
            "\"context_length\":131072",
            "\"error\"",
            "null",
            "-1",
            "1e400",
            "\"architecture\":{\"input_modalities\":[\"text\"]}",
            "[[[[",
            "\"name\":\"\"",
            "\"owned_by\":\"o\"",
        ],
    },
    Target {
        name: "env_file",
        run: env_file,
        dictionary: &[
            "HF_TOKEN", "=", "\n", "\r\n", "export ", "#", "'", "\"", "`", "\\n", " ", "hf_x",
            "HF", "\0",
        ],
    },
    Target {
        name: "cache_reader",
        run: cache_reader,
        dictionary: &[
            "{\"version\":1,\"base_url\":\"http://x/v1\",\"fetched_at\":1,\"etag\":null,\"body\":",
            "{\"data\":[{\"id\":\"a/b\"}]}",
            "}",
            "\"version\":2",
            "null",
            "\"etag\":\"\\\"e\\\"\"",
            "[[[[",
            "\"",
            "\\u0000",
        ],
    },
    Target {
        name: "request_body",
        run: crate::request_body::run,
        dictionary: crate::request_body::DICTIONARY,
    },
];

const JSON5: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "'",
    "\"",
    "\\",
    "//",
    "/*",
    "*/",
    "\n",
    "\r\n",
    " ",
    "\t",
    "agents",
    "defaults",
    "model",
    "models",
    "primary",
    "fallbacks",
    "alias",
    "providers",
    "huggingface",
    "modelPolicy",
    "allow",
    "'huggingface/a/b'",
    "\"x\"",
    "null",
    "true",
    "0x1F",
    "1e3",
    ".5",
    "-0",
    "Infinity",
    "NaN",
    "\\u0041",
    "\\x41",
    "\\ud83d\\ude00",
    "\u{2028}",
    "\u{feff}",
    "é",
    "{a:1}",
    "[1,]",
    "apiKey",
];

/// Bytes as text; invalid UTF-8 is skipped (the readers' own UTF-8 check is tested apart).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn model_ref(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(r) = text.parse::<ModelRef>() {
        let shown = r.to_string();
        assert_eq!(shown, text, "a ref displays as written");
        assert_eq!(shown.parse::<ModelRef>().as_ref(), Ok(&r));
        if r.is_huggingface() {
            let again = ModelRef::from_router_id(r.router_model_id());
            assert_eq!(again.as_ref(), Ok(&r), "router id round trip of {text:?}");
        }
    }
    let mut user = UserModels {
        providers: vec!["my-proxy".to_owned()],
        ..UserModels::default()
    };
    if let Ok(r) = "huggingface/Qwen/Qwen3-8B:cheapest".parse::<ModelRef>() {
        user.aliases.insert(r, "qwen");
    }
    if let Ok(resolved) = user.resolve(text, &Ids(&["Qwen/Qwen3-8B", "deepseek-ai/DeepSeek-R1"])) {
        let again = resolved.model_ref.to_string().parse::<ModelRef>();
        assert_eq!(again.as_ref(), Ok(&resolved.model_ref));
    }
}

fn json5_parsers(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Err(e) = fuzzing::json5_parsers(text) {
        panic!("{e}");
    }
    // The public reader never fails otherwise than with an error.
    let _ = ConfigDocument::parse(Path::new("/f/openclaw.json"), text.to_owned());
}

/// The edits hfclaw makes, chosen by the input's first bytes.
#[derive(Clone, Copy, Debug)]
enum Edit {
    Primary,
    AddFallback,
    RemoveFallback,
    ClearFallbacks,
    Alias,
    Allow,
    ProviderBlock,
    Merge,
}

impl Edit {
    fn of(byte: u8) -> Edit {
        [
            Edit::Primary,
            Edit::AddFallback,
            Edit::RemoveFallback,
            Edit::ClearFallbacks,
            Edit::Alias,
            Edit::Allow,
            Edit::ProviderBlock,
            Edit::Merge,
        ][byte as usize % 8]
    }

    fn apply(self, editor: &mut Editor, n: u8) -> Result<bool, hfclaw_config_merge::ConfigError> {
        let model_ref = format!("huggingface/org/m{}", n % 3);
        match self {
            Edit::Primary => editor.set_primary(&model_ref),
            Edit::AddFallback => editor.add_fallback(&model_ref),
            Edit::RemoveFallback => editor.remove_fallback(&model_ref),
            Edit::ClearFallbacks => editor.clear_fallbacks(),
            Edit::Alias => editor.set_alias(&model_ref, &format!("A{n}")),
            Edit::Allow => editor.allow(&model_ref),
            Edit::ProviderBlock => editor.ensure_provider_block(Some("http://x/v1")),
            Edit::Merge => {
                let entry = ConfigModel {
                    id: format!("org/m{}", n % 3),
                    name: Some("M".to_owned()),
                    context_window: Some(1024),
                    ..ConfigModel::default()
                };
                editor
                    .merge_provider_models(&[entry])
                    .map(|r| !r.added.is_empty())
            }
        }
    }

    /// The object paths an edit may change (everything else must read the same).
    fn paths(self) -> &'static [&'static [&'static str]] {
        const MODEL: &[&str] = &["agents", "defaults", "model"];
        const MODELS: &[&str] = &["agents", "defaults", "models"];
        const POLICY: &[&str] = &["agents", "defaults", "modelPolicy"];
        const PROVIDER: &[&str] = &["models", "providers", "huggingface"];
        match self {
            Edit::Primary | Edit::AddFallback | Edit::RemoveFallback | Edit::ClearFallbacks => {
                &[MODEL]
            }
            Edit::Alias | Edit::Allow => &[MODELS, POLICY],
            Edit::ProviderBlock | Edit::Merge => &[PROVIDER],
        }
    }

    /// Edits that only add: every comment survives them.
    fn adds_only(self) -> bool {
        !matches!(self, Edit::RemoveFallback | Edit::ClearFallbacks)
    }
}

/// `value` with the members at `paths` removed (containers on the way that end up empty,
/// or were created, count as absent).
fn outside(value: &Value, paths: &[&[&str]]) -> Value {
    let mut value = value.clone();
    for path in paths {
        remove(&mut value, path);
    }
    value
}

fn remove(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Value::Object(map) = value else { return };
    if rest.is_empty() {
        map.shift_remove(*first);
        return;
    }
    if let Some(child) = map.get_mut(*first) {
        remove(child, rest);
        let empty = matches!(child, Value::Object(m) if m.is_empty()) || child.is_null();
        if empty {
            map.shift_remove(*first);
        }
    }
}

/// Parse → edits → parse again: every edit either fails leaving the text as it was, or
/// yields text both parsers read, where everything outside the edited keys reads the same,
/// no comment is lost by an edit that only adds, and the same edit again changes nothing.
fn editor(data: &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = (count % 4) as usize + 1;
    if rest.len() < count {
        return;
    }
    let (ops, body) = rest.split_at(count);
    let Some(text) = text(body) else { return };
    let path = Path::new("/f/openclaw.json");
    let Ok(mut editor) = Editor::new(path, text) else {
        return;
    };
    for &op in ops {
        let edit = Edit::of(op);
        let before = editor.text();
        let old = editor.value();
        match edit.apply(&mut editor, op / 8) {
            Err(_) => assert_eq!(
                editor.as_str(),
                before,
                "{edit:?} failed but changed the text"
            ),
            Ok(_) => {
                let after = editor.text();
                let reparsed = ConfigDocument::parse(path, after.clone())
                    .unwrap_or_else(|e| panic!("{edit:?} broke the file: {e}\n{after}"));
                let value: Value = json5::from_str(&after)
                    .unwrap_or_else(|e| panic!("{edit:?}: json5 refuses {after:?}: {e}"));
                assert_eq!(&value, reparsed.value());
                assert_eq!(
                    outside(&old, edit.paths()),
                    outside(&value, edit.paths()),
                    "{edit:?} changed other keys:\n{before}\n---\n{after}"
                );
                if edit.adds_only() {
                    let mut lost = fuzzing::comments(&before);
                    for kept in fuzzing::comments(&after) {
                        if let Some(i) = lost.iter().position(|c| *c == kept) {
                            lost.remove(i);
                        }
                    }
                    assert!(
                        lost.is_empty(),
                        "{edit:?} lost {lost:?}:\n{before}\n---\n{after}"
                    );
                    let again = edit.apply(&mut editor, op / 8);
                    assert!(
                        matches!(again, Ok(false)) && editor.as_str() == after,
                        "{edit:?} is not idempotent: {again:?}\n{after}\n---\n{}",
                        editor.as_str()
                    );
                }
            }
        }
    }
}

/// SSE: events do not depend on where the stream is cut into reads, and decoding them
/// never panics.
fn sse(data: &[u8]) {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    // Fuzz inputs are far below the parser's 16 MiB cap: an error here is a bug.
    let Ok(whole) = SseParser::new().push(stream) else {
        panic!("a short stream was refused as too large");
    };
    let mut parser = SseParser::new();
    let mut split: Vec<OwnedSseEvent> = Vec::new();
    let step = cut as usize % 7 + 1;
    for chunk in stream.chunks(step) {
        let Ok(events) = parser.push(chunk) else {
            panic!("a short stream was refused as too large");
        };
        split.extend(events);
    }
    assert_eq!(whole, split, "events depend on the read size {step}");
    let events = decode_all(stream);
    let mut decoder = ChatDecoder::new();
    let mut chunked = Vec::new();
    for chunk in stream.chunks(step) {
        decoder.push(chunk, &mut chunked);
    }
    decoder.finish(&mut chunked);
    assert_eq!(
        events, chunked,
        "decoded events depend on the read size {step}"
    );
}

/// Router lists: parsing never panics, and what parses merges into a catalog and lists.
fn router_list(data: &[u8]) {
    if let Ok(list) = parse_model_list(data) {
        let catalog = Catalog::merge(builtin::models(), Some(list.models), &[]);
        let aliases = Aliases::new();
        let selection = Selection {
            primary: None,
            fallbacks: &[],
            aliases: &aliases,
            allowlist: &[],
        };
        let filter = Filter {
            all: true,
            ..Filter::default()
        };
        let _ = rows(&catalog, &selection, &filter);
    }
}

/// `.env`: input is `NAME\0VALUE\0TEXT`.
fn env_file(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let mut parts = text.splitn(3, '\0');
    let (Some(name), Some(value), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if let Err(e) = fuzzing::env_file(body, name, value) {
        panic!("{e}");
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<(tempfile::TempDir, PathBuf)>> = const { RefCell::new(None) };
}

/// The discovery cache: reading any file never panics, and a file that reads back writes
/// and reads the same.
fn cache_reader(data: &[u8]) {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let (_, path) = scratch.get_or_insert_with(|| {
            let shm = Path::new("/dev/shm");
            let dir = if shm.is_dir() {
                tempfile::tempdir_in(shm)
            } else {
                tempfile::tempdir()
            }
            .expect("a scratch directory");
            let path = dir.path().join("models.json");
            (dir, path)
        });
        std::fs::write(&*path, data).expect("writing the scratch file");
        if let Ok(Some(cached)) = CachedList::read(path) {
            cached.write(path).expect("a cache that reads writes again");
            let again = CachedList::read(path).expect("reading it back");
            assert_eq!(again.as_ref(), Some(&cached));
        }
    });
}
