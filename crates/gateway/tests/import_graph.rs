//! The gateway's modules import each other in one direction only (ARCHITECTURE.md): this
//! reads `src/` and fails, naming the circle, when a `crate::…` path closes one. The crate
//! root (`lib.rs`) declares and re-exports; modules never import from it.
//!
//! A module is a top-level file (`src/forward.rs`) or directory (`src/routes/…`); paths
//! inside one module do not count. Comment lines are skipped, so doc links may point
//! anywhere.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate root's name in the graph.
const ROOT: &str = "lib";

#[test]
fn gateway_modules_import_in_one_direction() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut texts: Vec<(String, String)> = Vec::new();
    collect(&src, &src, &mut texts);
    let modules: BTreeSet<String> = texts.iter().map(|(m, _)| m.clone()).collect();
    assert!(
        modules.len() > 5,
        "found no modules under {}",
        src.display()
    );

    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut from_root = Vec::new();
    for (module, text) in &texts {
        let edges = graph.entry(module.clone()).or_default();
        for name in crate_paths(text) {
            let target = if modules.contains(&name) {
                name.clone()
            } else {
                ROOT.to_owned()
            };
            if target == ROOT && module != ROOT {
                from_root.push(format!("{module} uses crate::{name}"));
            }
            if target != *module {
                edges.insert(target);
            }
        }
    }
    assert!(
        from_root.is_empty(),
        "modules import from the crate root (move the item into a module and re-export it \
         from lib.rs): {from_root:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the gateway's modules import in a circle: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn a_circle_is_named() {
    fn edge(graph: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str) {
        graph.entry(a.to_owned()).or_default().insert(b.to_owned());
        graph.entry(b.to_owned()).or_default();
    }
    let mut graph = BTreeMap::new();
    edge(&mut graph, "routes", "forward");
    edge(&mut graph, "forward", "app");
    edge(&mut graph, "app", "metrics");
    assert_eq!(find_cycle(&graph), None);
    edge(&mut graph, "metrics", "forward");
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["app", "metrics", "forward", "app"]
    );
}

#[test]
fn paths_are_read_from_uses_groups_and_expressions() {
    let text = "use crate::api::Api;\n\
                use crate::{metrics, status_page::{self, Page}};\n\
                // see crate::server\n\
                /// [`crate::routes`]\n\
                let x = crate::tap::split(y); macro!($crate::ignored);\n\
                pub(crate) fn f() {}\n\
                use crate::{\n    cooldown::Plan,\n    error::ApiError,\n};\n";
    assert_eq!(
        crate_paths(text),
        ["api", "metrics", "status_page", "tap", "cooldown", "error"]
    );
}

/// Every `.rs` file under `dir`, with the top-level module it belongs to.
fn collect(src: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
            out.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The first segment of every `crate::…` path in `text` (comment lines skipped; a
/// `crate::{a, b::c}` group gives each of its items).
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let macro_path = rest[..at].ends_with('$');
        let is_word_start = !rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if macro_path || !is_word_start {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Items at depth 0 of the group, up to its closing brace.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && !c.is_whitespace() => {
                        item_start = false;
                        found.push(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// A circle of `graph` as the path that closes it (`a → b → a`), if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|n| n == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}
