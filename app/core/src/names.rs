//! Validated ZFS names: pools, datasets, snapshots and bookmarks.
//!
//! This file exists so that every name WiZFS hands to `zfs` or `zpool` has been
//! checked against the OpenZFS naming rules (`module/zcommon/zfs_namecheck.c`
//! and `zpool_name_valid()` in libzfs) before any command runs. Once a
//! [`PoolName`], [`DatasetName`], [`SnapshotName`] or [`BookmarkName`] exists,
//! it is valid; the types can be passed directly as command arguments because
//! they implement `AsRef<OsStr>`.
//!
//! The rules, for every component of every name:
//!
//! * allowed characters are ASCII letters, digits, `_`, `-`, `:`, `.` and space;
//! * a full name (`pool/fs`, `pool/fs@snap`, `pool/fs#bookmark`) is at most
//!   [`MAXIMUM_FULL_NAME_LENGTH`] (255) bytes, `ZFS_MAX_DATASET_NAME_LEN` minus
//!   the terminating NUL;
//! * a pool name begins with a letter, is at most [`MAXIMUM_POOL_NAME_LENGTH`]
//!   (239) bytes (OpenZFS keeps room for `pool/$ORIGIN@$ORIGIN`), is not `log`,
//!   does not begin with `mirror`, `raidz`, `draid` or `spare`, and does not look
//!   like a Solaris disk (`c` followed by a digit, such as `c0t0d0`);
//! * no component is empty, `.` or `..`.
//!
//! **WiZFS is stricter than OpenZFS in one place:** no dataset component and no
//! snapshot or bookmark short name may begin with `-`, so a name can never be
//! mistaken for a command-line option by `zfs` or any other tool it is passed
//! to. (Pool names already must begin with a letter.)

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

#[cfg(test)]
mod tests;

/// Longest full dataset, snapshot or bookmark name, in bytes
/// (OpenZFS `ZFS_MAX_DATASET_NAME_LEN` is 256 including the terminating NUL).
pub const MAXIMUM_FULL_NAME_LENGTH: usize = 255;

/// Longest pool name, in bytes. OpenZFS rejects pool names of
/// `ZFS_MAX_DATASET_NAME_LEN - 2 - 2 * strlen("$ORIGIN")` = 240 bytes or more,
/// so that `pool/$ORIGIN@$ORIGIN` always fits.
pub const MAXIMUM_POOL_NAME_LENGTH: usize = 239;

/// Longest snapshot or bookmark short name, or single dataset component, that
/// can appear in a full name: the shortest possible prefix is one pool letter
/// plus one delimiter (`p@short`, `p/component`).
pub const MAXIMUM_SHORT_NAME_LENGTH: usize = MAXIMUM_FULL_NAME_LENGTH - 2;

/// Longest (in characters) rendering of an offending input kept in a
/// [`NameError`]; longer inputs are cut and end with `…`, so an absurdly long
/// input cannot produce an absurdly long error message.
const MAXIMUM_NAME_LENGTH_IN_ERRORS: usize = 1024;

/// Which kind of ZFS name is being validated; used in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    /// A storage pool, such as `tank`.
    Pool,
    /// A filesystem or volume, such as `tank/data`.
    Dataset,
    /// A snapshot, such as `tank/data@daily-2026-01-01`.
    Snapshot,
    /// A bookmark, such as `tank/data#sent-2026-01-01`.
    Bookmark,
}

