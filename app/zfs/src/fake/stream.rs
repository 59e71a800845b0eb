//! The fake's send stream format and its sender.
//!
//! A stream is the line `WIZFS-FAKE-STREAM 1\n` followed by records, each a one-byte type,
//! a little-endian `u64` payload length and the payload:
//!
//! * `B` BEGIN (JSON [`BeginHeader`]: source dataset, snapshot name, guid, base guid (0 for a
//!   full stream), creation) starts the sub-stream of one snapshot;
//! * `D` DIRECTORY, `F` FILE, `A` APPEND, `L` SYMLINK, `X` REMOVE: `u32` path length, the
//!   relative path (bytes), `u32` mode, `i64` mtime seconds, `u32` mtime nanoseconds, then the
//!   file content or symlink target (nothing for D and X). Files are cut into pieces of
//!   128 KiB (ZFS's default recordsize): FILE carries the first, APPEND each further one, so
//!   an interrupted transfer of a large file resumes close to where it stopped;
//! * `E` END: the FNV-1a-64 of every byte of the sub-stream before it, `u64` little-endian.
//!
//! `-I` streams hold one BEGIN…END sub-stream per snapshot. A resume stream (`send -t`) holds
//! an `R` RESUME record (JSON [`ResumeHeader`]) and then the rest of the interrupted
//! sub-stream from the byte offset in the token. Sub-streams are generated deterministically
//! from the immutable snapshot manifests and copies, so a resumed sender regenerates exactly
//! the bytes the receiver is missing (and hashes the skipped ones for the END checksum).

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wizfs_core::{DatasetName, SnapshotName};

use super::context::Context;
use super::errors;
use super::header::BeginHeader;
use super::state::Fnv64;
use super::tree::{self, Entries, Entry, EntryKind, FileTime};
use crate::SendStream;
use crate::error::{ZfsError, ZfsResult};
use crate::types::{IncrementalBase, ResumeToken, SendSource};

pub(super) const MAGIC_LINE: &[u8] = b"WIZFS-FAKE-STREAM 1\n";
pub(super) const TAG_BEGIN: u8 = b'B';
pub(super) const TAG_RESUME: u8 = b'R';
pub(super) const TAG_DIRECTORY: u8 = b'D';
pub(super) const TAG_FILE: u8 = b'F';
pub(super) const TAG_APPEND: u8 = b'A';
pub(super) const TAG_SYMLINK: u8 = b'L';
pub(super) const TAG_REMOVE: u8 = b'X';
pub(super) const TAG_END: u8 = b'E';
/// Type byte plus payload length.
pub(super) const RECORD_HEADER_LENGTH: usize = 9;
/// Path length, mode, mtime seconds and nanoseconds of an entry record.
pub(super) const ENTRY_FIXED_LENGTH: u64 = 20;
/// Longest relative path a stream may carry.
pub(super) const MAXIMUM_PATH_LENGTH: u64 = 1 << 20;
/// Longest BEGIN or RESUME payload.
pub(super) const MAXIMUM_HEADER_LENGTH: u64 = 1 << 16;
const END_RECORD_LENGTH: u64 = RECORD_HEADER_LENGTH as u64 + 8;
/// Largest piece of file content in one FILE or APPEND record.
const FILE_PIECE_LENGTH: u64 = 128 * 1024;

/// The RESUME record of a resumed stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ResumeHeader {
    pub snapshot: String,
    pub guid: u64,
    pub base_guid: u64,
    pub offset: u64,
}

/// What a resume token says: which sub-stream, and how many of its bytes arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ResumePoint {
    /// `dataset@snapshot` on the sending side.
    pub snapshot: String,
    pub guid: u64,
    pub base_guid: u64,
    pub offset: u64,
}

impl ResumePoint {
    /// `1-<guid>-<base guid>-<offset>-<hex of the snapshot name>` (hex numbers).
    pub fn token(&self) -> ZfsResult<ResumeToken> {
        let name: String = self
            .snapshot
            .bytes()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let text = format!(
            "1-{:x}-{:x}-{:x}-{name}",
            self.guid, self.base_guid, self.offset
        );
        Ok(ResumeToken::new(&text)?)
    }

