//! Paths inside a dataset, validated once: every path a user or the API names (a file to
//! browse, restore or download) becomes a [`RelativePath`] before anything touches the
//! file system. Relative (no leading `/`), no `.` or `..` components, no empty components,
//! no NUL, at most 255 bytes per component and 4095 in total — so joining one to a dataset
//! or snapshot root can never leave it. Bytes, not strings: ZFS file names need not be UTF-8.

use std::fmt;

/// Longest file name component Linux accepts (`NAME_MAX`).
pub const MAXIMUM_COMPONENT_LENGTH: usize = 255;
/// Longest path Linux accepts (`PATH_MAX` less the NUL).
pub const MAXIMUM_PATH_LENGTH: usize = 4095;

/// A path relative to the root of a dataset (or of one of its snapshots). The empty path is
/// the root itself.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RelativePath(Vec<u8>);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path `{0}` is absolute: give it relative to the dataset")]
    Absolute(String),
    #[error("path `{0}` contains a NUL byte")]
    Nul(String),
    #[error("path `{0}` contains a `.` or `..` component")]
    DotComponent(String),
    #[error("path `{0}` has an empty component (a doubled or trailing `/`)")]
    EmptyComponent(String),
    #[error("path `{path}` has a component of {length} bytes; the limit is 255")]
    ComponentTooLong { path: String, length: usize },
    #[error("file name `{0}` contains a `/`")]
    SlashInName(String),
    #[error("path `{path}` is {length} bytes long; the limit is 4095")]
    TooLong { path: String, length: usize },
}

fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut escaped: String = text.escape_debug().collect();
    if escaped.len() > 300 {
        let mut cut = 300;
        while !escaped.is_char_boundary(cut) {
            cut -= 1;
        }
        escaped.truncate(cut);
        escaped.push('…');
    }
    escaped
}

impl RelativePath {
    /// The dataset root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Validates `bytes` as a relative path (empty = the root).
    pub fn new(bytes: &[u8]) -> Result<Self, PathError> {
        if bytes.is_empty() {
            return Ok(Self::root());
        }
        if bytes.len() > MAXIMUM_PATH_LENGTH {
            return Err(PathError::TooLong {
                path: shown(bytes),
                length: bytes.len(),
            });
        }
        if bytes.contains(&0) {
            return Err(PathError::Nul(shown(bytes)));
        }
        if bytes.starts_with(b"/") {
            return Err(PathError::Absolute(shown(bytes)));
        }
        for component in bytes.split(|byte| *byte == b'/') {
            match component {
                b"" => return Err(PathError::EmptyComponent(shown(bytes))),
                b"." | b".." => return Err(PathError::DotComponent(shown(bytes))),
                long if long.len() > MAXIMUM_COMPONENT_LENGTH => {
                    return Err(PathError::ComponentTooLong {
                        path: shown(bytes),
                        length: long.len(),
                    });
                }
                _ => {}
            }
        }
        Ok(Self(bytes.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The path as the operating system takes it (Unix only: the console's browser bundle
    /// also builds this crate, for WebAssembly).
    #[cfg(unix)]
    pub fn as_path(&self) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt as _;
        std::path::Path::new(std::ffi::OsStr::from_bytes(&self.0))
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The components, outermost first (none for the root).
    pub fn components(&self) -> impl Iterator<Item = &[u8]> {
        self.0
            .split(|byte| *byte == b'/')
            .filter(|component| !component.is_empty())
    }

    /// The last component (`None` for the root).
    pub fn file_name(&self) -> Option<&[u8]> {
        self.components().last()
    }

    /// The containing directory (`None` for the root).
    pub fn parent(&self) -> Option<RelativePath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.iter().rposition(|byte| *byte == b'/') {
            Some(index) => Self(self.0[..index].to_vec()),
            None => Self::root(),
        })
    }

    /// `self/component`, validated; `component` is one file name (no `/`).
    pub fn join(&self, component: &[u8]) -> Result<RelativePath, PathError> {
        if component.contains(&b'/') {
            return Err(PathError::SlashInName(shown(component)));
        }
        if component.is_empty() {
            return Err(PathError::EmptyComponent(shown(&self.0)));
        }
        let mut joined = Vec::with_capacity(self.0.len() + 1 + component.len());
        if !self.is_root() {
            joined.extend_from_slice(&self.0);
            joined.push(b'/');
        }
        joined.extend_from_slice(component);
        Self::new(&joined)
    }

    /// `self` followed by all components of `other`.
    pub fn join_path(&self, other: &RelativePath) -> Result<RelativePath, PathError> {
        if other.is_root() {
            return Ok(self.clone());
        }
        if self.is_root() {
            return Ok(other.clone());
        }
        let mut joined = self.0.clone();
        joined.push(b'/');
        joined.extend_from_slice(&other.0);
        Self::new(&joined)
    }

    /// Whether `self` is `ancestor` or lies below it (component-wise: `a/bc` is not below `a/b`).
    pub fn starts_with(&self, ancestor: &RelativePath) -> bool {
        ancestor.is_root()
            || self.0 == ancestor.0
            || (self.0.starts_with(&ancestor.0) && self.0.get(ancestor.0.len()) == Some(&b'/'))
    }

    /// The part of `self` below `ancestor`.
    pub fn strip_prefix(&self, ancestor: &RelativePath) -> Option<RelativePath> {
        if !self.starts_with(ancestor) {
            return None;
        }
        if ancestor.is_root() {
            return Some(self.clone());
        }
        Some(Self(
            self.0
                .get(ancestor.0.len() + 1..)
                .unwrap_or_default()
                .to_vec(),
        ))
    }

    /// Lossy UTF-8 for display.
    pub fn display(&self) -> String {
        if self.is_root() {
            "/".to_owned()
        } else {
            String::from_utf8_lossy(&self.0).into_owned()
        }
    }
}

impl fmt::Debug for RelativePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "RelativePath({:?})", shown(&self.0))
    }
}