impl NameKind {
    /// The lowercase word used for this kind in messages: `pool`, `dataset`,
    /// `snapshot` or `bookmark`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Pool => "pool",
            NameKind::Dataset => "dataset",
            NameKind::Snapshot => "snapshot",
            NameKind::Bookmark => "bookmark",
        }
    }

    /// The character separating the dataset from the short name, for
    /// snapshots (`@`) and bookmarks (`#`).
    pub fn short_name_delimiter(self) -> Option<char> {
        match self {
            NameKind::Snapshot => Some('@'),
            NameKind::Bookmark => Some('#'),
            NameKind::Pool | NameKind::Dataset => None,
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a string is not a valid ZFS name.
///
/// Every `name` field holds the offending input escaped with
/// [`str::escape_debug`] (so control characters never reach a terminal; names
/// made only of allowed characters are unchanged) and cut to 1024 characters
/// followed by `…` when longer. For [`NameError::PoolNameMustStartWithLetter`],
/// [`NameError::ReservedPoolName`] and a too long pool component, `name` is the
/// pool name itself; otherwise it is the whole input being validated.
/// `position` is a byte offset into that whole input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The input is the empty string.
    #[error("{kind} name is empty")]
    Empty {
        /// What was being validated.
        kind: NameKind,
    },
    /// The input is longer than ZFS allows.
    #[error("{kind} name `{name}` is {length} bytes long; the limit is {max}")]
    TooLong {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
        /// Its length in bytes.
        length: usize,
        /// The maximum length in bytes.
        max: usize,
    },
    /// The input contains a character outside the allowed set.
    #[error(
        "{kind} name `{name}` contains the character {character:?} at byte {position}; \
         only ASCII letters, digits, `_`, `-`, `:`, `.` and space are allowed{}",
        invalid_character_hint(*.kind, *.character)
    )]
    InvalidCharacter {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
        /// The first offending character.
        character: char,
        /// Its byte offset in the input.
        position: usize,
    },
    /// A component is empty: a leading, trailing or doubled `/`, or nothing
    /// before or after the `@`/`#`.
    #[error("{kind} name `{name}` {}", empty_component_description(*.kind, .name))]
    EmptyComponent {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
    },
    /// A component is `.` or `..`.
    #[error("{kind} name `{name}` has a component that is `.` or `..`, which ZFS does not allow")]
    DotComponent {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
    },
    /// A component or short name begins with `-` (a WiZFS rule).
    #[error(
        "{kind} name `{name}` has a component that begins with `-`; WiZFS does not allow \
         this so that a name can never be mistaken for a command-line option"
    )]
    LeadingDash {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
    },
    /// A snapshot name without `@`, or a bookmark name without `#`.
    #[error(
        "{kind} name `{name}` has no `{delimiter}`; a {kind} name looks like \
         `pool/dataset{delimiter}name`"
    )]
    MissingDelimiter {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
        /// The delimiter that is missing.
        delimiter: char,
    },
    /// A `/`, `@` or `#` where this kind of name does not allow it: `@` in a
    /// dataset name, `#` in a snapshot name, a second `@`, `/` in a pool name.
    #[error(
        "{kind} name `{name}` contains `{delimiter}` where it is not allowed; {}",
        delimiter_rule(*.kind)
    )]
    UnexpectedDelimiter {
        /// What was being validated.
        kind: NameKind,
        /// The escaped input.
        name: String,
        /// The unexpected delimiter.
        delimiter: char,
    },
    /// The pool name does not begin with an ASCII letter.
    #[error("pool name `{name}` must begin with a letter (`a`-`z` or `A`-`Z`)")]
    PoolNameMustStartWithLetter {
        /// The escaped pool name.
        name: String,
    },
    /// The pool name is reserved by ZFS.
    #[error(
        "pool name `{name}` is reserved: a pool may not be named `log`, begin with `mirror`, \
         `raidz`, `draid` or `spare`, or look like a disk (`c` followed by a digit)"
    )]
    ReservedPoolName {
        /// The escaped pool name.
        name: String,
    },
}

/// Extra explanation appended to [`NameError::InvalidCharacter`] when the
/// character is a `/` in a short name.
fn invalid_character_hint(kind: NameKind, character: char) -> &'static str {
    match (kind, character) {
        (NameKind::Snapshot | NameKind::Bookmark, '/') => {
            " (a `/` may not appear after the `@` or `#`)"
        }
        (NameKind::Dataset, '/') => " (a single component may not contain `/`)",
        _ => "",
    }
}

/// The rest of the [`NameError::EmptyComponent`] message, saying where the
/// empty part is.
fn empty_component_description(kind: NameKind, name: &str) -> String {
    if let Some(delimiter) = kind.short_name_delimiter()
        && let Some((dataset_part, short_part)) = name.split_once(delimiter)
    {
        if short_part.is_empty() {
            return format!("has an empty name after `{delimiter}`");
        }
        if dataset_part.is_empty() {
            return format!("has an empty dataset name before `{delimiter}`");
        }
    }
    "has an empty component (a leading, trailing or doubled `/`)".to_owned()
}

