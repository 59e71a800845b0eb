//! Restore planning: the pure decision of what a restore will do, before anything is
//! touched. The executor (`app/restore`) only carries out a [`RestorePlan`], and the same
//! plan is what `--dry-run` and the console's preview show.
//!
//! The destination is always derived here from the snapshot path and the request, never
//! taken as an arbitrary path from the user, so a restore cannot aim at a place outside the
//! dataset: every path in a plan is a [`RelativePath`] of the dataset.

use std::collections::{HashMap, HashSet};

use crate::entries::{EntryKind, EntryMetadata, TreeEntry};
use crate::model::Timestamp;
use crate::names::{DatasetName, MAXIMUM_FULL_NAME_LENGTH, SnapshotName};
use crate::paths::{MAXIMUM_COMPONENT_LENGTH, PathError, RelativePath};

/// Where the restored data goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreTarget {
    /// Over the original path (in place). A plan that changes anything live (even only adding
    /// a deleted file back) is preceded by a guard snapshot.
    Original,
    /// A copy under a new, non-clobbering name: next to the original (`into: None`) or with
    /// its own name inside the directory `into` (created if missing). Never overwrites.
    Copy { into: Option<RelativePath> },
}

/// How a directory is restored onto an existing live directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DirectoryStrategy {
    /// Bring back what is missing or different; keep live entries the snapshot lacks.
    #[default]
    Merge,
    /// Make the live directory exactly the snapshot's (live-only entries are removed).
    Replace,
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    pub snapshot: SnapshotName,
    /// The file or directory in the snapshot, relative to the dataset root.
    pub path: RelativePath,
    pub target: RestoreTarget,
    pub strategy: DirectoryStrategy,
}

/// What the planner needs to know about the world (gathered by the executor's reader).
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub request: &'a RestoreRequest,
    /// The snapshot's entries at and below `request.path` (paths relative to the dataset
    /// root, parents before children). Empty when the path is not in the snapshot.
    pub source: &'a [TreeEntry],
    /// The live entries at and below the destination the request resolves to, if any
    /// (for `Copy` this is normally empty).
    pub live: &'a [TreeEntry],
    /// Names present in the live directory the destination goes into, to choose
    /// non-clobbering names for copies.
    pub live_names_in_destination_directory: &'a [Vec<u8>],
    /// The snapshot's entries for the ancestors of the destination that are missing live,
    /// outermost first (a file of a deleted directory returns with its directories, which
    /// get their snapshot metadata). Empty when the parent exists live.
    pub missing_live_ancestors: &'a [TreeEntry],
    /// For the guard snapshot's name.
    pub now: Timestamp,
}

/// One step of a plan, executed in order. Paths are relative to the dataset root; `source`
/// paths are read from the snapshot, everything else is written live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreAction {
    /// Create a directory (metadata applied after its children, see `FinishDirectory`).
    CreateDirectory { path: RelativePath },
    /// Write a file from the snapshot: to a temporary name in the destination directory,
    /// fsync, then rename over `destination` (`replaces`) or create it without clobbering.
    WriteFile {
        source: RelativePath,
        destination: RelativePath,
        metadata: EntryMetadata,
        replaces: bool,
    },
    /// Create a symlink with the snapshot's target (never followed).
    CreateSymlink {
        destination: RelativePath,
        target: Vec<u8>,
        metadata: EntryMetadata,
        replaces: bool,
    },
    /// Another name for a file already restored by this plan (hard links stay hard links).
    HardLink {
        destination: RelativePath,
        existing: RelativePath,
        replaces: bool,
    },
    /// Remove a live entry (Replace strategy, or a live entry of another kind in the way).
    Remove { path: RelativePath, kind: EntryKind },
    /// Set a directory's mode, owner and times once its content is in place.
    FinishDirectory {
        path: RelativePath,
        metadata: EntryMetadata,
    },
}

/// An entry the plan will not restore, and why (device nodes, FIFOs, sockets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub path: RelativePath,
    pub kind: EntryKind,
    pub reason: String,
}

