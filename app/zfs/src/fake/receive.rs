//! `zfs receive` on the fake. Each sub-stream (one snapshot) is first spooled to a file in
//! `ROOT/.fakezfs/receive/` while it is read, without holding the lock; only a complete,
//! checksummed sub-stream is applied to the target, under the lock, and then snapshotted with
//! the sender's guid and creation time. So a broken stream never leaves half-written files in
//! the target: without `-s` nothing remains, with `-s` the complete records stay in the spool
//! and the target gets a `receive_resume_token` that `send` turns into the missing rest.
//!
//! Incremental receives check the target like OpenZFS: its snapshot with the stream's base
//! guid must be the newest and the live tree unmodified since, unless `-F` rolls it back
//! (destroying newer snapshots). Files changed in place on the sender are rewritten in place
//! (keeping their inode, so the receiver's `diff` also reports `M`).

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use wizfs_core::{DatasetName, SnapshotName, Timestamp};

use super::context::{Context, Store};
use super::datasets::{check_creatable, drop_partial_receive, new_dataset_record};
use super::errors::{self, storage_error};
use super::header::BeginHeader;
use super::properties;
use super::snapshots::{NewSnapshot, remove_snapshot, take_snapshot};
use super::state::{Fnv64, PartialReceive};
use super::stream::{
    self, ENTRY_FIXED_LENGTH, EntryFields, MAGIC_LINE, MAXIMUM_HEADER_LENGTH, MAXIMUM_PATH_LENGTH,
    RECORD_HEADER_LENGTH, ResumeHeader, ResumePoint, TAG_APPEND, TAG_BEGIN, TAG_DIRECTORY, TAG_END,
    TAG_FILE, TAG_REMOVE, TAG_RESUME, TAG_SYMLINK, decode_entry_fields, read_fully,
};
use super::tree::{self, Entries, Entry, EntryKind, ObjectId, TreeWriter};
use crate::error::{ZfsError, ZfsResult};
use crate::types::{ReceiveOptions, ResumeToken};

/// The command line shown in errors.
fn receive_command(target: &DatasetName, options: &ReceiveOptions) -> String {
    let mut command = String::from("zfs receive");
    for (enabled, switch) in [
        (options.resumable, " -s"),
        (options.force_rollback, " -F"),
        (options.unmounted, " -u"),
    ] {
        if enabled {
            command.push_str(switch);
        }
    }
    command.push(' ');
    command.push_str(target.as_str());
    command
}

/// `new filesystem` or `incremental`, as ZFS words its receive errors.
fn stream_kind(header: &BeginHeader) -> &'static str {
    if header.base_guid == 0 {
        "new filesystem"
    } else {
        "incremental"
    }
}

/// The first record of a sub-stream.
enum Start {
    Begin {
        header: BeginHeader,
        record: Vec<u8>,
    },
    Resume(ResumeHeader),
}