/// The rule behind [`NameError::UnexpectedDelimiter`], for its message.
fn delimiter_rule(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Pool => "a pool name is a single component without `/`, `@` or `#`",
        NameKind::Dataset => "a dataset name may not contain `@` or `#`",
        NameKind::Snapshot => "a snapshot name contains exactly one `@` and no `#`",
        NameKind::Bookmark => "a bookmark name contains exactly one `#` and no `@`",
    }
}

/// Escapes `input` for an error message: control and other unprintable
/// characters become `\n`, `\u{7}`..., and very long inputs are cut.
pub(crate) fn escape_for_error_message(input: &str) -> String {
    let mut escaped = String::new();
    for (count, character) in input.escape_debug().enumerate() {
        if count == MAXIMUM_NAME_LENGTH_IN_ERRORS {
            escaped.push('…');
            break;
        }
        escaped.push(character);
    }
    escaped
}

/// Whether `character` may appear in a component of a ZFS name
/// (OpenZFS `valid_char()`, minus the `%` reserved for temporary clones).
fn is_allowed_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | ':' | '.' | ' ')
}

/// Rejects empty inputs and inputs longer than `maximum_length` bytes.
fn check_not_empty_and_length(
    kind: NameKind,
    input: &str,
    maximum_length: usize,
) -> Result<(), NameError> {
    if input.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if input.len() > maximum_length {
        return Err(NameError::TooLong {
            kind,
            name: escape_for_error_message(input),
            length: input.len(),
            max: maximum_length,
        });
    }
    Ok(())
}

/// Scans every character of a full name and returns the byte offset of the
/// short-name delimiter (`@` for snapshots, `#` for bookmarks), if any.
///
/// Reports the first offending character: an `@` or `#` this kind does not
/// expect (or a second one), a `/` in a pool name or after the delimiter, or
/// any character outside the allowed set.
fn scan_full_name_characters(kind: NameKind, input: &str) -> Result<Option<usize>, NameError> {
    let expected_delimiter = kind.short_name_delimiter();
    let mut delimiter_position = None;
    for (position, character) in input.char_indices() {
        match character {
            '@' | '#' => {
                if expected_delimiter == Some(character) && delimiter_position.is_none() {
                    delimiter_position = Some(position);
                } else {
                    return Err(NameError::UnexpectedDelimiter {
                        kind,
                        name: escape_for_error_message(input),
                        delimiter: character,
                    });
                }
            }
            '/' if kind == NameKind::Pool => {
                return Err(NameError::UnexpectedDelimiter {
                    kind,
                    name: escape_for_error_message(input),
                    delimiter: character,
                });
            }
            '/' if delimiter_position.is_none() => {}
            _ if character != '/' && is_allowed_name_character(character) => {}
            _ => {
                return Err(NameError::InvalidCharacter {
                    kind,
                    name: escape_for_error_message(input),
                    character,
                    position,
                });
            }
        }
    }
    Ok(delimiter_position)
}

/// The pool-specific rules (first letter, reserved names), applied to a pool
/// name or the first component of a dataset name whose characters have
/// already been checked.
fn check_pool_specific_rules(pool_name: &str) -> Result<(), NameError> {
    if pool_name.len() > MAXIMUM_POOL_NAME_LENGTH {
        return Err(NameError::TooLong {
            kind: NameKind::Pool,
            name: escape_for_error_message(pool_name),
            length: pool_name.len(),
            max: MAXIMUM_POOL_NAME_LENGTH,
        });
    }
    let first_character_is_letter = pool_name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic());
    if !first_character_is_letter {
        return Err(NameError::PoolNameMustStartWithLetter {
            name: escape_for_error_message(pool_name),
        });
    }
    let is_reserved_word = pool_name == "log"
        || ["mirror", "raidz", "draid", "spare"]
            .iter()
            .any(|reserved_prefix| pool_name.starts_with(reserved_prefix));
    let mut characters = pool_name.chars();
    let looks_like_solaris_disk = characters.next() == Some('c')
        && characters
            .next()
            .is_some_and(|second| second.is_ascii_digit());
    if is_reserved_word || looks_like_solaris_disk {
        return Err(NameError::ReservedPoolName {
            name: escape_for_error_message(pool_name),
        });
    }
    Ok(())
}