/// Counts for the preview.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    /// Bytes of file data to copy.
    pub bytes: u64,
    /// Live entries that will be overwritten.
    pub replaced: u64,
    /// Live entries that will be removed.
    pub removed: u64,
    /// Entries already identical live (skipped).
    pub unchanged: u64,
}

/// The complete, inspectable decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestorePlan {
    pub dataset: DatasetName,
    pub snapshot: SnapshotName,
    /// Where the restored file or directory ends up (relative to the dataset root).
    pub destination: RelativePath,
    /// Taken before the first action when the plan replaces or removes live data.
    pub guard_snapshot: Option<SnapshotName>,
    pub actions: Vec<RestoreAction>,
    pub refused: Vec<Refusal>,
    pub summary: PlanSummary,
}

/// Why no plan can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("`{path}` does not exist in snapshot {snapshot}")]
    NotInSnapshot { snapshot: String, path: String },
    #[error("`{path}` is a {kind}: only files, directories and symlinks can be restored")]
    NotRestorable { path: String, kind: &'static str },
    #[error(
        "the dataset root itself cannot be restored as a copy next to itself; restore it in place or into a directory"
    )]
    RootCopyNextToItself,
    #[error("cannot restore `{path}` into `{into}`: the destination lies inside what is restored")]
    DestinationInsideSource { path: String, into: String },
    #[error("cannot find a free name for the restored copy of `{path}`")]
    NoFreeName { path: String },
    #[error("the restore path `{0}` lies outside the snapshot listing given to the planner")]
    InconsistentInput(String),
    #[error("the listing given to the planner is inconsistent at `{path}`: {problem}")]
    InconsistentListing { path: String, problem: &'static str },
    #[error("cannot restore there: {0}")]
    InvalidPath(#[from] PathError),
    #[error(
        "no guard snapshot name fits after dataset `{dataset}` (a snapshot name is at most 255 bytes)"
    )]
    NoGuardSnapshotName { dataset: String },
}

// ---------------------------------------------------------------------------------------------
// Guard snapshot names

/// The name of the guard snapshot taken before a plan replaces or removes live data:
/// `dataset@wizfs-guard-20261126T084512Z`, and for `attempt` > 0 (the name was taken) the
/// same with `-2`, `-3`, … appended. When the dataset name is so long that the full name would
/// exceed 255 bytes, shorter forms are used in turn: without the seconds
/// (`wizfs-guard-20261126T0845Z`), `wg-<unix seconds>`, `g` (`g2`, `g3`, …), and finally the
/// attempt number in base 36 cut to what fits.
///
/// `None` only when the dataset name is 254 or 255 bytes long: such a dataset cannot have any
/// snapshot at all (so it is never the dataset of a restore).
pub fn guard_snapshot_name(
    dataset: &DatasetName,
    now: Timestamp,
    attempt: u32,
) -> Option<SnapshotName> {
    let civil = now.to_civil_utc();
    let number = u64::from(attempt) + 1;
    let suffix = if attempt == 0 {
        String::new()
    } else {
        format!("-{number}")
    };
    let date = format!("{:04}{:02}{:02}", civil.year, civil.month, civil.day);
    let candidates = [
        format!(
            "wizfs-guard-{date}T{:02}{:02}{:02}Z{suffix}",
            civil.hour, civil.minute, civil.second
        ),
        format!(
            "wizfs-guard-{date}T{:02}{:02}Z{suffix}",
            civil.hour, civil.minute
        ),
        format!("wg-{}{suffix}", now.seconds()),
        if attempt == 0 {
            "g".to_owned()
        } else {
            format!("g{number}")
        },
    ];
    if let Some(name) = candidates
        .iter()
        .find_map(|short| dataset.snapshot(short).ok())
    {
        return Some(name);
    }
    let room = MAXIMUM_FULL_NAME_LENGTH.checked_sub(dataset.as_str().len() + 1)?;
    let digits = base36(u64::from(attempt));
    let kept = digits.get(digits.len().saturating_sub(room)..)?;
    dataset.snapshot(kept).ok()
}