/// `zfs receive target < stream`.
pub(super) fn receive(
    zfs: &Store,
    target: &DatasetName,
    options: &ReceiveOptions,
    input: &mut dyn Read,
) -> ZfsResult<()> {
    let command = receive_command(target, options);
    let invalid = |reason: &str| {
        errors::failed(
            command.clone(),
            format!("cannot receive: invalid stream ({reason})"),
        )
    };
    let mut magic = [0; MAGIC_LINE.len()];
    let read = read_fully(input, &mut magic).map_err(|source| ZfsError::StreamIo {
        command: command.clone(),
        source,
    })?;
    if read == 0 {
        return Err(errors::failed(
            command.clone(),
            "cannot receive: failed to read from stream".into(),
        ));
    }
    if magic.as_slice() != MAGIC_LINE {
        return Err(invalid("bad magic number"));
    }
    let mut substreams = 0_usize;
    loop {
        let mut header = [0; RECORD_HEADER_LENGTH];
        let read = read_fully(input, &mut header).map_err(|source| ZfsError::StreamIo {
            command: command.clone(),
            source,
        })?;
        if read == 0 && substreams > 0 {
            return Ok(());
        }
        if read < RECORD_HEADER_LENGTH {
            return Err(errors::failed(
                command.clone(),
                "cannot receive: checksum mismatch or incomplete stream".into(),
            ));
        }
        let tag = header[0];
        let length = record_length(&header);
        let acceptable = tag == TAG_BEGIN || (tag == TAG_RESUME && substreams == 0);
        if !acceptable || length > MAXIMUM_HEADER_LENGTH {
            return Err(invalid("unexpected record"));
        }
        let mut payload = vec![0; usize::try_from(length).unwrap_or(0)];
        let read = read_fully(input, &mut payload).map_err(|source| ZfsError::StreamIo {
            command: command.clone(),
            source,
        })?;
        if read < payload.len() {
            return Err(errors::failed(
                command.clone(),
                "cannot receive: checksum mismatch or incomplete stream".into(),
            ));
        }
        let start = if tag == TAG_BEGIN {
            let begin: BeginHeader =
                serde_json::from_slice(&payload).map_err(|_| invalid("bad BEGIN record"))?;
            let mut record = header.to_vec();
            record.extend_from_slice(&payload);
            Start::Begin {
                header: begin,
                record,
            }
        } else {
            Start::Resume(
                serde_json::from_slice(&payload).map_err(|_| invalid("bad RESUME record"))?,
            )
        };
        receive_substream(zfs, target, options, input, start, &command)?;
        substreams += 1;
    }
}

fn record_length(header: &[u8; RECORD_HEADER_LENGTH]) -> u64 {
    let [_, b0, b1, b2, b3, b4, b5, b6, b7] = *header;
    u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
}

/// A sub-stream being spooled.
struct Session {
    header: BeginHeader,
    spool_path: PathBuf,
    spool: File,
    hasher: Fnv64,
    /// Bytes of the sub-stream in the spool (complete records only).
    length: u64,
    /// For a resumed receive: the partial state's spool id and length before this attempt.
    resumed: Option<(u64, u64)>,
}

impl Session {
    /// Undoes what this attempt spooled: back to the previous partial state, or nothing.
    fn discard(&self) {
        match self.resumed {
            Some((_, previous_length)) => {
                let _ = self.spool.set_len(previous_length);
            }
            None => {
                let _ = fs::remove_file(&self.spool_path);
            }
        }
    }
}

/// Removes the target from the set of receiving datasets when the receive ends.
struct ReceivingGuard<'a> {
    zfs: &'a Store,
    target: String,
}

impl Drop for ReceivingGuard<'_> {
    fn drop(&mut self) {
        self.zfs.lock_inner().receiving.remove(&self.target);
    }
}

fn receive_substream(
    zfs: &Store,
    target: &DatasetName,
    options: &ReceiveOptions,
    input: &mut dyn Read,
    start: Start,
    command: &str,
) -> ZfsResult<()> {
    let mut session =
        zfs.inspect(|context| begin_session(context, target, options, start, command))?;
    let _guard = ReceivingGuard {
        zfs,
        target: target.as_str().to_owned(),
    };
    let kind = stream_kind(&session.header);
    match copy_records(input, &mut session) {
        Ok(Outcome::Complete) => {
            let now = zfs.now();
            let committed = zfs.transact(|context| commit(context, target, options, &session, now));
            if committed.is_err() {
                session.discard();
            }
            committed
        }
        Ok(Outcome::Incomplete(reason)) if options.resumable => {
            if let Err(error) = session
                .spool
                .set_len(session.length)
                .and_then(|()| session.spool.sync_all())
            {
                session.discard();
                return Err(storage_error(&session.spool_path, error));
            }
            let now = zfs.now();
            let token = match zfs.transact(|context| save_partial(context, target, &session, now)) {
                Ok(token) => token,
                Err(error) => {
                    session.discard();
                    return Err(error);
                }
            };
            Err(errors::failed(
                command.to_owned(),
                format!(
                    "cannot receive {kind} stream: checksum mismatch or incomplete stream ({reason}).\n\
                     Partially received snapshot is saved.\n\
                     A resuming stream can be generated on the sending system by running:\n    zfs send -t {}",
                    token.as_str()
                ),
            ))
        }
        Ok(Outcome::Incomplete(reason)) => {
            session.discard();
            Err(errors::failed(
                command.to_owned(),
                format!(
                    "cannot receive {kind} stream: checksum mismatch or incomplete stream ({reason})"
                ),
            ))
        }
        Err(error) => {
            session.discard();
            Err(error)
        }
    }
}