    pub fn parse(token: &ResumeToken) -> Option<ResumePoint> {
        let mut parts = token.as_str().strip_prefix("1-")?.split('-');
        let guid = u64::from_str_radix(parts.next()?, 16).ok()?;
        let base_guid = u64::from_str_radix(parts.next()?, 16).ok()?;
        let offset = u64::from_str_radix(parts.next()?, 16).ok()?;
        let hex = parts.next()?.as_bytes();
        if parts.next().is_some() || hex.len() % 2 != 0 {
            return None;
        }
        let bytes = hex
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()?;
        Some(ResumePoint {
            snapshot: String::from_utf8(bytes).ok()?,
            guid,
            base_guid,
            offset,
        })
    }
}

/// The body of a D/F/L/X record before its content.
pub(super) fn entry_body(path: &[u8], mode: u32, mtime: FileTime, trailing: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(ENTRY_FIXED_LENGTH as usize + path.len() + trailing.len());
    body.extend_from_slice(&u32::try_from(path.len()).unwrap_or(u32::MAX).to_le_bytes());
    body.extend_from_slice(path);
    body.extend_from_slice(&mode.to_le_bytes());
    body.extend_from_slice(&mtime.seconds.to_le_bytes());
    body.extend_from_slice(&mtime.nanoseconds.to_le_bytes());
    body.extend_from_slice(trailing);
    body
}