/// Checks the `/`-separated components of the dataset part of a full name
/// (whose characters have already been scanned). Errors name `full_name`.
fn check_dataset_components(
    kind: NameKind,
    full_name: &str,
    dataset_part: &str,
) -> Result<(), NameError> {
    for (index, component) in dataset_part.split('/').enumerate() {
        if component.is_empty() {
            return Err(NameError::EmptyComponent {
                kind,
                name: escape_for_error_message(full_name),
            });
        }
        if index == 0 {
            check_pool_specific_rules(component)?;
        } else {
            check_component_is_not_special(kind, full_name, component)?;
        }
    }
    Ok(())
}

/// Rejects `.`, `..` and components beginning with `-`.
fn check_component_is_not_special(
    kind: NameKind,
    full_name: &str,
    component: &str,
) -> Result<(), NameError> {
    if component == "." || component == ".." {
        return Err(NameError::DotComponent {
            kind,
            name: escape_for_error_message(full_name),
        });
    }
    if component.starts_with('-') {
        return Err(NameError::LeadingDash {
            kind,
            name: escape_for_error_message(full_name),
        });
    }
    Ok(())
}

/// Checks one dataset component, snapshot short name or bookmark short name
/// that starts at byte `offset` of `full_name`; errors name `full_name` and
/// give positions in it.
fn check_single_component(
    kind: NameKind,
    full_name: &str,
    component: &str,
    offset: usize,
) -> Result<(), NameError> {
    if component.is_empty() {
        return Err(NameError::EmptyComponent {
            kind,
            name: escape_for_error_message(full_name),
        });
    }
    for (position, character) in component.char_indices() {
        if matches!(character, '@' | '#') {
            return Err(NameError::UnexpectedDelimiter {
                kind,
                name: escape_for_error_message(full_name),
                delimiter: character,
            });
        }
        if !is_allowed_name_character(character) {
            return Err(NameError::InvalidCharacter {
                kind,
                name: escape_for_error_message(full_name),
                character,
                position: offset.saturating_add(position),
            });
        }
    }
    check_component_is_not_special(kind, full_name, component)
}

/// Validates a full snapshot or bookmark name and returns the byte offset of
/// its delimiter.
fn validate_full_short_name_holder(kind: NameKind, input: &str) -> Result<usize, NameError> {
    check_not_empty_and_length(kind, input, MAXIMUM_FULL_NAME_LENGTH)?;
    let delimiter_position = scan_full_name_characters(kind, input)?;
    let delimiter = kind.short_name_delimiter().unwrap_or('@');
    let Some(delimiter_position) = delimiter_position else {
        return Err(NameError::MissingDelimiter {
            kind,
            name: escape_for_error_message(input),
            delimiter,
        });
    };
    let dataset_part = input.get(..delimiter_position).unwrap_or_default();
    let short_part_offset = delimiter_position.saturating_add(delimiter.len_utf8());
    let short_part = input.get(short_part_offset..).unwrap_or_default();
    check_dataset_components(kind, input, dataset_part)?;
    check_single_component(kind, input, short_part, short_part_offset)?;
    Ok(delimiter_position)
}

/// Builds `dataset` + `delimiter` + `short_name` and validates it exactly as
/// the full-name parser would.
fn join_and_validate_short_name(
    kind: NameKind,
    dataset: &DatasetName,
    short_name: &str,
) -> Result<String, NameError> {
    let delimiter = kind.short_name_delimiter().unwrap_or('@');
    let mut full_name = String::with_capacity(dataset.0.len() + 1 + short_name.len());
    full_name.push_str(&dataset.0);
    full_name.push(delimiter);
    full_name.push_str(short_name);
    check_not_empty_and_length(kind, &full_name, MAXIMUM_FULL_NAME_LENGTH)?;
    check_single_component(
        kind,
        &full_name,
        short_name,
        dataset.0.len().saturating_add(delimiter.len_utf8()),
    )?;
    Ok(full_name)
}