/// Distinguishes the spool files of concurrent receives.
static INCOMING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Checks the target and opens the spool, under the lock; marks the target as receiving.
fn begin_session(
    context: &mut Context<'_>,
    target: &DatasetName,
    options: &ReceiveOptions,
    start: Start,
    command: &str,
) -> ZfsResult<Session> {
    if context.receiving.contains(target.as_str()) {
        return Err(errors::busy(
            target.as_str(),
            format!("cannot receive: '{target}' is busy (dataset is busy)"),
        ));
    }
    let session = match start {
        Start::Begin { header, record } => {
            if context.state.partial_receives.contains_key(target.as_str()) {
                return Err(errors::failed(
                    command.to_owned(),
                    format!(
                        "cannot receive {} stream: destination {target} contains partially-complete state from \"zfs receive -s\".",
                        stream_kind(&header)
                    ),
                ));
            }
            check_destination(context, target, options, &header, command)?;
            let unique = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            let counter = INCOMING_COUNTER.fetch_add(1, Ordering::Relaxed);
            let spool_path = context.layout.receive_directory().join(format!(
                "incoming-{}-{unique}-{counter}.spool",
                std::process::id()
            ));
            let mut spool = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&spool_path)
                .map_err(|error| storage_error(&spool_path, error))?;
            spool
                .write_all(&record)
                .map_err(|error| storage_error(&spool_path, error))?;
            let mut hasher = Fnv64::new();
            hasher.update(&record);
            Session {
                header,
                spool_path,
                spool,
                hasher,
                length: record.len() as u64,
                resumed: None,
            }
        }
        Start::Resume(resume) => {
            let Some(partial) = context.state.partial_receives.get(target.as_str()) else {
                return Err(errors::failed(
                    command.to_owned(),
                    format!(
                        "cannot receive resume stream: destination {target} has no partially received state"
                    ),
                ));
            };
            let matches = partial.header.snapshot == resume.snapshot
                && partial.header.guid == resume.guid
                && partial.header.base_guid == resume.base_guid
                && partial.bytes == resume.offset;
            if !matches {
                return Err(errors::failed(
                    command.to_owned(),
                    format!(
                        "cannot receive resume stream: the stream does not continue the partially received state of {target}"
                    ),
                ));
            }
            let spool_path = context.layout.partial_spool_file(partial.spool);
            let hasher = hash_prefix(&spool_path, partial.bytes)?;
            let mut spool = OpenOptions::new()
                .write(true)
                .open(&spool_path)
                .map_err(|error| storage_error(&spool_path, error))?;
            spool
                .set_len(partial.bytes)
                .map_err(|error| storage_error(&spool_path, error))?;
            spool
                .seek(SeekFrom::End(0))
                .map_err(|error| storage_error(&spool_path, error))?;
            Session {
                header: partial.header.clone(),
                spool_path,
                spool,
                hasher,
                length: partial.bytes,
                resumed: Some((partial.spool, partial.bytes)),
            }
        }
    };
    context.receiving.insert(target.as_str().to_owned());
    Ok(session)
}

/// The FNV-1a of the first `length` bytes of a spool.
fn hash_prefix(path: &Path, length: u64) -> ZfsResult<Fnv64> {
    let file = File::open(path).map_err(|error| storage_error(path, error))?;
    let mut reader = BufReader::new(file).take(length);
    let mut hasher = Fnv64::new();
    let mut block = vec![0; 64 * 1024];
    loop {
        let read = match reader.read(&mut block) {
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(storage_error(path, error)),
        };
        if read == 0 {
            return Ok(hasher);
        }
        hasher.update(&block[..read]);
    }
}

