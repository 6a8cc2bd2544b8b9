//! The layout keeps its layers: no source file imports one that imports it
//! back, and lower layers never name higher ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module path of a source file (`src/api/mod.rs` is `api`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The modules each file names through `crate::…` paths (in `use` lists
/// or inline), each resolved to the file that defines it.
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let resolve = |path: &[String]| {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| modules.contains(prefix))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code: String = text
            .lines()
            .map(|line| line.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = BTreeSet::new();
        // `crate::a::b` inline, and `use crate::{a::{b, c}, d}` lists.
        let mut stack: Vec<Vec<String>> = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut in_use = false;
        let mut word = String::new();
        let flush =
            |path: &mut Vec<String>, named: &mut BTreeSet<Vec<String>>, stack: &[Vec<String>]| {
                if !path.is_empty() {
                    let mut full: Vec<String> = stack.last().cloned().unwrap_or_default();
                    full.append(path);
                    if full.first().is_some_and(|p| p == "crate") {
                        if let Some(target) = resolve(&full[1..]) {
                            named.insert(target);
                        }
                    }
                }
            };
        let tokens = code.replace("::", " :: ");
        for token in tokens
            .split(|c: char| {
                c.is_whitespace()
                    || c == ';'
                    || c == '('
                    || c == ')'
                    || c == '<'
                    || c == '>'
                    || c == '&'
            })
            .flat_map(|t| {
                let mut parts = Vec::new();
                let mut rest = t;
                while let Some(i) = rest.find(['{', '}', ',']) {
                    parts.push(&rest[..i]);
                    parts.push(&rest[i..i + 1]);
                    rest = &rest[i + 1..];
                }
                parts.push(rest);
                parts
            })
            .filter(|t| !t.is_empty())
        {
            match token {
                "use" => in_use = true,
                "::" => {
                    if !word.is_empty() {
                        path.push(std::mem::take(&mut word));
                    }
                }
                "{" if in_use => {
                    let mut prefix = stack.last().cloned().unwrap_or_default();
                    prefix.append(&mut path);
                    stack.push(prefix);
                }
                "}" if in_use => {
                    if !word.is_empty() {
                        path.push(std::mem::take(&mut word));
                    }
                    flush(&mut path, &mut named, &stack);
                    stack.pop();
                    if stack.is_empty() {
                        in_use = false;
                    }
                }
                "," if in_use => {
                    if !word.is_empty() {
                        path.push(std::mem::take(&mut word));
                    }
                    flush(&mut path, &mut named, &stack);
                }
                other => {
                    if !path.is_empty() && !word.is_empty() {
                        // A path ended: `crate::a::b` followed by something else.
                        path.push(std::mem::take(&mut word));
                        flush(&mut path, &mut named, &stack);
                        if stack.is_empty() {
                            in_use = false;
                        }
                    } else if !word.is_empty()
                        && path.is_empty()
                        && stack.is_empty()
                        && in_use
                        && word != "use"
                    {
                        in_use = word == "pub" || word == "crate";
                    }
                    word = other.trim_start_matches('$').to_owned();
                }
            }
        }
        let module = module_of(&src, file);
        named.remove(&module);
        named.remove(&Vec::new());
        graph.insert(module, named);
    }
    graph
}

#[test]
fn no_source_file_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(graph[&vec!["api".to_owned(), "resource".to_owned()]]
        .contains(&vec!["api".to_owned(), "input".to_owned()]));
    let mut circles = Vec::new();
    for (module, named) in &graph {
        for other in named {
            if module < other && graph.get(other).is_some_and(|back| back.contains(module)) {
                circles.push(format!("{} <-> {}", module.join("/"), other.join("/")));
            }
        }
    }
    assert!(circles.is_empty(), "{circles:?}");
}

#[test]
fn lower_layers_never_name_higher_ones() {
    let layer = |module: &[String]| match module.first().map(String::as_str) {
        Some("domain") => 0,
        Some("db") | Some("config") | Some("error") | Some("metrics") | Some("logging") => 1,
        Some("store") => 2,
        Some("auth") | Some("request_id") | Some("api") => 3,
        _ => 4,
    };
    for (module, named) in imports() {
        for other in named {
            assert!(
                layer(&other) <= layer(&module),
                "{} names {}",
                module.join("/"),
                other.join("/")
            );
        }
    }
}