/// `value` in base 36 (digits, then lowercase letters).
fn base36(mut value: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut reversed = Vec::new();
    loop {
        let digit = usize::try_from(value % 36).unwrap_or_default();
        reversed.push(char::from(DIGITS.get(digit).copied().unwrap_or(b'0')));
        value /= 36;
        if value == 0 {
            break;
        }
    }
    reversed.iter().rev().collect()
}

// ---------------------------------------------------------------------------------------------
// Copy names

/// How many names [`copy_name`] tries (the plain copy name, then `, 2` … `, 1000`).
const MAXIMUM_COPY_NUMBER: u32 = 1000;
/// Longest extension (after the last `.`) kept after the copy suffix.
const MAXIMUM_EXTENSION_LENGTH: usize = 10;
const COPY_OPENING: &[u8] = b" (restored from ";

/// A non-clobbering name for a copy of `original` restored from the snapshot
/// `snapshot_short_name`: `report.txt` → `report (restored from daily-2026-11-20).txt`, and
/// when that `is_taken`, `report (restored from daily-2026-11-20, 2).txt`, `, 3`, … up to
/// `, 1000` (then `None`).
///
/// The extension is what follows the last `.` when that dot is not the first byte and the
/// extension is 1–10 bytes without spaces; otherwise (`.bashrc`, `Makefile`) the suffix goes at
/// the end. The result is at most 255 bytes: the stem is shortened (at a character boundary
/// when it is valid UTF-8), and only if not even its first character would fit, the snapshot
/// name in the suffix. Works on bytes: names need not be UTF-8.
pub fn copy_name(
    original: &[u8],
    snapshot_short_name: &str,
    is_taken: &dyn Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let (stem, extension) = split_extension(original);
    (1..=MAXIMUM_COPY_NUMBER)
        .map(|number| compose_copy_name(stem, snapshot_short_name, number, extension))
        .find(|candidate| !is_taken(candidate))
}

/// `(stem, extension including its dot)`; the extension is empty when there is none.
fn split_extension(name: &[u8]) -> (&[u8], &[u8]) {
    if let Some(dot) = name.iter().rposition(|byte| *byte == b'.')
        && dot > 0
        && let (Some(stem), Some(extension)) = (name.get(..dot), name.get(dot..))
    {
        let extension_length = extension.len() - 1;
        if (1..=MAXIMUM_EXTENSION_LENGTH).contains(&extension_length) && !extension.contains(&b' ')
        {
            return (stem, extension);
        }
    }
    (name, &[])
}

fn compose_copy_name(stem: &[u8], label: &str, number: u32, extension: &[u8]) -> Vec<u8> {
    let closing = if number == 1 {
        ")".to_owned()
    } else {
        format!(", {number})")
    };
    let fixed = COPY_OPENING.len() + closing.len() + extension.len();
    let first_character = match std::str::from_utf8(stem) {
        Ok(text) => text.chars().next().map_or(0, char::len_utf8),
        Err(_) => usize::from(!stem.is_empty()),
    };
    let label_room = MAXIMUM_COMPONENT_LENGTH.saturating_sub(fixed + first_character);
    let label = floor_to_character(label.as_bytes(), label_room, true);
    let stem_room = MAXIMUM_COMPONENT_LENGTH.saturating_sub(fixed + label.len());
    let stem = floor_to_character(stem, stem_room, std::str::from_utf8(stem).is_ok());
    [stem, COPY_OPENING, label, closing.as_bytes(), extension].concat()
}

/// The longest prefix of `bytes` of at most `limit` bytes, ending on a character boundary when
/// `is_utf8`.
fn floor_to_character(bytes: &[u8], limit: usize, is_utf8: bool) -> &[u8] {
    if bytes.len() <= limit {
        return bytes;
    }
    let mut cut = limit;
    // A UTF-8 continuation byte is 0b10xx_xxxx: never cut in front of one.
    while is_utf8 && cut > 0 && bytes.get(cut).is_some_and(|byte| byte & 0xC0 == 0x80) {
        cut -= 1;
    }
    bytes.get(..cut).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Planning

fn refusal_reason(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::BlockDevice | EntryKind::CharacterDevice => {
            "device nodes are never restored: recreate one with mknod if it is really needed"
        }
        EntryKind::Fifo => {
            "FIFOs (named pipes) are never restored: they hold no data; recreate one with mkfifo"
        }
        EntryKind::Socket => {
            "sockets are never restored: the program that listens on one creates it again"
        }
        EntryKind::File | EntryKind::Directory | EntryKind::Symlink => "restorable",
    }
}