/// How reading a sub-stream ended.
enum Outcome {
    /// The END record arrived and its checksum matched.
    Complete,
    /// The stream broke off or was invalid at some record (the reason).
    Incomplete(String),
}

/// A reader that appends what it reads to the spool and the checksum.
struct Recording<'a> {
    input: &'a mut dyn Read,
    spool: &'a mut File,
    hasher: &'a mut Fnv64,
    spool_error: Option<io::Error>,
}

impl Read for Recording<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.input.read(buffer)?;
        if let Err(error) = self.spool.write_all(&buffer[..read]) {
            let message = error.to_string();
            self.spool_error = Some(error);
            return Err(io::Error::other(message));
        }
        self.hasher.update(&buffer[..read]);
        Ok(read)
    }
}

/// Reads records up to and including END, spooling every complete one.
fn copy_records(input: &mut dyn Read, session: &mut Session) -> ZfsResult<Outcome> {
    loop {
        let mut header = [0; RECORD_HEADER_LENGTH];
        match read_fully(input, &mut header) {
            Ok(RECORD_HEADER_LENGTH) => {}
            Ok(_) => return Ok(Outcome::Incomplete("the stream ended".into())),
            Err(error) => return Ok(Outcome::Incomplete(error.to_string())),
        }
        let tag = header[0];
        let length = record_length(&header);
        if tag == TAG_END {
            let mut digest = [0; 8];
            if length != 8 {
                return Ok(Outcome::Incomplete("bad END record".into()));
            }
            match read_fully(input, &mut digest) {
                Ok(8) => {}
                Ok(_) => return Ok(Outcome::Incomplete("the stream ended".into())),
                Err(error) => return Ok(Outcome::Incomplete(error.to_string())),
            }
            if u64::from_le_bytes(digest) != session.hasher.digest() {
                return Ok(Outcome::Incomplete("checksum mismatch".into()));
            }
            return Ok(Outcome::Complete);
        }
        if ![TAG_DIRECTORY, TAG_FILE, TAG_APPEND, TAG_SYMLINK, TAG_REMOVE].contains(&tag) {
            return Ok(Outcome::Incomplete(format!(
                "unexpected record type {tag:#04x}"
            )));
        }
        session
            .spool
            .write_all(&header)
            .map_err(|error| storage_error(&session.spool_path, error))?;
        session.hasher.update(&header);
        let mut recording = Recording {
            input: &mut *input,
            spool: &mut session.spool,
            hasher: &mut session.hasher,
            spool_error: None,
        };
        let result = copy_entry_record(&mut recording, tag, length);
        if let Some(error) = recording.spool_error.take() {
            return Err(storage_error(&session.spool_path, error));
        }
        if let Err(reason) = result {
            return Ok(Outcome::Incomplete(reason));
        }
        session.length = session
            .length
            .saturating_add(RECORD_HEADER_LENGTH as u64)
            .saturating_add(length);
    }
}

/// Reads and checks the payload of a D/F/A/L/X record (through the recording reader).
fn copy_entry_record(reader: &mut dyn Read, tag: u8, length: u64) -> Result<(), String> {
    let (path, _, rest) = read_entry_prefix(reader, length)?;
    let content_allowed = match tag {
        TAG_FILE | TAG_APPEND => true,
        TAG_SYMLINK => rest <= MAXIMUM_PATH_LENGTH,
        _ => rest == 0,
    };
    if !content_allowed
        || !tree::is_safe_relative_path(&path)
        || (path.is_empty() && tag != TAG_DIRECTORY)
    {
        return Err(format!(
            "invalid record for path {:?}",
            String::from_utf8_lossy(&path)
        ));
    }
    let copied = io::copy(&mut Read::take(reader, rest), &mut io::sink())
        .map_err(|error| error.to_string())?;
    if copied == rest {
        Ok(())
    } else {
        Err("the stream ended".into())
    }
}

