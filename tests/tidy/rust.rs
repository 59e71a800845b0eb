//! Just enough of Rust for the tidy checks, without a parser crate: a lexer that drops
//! comments and keeps identifiers, string literals and punctuation with their line numbers;
//! the module tree of a crate found by following its `mod` declarations from its roots (so a
//! module declared under `#[cfg(test)]` is known to be test code); the paths a file names,
//! with `use` groups expanded; and the items under `#[cfg(test)]`, which are skipped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One token. Literals other than strings, and lifetimes, are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Ident(String),
    /// The text between the quotes, escapes left as written.
    Str(String),
    /// `::`
    PathSep,
    Punct(char),
}

#[derive(Clone, Debug)]
pub struct Spanned {
    pub token: Token,
    pub line: usize,
}

fn is_ident_start(character: char) -> bool {
    character == '_' || character.is_ascii_alphabetic()
}

fn is_ident_continue(character: char) -> bool {
    character == '_' || character.is_ascii_alphanumeric()
}

/// The tokens of `text`, comments removed.
pub fn lex(text: &str) -> Vec<Spanned> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut index = 0;
    let count_lines = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count();
    };
    while index < chars.len() {
        let character = chars[index];
        let next = chars.get(index + 1).copied();
        if character == '\n' {
            line += 1;
            index += 1;
        } else if character.is_whitespace() {
            index += 1;
        } else if character == '/' && next == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
        } else if character == '/' && next == Some('*') {
            let start = index;
            let mut depth = 0;
            while index < chars.len() {
                if chars[index] == '/' && chars.get(index + 1) == Some(&'*') {
                    depth += 1;
                    index += 2;
                } else if chars[index] == '*' && chars.get(index + 1) == Some(&'/') {
                    depth -= 1;
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    index += 1;
                }
            }
            count_lines(start, index, &mut line);
        } else if character == '"' {
            index = push_quoted(&chars, index, &mut line, &mut tokens);
        } else if character == '\'' {
            // A char literal ('a', '\'', '\u{1F600}') or a lifetime ('a, 'static).
            if next == Some('\\') || chars.get(index + 2) == Some(&'\'') {
                index = after_char_literal(&chars, index);
            } else {
                index += 1;
                while index < chars.len() && is_ident_continue(chars[index]) {
                    index += 1;
                }
            }
        } else if character.is_ascii_digit() {
            while index < chars.len() && (is_ident_continue(chars[index]) || chars[index] == '.') {
                if chars[index] == '.' && chars.get(index + 1) == Some(&'.') {
                    break;
                }
                index += 1;
            }
        } else if is_ident_start(character) {
            let start = index;
            while index < chars.len() && is_ident_continue(chars[index]) {
                index += 1;
            }
            let word: String = chars[start..index].iter().collect();
            let following = chars.get(index).copied();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if raw_prefix && matches!(following, Some('"') | Some('#')) {
                let mut hashes = 0;
                let mut cursor = index;
                while chars.get(cursor) == Some(&'#') {
                    hashes += 1;
                    cursor += 1;
                }
                if chars.get(cursor) == Some(&'"') {
                    // A raw string: ends at `"` followed by as many `#`.
                    let start_line = line;
                    let body = cursor + 1;
                    let mut end = body;
                    while end < chars.len() {
                        if chars[end] == '"'
                            && (0..hashes).all(|offset| chars.get(end + 1 + offset) == Some(&'#'))
                        {
                            break;
                        }
                        end += 1;
                    }
                    let content: String = chars[body..end.min(chars.len())].iter().collect();
                    count_lines(index, end, &mut line);
                    tokens.push(Spanned {
                        token: Token::Str(content),
                        line: start_line,
                    });
                    index = (end + 1 + hashes).min(chars.len());
                    continue;
                }
                if word == "r" && hashes == 1 {
                    // A raw identifier: `r#type`.
                    let start = cursor;
                    let mut end = cursor;
                    while end < chars.len() && is_ident_continue(chars[end]) {
                        end += 1;
                    }
                    tokens.push(Spanned {
                        token: Token::Ident(chars[start..end].iter().collect()),
                        line,
                    });
                    index = end;
                    continue;
                }
            }
            if matches!(word.as_str(), "b" | "c") && following == Some('"') {
                index = push_quoted(&chars, index, &mut line, &mut tokens);
                continue;
            }
            if word == "b" && following == Some('\'') {
                index = after_char_literal(&chars, index);
                continue;
            }
            tokens.push(Spanned {
                token: Token::Ident(word),
                line,
            });
        } else if character == ':' && next == Some(':') {
            tokens.push(Spanned {
                token: Token::PathSep,
                line,
            });
            index += 2;
        } else {
            tokens.push(Spanned {
                token: Token::Punct(character),
                line,
            });
            index += 1;
        }
    }
    tokens
}

