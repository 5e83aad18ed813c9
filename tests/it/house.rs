//! The house rules of `../shared/STYLE.md`, checked on every crate's `src/`: no file over 600
//! lines, and no module that imports a module importing it, directly or around a loop
//! (`use` declarations and `module::item` paths; test modules excluded).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SOURCES: [&str; 4] = [
    "crates/avatar-prep/src",
    "crates/avatar-upload/src",
    "crates/avatar-cli/src",
    "examples/avatar-service/src",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::a::b` for `src/a/b.rs` or `src/a/b/mod.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    std::iter::once("crate".to_owned())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The module paths a file's code names: each `use` tree's leaves and every `a::b` path.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `use` declarations, with their `{…}` lists flattened one level.
    for stmt in code.split(';') {
        let t = stmt.trim_start();
        let Some(at) = t.find("use ") else { continue };
        let head = &t[..at];
        if !(head.is_empty() || head.starts_with("pub")) || head.contains('\n') {
            continue;
        }
        let tree: String = t[at + 4..].split_whitespace().collect();
        match tree.split_once('{') {
            Some((base, list)) => {
                for name in list.trim_end_matches('}').split(',') {
                    let first = name.split("::").next().unwrap_or("");
                    let mut p: Vec<String> = base
                        .trim_end_matches("::")
                        .split("::")
                        .map(str::to_owned)
                        .collect();
                    if !first.is_empty() && first != "self" && first != "*" {
                        p.push(first.split(" as ").next().unwrap_or(first).to_owned());
                    }
                    out.push(p);
                }
            }
            None => out.push(tree.split("::").map(str::to_owned).collect()),
        }
    }
    // Paths in expressions and types (`a::b::c(…)`), taken whole.
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        let mut at = i;
        loop {
            let start = at;
            while at < chars.len() && is_ident(chars[at]) {
                at += 1;
            }
            path.push(chars[start..at].iter().collect::<String>());
            if chars.get(at) == Some(&':')
                && chars.get(at + 1) == Some(&':')
                && chars.get(at + 2).is_some_and(|&c| is_ident(c))
            {
                at += 2;
            } else {
                break;
            }
        }
        if path.len() > 1 {
            out.push(path);
        }
        i = at.max(i + 1);
    }
    out
}

/// The crate modules `module` (whose file holds `code`) imports.
fn imports(module: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let cur: Vec<&str> = module.split("::").collect();
    let mut out = BTreeSet::new();
    for p in paths(code) {
        let mut full: Vec<String> = match p.first().map(String::as_str) {
            Some("crate") => p.clone(),
            Some("self") => cur
                .iter()
                .map(|s| s.to_string())
                .chain(p[1..].to_vec())
                .collect(),
            Some("super") => {
                let ups = p.iter().take_while(|s| *s == "super").count();
                let keep = cur.len().saturating_sub(ups);
                cur[..keep]
                    .iter()
                    .map(|s| s.to_string())
                    .chain(p[ups..].to_vec())
                    .collect()
            }
            Some(first) if modules.contains(&format!("{module}::{first}")) => {
                cur.iter().map(|s| s.to_string()).chain(p.clone()).collect()
            }
            _ => continue,
        };
        // The longest prefix that is a module of the crate.
        while !full.is_empty() {
            let m = full.join("::");
            if modules.contains(&m) {
                // The crate root declares every module and re-exports the public items:
                // a path through it (`crate::Limits`) is not an edge of the graph.
                if m != module && m != "crate" {
                    out.insert(m);
                }
                break;
            }
            full.pop();
        }
    }
    out
}

/// Every cycle of the graph, each once (rotated to start at its smallest module).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    fn walk(
        edges: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        let last = path.last().unwrap().clone();
        for next in edges.get(&last).into_iter().flatten() {
            if next == start {
                let min = path.iter().enumerate().min_by_key(|(_, m)| *m).unwrap().0;
                let mut c = path[min..].to_vec();
                c.extend_from_slice(&path[..min]);
                found.insert(c);
            } else if !path.contains(next) && path.len() < 10 {
                path.push(next.clone());
                walk(edges, start, path, found);
                path.pop();
            }
        }
    }
    let mut found = BTreeSet::new();
    for m in edges.keys() {
        walk(edges, m, &mut vec![m.clone()], &mut found);
    }
    found
}

#[test]
fn no_source_file_is_over_600_lines() {
    for dir in SOURCES {
        let mut files = Vec::new();
        rust_files(&workspace().join(dir), &mut files);
        for f in files {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            assert!(lines <= 600, "{}: {lines} lines", f.display());
        }
    }
}

#[test]
fn imports_point_one_way() {
    for dir in SOURCES {
        let src = workspace().join(dir);
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges = BTreeMap::new();
        for f in &files {
            if f.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(f).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
            // Comments name paths too (doc links): only code counts.
            let code: String = code
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            // `pub(in crate::decode)` names a module as a visibility, not a use.
            let mut code = code;
            while let Some(at) = code.find("pub(in ") {
                let end = code[at..].find(')').map_or(code.len(), |e| at + e + 1);
                code.replace_range(at..end, "pub");
            }
            let m = module_of(&src, f);
            edges.insert(m.clone(), imports(&m, &code, &modules));
        }
        let found = cycles(&edges);
        let listed: Vec<String> = found.iter().map(|c| c.join(" -> ")).collect();
        assert!(
            found.is_empty(),
            "{dir}: import loops:\n{}",
            listed.join("\n")
        );
    }
}

#[test]
fn the_loop_check_finds_a_loop() {
    // A two-module loop and a one-way pair, as source text.
    let modules: BTreeSet<String> = ["crate", "crate::a", "crate::b", "crate::c"]
        .map(str::to_owned)
        .into();
    let mut edges = BTreeMap::new();
    edges.insert(
        "crate::a".to_owned(),
        imports("crate::a", "use crate::b::{X, y};", &modules),
    );
    edges.insert(
        "crate::b".to_owned(),
        imports("crate::b", "fn f() { super::a::g(); }", &modules),
    );
    edges.insert(
        "crate::c".to_owned(),
        imports("crate::c", "use super::b::X;", &modules),
    );
    let found = cycles(&edges);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec![vec!["crate::a".to_owned(), "crate::b".to_owned()]]
    );
}