/// Reads an entry record's path, mode and mtime; returns them and the content length.
fn read_entry_prefix(
    reader: &mut dyn Read,
    length: u64,
) -> Result<(Vec<u8>, EntryFields, u64), String> {
    let truncated = || "the stream ended".to_owned();
    if length < ENTRY_FIXED_LENGTH {
        return Err("entry record too short".into());
    }
    let mut path_length = [0; 4];
    if read_fully(reader, &mut path_length).map_err(|error| error.to_string())? < 4 {
        return Err(truncated());
    }
    let path_length = u64::from(u32::from_le_bytes(path_length));
    if path_length > MAXIMUM_PATH_LENGTH || ENTRY_FIXED_LENGTH + path_length > length {
        return Err("entry record with a bad path length".into());
    }
    let mut path = vec![0; usize::try_from(path_length).unwrap_or(0)];
    if read_fully(reader, &mut path).map_err(|error| error.to_string())? < path.len() {
        return Err(truncated());
    }
    let mut fields = [0; 16];
    if read_fully(reader, &mut fields).map_err(|error| error.to_string())? < fields.len() {
        return Err(truncated());
    }
    Ok((
        path,
        decode_entry_fields(&fields),
        length - ENTRY_FIXED_LENGTH - path_length,
    ))
}

/// Applies the entry records of a complete spool to a live tree.
fn apply_spool(spool_path: &Path, writer: &mut TreeWriter<'_>) -> ZfsResult<()> {
    let corrupt = |reason: String| {
        storage_error(
            spool_path,
            io::Error::new(io::ErrorKind::InvalidData, reason),
        )
    };
    let file = File::open(spool_path).map_err(|error| storage_error(spool_path, error))?;
    let mut reader = BufReader::new(file);
    loop {
        let mut header = [0; RECORD_HEADER_LENGTH];
        let read = read_fully(&mut reader, &mut header)
            .map_err(|error| storage_error(spool_path, error))?;
        if read == 0 {
            return Ok(());
        }
        if read < RECORD_HEADER_LENGTH {
            return Err(corrupt("truncated record header".into()));
        }
        let tag = header[0];
        let length = record_length(&header);
        if tag == TAG_BEGIN {
            let skipped = io::copy(&mut (&mut reader).take(length), &mut io::sink())
                .map_err(|error| storage_error(spool_path, error))?;
            if skipped != length {
                return Err(corrupt("truncated BEGIN record".into()));
            }
            continue;
        }
        let (path, fields, rest) = read_entry_prefix(&mut reader, length).map_err(corrupt)?;
        match tag {
            TAG_DIRECTORY => writer.directory(&path, fields.mode, fields.mtime)?,
            TAG_FILE => writer.file(&path, fields.mode, fields.mtime, &mut reader, rest)?,
            TAG_APPEND => writer.append(&path, fields.mode, fields.mtime, &mut reader, rest)?,
            TAG_SYMLINK => {
                let mut target = vec![0; usize::try_from(rest).unwrap_or(0)];
                if read_fully(&mut reader, &mut target)
                    .map_err(|error| storage_error(spool_path, error))?
                    < target.len()
                {
                    return Err(corrupt("truncated SYMLINK record".into()));
                }
                writer.symlink(&path, &target)?;
            }
            TAG_REMOVE => writer.remove(&path)?,
            other => return Err(corrupt(format!("unexpected record type {other:#04x}"))),
        }
    }
}

/// What a receive will do to its target.
enum Destination {
    /// Create the target dataset.
    NewDataset,
    /// The target was created to hold this stream's partial state.
    PartialDataset,
    /// `-F` full stream into an existing dataset without snapshots: replace its files.
    ReplaceExisting,
    /// Incremental: destroy the snapshots newer than the base; roll back first if needed.
    Incremental {
        newer_snapshots: Vec<String>,
        roll_back: bool,
    },
}