/// The index after the char literal whose opening quote is at `quote`: one character, or an
/// escape (`\'`, `\n`, `\u{…}`) up to the closing quote.
fn after_char_literal(chars: &[char], quote: usize) -> usize {
    let mut index = quote + 1;
    if chars.get(index) == Some(&'\\') {
        index += 2;
    } else {
        index += 1;
    }
    while index < chars.len() && chars[index] != '\'' {
        index += 1;
    }
    (index + 1).min(chars.len())
}

/// Adds the `"…"` string whose opening quote is at `quote` to `tokens`, counting the lines
/// it spans; returns the index after it.
fn push_quoted(chars: &[char], quote: usize, line: &mut usize, tokens: &mut Vec<Spanned>) -> usize {
    let (content, end) = quoted(chars, quote + 1);
    tokens.push(Spanned {
        token: Token::Str(content),
        line: *line,
    });
    *line += chars[quote..end].iter().filter(|c| **c == '\n').count();
    end
}

/// The content of a `"…"` string starting after its opening quote, and the index after its
/// closing quote.
fn quoted(chars: &[char], start: usize) -> (String, usize) {
    let mut index = start;
    while index < chars.len() && chars[index] != '"' {
        if chars[index] == '\\' {
            index += 1;
        }
        index += 1;
    }
    let end = index.min(chars.len());
    (
        chars[start..end].iter().collect(),
        (end + 1).min(chars.len()),
    )
}

fn is_punct(token: &Token, character: char) -> bool {
    *token == Token::Punct(character)
}

fn is_ident(token: &Token, word: &str) -> bool {
    matches!(token, Token::Ident(found) if found == word)
}

/// Whether the attribute starting at `tokens[start]` (`#`) is `#[cfg(test)]` or
/// `#[cfg(all(…, test, …))]`, and the index after it.
fn attribute(tokens: &[Spanned], start: usize) -> Option<(bool, usize)> {
    if !is_punct(&tokens.get(start)?.token, '#') || !is_punct(&tokens.get(start + 1)?.token, '[') {
        return None;
    }
    let mut depth = 0;
    let mut end = start + 1;
    while end < tokens.len() {
        match &tokens[end].token {
            Token::Punct('[') => depth += 1,
            Token::Punct(']') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        end += 1;
    }
    let inside: Vec<&Token> = tokens[start + 2..end.min(tokens.len())]
        .iter()
        .map(|spanned| &spanned.token)
        .collect();
    let words: Vec<&str> = inside
        .iter()
        .filter_map(|token| match token {
            Token::Ident(word) => Some(word.as_str()),
            _ => None,
        })
        .collect();
    let test_only = match words.as_slice() {
        ["cfg", "test"] => true,
        ["cfg", "all", rest @ ..] => rest.contains(&"test") && !rest.contains(&"not"),
        _ => false,
    };
    Some((test_only, end + 1))
}

/// The index just after the item starting at `start`: its `;` or its closing `}`.
fn item_end(tokens: &[Spanned], start: usize) -> usize {
    let mut depth = 0_i32;
    let mut index = start;
    while index < tokens.len() {
        match tokens[index].token {
            Token::Punct('(') | Token::Punct('[') | Token::Punct('{') => depth += 1,
            Token::Punct(')') | Token::Punct(']') => depth -= 1,
            Token::Punct('}') => {
                depth -= 1;
                if depth <= 0 {
                    return index + 1;
                }
            }
            Token::Punct(';') if depth == 0 => return index + 1,
            _ => {}
        }
        index += 1;
    }
    tokens.len()
}

/// The tokens without the items under `#[cfg(test)]` (test modules, helpers, imports).
pub fn without_test_items(tokens: &[Spanned]) -> Vec<Spanned> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut index = 0;
    while index < tokens.len() {
        if let Some((true, after)) = attribute(tokens, index) {
            // Further attributes belong to the same item.
            let mut start = after;
            while let Some((_, next)) = attribute(tokens, start) {
                start = next;
            }
            index = item_end(tokens, start);
            continue;
        }
        kept.push(tokens[index].clone());
        index += 1;
    }
    kept
}

/// One source file of a crate's module tree.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The module path from the crate root (`["fake", "state"]`; empty for the root).
    pub module: Vec<String>,
    /// The root file of its crate (`src/lib.rs`, `src/bin/x.rs`).
    pub root: PathBuf,
    /// Declared under `#[cfg(test)]` (itself or an ancestor).
    pub test: bool,
}

