//! Arguments and results of [`crate::Zfs`] operations that are specific to the ZFS tools
//! (the shared domain model lives in `wizfs-core`). Every string that ends up on a `zfs`
//! command line is a validated type here, so no caller can inject an option or a shell word.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use wizfs_core::{BookmarkName, SnapshotName};

/// Whether a listing covers one dataset or the dataset and all its descendants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Dataset,
    Recursive,
}

/// A validated property name: a native one (`[a-z0-9_]+`, such as `used` or `snapdir`) or a
/// user property (`module:name`, `[a-z0-9:._-]`, containing a colon).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropertyName(String);

/// Why a string is not an acceptable property name, hold tag or resume token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    #[error(
        "property name `{0}` is not valid: use lowercase letters, digits and `_` (native) or `module:name` with `:._-` (user property)"
    )]
    PropertyName(String),
    #[error(
        "hold tag `{0}` is not valid: use 1–255 letters, digits or `_.:+-`, not starting with `-`"
    )]
    HoldTag(String),
    #[error(
        "resume token `{0}` is not valid: expected the `receive_resume_token` value (letters, digits and `-`)"
    )]
    ResumeToken(String),
}

impl PropertyName {
    pub fn new(name: &str) -> Result<Self, ArgumentError> {
        let is_user = name.contains(':');
        let valid = !name.is_empty()
            && name.len() <= 256
            && !name.starts_with(['-', ':'])
            && if is_user {
                wizfs_core::validate_user_property(name).is_ok()
            } else {
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            };
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(ArgumentError::PropertyName(name.escape_debug().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_user_property(&self) -> bool {
        self.0.contains(':')
    }
}

impl fmt::Display for PropertyName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Where a property's value comes from (the `source` column of `zfs get`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertySource {
    Local,
    Default,
    Inherited {
        from: String,
    },
    Temporary,
    Received,
    /// `-`: read-only statistics such as `used`.
    None,
    Other(String),
}

impl PropertySource {
    pub fn parse(source: &str) -> Self {
        match source {
            "local" => Self::Local,
            "default" => Self::Default,
            "temporary" => Self::Temporary,
            "received" => Self::Received,
            "-" | "" => Self::None,
            other => match other.strip_prefix("inherited from ") {
                Some(from) => Self::Inherited {
                    from: from.to_owned(),
                },
                None => Self::Other(other.to_owned()),
            },
        }
    }
}

/// One row of `zfs get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    /// `None` when ZFS reports `-` (not set / not applicable).
    pub value: Option<String>,
    pub source: PropertySource,
}

/// A user hold tag (`zfs hold TAG snapshot`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HoldTag(String);

impl HoldTag {
    pub fn new(tag: &str) -> Result<Self, ArgumentError> {
        let valid = !tag.is_empty()
            && tag.len() <= 255
            && !tag.starts_with('-')
            && tag.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'+' | b'-')
            });
        if valid {
            Ok(Self(tag.to_owned()))
        } else {
            Err(ArgumentError::HoldTag(tag.escape_debug().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HoldTag {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Options of `zfs destroy` for snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestroyOptions {
    /// `-r`: also the same-named snapshots of all descendants.
    pub recursive: bool,
    /// `-d`: mark held snapshots for deferred destruction instead of failing.
    pub defer: bool,
}

/// The newer side of a `zfs diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffTarget<'a> {
    Snapshot(&'a SnapshotName),
    /// The live (mounted) filesystem of the snapshot's dataset.
    Live,
}

/// What happened to a path between the two sides of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffChange {
    /// `-`: the path was removed.
    Removed,
    /// `+`: the path was created.
    Created,
    /// `M`: contents or metadata changed (also reported for the parent directory of any
    /// created, removed or renamed entry).
    Modified,
    /// `R`: renamed to `to` (absolute path).
    Renamed { to: PathBuf },
}

/// File types as `zfs diff -F` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    BlockDevice,
    CharacterDevice,
    Fifo,
    Socket,
    Door,
    EventPort,
}

impl FileKind {
    /// The indicator character `zfs diff -F` prints.
    pub fn from_indicator(indicator: &str) -> Option<Self> {
        Some(match indicator {
            "F" => Self::File,
            "/" => Self::Directory,
            "@" => Self::Symlink,
            "B" => Self::BlockDevice,
            "C" => Self::CharacterDevice,
            "|" => Self::Fifo,
            "=" => Self::Socket,
            ">" => Self::Door,
            "P" => Self::EventPort,
            _ => return None,
        })
    }

    pub fn indicator(self) -> char {
        match self {
            Self::File => 'F',
            Self::Directory => '/',
            Self::Symlink => '@',
            Self::BlockDevice => 'B',
            Self::CharacterDevice => 'C',
            Self::Fifo => '|',
            Self::Socket => '=',
            Self::Door => '>',
            Self::EventPort => 'P',
        }
    }
}

/// One line of `zfs diff -H -F -t`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    /// Inode change time of the entry, seconds and nanoseconds since the epoch.
    pub changed_at_seconds: i64,
    pub changed_at_nanoseconds: u32,
    pub change: DiffChange,
    pub kind: FileKind,
    /// Absolute path, byte-exact (ZFS's `\0ooo` escapes decoded; may be non-UTF-8).
    pub path: PathBuf,
}

/// The base of an incremental send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncrementalBase {
    /// `-i snap`: only the changes between the base and the sent snapshot.
    Snapshot(SnapshotName),
    /// `-I snap`: also every intermediate snapshot.
    SnapshotWithIntermediates(SnapshotName),
    /// `-i dataset#bookmark`.
    Bookmark(BookmarkName),
}