/// The checks `zfs receive` makes on the target for a sub-stream.
fn check_destination(
    context: &mut Context<'_>,
    target: &DatasetName,
    options: &ReceiveOptions,
    header: &BeginHeader,
    command: &str,
) -> ZfsResult<Destination> {
    for (property, value) in &options.properties {
        properties::check_dataset_property(target.as_str(), property, value)?;
    }
    let snapshot = SnapshotName::from_parts(target.clone(), &header.snapshot).map_err(|_| {
        errors::failed(
            command.to_owned(),
            "cannot receive: invalid stream (bad snapshot name)".into(),
        )
    })?;
    let partial = context.state.partial_receives.get(target.as_str());
    if header.base_guid == 0 {
        let created_for_this =
            partial.is_some_and(|partial| partial.created_dataset && partial.header == *header);
        return match context.state.datasets.get(target.as_str()) {
            Some(_) if created_for_this => Ok(Destination::PartialDataset),
            Some(record) => {
                if !options.force_rollback {
                    return Err(errors::already_exists(
                        target.as_str(),
                        format!(
                            "cannot receive new filesystem stream: destination '{target}' exists\nmust specify -F to overwrite it"
                        ),
                    ));
                }
                if let Some(existing) = record.snapshots.first() {
                    return Err(errors::failed(
                        command.to_owned(),
                        format!(
                            "cannot receive new filesystem stream: destination has snapshots (eg. {target}@{})\nmust destroy them to overwrite it",
                            existing.short_name
                        ),
                    ));
                }
                Ok(Destination::ReplaceExisting)
            }
            None => {
                check_creatable(context, target, "receive")?;
                Ok(Destination::NewDataset)
            }
        };
    }
    let Some(record) = context.state.datasets.get(target.as_str()) else {
        return Err(errors::not_found(
            target.as_str(),
            format!("cannot receive incremental stream: destination '{target}' does not exist"),
        ));
    };
    let mismatch = || {
        errors::failed(
            command.to_owned(),
            format!(
                "cannot receive incremental stream: most recent snapshot of {target} does not match incremental source"
            ),
        )
    };
    let Some(base_index) = record
        .snapshots
        .iter()
        .position(|candidate| candidate.guid == header.base_guid)
    else {
        return Err(mismatch());
    };
    let newer = &record.snapshots[base_index + 1..];
    if !newer.is_empty() && !options.force_rollback {
        return Err(mismatch());
    }
    if let Some(held) = newer.iter().find(|candidate| !candidate.holds.is_empty()) {
        return Err(errors::snapshot_busy(&format!(
            "{target}@{}",
            held.short_name
        )));
    }
    if record.snapshots[..=base_index]
        .iter()
        .any(|existing| existing.short_name == header.snapshot)
    {
        return Err(errors::already_exists(
            snapshot.as_str(),
            format!("cannot receive incremental stream: destination {snapshot} already exists"),
        ));
    }
    let newer_snapshots: Vec<String> = newer
        .iter()
        .map(|candidate| candidate.short_name.clone())
        .collect();
    let base_manifest = record.snapshots[base_index].manifest;
    let base = context.manifest(base_manifest)?;
    let modified = !same_tree(&base, &context.scan_live(target)?);
    if modified && !options.force_rollback {
        return Err(errors::failed(
            command.to_owned(),
            format!(
                "cannot receive incremental stream: destination {target} has been modified\nsince most recent snapshot"
            ),
        ));
    }
    Ok(Destination::Incremental {
        roll_back: modified || !newer_snapshots.is_empty(),
        newer_snapshots,
    })
}

/// Whether a live tree is as its newest snapshot recorded it (see
/// [`Entry::live_tree_unchanged`]).
fn same_tree(recorded: &Entries, live: &Entries) -> bool {
    Entry::live_tree_unchanged(recorded, live)
}

