//! The workspace as the tidy checks see it: its members (from the root `Cargo.toml`) with
//! their package names, the crate roots of each, and the names of their normal dependencies
//! (`[dependencies]` and `[target.….dependencies]`, not dev- or build-dependencies).

use std::fs;
use std::path::{Path, PathBuf};

/// One workspace member.
#[derive(Clone, Debug)]
pub struct Member {
    /// As listed in the root manifest (`app/zfs`).
    pub directory: String,
    /// The package name (`wizfs-zfs`).
    pub package: String,
    pub manifest: String,
}

/// Every member of the workspace at `root`.
pub fn members(root: &Path) -> Vec<Member> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members");
    members
        .split(',')
        .map(|member| member.trim().trim_matches('"'))
        .filter(|member| !member.is_empty())
        .map(|directory| {
            let manifest = fs::read_to_string(root.join(directory).join("Cargo.toml"))
                .unwrap_or_else(|error| panic!("{directory}/Cargo.toml: {error}"));
            let package = manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = "))
                .map(|name| name.trim_matches('"').to_owned())
                .unwrap_or_else(|| panic!("{directory}/Cargo.toml names no package"));
            Member {
                directory: directory.to_owned(),
                package,
                manifest,
            }
        })
        .collect()
}

/// The root files of a member's crates: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs`.
pub fn crate_roots(root: &Path, member: &Member) -> Vec<PathBuf> {
    let source = root.join(&member.directory).join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|name| source.join(name))
        .filter(|path| path.is_file())
        .collect();
    if let Ok(entries) = fs::read_dir(source.join("bin")) {
        let mut binaries: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
            .collect();
        binaries.sort();
        roots.extend(binaries);
    }
    roots
}

/// Whether a table header names normal dependencies: `[dependencies]`,
/// `[target.'cfg(…)'.dependencies]`. `[dependencies.name]` tables return the name.
fn dependency_table(header: &str) -> Option<Option<String>> {
    let header = header
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim();
    if header == "dependencies"
        || (header.starts_with("target.") && header.ends_with(".dependencies"))
    {
        return Some(None);
    }
    let name = header.strip_prefix("dependencies.").or_else(|| {
        header
            .split(".dependencies.")
            .nth(1)
            .filter(|_| header.starts_with("target."))
    })?;
    Some(Some(name.trim_matches('"').to_owned()))
}

/// The crates a manifest depends on (normal dependencies only), by package name: a renamed
/// dependency (`alias = { package = "real" }`) counts as `real`.
pub fn dependencies(manifest: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut inside = false;
    // Brackets still open in a value that spans lines (`features = [` …).
    let mut open = 0_i32;
    for line in manifest.lines() {
        let code = line.split('#').next().unwrap_or("").trim();
        if open > 0 {
            open += bracket_balance(code);
            continue;
        }
        if code.starts_with('[') {
            inside = false;
            if let Some(table) = dependency_table(code) {
                match table {
                    None => inside = true,
                    Some(name) => found.push(name),
                }
            }
            continue;
        }
        open += bracket_balance(code);
        if !inside || code.is_empty() {
            continue;
        }
        let Some((key, value)) = code.split_once('=') else {
            continue;
        };
        let key = key.trim().split('.').next().unwrap_or("").trim_matches('"');
        let renamed = value
            .split("package")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1));
        found.push(renamed.unwrap_or(key).to_owned());
    }
    found.sort();
    found.dedup();
    found
}

fn bracket_balance(code: &str) -> i32 {
    code.chars()
        .map(|character| match character {
            '[' | '{' => 1,
            ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

#[test]
fn dependencies_are_read_from_every_normal_table() {
    let manifest = r#"
[package]
name = "x"

[dependencies]
serde = { workspace = true }
tokio.workspace = true
alias = { package = "real-name", version = "1" }
lettre = { version = "0.11", features = [
    "smtp-transport",
] }

[target.'cfg(target_arch = "wasm32")'.dependencies]
leptos = "0.8"

[dependencies.heed]
version = "0.23"

[dev-dependencies]
axum = "0.8"

[build-dependencies]
cc = "1"
"#;
    assert_eq!(
        dependencies(manifest),
        ["heed", "leptos", "lettre", "real-name", "serde", "tokio"]
    );
}