/// A whole record: type, payload length, payload (`extra` more payload bytes follow).
fn record_bytes(tag: u8, body: &[u8], extra: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(RECORD_HEADER_LENGTH + body.len());
    bytes.push(tag);
    bytes.extend_from_slice(&(body.len() as u64 + extra).to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// One piece of a stream to produce.
#[derive(Debug)]
pub(super) enum Chunk {
    /// Bytes outside any sub-stream (the magic line, the RESUME record).
    Raw(Vec<u8>),
    /// Bytes of a sub-stream.
    Hashed(Vec<u8>),
    /// File content of a sub-stream, read from a snapshot copy while streaming.
    FileContent {
        path: PathBuf,
        offset: u64,
        length: u64,
    },
    /// The END record, whose checksum is known only once the sub-stream is produced.
    End,
}

impl Chunk {
    fn length(&self) -> u64 {
        match self {
            Chunk::Raw(bytes) | Chunk::Hashed(bytes) => bytes.len() as u64,
            Chunk::FileContent { length, .. } => *length,
            Chunk::End => END_RECORD_LENGTH,
        }
    }
}

/// Everything `send` will produce.
#[derive(Debug)]
pub(super) struct SendPlan {
    chunks: Vec<Chunk>,
    /// Bytes of sub-stream data to generate but not output (resume offset).
    skip: u64,
}

impl SendPlan {
    /// The exact length of the stream.
    pub fn length(&self) -> u64 {
        self.chunks
            .iter()
            .map(Chunk::length)
            .fold(0, u64::saturating_add)
            .saturating_sub(self.skip)
    }
}

/// One snapshot's sub-stream, with where each record starts.
struct SubStream {
    chunks: Vec<Chunk>,
    record_starts: Vec<u64>,
    length: u64,
}

impl SubStream {
    fn new() -> SubStream {
        SubStream {
            chunks: Vec::new(),
            record_starts: Vec::new(),
            length: 0,
        }
    }

    /// Adds a record; `file` is (path, offset, length) of content that follows the body.
    fn record(&mut self, tag: u8, body: &[u8], file: Option<(PathBuf, u64, u64)>) {
        let file_length = file.as_ref().map_or(0, |(_, _, length)| *length);
        let bytes = record_bytes(tag, body, file_length);
        self.record_starts.push(self.length);
        self.length = self
            .length
            .saturating_add(bytes.len() as u64)
            .saturating_add(file_length);
        self.chunks.push(Chunk::Hashed(bytes));
        if let Some((path, offset, length)) = file.filter(|(_, _, length)| *length > 0) {
            self.chunks.push(Chunk::FileContent {
                path,
                offset,
                length,
            });
        }
    }

    fn end(&mut self) {
        self.record_starts.push(self.length);
        self.length = self.length.saturating_add(END_RECORD_LENGTH);
        self.chunks.push(Chunk::End);
    }
}

/// Whether an entry of the newer tree must be sent given the base's entry at that path.
fn needs_sending(old: Option<&Entry>, new: &Entry) -> bool {
    let Some(old) = old else { return true };
    if old.kind != new.kind {
        return true;
    }
    match new.kind {
        // A changed inode change time means something touched the file: resend it.
        EntryKind::File => !old.same_data(new) || old.mode != new.mode || old.ctime != new.ctime,
        EntryKind::Directory => old.mode != new.mode || old.mtime != new.mtime,
        EntryKind::Symlink => old.object() != new.object() || old.link_target != new.link_target,
        _ => false,
    }
}

/// Whether a base entry must be removed before the newer tree's entries are written.
fn needs_removal(old: &Entry, new: Option<&Entry>) -> bool {
    match new {
        None => true,
        Some(new) => {
            new.kind != old.kind
                || (old.kind != EntryKind::Directory && new.object() != old.object())
        }
    }
}

/// The sub-stream sending `newer` (copied at `snapshot_directory`), relative to `base`.
fn plan_substream(
    header: &BeginHeader,
    base: Option<&Entries>,
    newer: &Entries,
    snapshot_directory: &std::path::Path,
) -> ZfsResult<SubStream> {
    let mut sub = SubStream::new();
    let begin =
        serde_json::to_vec(header).map_err(|error| ZfsError::InvalidRequest(error.to_string()))?;
    sub.record(TAG_BEGIN, &begin, None);
    if let Some(base) = base {
        for (path, old) in base.iter().rev() {
            if !path.is_empty() && needs_removal(old, newer.get(path)) {
                sub.record(
                    TAG_REMOVE,
                    &entry_body(path, 0, FileTime::default(), &[]),
                    None,
                );
            }
        }
    }
    for (path, new) in newer {
        if !new.kind.is_copied() || !needs_sending(base.and_then(|base| base.get(path)), new) {
            continue;
        }
        match new.kind {
            EntryKind::Directory => sub.record(
                TAG_DIRECTORY,
                &entry_body(path, new.mode, new.mtime, &[]),
                None,
            ),
            EntryKind::File => {
                let source = tree::absolute(snapshot_directory, path);
                let body = entry_body(path, new.mode, new.mtime, &[]);
                let first = new.size.min(FILE_PIECE_LENGTH);
                sub.record(TAG_FILE, &body, Some((source.clone(), 0, first)));
                let mut offset = first;
                while offset < new.size {
                    let length = (new.size - offset).min(FILE_PIECE_LENGTH);
                    sub.record(TAG_APPEND, &body, Some((source.clone(), offset, length)));
                    offset += length;
                }
            }
            EntryKind::Symlink => {
                let target = new.link_target.as_deref().unwrap_or_default();
                sub.record(
                    TAG_SYMLINK,
                    &entry_body(path, new.mode, new.mtime, target),
                    None,
                );
            }
            _ => {}
        }
    }
    sub.end();
    Ok(sub)
}

/// A snapshot to send and the guid and manifest of its base.
struct Step {
    short_name: String,
    guid: u64,
    creation: i64,
    manifest: u64,
    base: Option<(u64, u64)>,
}

fn resume_failure(message: String) -> ZfsError {
    errors::failed(
        "zfs send -t".to_owned(),
        format!("cannot resume send: {message}"),
    )
}

/// Builds the stream `send` produces for `source`.
pub(super) fn plan_send(context: &mut Context<'_>, source: &SendSource) -> ZfsResult<SendPlan> {
    match source {
        SendSource::Snapshot {
            snapshot,
            base,
            flags,
        } => {
            if flags.replicate {
                return Err(ZfsError::InvalidRequest(
                    "the fake does not model replication streams".into(),
                ));
            }
            let steps = send_steps(context, snapshot, base.as_ref())?;
            let mut chunks = vec![Chunk::Raw(MAGIC_LINE.to_vec())];
            for step in steps {
                chunks.extend(plan_step(context, snapshot, &step)?.chunks);
            }
            Ok(SendPlan { chunks, skip: 0 })
        }
        SendSource::Resume(token) => {
            let point =
                ResumePoint::parse(token).ok_or_else(|| resume_failure("invalid token".into()))?;
            let snapshot = SnapshotName::new(&point.snapshot)
                .map_err(|_| resume_failure("invalid token".into()))?;
            let gone = || {
                resume_failure(format!(
                    "'{}' used in the initial send no longer exists",
                    point.snapshot
                ))
            };
            let record = match context.state.snapshot(&snapshot) {
                Ok((_, record)) if record.guid == point.guid => record,
                _ => return Err(gone()),
            };
            let mut step = Step {
                short_name: record.short_name.clone(),
                guid: record.guid,
                creation: record.creation,
                manifest: record.manifest,
                base: None,
            };
            if point.base_guid != 0 {
                let dataset = context.state.dataset(snapshot.dataset())?;
                let base_manifest = dataset
                    .snapshots
                    .iter()
                    .find(|candidate| candidate.guid == point.base_guid)
                    .map(|candidate| candidate.manifest)
                    .or_else(|| {
                        dataset
                            .bookmarks
                            .iter()
                            .find(|candidate| candidate.guid == point.base_guid)
                            .map(|candidate| candidate.manifest)
                    })
                    .ok_or_else(|| {
                        resume_failure(format!(
                            "the incremental source of '{}' no longer exists",
                            point.snapshot
                        ))
                    })?;
                step.base = Some((point.base_guid, base_manifest));
            }
            let sub = plan_step(context, &snapshot, &step)?;
            if point.offset == 0 || !sub.record_starts.contains(&point.offset) {
                return Err(resume_failure(
                    "invalid token (the offset does not match the stream)".into(),
                ));
            }
            let header = ResumeHeader {
                snapshot: step.short_name.clone(),
                guid: point.guid,
                base_guid: point.base_guid,
                offset: point.offset,
            };
            let resume = serde_json::to_vec(&header)
                .map_err(|error| ZfsError::InvalidRequest(error.to_string()))?;
            let mut chunks = vec![
                Chunk::Raw(MAGIC_LINE.to_vec()),
                Chunk::Raw(record_bytes(TAG_RESUME, &resume, 0)),
            ];
            chunks.extend(sub.chunks);
            Ok(SendPlan {
                chunks,
                skip: point.offset,
            })
        }
    }
}

/// The snapshots a send covers, each with its base.
fn send_steps(
    context: &mut Context<'_>,
    snapshot: &SnapshotName,
    base: Option<&IncrementalBase>,
) -> ZfsResult<Vec<Step>> {
    let (_, record) = context.state.snapshot(snapshot)?;
    let target = Step {
        short_name: record.short_name.clone(),
        guid: record.guid,
        creation: record.creation,
        manifest: record.manifest,
        base: None,
    };
    let target_txg = record.createtxg;
    let Some(base) = base else {
        return Ok(vec![target]);
    };
    let base_dataset = match base {
        IncrementalBase::Snapshot(from) | IncrementalBase::SnapshotWithIntermediates(from) => {
            from.dataset()
        }
        IncrementalBase::Bookmark(from) => from.dataset(),
    };
    if base_dataset != snapshot.dataset() {
        return Err(ZfsError::InvalidRequest(format!(
            "incremental base of {snapshot} must be of dataset {}, not {base_dataset}",
            snapshot.dataset()
        )));
    }
    let (base_name, base_guid, base_txg, base_manifest) = match base {
        IncrementalBase::Snapshot(from) | IncrementalBase::SnapshotWithIntermediates(from) => {
            let (_, record) = context.state.snapshot(from)?;
            (
                from.to_string(),
                record.guid,
                record.createtxg,
                record.manifest,
            )
        }
        IncrementalBase::Bookmark(from) => {
            let record = context
                .state
                .dataset(from.dataset())?
                .bookmarks
                .iter()
                .find(|bookmark| bookmark.short_name == from.short_name())
                .ok_or_else(|| {
                    errors::not_found(from.as_str(), format!("bookmark '{from}' does not exist."))
                })?;
            (
                from.to_string(),
                record.guid,
                record.createtxg,
                record.manifest,
            )
        }
    };
    if base_txg >= target_txg {
        return Err(ZfsError::InvalidRequest(format!(
            "incremental source {base_name} is not earlier than {snapshot}"
        )));
    }
    if !matches!(base, IncrementalBase::SnapshotWithIntermediates(_)) {
        return Ok(vec![Step {
            base: Some((base_guid, base_manifest)),
            ..target
        }]);
    }
    let mut steps = Vec::new();
    let mut previous = (base_guid, base_manifest);
    let mut later: Vec<_> = context
        .state
        .dataset(snapshot.dataset())?
        .snapshots
        .iter()
        .filter(|candidate| candidate.createtxg > base_txg && candidate.createtxg <= target_txg)
        .collect();
    later.sort_by(|left, right| {
        (left.createtxg, &left.short_name).cmp(&(right.createtxg, &right.short_name))
    });
    for candidate in later {
        steps.push(Step {
            short_name: candidate.short_name.clone(),
            guid: candidate.guid,
            creation: candidate.creation,
            manifest: candidate.manifest,
            base: Some(previous),
        });
        previous = (candidate.guid, candidate.manifest);
    }
    Ok(steps)
}

fn plan_step(
    context: &mut Context<'_>,
    snapshot: &SnapshotName,
    step: &Step,
) -> ZfsResult<SubStream> {
    let dataset = snapshot.dataset();
    let header = BeginHeader {
        dataset: dataset.to_string(),
        snapshot: step.short_name.clone(),
        guid: step.guid,
        base_guid: step.base.map_or(0, |(guid, _)| guid),
        creation: step.creation,
    };
    let newer = context.manifest(step.manifest)?;
    let base = match step.base {
        Some((_, manifest)) => Some(context.manifest(manifest)?),
        None => None,
    };
    let directory = context
        .layout
        .snapshot_parent(dataset)
        .join(&step.short_name);
    plan_substream(&header, base.as_deref(), &newer, &directory)
}

/// A file being streamed.
#[derive(Debug)]
struct OpenFile {
    reader: File,
    remaining: u64,
    path: PathBuf,
}

/// Size of the blocks file content is streamed in.
const BLOCK_SIZE: u64 = 64 * 1024;

/// The [`SendStream`] of the fake: produces a [`SendPlan`] lazily, reading file content
/// from the snapshot copies as the consumer reads.
pub(super) struct FakeSendStream {
    chunks: VecDeque<Chunk>,
    skip: u64,
    hasher: Fnv64,
    buffer: Vec<u8>,
    position: usize,
    file: Option<OpenFile>,
    failure: Option<String>,
}

impl FakeSendStream {
    pub fn new(plan: SendPlan) -> FakeSendStream {
        FakeSendStream {
            chunks: plan.chunks.into(),
            skip: plan.skip,
            hasher: Fnv64::new(),
            buffer: Vec::new(),
            position: 0,
            file: None,
            failure: None,
        }
    }

    /// Makes `bytes` (sub-stream data) the next output, minus what is still to be skipped.
    /// Returns whether anything is left to output.
    fn emit(&mut self, bytes: Vec<u8>) -> bool {
        let length = bytes.len() as u64;
        if self.skip >= length {
            self.skip -= length;
            return false;
        }
        let start = usize::try_from(self.skip).unwrap_or(usize::MAX);
        self.skip = 0;
        self.buffer = bytes;
        self.position = start;
        self.position < self.buffer.len()
    }

    /// Produces the next output bytes into the buffer; `false` at the end of the stream.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            if let Some(file) = &mut self.file {
                let wanted = usize::try_from(file.remaining.min(BLOCK_SIZE)).unwrap_or(0);
                let mut block = vec![0; wanted];
                let read = match file.reader.read(&mut block) {
                    Ok(read) => read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(error),
                };
                if read == 0 {
                    let message = format!(
                        "{} is shorter than the snapshot recorded",
                        file.path.display()
                    );
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, message));
                }
                block.truncate(read);
                file.remaining -= read as u64;
                if file.remaining == 0 {
                    self.file = None;
                }
                self.hasher.update(&block);
                if self.emit(block) {
                    return Ok(true);
                }
                continue;
            }
            let Some(chunk) = self.chunks.pop_front() else {
                return Ok(false);
            };
            match chunk {
                Chunk::Raw(bytes) => {
                    self.buffer = bytes;
                    self.position = 0;
                    if !self.buffer.is_empty() {
                        return Ok(true);
                    }
                }
                Chunk::Hashed(bytes) => {
                    self.hasher.update(&bytes);
                    if self.emit(bytes) {
                        return Ok(true);
                    }
                }
                Chunk::FileContent {
                    path,
                    offset,
                    length,
                } => {
                    let metadata = std::fs::symlink_metadata(&path)?;
                    if !metadata.is_file() {
                        let message = format!("{} is not a regular file", path.display());
                        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
                    }
                    let mut reader = File::open(&path)?;
                    reader.seek(SeekFrom::Start(offset))?;
                    self.file = Some(OpenFile {
                        reader,
                        remaining: length,
                        path,
                    });
                }
                Chunk::End => {
                    let digest = self.hasher.digest();
                    self.hasher = Fnv64::new();
                    if self.emit(record_bytes(TAG_END, &digest.to_le_bytes(), 0)) {
                        return Ok(true);
                    }
                }
            }
        }
    }
}