/// Applies a complete sub-stream to its target and snapshots it.
fn commit(
    context: &mut Context<'_>,
    target: &DatasetName,
    options: &ReceiveOptions,
    session: &Session,
    now: Timestamp,
) -> ZfsResult<()> {
    let command = receive_command(target, options);
    let header = &session.header;
    match check_destination(context, target, options, header, &command)? {
        Destination::NewDataset => {
            let txg = context.state.next_txg(target.pool().as_str());
            let guid = context.state.new_guid();
            let mut record = new_dataset_record(guid, txg, now);
            record.unmounted = options.unmounted;
            tree::create_mountpoint(&context.mountpoint(target))?;
            context
                .state
                .datasets
                .insert(target.as_str().to_owned(), record);
        }
        Destination::PartialDataset => {
            context.state.dataset_mut(target)?.unmounted = options.unmounted;
        }
        Destination::ReplaceExisting => {
            tree::clear_tree(&context.mountpoint(target), &context.excluded_names(target))?;
        }
        Destination::Incremental {
            newer_snapshots,
            roll_back,
        } => {
            for short_name in &newer_snapshots {
                remove_snapshot(context, target, short_name)?;
            }
            if roll_back {
                roll_back_to_newest(context, target)?;
            }
        }
    }
    let mountpoint = context.mountpoint(target);
    let excluded = context.excluded_names(target);
    let mut writer = TreeWriter::new(&mountpoint, &excluded);
    apply_spool(&session.spool_path, &mut writer)?;
    writer.finish()?;
    let record = context.state.dataset_mut(target)?;
    for (property, value) in &options.properties {
        record
            .properties
            .insert(property.to_string(), value.clone());
    }
    let createtxg = context.state.next_txg(target.pool().as_str());
    let snapshot = NewSnapshot {
        guid: header.guid,
        createtxg,
        creation: header.creation,
        properties: Default::default(),
    };
    take_snapshot(context, target, &header.snapshot, snapshot)?;
    context.state.partial_receives.remove(target.as_str());
    context.delete_after_commit.push(session.spool_path.clone());
    Ok(())
}

/// Records an interrupted sub-stream as the target's partial receive; returns its token.
fn save_partial(
    context: &mut Context<'_>,
    target: &DatasetName,
    session: &Session,
    now: Timestamp,
) -> ZfsResult<ResumeToken> {
    let header = &session.header;
    let (spool, created_dataset) = match session.resumed {
        Some((spool, _)) => {
            let created = context
                .state
                .partial_receives
                .get(target.as_str())
                .is_some_and(|partial| partial.created_dataset);
            (spool, created)
        }
        None => {
            let spool = context.state.next_id();
            let destination = context.layout.partial_spool_file(spool);
            fs::rename(&session.spool_path, &destination)
                .map_err(|error| storage_error(&destination, error))?;
            let mut created = false;
            if header.base_guid == 0 && !context.state.datasets.contains_key(target.as_str()) {
                // A full receive creates its (unmounted) target as soon as it begins.
                check_creatable(context, target, "receive")?;
                let txg = context.state.next_txg(target.pool().as_str());
                let guid = context.state.new_guid();
                let mut record = new_dataset_record(guid, txg, now);
                record.unmounted = true;
                tree::create_mountpoint(&context.mountpoint(target))?;
                context
                    .state
                    .datasets
                    .insert(target.as_str().to_owned(), record);
                created = true;
            }
            (spool, created)
        }
    };
    context.state.partial_receives.insert(
        target.as_str().to_owned(),
        PartialReceive {
            header: header.clone(),
            spool,
            bytes: session.length,
            created_dataset,
        },
    );
    ResumePoint {
        snapshot: format!("{}@{}", header.dataset, header.snapshot),
        guid: header.guid,
        base_guid: header.base_guid,
        offset: session.length,
    }
    .token()
}