/// Flags of `zfs send`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendFlags {
    /// `-w`: raw (encrypted datasets stay encrypted; implies compressed blocks).
    pub raw: bool,
    /// `-R`: replication stream of the dataset and its descendants.
    pub replicate: bool,
    /// `-p`: include properties.
    pub properties: bool,
    /// `-L`: allow blocks larger than 128 KiB.
    pub large_blocks: bool,
    /// `-c`: keep on-disk compression.
    pub compressed: bool,
    /// `-e`: WRITE_EMBEDDED records.
    pub embedded: bool,
}

/// What `zfs send` sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendSource {
    Snapshot {
        snapshot: SnapshotName,
        base: Option<IncrementalBase>,
        flags: SendFlags,
    },
    /// `zfs send -t TOKEN`: continue an interrupted resumable receive.
    Resume(ResumeToken),
}

/// Options of `zfs receive`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// `-s`: keep partial state so an interrupted receive can be resumed.
    pub resumable: bool,
    /// `-F`: roll the target back to its newest snapshot first.
    pub force_rollback: bool,
    /// `-u`: do not mount the received filesystem.
    pub unmounted: bool,
    /// `-o name=value` for each.
    pub properties: Vec<(PropertyName, String)>,
}

/// A `receive_resume_token` value (`1-<hex>-<hex>-<hex>...`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResumeToken(String);

impl ResumeToken {
    pub fn new(token: &str) -> Result<Self, ArgumentError> {
        let valid = token.len() > 2
            && token.as_bytes()[0].is_ascii_digit()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(Self(token.to_owned()))
        } else {
            Err(ArgumentError::ResumeToken(token.escape_debug().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&PropertyName> for OsString {
    fn from(name: &PropertyName) -> Self {
        OsString::from(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names() {
        for good in [
            "used",
            "receive_resume_token",
            "wizfs:managed",
            "com.sun:auto-snapshot",
        ] {
            assert!(PropertyName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-o",
            "Used",
            "used;rm",
            "a b",
            ":x",
            "wizfs:Managed",
            "x\n",
        ] {
            assert!(
                matches!(PropertyName::new(bad), Err(ArgumentError::PropertyName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hold_tags() {
        for good in ["wizfs", "wizfs:backup-1", "keep.v2+"] {
            assert!(HoldTag::new(good).is_ok(), "{good}");
        }
        let too_long = "x".repeat(256);
        for bad in ["", "-r", "a b", "a\tb", "ä", too_long.as_str()] {
            assert!(
                matches!(HoldTag::new(bad), Err(ArgumentError::HoldTag(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn resume_tokens() {
        assert!(ResumeToken::new("1-e604ea4bf-e0-789c63a2").is_ok());
        for bad in ["", "-t", "1", "1-ab cd", "x-12"] {
            assert!(
                matches!(ResumeToken::new(bad), Err(ArgumentError::ResumeToken(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn diff_indicators_round_trip() {
        for indicator in ["F", "/", "@", "B", "C", "|", "=", ">", "P"] {
            let kind = FileKind::from_indicator(indicator).expect(indicator);
            assert_eq!(kind.indicator().to_string(), indicator);
        }
        assert_eq!(FileKind::from_indicator("?"), None);
    }

    #[test]
    fn property_sources() {
        assert_eq!(
            PropertySource::parse("inherited from tank"),
            PropertySource::Inherited {
                from: "tank".into()
            }
        );
        assert_eq!(PropertySource::parse("-"), PropertySource::None);
        assert_eq!(PropertySource::parse("local"), PropertySource::Local);
    }
}