/// Validates a name that stands alone rather than inside a full name:
///
/// * [`NameKind::Snapshot`] / [`NameKind::Bookmark`]: the short name after the
///   `@` / `#` (such as `daily-2026-01-01`);
/// * [`NameKind::Dataset`]: a single dataset component, as accepted by
///   [`DatasetName::child`];
/// * [`NameKind::Pool`]: a pool name, as accepted by [`PoolName::new`].
///
/// Errors name `short_name` itself, positions are offsets into it, and the
/// length limit is [`MAXIMUM_SHORT_NAME_LENGTH`] (or
/// [`MAXIMUM_POOL_NAME_LENGTH`] for pools).
pub fn validate_short_name(kind: NameKind, short_name: &str) -> Result<(), NameError> {
    if kind == NameKind::Pool {
        return PoolName::new(short_name).map(|_| ());
    }
    check_not_empty_and_length(kind, short_name, MAXIMUM_SHORT_NAME_LENGTH)?;
    check_single_component(kind, short_name, short_name, 0)
}

/// Implements `Display`, `FromStr`, `AsRef<str>` and `AsRef<OsStr>` for a
/// name type that has `new(&str)` and `as_str()`.
macro_rules! implement_name_conversions {
    ($name_type:ty) => {
        impl fmt::Display for $name_type {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $name_type {
            type Err = NameError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::new(text)
            }
        }

        impl AsRef<str> for $name_type {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<OsStr> for $name_type {
            fn as_ref(&self) -> &OsStr {
                OsStr::new(self.as_str())
            }
        }

        impl TryFrom<&str> for $name_type {
            type Error = NameError;

            fn try_from(text: &str) -> Result<Self, Self::Error> {
                Self::new(text)
            }
        }

        impl TryFrom<String> for $name_type {
            type Error = NameError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::new(&text)
            }
        }

        impl From<$name_type> for String {
            fn from(name: $name_type) -> String {
                name.as_str().to_owned()
            }
        }
    };
}

/// A valid ZFS storage pool name, such as `tank`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolName(String);

impl PoolName {
    /// Validates `name` as a pool name.
    pub fn new(name: &str) -> Result<Self, NameError> {
        check_not_empty_and_length(NameKind::Pool, name, MAXIMUM_POOL_NAME_LENGTH)?;
        scan_full_name_characters(NameKind::Pool, name)?;
        check_pool_specific_rules(name)?;
        Ok(PoolName(name.to_owned()))
    }

    /// The pool name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pool's root dataset, which has the same name as the pool.
    pub fn root_dataset(&self) -> DatasetName {
        DatasetName(self.0.clone())
    }
}

implement_name_conversions!(PoolName);

/// A valid ZFS filesystem or volume name, such as `tank/home/alice`.
///
/// Ordering is component by component, so sorting puts every dataset right
/// after its parent and before its parent's next sibling (`tank/a`,
/// `tank/a/b`, `tank/a b`), unlike plain string ordering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DatasetName(String);