/// Whether a live entry already is what the snapshot holds. Directories are compared without
/// their size: on ZFS it counts entries, which a merge does not make equal.
fn is_unchanged(live: &EntryMetadata, source: &EntryMetadata) -> bool {
    live.kind == source.kind
        && live.mode == source.mode
        && live.uid == source.uid
        && live.gid == source.gid
        && live.modified == source.modified
        && (source.kind == EntryKind::Directory
            || (live.size == source.size && live.symlink_target == source.symlink_target))
}

/// How the live entry at a destination path relates to its source entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LiveState {
    Missing,
    Unchanged,
    Differs,
    /// A live entry of another kind is in the way: removed first.
    OtherKind(EntryKind),
}

fn live_state(live: Option<&&EntryMetadata>, source: &EntryMetadata) -> LiveState {
    match live {
        None => LiveState::Missing,
        Some(live) if live.kind != source.kind => LiveState::OtherKind(live.kind),
        Some(live) if is_unchanged(live, source) => LiveState::Unchanged,
        Some(_) => LiveState::Differs,
    }
}

fn inconsistent(path: &RelativePath, problem: &'static str) -> PlanError {
    PlanError::InconsistentListing {
        path: path.to_string(),
        problem,
    }
}

/// Checks the snapshot listing: everything at or below the request path, the request path
/// first and restorable, parents before children, no duplicates, symlinks with targets.
fn check_source(input: &PlanInput<'_>) -> Result<(), PlanError> {
    let request = input.request;
    if input
        .source
        .iter()
        .any(|entry| !entry.path.starts_with(&request.path))
    {
        return Err(PlanError::InconsistentInput(request.path.to_string()));
    }
    let top = match input.source.first() {
        Some(top) if top.path == request.path => top,
        _ => {
            return Err(PlanError::NotInSnapshot {
                snapshot: request.snapshot.to_string(),
                path: request.path.to_string(),
            });
        }
    };
    if !top.metadata.kind.is_restorable() {
        return Err(PlanError::NotRestorable {
            path: request.path.to_string(),
            kind: top.metadata.kind.as_str(),
        });
    }
    let mut kinds: HashMap<&RelativePath, EntryKind> = HashMap::new();
    for (index, entry) in input.source.iter().enumerate() {
        if index > 0 {
            let parent_kind = entry
                .path
                .parent()
                .and_then(|parent| kinds.get(&parent).copied());
            if parent_kind != Some(EntryKind::Directory) {
                return Err(inconsistent(
                    &entry.path,
                    "the entry is not listed after a directory holding it",
                ));
            }
        }
        if kinds.insert(&entry.path, entry.metadata.kind).is_some() {
            return Err(inconsistent(&entry.path, "the entry is listed twice"));
        }
        if entry.metadata.kind == EntryKind::Symlink && entry.metadata.symlink_target.is_none() {
            return Err(inconsistent(
                &entry.path,
                "the symlink is listed without its target",
            ));
        }
    }
    Ok(())
}

/// Where the restored file or directory ends up.
fn destination_of(input: &PlanInput<'_>) -> Result<RelativePath, PlanError> {
    let request = input.request;
    let snapshot_short_name = request.snapshot.short_name();
    let is_taken = |name: &[u8]| {
        input
            .live_names_in_destination_directory
            .iter()
            .any(|taken| taken.as_slice() == name)
    };
    let no_free_name = || PlanError::NoFreeName {
        path: request.path.to_string(),
    };
    match &request.target {
        RestoreTarget::Original => Ok(request.path.clone()),
        RestoreTarget::Copy { into: None } => {
            let (Some(parent), Some(name)) = (request.path.parent(), request.path.file_name())
            else {
                return Err(PlanError::RootCopyNextToItself);
            };
            let name = copy_name(name, snapshot_short_name, &is_taken).ok_or_else(no_free_name)?;
            Ok(parent.join(&name)?)
        }
        RestoreTarget::Copy {
            into: Some(directory),
        } => {
            // The root can only be copied into a directory, which is always below it.
            if !request.path.is_root() && directory.starts_with(&request.path) {
                return Err(PlanError::DestinationInsideSource {
                    path: request.path.to_string(),
                    into: directory.to_string(),
                });
            }
            let plain = request
                .path
                .file_name()
                .unwrap_or(snapshot_short_name.as_bytes());
            let name = if is_taken(plain) {
                copy_name(plain, snapshot_short_name, &is_taken).ok_or_else(no_free_name)?
            } else {
                plain.to_vec()
            };
            Ok(directory.join(&name)?)
        }
    }
}