/// Where `mod name;` in `file` (a module root when `is_root`) finds its file.
fn child_file(file: &Path, is_root: bool, inline: &[String], name: &str) -> Option<PathBuf> {
    let directory = file.parent()?;
    let mut base = if is_root || file.file_name().is_some_and(|name| name == "mod.rs") {
        directory.to_path_buf()
    } else {
        directory.join(file.file_stem()?)
    };
    for module in inline {
        base = base.join(module);
    }
    [
        base.join(format!("{name}.rs")),
        base.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|candidate| candidate.is_file())
}

/// The files of the crate whose root is `root`, found by following `mod` declarations.
pub fn module_tree(root: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut pending = vec![SourceFile {
        path: root.to_path_buf(),
        module: Vec::new(),
        root: root.to_path_buf(),
        test: false,
    }];
    while let Some(file) = pending.pop() {
        let text = fs::read_to_string(&file.path).unwrap_or_default();
        let tokens = lex(&text);
        let is_root = file.path == file.root;
        // Inline modules around a declaration: (name, brace depth inside it, test only).
        let mut inline: Vec<(String, i32, bool)> = Vec::new();
        let mut depth = 0;
        // The attributes since the last item include `#[cfg(test)]`.
        let mut test_item = false;
        let mut index = 0;
        while index < tokens.len() {
            if let Some((test_only, after)) = attribute(&tokens, index) {
                test_item |= test_only;
                index = after;
                continue;
            }
            let token = &tokens[index].token;
            let visibility = ["pub", "crate", "super", "in"]
                .iter()
                .any(|word| is_ident(token, word))
                || is_punct(token, '(')
                || is_punct(token, ')');
            match token {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if inline.last().is_some_and(|(_, inside, _)| *inside > depth) {
                        inline.pop();
                    }
                }
                Token::Ident(word) if word == "mod" => {
                    let in_test = inline.iter().any(|(_, _, test)| *test);
                    let name = match tokens.get(index + 1).map(|spanned| &spanned.token) {
                        Some(Token::Ident(name)) => Some(name.clone()),
                        _ => None,
                    };
                    let after = tokens.get(index + 2).map(|spanned| &spanned.token);
                    let inline_names: Vec<String> =
                        inline.iter().map(|(name, _, _)| name.clone()).collect();
                    match (name, after) {
                        (Some(name), Some(Token::Punct(';'))) => {
                            if let Some(path) =
                                child_file(&file.path, is_root, &inline_names, &name)
                            {
                                let mut module = file.module.clone();
                                module.extend(inline_names);
                                module.push(name);
                                pending.push(SourceFile {
                                    path,
                                    module,
                                    root: file.root.clone(),
                                    test: file.test || in_test || test_item,
                                });
                            }
                        }
                        (Some(name), Some(Token::Punct('{'))) => {
                            inline.push((name, depth + 1, test_item));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            if !visibility {
                test_item = false;
            }
            index += 1;
        }
        files.push(file);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// A path as written in a file, with the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPath {
    pub segments: Vec<String>,
    pub line: usize,
    /// The inline modules around it.
    pub inline: Vec<String>,
}

/// Every path of two or more segments `tokens` name (`a::b::c`, and each leaf of a `use`
/// group), except those of re-exports (`pub use`), which declare the module's surface the way
/// `mod` does rather than use anything.
pub fn paths(tokens: &[Spanned]) -> Vec<NamedPath> {
    let mut found = Vec::new();
    let mut inline: Vec<(String, i32)> = Vec::new();
    let mut depth = 0;
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index].token;
        match token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if inline.last().is_some_and(|(_, inside)| *inside > depth) {
                    inline.pop();
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) = (
                    tokens.get(index + 1).map(|spanned| &spanned.token),
                    tokens.get(index + 2).map(|spanned| &spanned.token),
                ) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Token::Ident(word) if word == "pub" => {
                // `pub use`, `pub(crate) use`, `pub(in path) use`: skip the whole item.
                let mut next = index + 1;
                if tokens
                    .get(next)
                    .is_some_and(|spanned| is_punct(&spanned.token, '('))
                {
                    while next < tokens.len() && !is_punct(&tokens[next].token, ')') {
                        next += 1;
                    }
                    next += 1;
                }
                if tokens
                    .get(next)
                    .is_some_and(|spanned| is_ident(&spanned.token, "use"))
                {
                    index = item_end(tokens, next);
                    continue;
                }
            }
            Token::Ident(_) => {
                let starts_path = index == 0 || tokens[index - 1].token != Token::PathSep;
                let followed = tokens
                    .get(index + 1)
                    .is_some_and(|spanned| spanned.token == Token::PathSep);
                if starts_path && followed {
                    let line = tokens[index].line;
                    let names: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
                    let mut leaves = Vec::new();
                    index = path_tree(tokens, index, Vec::new(), &mut leaves);
                    found.extend(leaves.into_iter().map(|segments| NamedPath {
                        segments,
                        line,
                        inline: names.clone(),
                    }));
                    continue;
                }
            }
            _ => {}
        }
        index += 1;
    }
    found
}

/// Reads `a::b::{c, d::e}` from `start`, adding each full path to `leaves`; returns the index
/// after it.
fn path_tree(
    tokens: &[Spanned],
    start: usize,
    prefix: Vec<String>,
    leaves: &mut Vec<Vec<String>>,
) -> usize {
    let mut segments = prefix;
    let mut index = start;
    loop {
        match tokens.get(index).map(|spanned| &spanned.token) {
            Some(Token::Ident(word)) => {
                segments.push(word.clone());
                index += 1;
            }
            Some(Token::Punct('{')) => {
                index += 1;
                loop {
                    match tokens.get(index).map(|spanned| &spanned.token) {
                        Some(Token::Punct('}')) | None => return index + 1,
                        Some(Token::Punct(',')) => index += 1,
                        Some(Token::Ident(_)) => {
                            index = path_tree(tokens, index, segments.clone(), leaves);
                        }
                        Some(_) => index += 1,
                    }
                }
            }
            _ => break,
        }
        if tokens.get(index).map(|spanned| &spanned.token) == Some(&Token::PathSep) {
            index += 1;
        } else {
            break;
        }
    }
    // `as name` after it renames the path locally; the path is still what it names.
    if segments.len() > 1 {
        leaves.push(segments);
    }
    index
}

/// The module files of one crate by module path.
pub fn modules_by_path(files: &[SourceFile]) -> BTreeMap<Vec<String>, PathBuf> {
    files
        .iter()
        .map(|file| (file.module.clone(), file.path.clone()))
        .collect()
}

#[test]
fn the_lexer_keeps_code_and_strings_and_drops_comments() {
    let text = "// use crate::a;\n/* use crate::b; /* nested */ */ let s = r#\"x\"y\"#;\n\
                let c = '\"'; let l: &'static str = \"a\\\"b\"; b\"zfs\"; 'x'";
    let tokens: Vec<Token> = lex(text).into_iter().map(|spanned| spanned.token).collect();
    let strings: Vec<&str> = tokens
        .iter()
        .filter_map(|token| match token {
            Token::Str(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(strings, ["x\"y", "a\\\"b", "zfs"]);
    assert!(
        !tokens.contains(&Token::Ident("crate".into())),
        "{tokens:?}"
    );
    assert!(
        !tokens.contains(&Token::Ident("static".into())),
        "lifetimes are dropped"
    );
}

#[test]
fn char_literals_do_not_open_strings() {
    let text = "let a = '\\''; let b = b'\"'; let c = '\\u{22}'; let d = \"crate::x\";";
    let strings: Vec<Token> = lex(text)
        .into_iter()
        .map(|spanned| spanned.token)
        .filter(|token| matches!(token, Token::Str(_)))
        .collect();
    assert_eq!(strings, [Token::Str("crate::x".into())]);
}

#[test]
fn paths_expand_use_groups_and_skip_re_exports() {
    let text = "use crate::a::{self, b::C, d::{e, f}};\npub use crate::g::H;\n\
                pub(crate) use super::i;\nfn x() { super::j::k(); let y = z::w; }";
    let found: Vec<String> = paths(&lex(text))
        .into_iter()
        .map(|path| path.segments.join("::"))
        .collect();
    assert_eq!(
        found,
        [
            "crate::a::self",
            "crate::a::b::C",
            "crate::a::d::e",
            "crate::a::d::f",
            "super::j::k",
            "z::w"
        ]
    );
}

#[test]
fn test_items_are_skipped() {
    let text = "fn a() {}\n#[cfg(test)]\nmod tests { fn b() { Command::new(\"x\"); } }\n\
                #[cfg(test)] use std::process::Command;\nfn c(v: [u8; 2]) {}";
    let kept: Vec<Token> = without_test_items(&lex(text))
        .into_iter()
        .map(|spanned| spanned.token)
        .collect();
    assert!(!kept.contains(&Token::Ident("Command".into())), "{kept:?}");
    assert!(kept.contains(&Token::Ident("c".into())), "{kept:?}");
}