impl DatasetName {
    /// Validates `name` as a dataset name: `pool[/component]*`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        check_not_empty_and_length(NameKind::Dataset, name, MAXIMUM_FULL_NAME_LENGTH)?;
        scan_full_name_characters(NameKind::Dataset, name)?;
        check_dataset_components(NameKind::Dataset, name, name)?;
        Ok(DatasetName(name.to_owned()))
    }

    /// The full dataset name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pool this dataset lives in (its first component).
    pub fn pool(&self) -> PoolName {
        let pool = self.0.split('/').next().unwrap_or_default();
        PoolName(pool.to_owned())
    }

    /// The parent dataset, or `None` for the pool's root dataset.
    pub fn parent(&self) -> Option<DatasetName> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| DatasetName(parent.to_owned()))
    }

    /// The child dataset `self/component`; `component` must be one valid
    /// component (no `/`) and the result must fit in
    /// [`MAXIMUM_FULL_NAME_LENGTH`]. Errors name the joined name.
    pub fn child(&self, component: &str) -> Result<DatasetName, NameError> {
        let mut full_name = String::with_capacity(self.0.len() + 1 + component.len());
        full_name.push_str(&self.0);
        full_name.push('/');
        full_name.push_str(component);
        check_not_empty_and_length(NameKind::Dataset, &full_name, MAXIMUM_FULL_NAME_LENGTH)?;
        check_single_component(
            NameKind::Dataset,
            &full_name,
            component,
            self.0.len().saturating_add(1),
        )?;
        Ok(DatasetName(full_name))
    }

    /// Whether this is the pool's root dataset (it has a single component).
    pub fn is_root(&self) -> bool {
        !self.0.contains('/')
    }

    /// The `/`-separated components, starting with the pool name.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// How many levels below the root dataset this is (0 for the root).
    pub fn depth(&self) -> usize {
        self.0.matches('/').count()
    }

    /// The last component (the pool name for a root dataset).
    pub fn last_component(&self) -> &str {
        self.0
            .rsplit_once('/')
            .map_or(self.0.as_str(), |(_, last)| last)
    }

    /// Whether this is `ancestor` or lies below it, comparing whole
    /// components: `tank/a/b` is under `tank/a`, `tank/ab` is not.
    pub fn is_same_or_descendant_of(&self, ancestor: &DatasetName) -> bool {
        match self.0.strip_prefix(ancestor.0.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// The snapshot `self@short_name`. Errors are those
    /// [`SnapshotName::new`] gives for the joined name.
    pub fn snapshot(&self, short_name: &str) -> Result<SnapshotName, NameError> {
        SnapshotName::from_parts(self.clone(), short_name)
    }

    /// The bookmark `self#short_name`. Errors are those
    /// [`BookmarkName::new`] gives for the joined name.
    pub fn bookmark(&self, short_name: &str) -> Result<BookmarkName, NameError> {
        BookmarkName::from_parts(self.clone(), short_name)
    }
}

impl PartialOrd for DatasetName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DatasetName {
    fn cmp(&self, other: &Self) -> Ordering {
        self.components().cmp(other.components())
    }
}

implement_name_conversions!(DatasetName);

impl From<PoolName> for DatasetName {
    /// The pool's root dataset.
    fn from(pool: PoolName) -> Self {
        DatasetName(pool.0)
    }
}

/// Declares a name of the form `dataset<delimiter>short_name` (snapshots and bookmarks share
/// everything but the kind, the delimiter and their documentation).
macro_rules! short_name_holder {
    ($(#[$attributes:meta])* $name:ident, $kind:expr, $delimiter:literal) => {
        $(#[$attributes])*
        ///
        /// Ordered by dataset (component-wise), then by short name.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            dataset: DatasetName,
            short_name: String,
            full_name: String,
        }

        impl $name {
            #[doc = concat!("Validates `full` as `dataset", $delimiter, "short_name`.")]
            pub fn new(full: &str) -> Result<Self, NameError> {
                let delimiter_position = validate_full_short_name_holder($kind, full)?;
                let (dataset, short_name) = split_validated_at(full, delimiter_position);
                Ok($name {
                    dataset: DatasetName(dataset.to_owned()),
                    short_name: short_name.to_owned(),
                    full_name: full.to_owned(),
                })
            }

            #[doc = concat!("The name `dataset", $delimiter, "short_name`; errors are those [`Self::new`] gives for the joined name.")]
            pub fn from_parts(dataset: DatasetName, short_name: &str) -> Result<Self, NameError> {
                let full_name = join_and_validate_short_name($kind, &dataset, short_name)?;
                Ok($name { dataset, short_name: short_name.to_owned(), full_name })
            }

            /// The dataset this belongs to.
            pub fn dataset(&self) -> &DatasetName {
                &self.dataset
            }

            #[doc = concat!("The part after the `", $delimiter, "`.")]
            pub fn short_name(&self) -> &str {
                &self.short_name
            }

            #[doc = concat!("The full `dataset", $delimiter, "short_name`.")]
            pub fn as_str(&self) -> &str {
                &self.full_name
            }
        }

        implement_name_conversions!($name);
    };
}

short_name_holder!(
    /// A valid ZFS snapshot name, such as `tank/data@daily-2026-01-01`.
    SnapshotName,
    NameKind::Snapshot,
    "@"
);

short_name_holder!(
    /// A valid ZFS bookmark name, such as `tank/data#sent-2026-01-01`.
    BookmarkName,
    NameKind::Bookmark,
    "#"
);

impl SnapshotName {
    /// The bookmark with the same dataset and short name
    /// (`tank/a@x` → `tank/a#x`), as made by `zfs bookmark tank/a@x tank/a#x`.
    pub fn to_bookmark_name(&self) -> BookmarkName {
        BookmarkName {
            dataset: self.dataset.clone(),
            short_name: self.short_name.clone(),
            full_name: format!("{}#{}", self.dataset.0, self.short_name),
        }
    }
}

/// Splits an already validated full name around its one-byte delimiter.
fn split_validated_at(full: &str, delimiter_position: usize) -> (&str, &str) {
    let dataset = full.get(..delimiter_position).unwrap_or_default();
    let short_name = full
        .get(delimiter_position.saturating_add(1)..)
        .unwrap_or_default();
    (dataset, short_name)
}

/// Any dataset, snapshot or bookmark name, as found in `zfs list -t all`
/// output or accepted by commands such as `zfs get` or `zfs destroy`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZfsObjectName {
    /// A filesystem or volume.
    Dataset(DatasetName),
    /// A snapshot (`@`).
    Snapshot(SnapshotName),
    /// A bookmark (`#`).
    Bookmark(BookmarkName),
}

impl ZfsObjectName {
    /// Parses `name` as a snapshot if its first delimiter is `@`, as a
    /// bookmark if it is `#`, and as a dataset otherwise.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        match name
            .find(['@', '#'])
            .and_then(|position| name.get(position..))
        {
            Some(rest) if rest.starts_with('@') => SnapshotName::new(name).map(Self::Snapshot),
            Some(_) => BookmarkName::new(name).map(Self::Bookmark),
            None => DatasetName::new(name).map(Self::Dataset),
        }
    }

    /// Same as [`Self::parse`]; lets the conversion macro share code.
    fn new(name: &str) -> Result<Self, NameError> {
        Self::parse(name)
    }

    /// The full name.
    pub fn as_str(&self) -> &str {
        match self {
            ZfsObjectName::Dataset(dataset) => dataset.as_str(),
            ZfsObjectName::Snapshot(snapshot) => snapshot.as_str(),
            ZfsObjectName::Bookmark(bookmark) => bookmark.as_str(),
        }
    }

    /// The dataset itself, or the dataset the snapshot or bookmark belongs to.
    pub fn dataset(&self) -> &DatasetName {
        match self {
            ZfsObjectName::Dataset(dataset) => dataset,
            ZfsObjectName::Snapshot(snapshot) => snapshot.dataset(),
            ZfsObjectName::Bookmark(bookmark) => bookmark.dataset(),
        }
    }

    /// Which kind of name this is ([`NameKind::Dataset`],
    /// [`NameKind::Snapshot`] or [`NameKind::Bookmark`]).
    pub fn kind(&self) -> NameKind {
        match self {
            ZfsObjectName::Dataset(_) => NameKind::Dataset,
            ZfsObjectName::Snapshot(_) => NameKind::Snapshot,
            ZfsObjectName::Bookmark(_) => NameKind::Bookmark,
        }
    }
}

implement_name_conversions!(ZfsObjectName);

impl From<DatasetName> for ZfsObjectName {
    fn from(dataset: DatasetName) -> Self {
        ZfsObjectName::Dataset(dataset)
    }
}

impl From<SnapshotName> for ZfsObjectName {
    fn from(snapshot: SnapshotName) -> Self {
        ZfsObjectName::Snapshot(snapshot)
    }
}

impl From<BookmarkName> for ZfsObjectName {
    fn from(bookmark: BookmarkName) -> Self {
        ZfsObjectName::Bookmark(bookmark)
    }
}