/// A directory the plan restores, and whether it needs `FinishDirectory` regardless of what
/// happens inside it (created, or its live metadata differs).
#[derive(Debug)]
struct RestoredDirectory {
    path: RelativePath,
    metadata: EntryMetadata,
    always_finish: bool,
}

/// Plans a restore: checks the request against the snapshot listing, derives the destination,
/// compares with the live entries there and lists the actions in the order they must run:
///
/// 1. `CreateDirectory` for the destination's missing ancestors, outermost first;
/// 2. every `Remove` (live entries of another kind in the way, live-only entries under
///    [`DirectoryStrategy::Replace`], and what lies below a removed live directory), deepest
///    first;
/// 3. creations in snapshot order (parents before children): `CreateDirectory` for directories
///    missing live, `WriteFile`, `CreateSymlink`, `HardLink`;
/// 4. `FinishDirectory` for restored directories, deepest first — for every created directory
///    and every live directory whose metadata differs, and for a live directory that already
///    matches only when the plan changes entries directly inside it (that changes its
///    modification time);
/// 5. `FinishDirectory` for the missing ancestors, innermost first.
///
/// Entries already identical live are skipped (`summary.unchanged`); FIFOs, sockets and
/// device nodes below the top are refused, not errors. A copy never touches live data: the
/// live listing is only consulted for [`RestoreTarget::Original`]. A guard snapshot is named
/// whenever a restore in place changes anything live (adds, replaces or removes).
pub fn plan_restore(input: &PlanInput<'_>) -> Result<RestorePlan, PlanError> {
    let request = input.request;
    check_source(input)?;
    let dataset = request.snapshot.dataset().clone();
    let destination = destination_of(input)?;
    let in_place = request.target == RestoreTarget::Original;

    // The first listing of each live path counts (as in `planned_removals`).
    let mut live: HashMap<&RelativePath, &EntryMetadata> = HashMap::new();
    if in_place {
        for entry in input
            .live
            .iter()
            .filter(|entry| entry.path.starts_with(&destination))
        {
            live.entry(&entry.path).or_insert(&entry.metadata);
        }
    }
    if in_place && destination.is_root() && !live.contains_key(&destination) {
        return Err(inconsistent(
            &destination,
            "the live listing lacks the dataset root",
        ));
    }

    let mut summary = PlanSummary::default();
    let mut refused = Vec::new();
    let mut refused_destinations = Vec::new();
    let mut creations = Vec::new();
    let mut restored_directories = Vec::new();
    // Destination path → source kind, for every restorable source entry.
    let mut source_kinds: HashMap<RelativePath, EntryKind> = HashMap::new();
    // Live entries of another kind in the way (removed, then replaced).
    let mut conflicts: HashSet<RelativePath> = HashSet::new();
    // Inode → (destination of the first name, whether this plan writes it).
    let mut first_links: HashMap<u64, (RelativePath, bool)> = HashMap::new();

    for entry in input.source {
        let below = entry
            .path
            .strip_prefix(&request.path)
            .ok_or_else(|| PlanError::InconsistentInput(request.path.to_string()))?;
        let path = destination.join_path(&below)?;
        let metadata = &entry.metadata;
        if !metadata.kind.is_restorable() {
            refused.push(Refusal {
                path: entry.path.clone(),
                kind: metadata.kind,
                reason: refusal_reason(metadata.kind).to_owned(),
            });
            refused_destinations.push(path);
            continue;
        }
        source_kinds.insert(path.clone(), metadata.kind);
        let state = live_state(live.get(&path), metadata);
        if let LiveState::OtherKind(_) = state {
            conflicts.insert(path.clone());
        }
        // A live directory whose metadata differs is kept; only its metadata is set again.
        let replaces_live = match state {
            LiveState::OtherKind(_) => true,
            LiveState::Differs => metadata.kind != EntryKind::Directory,
            LiveState::Missing | LiveState::Unchanged => false,
        };
        if replaces_live {
            summary.replaced += 1;
        }
        let replaces = state == LiveState::Differs;
        match metadata.kind {
            EntryKind::Directory => {
                if state == LiveState::Unchanged {
                    summary.unchanged += 1;
                } else {
                    summary.directories += 1;
                }
                if matches!(state, LiveState::Missing | LiveState::OtherKind(_)) {
                    creations.push(RestoreAction::CreateDirectory { path: path.clone() });
                }
                restored_directories.push(RestoredDirectory {
                    path,
                    metadata: metadata.clone(),
                    always_finish: state != LiveState::Unchanged,
                });
            }
            EntryKind::File => {
                let first = if metadata.links > 1 {
                    first_links.get(&metadata.inode)
                } else {
                    None
                };
                match first {
                    // Another name of a file this plan writes must become a link to it.
                    Some((existing, first_written))
                        if *first_written || state != LiveState::Unchanged =>
                    {
                        if state == LiveState::Unchanged {
                            summary.replaced += 1;
                        }
                        summary.hard_links += 1;
                        creations.push(RestoreAction::HardLink {
                            destination: path,
                            existing: existing.clone(),
                            replaces: matches!(state, LiveState::Differs | LiveState::Unchanged),
                        });
                    }
                    Some(_) => summary.unchanged += 1,
                    None => {
                        let written = state != LiveState::Unchanged;
                        if metadata.links > 1 {
                            first_links.insert(metadata.inode, (path.clone(), written));
                        }
                        if written {
                            summary.files += 1;
                            summary.bytes = summary.bytes.saturating_add(metadata.size);
                            creations.push(RestoreAction::WriteFile {
                                source: entry.path.clone(),
                                destination: path,
                                metadata: metadata.clone(),
                                replaces,
                            });
                        } else {
                            summary.unchanged += 1;
                        }
                    }
                }
            }
            EntryKind::Symlink => {
                if state == LiveState::Unchanged {
                    summary.unchanged += 1;
                } else {
                    summary.symlinks += 1;
                    creations.push(RestoreAction::CreateSymlink {
                        destination: path,
                        target: metadata.symlink_target.clone().unwrap_or_default(),
                        metadata: metadata.clone(),
                        replaces,
                    });
                }
            }
            EntryKind::Fifo
            | EntryKind::Socket
            | EntryKind::BlockDevice
            | EntryKind::CharacterDevice => {}
        }
    }

    let removals = planned_removals(
        input,
        &destination,
        &source_kinds,
        &conflicts,
        &refused_destinations,
        &mut summary,
    );

    // Directories whose content this plan changes (their modification time changes too).
    let touched: HashSet<RelativePath> = removals
        .iter()
        .chain(&creations)
        .filter_map(|action| action_path(action).parent())
        .collect();
    let mut finishes: Vec<RestoredDirectory> = restored_directories
        .into_iter()
        .filter(|directory| directory.always_finish || touched.contains(&directory.path))
        .collect();
    finishes.sort_by_key(|directory| std::cmp::Reverse(directory.path.components().count()));

    let ancestors = checked_missing_ancestors(input, &destination)?;
    summary.directories += u64::try_from(ancestors.len()).unwrap_or(u64::MAX);

    let mut actions = Vec::new();
    actions.extend(
        ancestors
            .iter()
            .map(|ancestor| RestoreAction::CreateDirectory {
                path: ancestor.path.clone(),
            }),
    );
    actions.extend(removals);
    actions.extend(creations);
    actions.extend(
        finishes
            .into_iter()
            .map(|directory| RestoreAction::FinishDirectory {
                path: directory.path,
                metadata: directory.metadata,
            }),
    );
    actions.extend(
        ancestors
            .iter()
            .rev()
            .map(|ancestor| RestoreAction::FinishDirectory {
                path: ancestor.path.clone(),
                metadata: ancestor.metadata.clone(),
            }),
    );

    // In place, anything that changes live data — even only adding a file back — comes
    // after a guard snapshot, so the user can always return to the state before the restore.
    let changes_live = matches!(request.target, RestoreTarget::Original)
        && actions
            .iter()
            .any(|action| !matches!(action, RestoreAction::FinishDirectory { .. }));
    let guard_snapshot = if changes_live {
        let name = guard_snapshot_name(&dataset, input.now, 0).ok_or_else(|| {
            PlanError::NoGuardSnapshotName {
                dataset: dataset.to_string(),
            }
        })?;
        Some(name)
    } else {
        None
    };
    Ok(RestorePlan {
        dataset,
        snapshot: request.snapshot.clone(),
        destination,
        guard_snapshot,
        actions,
        refused,
        summary,
    })
}