impl fmt::Display for RelativePath {
    /// Escaped so that control characters never reach a terminal.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            formatter.write_str("/")
        } else {
            formatter.write_str(&shown(&self.0))
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn accepts_relative_byte_paths() {
        for good in [
            &b""[..],
            b"a",
            b"a/b c/d.txt",
            b"\xff\xfe/new\nline",
            b".hidden/..dots",
        ] {
            assert!(RelativePath::new(good).is_ok(), "{good:?}");
        }
        let long_component = vec![b'x'; 255];
        assert!(RelativePath::new(&long_component).is_ok());
    }

    #[test]
    fn rejects_escapes_and_malformed_paths() {
        let too_long_component = vec![b'x'; 256];
        let too_long = [b"a/".repeat(2048).as_slice(), b"a"].concat();
        type Check = fn(&PathError) -> bool;
        let cases: Vec<(&[u8], Check)> = vec![
            (b"/etc/passwd", |e| matches!(e, PathError::Absolute(_))),
            (b"a/../../etc", |e| matches!(e, PathError::DotComponent(_))),
            (b"..", |e| matches!(e, PathError::DotComponent(_))),
            (b"./a", |e| matches!(e, PathError::DotComponent(_))),
            (b"a//b", |e| matches!(e, PathError::EmptyComponent(_))),
            (b"a/", |e| matches!(e, PathError::EmptyComponent(_))),
            (b"a\0b", |e| matches!(e, PathError::Nul(_))),
            (&too_long_component, |e| {
                matches!(e, PathError::ComponentTooLong { length: 256, .. })
            }),
            (&too_long, |e| matches!(e, PathError::TooLong { .. })),
        ];
        for (bad, expected) in cases {
            let error = RelativePath::new(bad).expect_err("must be rejected");
            assert!(expected(&error), "{bad:?} -> {error:?}");
            assert!(!error.to_string().contains('\0'));
        }
    }

    #[test]
    fn navigation() {
        let path = RelativePath::new(b"a/b/c.txt").unwrap();
        assert_eq!(path.file_name(), Some(&b"c.txt"[..]));
        assert_eq!(path.parent().unwrap().as_bytes(), b"a/b");
        assert_eq!(
            RelativePath::new(b"a").unwrap().parent(),
            Some(RelativePath::root())
        );
        assert_eq!(RelativePath::root().parent(), None);
        assert_eq!(path.components().count(), 3);
        let root = RelativePath::root();
        assert_eq!(root.join(b"x").unwrap().as_bytes(), b"x");
        assert_eq!(
            path.parent().unwrap().join(b"d").unwrap().as_bytes(),
            b"a/b/d"
        );
        assert!(root.join(b"..").is_err());
        assert!(root.join(b"a/b").is_err());
        assert!(root.join(b"").is_err());
        let ancestor = RelativePath::new(b"a/b").unwrap();
        assert!(path.starts_with(&ancestor));
        assert!(!RelativePath::new(b"a/bc").unwrap().starts_with(&ancestor));
        assert!(path.starts_with(&root));
        assert_eq!(path.strip_prefix(&ancestor).unwrap().as_bytes(), b"c.txt");
        assert_eq!(ancestor.strip_prefix(&ancestor), Some(RelativePath::root()));
        assert_eq!(root.join_path(&path).unwrap(), path);
        assert_eq!(
            ancestor
                .join_path(&RelativePath::new(b"x/y").unwrap())
                .unwrap()
                .as_bytes(),
            b"a/b/x/y"
        );
    }

    #[test]
    fn display_is_terminal_safe() {
        let path = RelativePath::new(b"evil\n\x1b[31mname").unwrap();
        let shown = path.to_string();
        assert!(!shown.contains('\n') && !shown.contains('\x1b'), "{shown}");
        assert_eq!(RelativePath::root().to_string(), "/");
    }
}