impl Read for FakeSendStream {
    fn read(&mut self, output: &mut [u8]) -> io::Result<usize> {
        if output.is_empty() {
            return Ok(0);
        }
        loop {
            if self.position < self.buffer.len() {
                let available = &self.buffer[self.position..];
                let count = available.len().min(output.len());
                output[..count].copy_from_slice(&available[..count]);
                self.position += count;
                return Ok(count);
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(error) => {
                    self.failure = Some(error.to_string());
                    self.chunks.clear();
                    self.file = None;
                    return Err(error);
                }
            }
        }
    }
}

impl SendStream for FakeSendStream {
    fn finish(self: Box<Self>) -> ZfsResult<()> {
        if let Some(failure) = self.failure {
            return Err(ZfsError::StreamIo {
                command: "zfs send".into(),
                source: io::Error::other(failure),
            });
        }
        if !self.chunks.is_empty() || self.file.is_some() || self.position < self.buffer.len() {
            return Err(ZfsError::StreamIo {
                command: "zfs send".into(),
                source: io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the stream was not read to its end",
                ),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for FakeSendStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FakeSendStream")
            .field("chunks_left", &self.chunks.len())
            .field("skip", &self.skip)
            .field(
                "buffered",
                &(self.buffer.len() - self.position.min(self.buffer.len())),
            )
            .field("file", &self.file.as_ref().map(|file| &file.path))
            .field("failure", &self.failure)
            .finish()
    }
}

/// Reads until `buffer` is full or the input ends; returns how many bytes were read.
pub(super) fn read_fully(reader: &mut dyn Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The fixed part of an entry record after its path.
pub(super) struct EntryFields {
    pub mode: u32,
    pub mtime: FileTime,
}

/// Decodes mode and mtime from the 16 bytes after an entry's path.
pub(super) fn decode_entry_fields(bytes: &[u8; 16]) -> EntryFields {
    let [
        m0,
        m1,
        m2,
        m3,
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        n0,
        n1,
        n2,
        n3,
    ] = *bytes;
    EntryFields {
        mode: u32::from_le_bytes([m0, m1, m2, m3]),
        mtime: FileTime {
            seconds: i64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
            nanoseconds: u32::from_le_bytes([n0, n1, n2, n3]).min(999_999_999),
        },
    }
}

/// The `receive_resume_token` of a dataset, if a resumable receive into it was interrupted.
pub(super) fn token_for(
    context: &Context<'_>,
    dataset: &DatasetName,
) -> ZfsResult<Option<ResumeToken>> {
    match context.state.partial_receives.get(dataset.as_str()) {
        None => Ok(None),
        Some(partial) => ResumePoint {
            snapshot: format!("{}@{}", partial.header.dataset, partial.header.snapshot),
            guid: partial.header.guid,
            base_guid: partial.header.base_guid,
            offset: partial.bytes,
        }
        .token()
        .map(Some),
    }
}