/// The path an action writes or removes.
fn action_path(action: &RestoreAction) -> &RelativePath {
    match action {
        RestoreAction::CreateDirectory { path }
        | RestoreAction::Remove { path, .. }
        | RestoreAction::FinishDirectory { path, .. } => path,
        RestoreAction::WriteFile { destination, .. }
        | RestoreAction::CreateSymlink { destination, .. }
        | RestoreAction::HardLink { destination, .. } => destination,
    }
}

/// The `Remove` actions, deepest first: live entries of another kind in the way (counted as
/// replaced where they are created), live entries below them, and under
/// [`DirectoryStrategy::Replace`] every live entry the snapshot lacks (counted as removed).
/// Nothing at or below a refused entry is touched.
fn planned_removals(
    input: &PlanInput<'_>,
    destination: &RelativePath,
    source_kinds: &HashMap<RelativePath, EntryKind>,
    conflicts: &HashSet<RelativePath>,
    refused_destinations: &[RelativePath],
    summary: &mut PlanSummary,
) -> Vec<RestoreAction> {
    if input.request.target != RestoreTarget::Original {
        return Vec::new();
    }
    let replace = input.request.strategy == DirectoryStrategy::Replace;
    let below_conflict = |path: &RelativePath| {
        std::iter::successors(path.parent(), RelativePath::parent)
            .take_while(|ancestor| ancestor.starts_with(destination))
            .any(|ancestor| conflicts.contains(&ancestor))
    };
    let mut seen = HashSet::new();
    let mut removals = Vec::new();
    for entry in input.live {
        let path = &entry.path;
        if !path.starts_with(destination)
            || !seen.insert(path)
            || refused_destinations
                .iter()
                .any(|refused| path.starts_with(refused))
        {
            continue;
        }
        let remove = match source_kinds.get(path) {
            Some(_) => conflicts.contains(path),
            None => {
                let live_only = replace || below_conflict(path);
                if live_only {
                    summary.removed += 1;
                }
                live_only
            }
        };
        if remove {
            removals.push(RestoreAction::Remove {
                path: path.clone(),
                kind: entry.metadata.kind,
            });
        }
    }
    removals.sort_by_key(|action| std::cmp::Reverse(action_path(action).components().count()));
    removals
}

/// The destination's missing ancestors, checked to be directories strictly above it.
fn checked_missing_ancestors<'a>(
    input: &PlanInput<'a>,
    destination: &RelativePath,
) -> Result<&'a [TreeEntry], PlanError> {
    let mut previous_depth = None;
    for ancestor in input.missing_live_ancestors {
        let depth = ancestor.path.components().count();
        if !destination.starts_with(&ancestor.path)
            || ancestor.path == *destination
            || ancestor.path.is_root()
            || ancestor.metadata.kind != EntryKind::Directory
            || previous_depth.is_some_and(|previous| previous >= depth)
        {
            return Err(inconsistent(
                &ancestor.path,
                "a missing ancestor must be a directory above the destination, outermost first",
            ));
        }
        previous_depth = Some(depth);
    }
    Ok(input.missing_live_ancestors)
}

#[cfg(test)]
mod tests;
