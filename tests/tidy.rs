//! Style checks as tests (in the manner of rust-analyzer's tidy): every Rust source file
//! says why it exists in a `//!` comment on its first line; every crate is in
//! ARCHITECTURE.md's code map; crates depend only on what their layer allows; only
//! `app/process` starts processes and only `app/zfs` names the `zfs`/`zpool` programs; and no
//! two files of a crate import each other, directly or round a loop. Each failure says what to
//! change. The Rust and Cargo reading they need is in `tidy/`.

#[path = "tidy/cargo.rs"]
mod cargo;
#[path = "tidy/rust.rs"]
mod rust;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use cargo::Member;
use rust::{NamedPath, SourceFile, Token};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_purpose_comment() {
    let root = workspace_root();
    let mut files = Vec::new();
    for top in ["app", "tests", "firmware"] {
        rust_files(&root.join(top), &mut files);
    }
    assert!(files.len() > 10, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading `//!` comment: {missing:?}"
    );
}

#[test]
fn every_crate_is_in_the_architecture_code_map() {
    let root = workspace_root();
    let architecture = fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    for member in cargo::members(&root) {
        assert!(
            architecture.contains(&format!("`{}`", member.directory))
                && architecture.contains(&format!("`{}`", member.package)),
            "ARCHITECTURE.md's code map must mention `{}` and `{}`",
            member.directory,
            member.package
        );
    }
}

// ------------------------------------------------------------------ dependencies