/// Rolls a dataset's live tree back to its newest snapshot, touching only what changed,
/// then rebases the manifests on the inodes of restored files so that `diff` and space
/// accounting see the restored files as the snapshot's.
fn roll_back_to_newest(context: &mut Context<'_>, dataset: &DatasetName) -> ZfsResult<()> {
    let record = context.state.dataset(dataset)?;
    let Some(newest) = record.snapshots.last() else {
        return Ok(());
    };
    let (newest_short_name, newest_manifest) = (newest.short_name.clone(), newest.manifest);
    let mut manifest_ids: BTreeSet<u64> = record
        .snapshots
        .iter()
        .map(|snapshot| snapshot.manifest)
        .collect();
    manifest_ids.extend(record.bookmarks.iter().map(|bookmark| bookmark.manifest));
    let recorded = context.manifest(newest_manifest)?;
    let mountpoint = context.mountpoint(dataset);
    let excluded = context.excluded_names(dataset);
    let copy = context
        .layout
        .snapshot_parent(dataset)
        .join(&newest_short_name);
    let live = tree::scan(&mountpoint, &excluded)?;
    let mut writer = TreeWriter::new(&mountpoint, &excluded);
    for (path, entry) in live.iter().rev() {
        if !path.is_empty() && recorded.get(path).is_none_or(|old| old.kind != entry.kind) {
            writer.remove(path)?;
        }
    }
    for (path, old) in recorded.iter() {
        let current = live.get(path).filter(|current| current.kind == old.kind);
        match old.kind {
            EntryKind::Directory => writer.directory(path, old.mode, old.mtime)?,
            EntryKind::File
                if current
                    .is_none_or(|current| !current.same_data(old) || current.mode != old.mode) =>
            {
                let source = tree::absolute(&copy, path);
                let mut content =
                    File::open(&source).map_err(|error| storage_error(&source, error))?;
                writer.file(path, old.mode, old.mtime, &mut content, old.size)?;
            }
            EntryKind::Symlink
                if current.is_none_or(|current| current.link_target != old.link_target) =>
            {
                writer.symlink(path, old.link_target.as_deref().unwrap_or_default())?;
            }
            _ => {}
        }
    }
    writer.finish()?;
    let fresh = tree::scan(&mountpoint, &excluded)?;
    let mut new_objects: HashMap<ObjectId, ObjectId> = HashMap::new();
    let mut rebased = Entries::new();
    for (path, old) in recorded.iter() {
        if let Some(current) = fresh.get(path).filter(|current| current.kind == old.kind) {
            if current.object() != old.object() {
                new_objects.insert(old.object(), current.object());
            }
            rebased.insert(path.clone(), current.clone());
        }
    }
    context.store_manifest(newest_manifest, rebased)?;
    for id in manifest_ids.into_iter().filter(|id| *id != newest_manifest) {
        let entries = context.manifest(id)?;
        if !entries
            .values()
            .any(|entry| new_objects.contains_key(&entry.object()))
        {
            continue;
        }
        let mut updated = (*entries).clone();
        for entry in updated.values_mut() {
            if let Some((inode, birth)) = new_objects.get(&entry.object()) {
                entry.inode = *inode;
                entry.birth = *birth;
            }
        }
        context.store_manifest(id, updated)?;
    }
    Ok(())
}

/// `Zfs::receive_resume_token`.
pub(super) fn resume_token(
    context: &mut Context<'_>,
    dataset: &DatasetName,
) -> ZfsResult<Option<ResumeToken>> {
    context.state.dataset(dataset)?;
    stream::token_for(context, dataset)
}

/// `zfs receive -A dataset`: discards the partial state (and the dataset a full receive
/// created for it).
pub(super) fn abort(context: &mut Context<'_>, dataset: &DatasetName) -> ZfsResult<()> {
    context.state.dataset(dataset)?;
    if context.receiving.contains(dataset.as_str()) {
        return Err(errors::busy(
            dataset.as_str(),
            format!("cannot abort receive into '{dataset}': dataset is busy"),
        ));
    }
    let Some(partial) = context
        .state
        .partial_receives
        .get(dataset.as_str())
        .cloned()
    else {
        return Err(errors::not_found(
            dataset.as_str(),
            format!("'{dataset}' does not have any resumable receive state to abort"),
        ));
    };
    drop_partial_receive(context, dataset);
    if partial.created_dataset && context.state.child_components(dataset).is_empty() {
        tree::remove_path(&context.mountpoint(dataset))?;
        if let Some(record) = context.state.datasets.remove(dataset.as_str()) {
            let snapshots = record.snapshots.iter().map(|snapshot| snapshot.manifest);
            let manifests: BTreeSet<u64> = snapshots
                .chain(record.bookmarks.iter().map(|bookmark| bookmark.manifest))
                .collect();
            for id in manifests {
                context.release_manifest_if_unused(id);
            }
        }
    }
    context.state.next_txg(dataset.pool().as_str());
    Ok(())
}