/// Whether crate `name` matches `pattern` (`serde*` matches every name starting with `serde`).
fn matches_pattern(name: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// What `wizfs-core` must not depend on: it knows nothing about processes, files,
/// serialization or time zones (ARCHITECTURE.md, Invariants).
const CORE_FORBIDDEN: &[&str] = &[
    "serde*", "tokio*", "heed", "lmdb*", "tantivy", "rustix", "libc", "nix", "mio", "jiff",
];

/// The packages that may depend on axum, and why.
const AXUM_USERS: &[(&str, &str)] = &[
    (
        "wizfsd",
        "the HTTP server: the REST router, the console, the guards",
    ),
    (
        "wizfs-tls",
        "`serve` runs the daemon's axum Router over rustls and gives handlers ConnectInfo",
    ),
    (
        "wizfs-web",
        "feature `ssr` only: the console's server-side rendering through leptos_axum",
    ),
];

/// The packages that may depend on a Leptos crate (`leptos*`): the console and its hosts.
const LEPTOS_USERS: &[&str] = &["wizfsd", "wizfs-web", "wizfs-web-client"];

/// `wizfs-api` (the JSON wire types shared by the daemon, the CLI and the console) may depend
/// on these only, so every client can use it without the server's stack.
const API_ALLOWED: &[&str] = &["serde", "wizfs-core"];

#[test]
fn crates_depend_only_on_what_their_layer_allows() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for member in cargo::members(&root) {
        let manifest = format!("{}/Cargo.toml", member.directory);
        let package = member.package.as_str();
        for dependency in cargo::dependencies(&member.manifest) {
            if package == "wizfs-core"
                && let Some(pattern) = CORE_FORBIDDEN
                    .iter()
                    .find(|pattern| matches_pattern(&dependency, pattern))
            {
                problems.push(format!(
                    "{manifest}: wizfs-core depends on `{dependency}` (forbidden: `{pattern}`); the core \
                     knows nothing about processes, files, serialization or time zones, so the \
                     code needing it belongs in a crate above the core"
                ));
            }
            if dependency == "axum" && !AXUM_USERS.iter().any(|(user, _)| *user == package) {
                problems.push(format!(
                    "{manifest}: {package} depends on `axum`; HTTP stays in wizfsd (allowed: {:?}): \
                     give the daemon a plain function to call instead",
                    AXUM_USERS.iter().map(|(user, _)| *user).collect::<Vec<_>>()
                ));
            }
            if dependency.starts_with("leptos") && !LEPTOS_USERS.contains(&package) {
                problems.push(format!(
                    "{manifest}: {package} depends on `{dependency}`; Leptos belongs to the console \
                     ({LEPTOS_USERS:?})"
                ));
            }
            if package == "wizfs-api" && !API_ALLOWED.contains(&dependency.as_str()) {
                problems.push(format!(
                    "{manifest}: wizfs-api depends on `{dependency}`; the wire types may use only \
                     {API_ALLOWED:?}, so every client can use them: convert in wizfs-services instead"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "dependencies against the layering:\n{}",
        problems.join("\n")
    );
}

// ------------------------------------------------------------------ source files

/// The non-test source files of a member: every crate root's module tree, without the
/// modules declared under `#[cfg(test)]`. Integration tests, benches and examples are not in
/// it (they are not reached from `src/`).
fn product_files(root: &Path, member: &Member) -> Vec<SourceFile> {
    cargo::crate_roots(root, member)
        .iter()
        .flat_map(|crate_root| rust::module_tree(crate_root))
        .filter(|file| !file.test)
        .collect()
}

/// A file's tokens without its `#[cfg(test)]` items.
fn product_tokens(file: &SourceFile) -> Vec<rust::Spanned> {
    let text = fs::read_to_string(&file.path).unwrap_or_default();
    rust::without_test_items(&rust::lex(&text))
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The packages whose non-test code may start processes, and why.
const PROCESS_STARTERS: &[(&str, &str)] = &[
    ("wizfs-process", "the runner every other crate uses"),
    (
        "wizfs-tests",
        "the test harness (VM helpers, platform tests): never part of the product",
    ),
];

/// Where `tokens` start a process: `Command::new`, a path to `std::process::Command` (also
/// through a `use` group) or to `tokio::process`; by line.
fn process_starts(tokens: &[rust::Spanned]) -> BTreeSet<(usize, String)> {
    let mut found = BTreeSet::new();
    for window in tokens.windows(3) {
        if window[0].token == Token::Ident("Command".into())
            && window[1].token == Token::PathSep
            && window[2].token == Token::Ident("new".into())
        {
            found.insert((window[0].line, "Command::new".to_owned()));
        }
    }
    for path in rust::paths(tokens) {
        let text = path.segments.join("::");
        if text.starts_with("std::process::Command") || text.starts_with("tokio::process") {
            found.insert((path.line, text));
        }
    }
    found
}

/// Checks that only `app/process` starts processes: in the non-test code of every other
/// crate, no `Command::new`, no path to `std::process::Command` (also through a `use` group)
/// and no `tokio::process`. Test code (`#[cfg(test)]` items and modules, `tests/`, benches)
/// may start what it needs.
#[test]
fn only_app_process_starts_processes() {
    let root = workspace_root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for member in cargo::members(&root) {
        if PROCESS_STARTERS
            .iter()
            .any(|(package, _)| *package == member.package)
        {
            continue;
        }
        for file in product_files(&root, &member) {
            checked += 1;
            let found = process_starts(&product_tokens(&file));
            for (line, what) in found {
                problems.push(format!("{}:{line}: `{what}`", shown(&root, &file.path)));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} source files found: the walk of the module trees is broken"
    );
    assert!(
        problems.is_empty(),
        "only app/process (wizfs-process) starts processes; build a wizfs_process::Invocation \
         and run it with a wizfs_process::Runner (SystemRunner, or ScriptedRunner in tests) \
         instead of:\n{}",
        problems.join("\n")
    );
}

/// Whether a string literal names the `zfs` or `zpool` program: the name itself or a path
/// ending in it.
fn names_zfs_program(text: &str) -> bool {
    ["zfs", "zpool"]
        .iter()
        .any(|program| text == *program || text.ends_with(&format!("/{program}")))
}

/// The string literals of `tokens` that name the `zfs` or `zpool` program, by line, except
/// a `Debug` field name (`.field("zfs", …)`).
fn zfs_program_names(tokens: &[rust::Spanned]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, spanned) in tokens.iter().enumerate() {
        let Token::Str(text) = &spanned.token else {
            continue;
        };
        let debug_field = index >= 3
            && tokens[index - 1].token == Token::Punct('(')
            && tokens[index - 2].token == Token::Ident("field".into())
            && tokens[index - 3].token == Token::Punct('.');
        if names_zfs_program(text) && !debug_field {
            found.push((spanned.line, text.clone()));
        }
    }
    found
}

/// Checks that only `app/zfs` names the `zfs`/`zpool` programs. A program reaches a process
/// only as the program of a `wizfs_process::Invocation` (check `only_app_process_starts_processes`
/// rules out the others), and its name comes from a string somewhere; so this finds, in the
/// non-test code of every crate but `wizfs-zfs`, every string literal that is `"zfs"` or
/// `"zpool"` or a path ending in `/zfs` or `/zpool`. The one use of such a string that names
/// no program, a `Debug` field (`.field("zfs", …)`), is let through. A name assembled at run
/// time (`concat!`, `format!`) is not caught.
#[test]
fn only_app_zfs_names_the_zfs_programs() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for member in cargo::members(&root) {
        if member.package == "wizfs-zfs" {
            continue;
        }
        for file in product_files(&root, &member) {
            for (line, text) in zfs_program_names(&product_tokens(&file)) {
                problems.push(format!("{}:{line}: \"{text}\"", shown(&root, &file.path)));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "only app/zfs (wizfs-zfs) runs zfs and zpool: call the Zfs trait (CliZfs) instead of \
         naming the programs:\n{}",
        problems.join("\n")
    );
}

// ------------------------------------------------------------------ import loops

/// The file a path names, if it is a module of this crate: `crate::…`, `super::…`,
/// `self::…`, or a child module of the file's own module; the longest module prefix wins
/// (`crate::fake::state::Fnv64` names `fake/state.rs`).
fn file_named(
    path: &NamedPath,
    file: &SourceFile,
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<PathBuf> {
    let mut current = file.module.clone();
    current.extend(path.inline.iter().cloned());
    let segments = &path.segments;
    let mut absolute: Vec<String> = match segments.first()?.as_str() {
        "crate" => segments[1..].to_vec(),
        "super" => {
            let ups = segments
                .iter()
                .take_while(|segment| *segment == "super")
                .count();
            let kept = current.len().checked_sub(ups)?;
            let mut base = current[..kept].to_vec();
            base.extend(segments[ups..].iter().cloned());
            base
        }
        "self" => {
            let mut base = current.clone();
            base.extend(segments[1..].iter().cloned());
            base
        }
        first => {
            let mut child = current.clone();
            child.push(first.to_owned());
            if !modules.keys().any(|module| module.starts_with(&child)) {
                return None;
            }
            let mut base = current.clone();
            base.extend(segments.iter().cloned());
            base
        }
    };
    while !absolute.is_empty() && !modules.contains_key(&absolute) {
        absolute.pop();
    }
    modules.get(&absolute).cloned()
}

/// The strongly connected components of a graph (Tarjan), each sorted.
fn strongly_connected(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Search<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        components: Vec<Vec<PathBuf>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a PathBuf) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                component.sort();
                self.components.push(component);
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in edges.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.components
}

/// The import loops of one crate (the module tree of `crate_root`): each loop's files, and
/// for each edge inside it the first place it is made.
fn import_loops(root: &Path, crate_root: &Path) -> Vec<String> {
    let files: Vec<SourceFile> = rust::module_tree(crate_root)
        .into_iter()
        .filter(|file| !file.test)
        .collect();
    let modules = rust::modules_by_path(&files);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut evidence: BTreeMap<(PathBuf, PathBuf), String> = BTreeMap::new();
    for file in &files {
        edges.entry(file.path.clone()).or_default();
        for path in rust::paths(&product_tokens(file)) {
            let Some(target) = file_named(&path, file, &modules) else {
                continue;
            };
            if target == file.path {
                continue;
            }
            edges
                .entry(file.path.clone())
                .or_default()
                .insert(target.clone());
            evidence
                .entry((file.path.clone(), target))
                .or_insert_with(|| {
                    format!(
                        "{}:{} uses {}",
                        shown(root, &file.path),
                        path.line,
                        path.segments.join("::")
                    )
                });
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let names: Vec<String> = component.iter().map(|path| shown(root, path)).collect();
            let mut text = format!("loop: {}", names.join(", "));
            for ((from, to), place) in &evidence {
                if component.contains(from) && component.contains(to) {
                    text.push_str(&format!("\n    {place}"));
                }
            }
            text
        })
        .collect()
}

/// Checks that the files of every crate import each other one way only: the graph of module
/// files, with an edge for every `use crate::…`, `crate::x::…` path, `super::…` path (a child
/// naming its parent counts) and path into a child module (a parent's `mod child;` and
/// `pub use` re-exports do not count), has no strongly connected component of two or more
/// files. Test code is left out.
#[test]
fn no_import_loops_between_the_files_of_a_crate() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for member in cargo::members(&root) {
        for crate_root in cargo::crate_roots(&root, &member) {
            for found in import_loops(&root, &crate_root) {
                problems.push(format!("{}: {found}", member.package));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "files of one crate that import each other (directly or round a loop); move what they \
         share into a module they all import, so that imports go one way:\n{}",
        problems.join("\n")
    );
}

#[test]
fn import_loops_are_found_through_super_and_crate_paths() {
    let folder = tempfile::tempdir().expect("temp dir");
    let source = folder.path().join("src");
    fs::create_dir_all(source.join("a")).expect("folders");
    let write = |name: &str, text: &str| fs::write(source.join(name), text).expect("write");
    // lib.rs re-exports and declares (no edges); a.rs and its child c.rs use each other;
    // b.rs uses a.rs one way, and its test module (left out) uses itself.
    write("lib.rs", "//! x\nmod a;\nmod b;\npub use a::A;\n");
    write("a.rs", "//! x\nmod c;\nuse c::C;\npub struct A;\n");
    write("a/c.rs", "//! x\nuse super::A;\npub struct C;\n");
    write(
        "b.rs",
        "//! x\nuse crate::a::A;\n#[cfg(test)]\nmod tests { use crate::b; }\n",
    );
    let loops = import_loops(folder.path(), &source.join("lib.rs"));
    assert_eq!(
        loops,
        ["loop: src/a/c.rs, src/a.rs\n    src/a/c.rs:2 uses super::A\n    src/a.rs:3 uses c::C"]
    );
}

#[test]
fn process_starts_and_zfs_names_are_found_outside_test_code() {
    let code = "use std::process::{Command, Stdio};\nuse tokio::process::Command as Async;\n\
                fn run() { let _ = Command::new(\"/usr/sbin/zfs\"); }\n\
                fn debug(f: &mut Formatter) { f.debug_struct(\"X\").field(\"zfs\", &1); }\n\
                const PROGRAM: &str = \"zpool\";\n\
                #[cfg(test)]\nmod tests { fn t() { Command::new(\"zfs\"); } }\n";
    let tokens = rust::without_test_items(&rust::lex(code));
    let starts: Vec<(usize, String)> = process_starts(&tokens).into_iter().collect();
    assert_eq!(
        starts,
        [
            (1, "std::process::Command".to_owned()),
            (2, "tokio::process::Command".to_owned()),
            (3, "Command::new".to_owned()),
        ]
    );
    assert_eq!(
        zfs_program_names(&tokens),
        [(3, "/usr/sbin/zfs".to_owned()), (5, "zpool".to_owned())]
    );
}

// ------------------------------------------------------------------ the daemon stays thin

/// The most non-test lines `app/wizfsd` may have: it is HTTP only (router, handlers, the
/// guard, the console glue); use-cases belong in `app/services` (issue 18).
const WIZFSD_MAXIMUM_LINES: usize = 4_000;

#[test]
fn the_daemon_crate_stays_http_only_in_size() {
    let root = workspace_root();
    let member = cargo::members(&root)
        .into_iter()
        .find(|member| member.package == "wizfsd")
        .expect("wizfsd is a member");
    let mut counted = Vec::new();
    for file in product_files(&root, &member) {
        let text = fs::read_to_string(&file.path).unwrap_or_default();
        // Non-blank lines before the file's test module (comments count: they are code to
        // read too).
        let product = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let lines = product
            .lines()
            .filter(|line| !line.trim().is_empty())
            .count();
        counted.push((lines, shown(&root, &file.path)));
    }
    let total: usize = counted.iter().map(|(lines, _)| lines).sum();
    counted.sort();
    counted.reverse();
    assert!(
        total <= WIZFSD_MAXIMUM_LINES,
        "app/wizfsd has {total} non-test lines (at most {WIZFSD_MAXIMUM_LINES}); move \
         use-cases into app/services. Largest files: {:?}",
        &counted[..counted.len().min(5)]
    );
    assert!(total > 500, "counted {total}: the count itself looks wrong");
}
