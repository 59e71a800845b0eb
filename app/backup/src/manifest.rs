//! The manifest of a file target's chain (`manifest.json`): which job and target wrote it,
//! the source dataset, and every stream in the order it is received — full or incremental,
//! the guids and names it goes from and to, `createtxg`, how it was compressed and
//! encrypted, its length and SHA-256, and its volumes with their sizes and SHA-256.
//!
//! This file exists so the format is defined once, parsed with errors that name the field
//! and never a panic (it is read from disks that outlive the program that wrote them, and
//! fuzzed: `fuzz/fuzz_targets/backup_manifest.rs`), and converted into the planner's
//! [`wizfs_core::backup::Manifest`]. The JSON keeps guids as decimal strings (`jq` and
//! JavaScript read numbers as doubles, which round 64-bit guids) and times as RFC 3339 UTC.
//! A manifest parses even when its chain is broken: [`crate::verify`] reports that, and
//! the planner refuses to continue it.

use serde::{Deserialize, Serialize};
use wizfs_core::backup::{BackupJobId, ChainLink, Compression, Manifest, SendBase};
use wizfs_core::{BookmarkName, DatasetName, SnapshotName, Timestamp};

use crate::checksums::Sha256Digest;
use crate::names::{MAXIMUM_STREAMS, MAXIMUM_VOLUMES, volume_name};
use crate::pipeline::{EncryptionRecord, OPENSSL_CIPHER, check_compression, volume_suffix};

/// What the `format` field of every manifest says.
pub const FORMAT: &str = "wizfs-backup-chain";
/// The version of the format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest manifest read, in bytes (a chain of a million streams stays far below).
pub const MAXIMUM_MANIFEST_BYTES: usize = 256 << 20;

/// Why a manifest cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The text is not JSON of the manifest's shape.
    #[error("the manifest is not valid: {message} (line {line}, column {column})")]
    Json {
        /// serde_json's description, which names the field.
        message: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
    },
    /// The JSON is something else than a WiZFS chain manifest.
    #[error("this is not a WiZFS backup manifest (format `{found}`, expected `{FORMAT}`)")]
    NotAManifest {
        /// The `format` field found.
        found: String,
    },
    /// A manifest of a version this code does not read.
    #[error(
        "the manifest has format version {found}; this WiZFS reads version {FORMAT_VERSION}: \
         use a WiZFS at least as new as the one that wrote it"
    )]
    UnsupportedVersion {
        /// The `version` found.
        found: u64,
    },
    /// A field holds a value that is not allowed.
    #[error("the manifest's `{field}` is invalid: {problem}")]
    Invalid {
        /// The field, as a path (`streams[2].to_guid`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The manifest is larger than any this code writes.
    #[error("the manifest is {bytes} bytes; the limit is {MAXIMUM_MANIFEST_BYTES}")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
}

/// A target's name as its manifests carry it: 1–64 ASCII letters, digits, `_`, `.` or `-`,
/// starting with a letter or digit (the shape of job identifiers).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetName(String);

impl TargetName {
    /// Validates a target name; the problem in words when it is not one.
    pub fn new(name: &str) -> Result<TargetName, String> {
        let valid_byte = |byte: u8| byte.is_ascii_alphanumeric() || b"_.-".contains(&byte);
        match name.bytes().next() {
            None => Err("a target name is empty".to_owned()),
            _ if name.len() > 64 => {
                Err(format!("`{}` is longer than 64 bytes", name.escape_debug()))
            }
            Some(first) if !first.is_ascii_alphanumeric() => Err(format!(
                "`{}` must start with a letter or digit",
                name.escape_debug()
            )),
            _ if !name.bytes().all(valid_byte) => Err(format!(
                "`{}` may hold only letters, digits, `_`, `.` and `-`",
                name.escape_debug()
            )),
            _ => Ok(TargetName(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TargetName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Whether a stream is full or incremental, and from what.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// A full stream (`zfs send to`).
    Full,
    /// An incremental stream from a base the chain already holds.
    Incremental {
        /// The base's guid (the previous stream's `to_guid` in an unbroken chain).
        from_guid: u64,
        /// The base as it was named on the source when sent: a snapshot or a bookmark.
        from: SendBase,
        /// Whether the snapshots between are included (`-I` rather than `-i`).
        intermediates: bool,
    },
}

/// One volume of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VolumeRecord {
    /// Its file name in the chain directory.
    pub name: String,
    /// Its length.
    pub bytes: u64,
    /// The SHA-256 of its bytes.
    pub sha256: Sha256Digest,
}

/// One stream of the chain, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamRecord {
    /// Its position in the chain, from 1 (also in its volumes' names).
    pub number: u32,
    /// Full or incremental.
    pub kind: StreamKind,
    /// The snapshot it brings the chain to, named as on the source when it was sent.
    pub to: SnapshotName,
    /// That snapshot's guid.
    pub to_guid: u64,
    /// That snapshot's `createtxg` on the source.
    pub to_createtxg: u64,
    /// Whether it is a raw send (`zfs send -w`: encrypted datasets stay encrypted).
    pub raw: bool,
    /// How it was compressed.
    pub compression: Option<Compression>,
    /// How it was encrypted.
    pub encryption: Option<EncryptionRecord>,
    /// The volume size it was split at (`None`: one volume).
    pub volume_limit_bytes: Option<u64>,
    /// The length of the send stream itself (before compression).
    pub stream_bytes: u64,
    /// The SHA-256 of the send stream itself.
    pub stream_sha256: Sha256Digest,
    /// When it was written.
    pub created: Timestamp,
    /// Its volumes, in order (at least one).
    pub volumes: Vec<VolumeRecord>,
}

impl StreamRecord {
    /// The guid of its base (`None` for a full stream).
    pub fn from_guid(&self) -> Option<u64> {
        match &self.kind {
            StreamKind::Full => None,
            StreamKind::Incremental { from_guid, .. } => Some(*from_guid),
        }
    }

    /// The bytes stored (all volumes).
    pub fn stored_bytes(&self) -> u64 {
        self.volumes.iter().map(|volume| volume.bytes).sum()
    }

    /// The suffix of its volumes.
    pub fn suffix(&self) -> String {
        volume_suffix(self.compression, self.encryption.as_ref())
    }
}

/// The manifest of one chain: one source dataset's streams on one file target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChainManifest {
    /// The job that writes the chain.
    pub job: BackupJobId,
    /// The target it is on.
    pub target: TargetName,
    /// The source dataset it was started for.
    pub dataset: DatasetName,
    /// When the chain was started.
    pub created: Timestamp,
    /// The streams, in the order they are received.
    pub streams: Vec<StreamRecord>,
}

impl ChainManifest {
    /// A chain with no stream yet.
    pub fn new(
        job: BackupJobId,
        target: TargetName,
        dataset: DatasetName,
        created: Timestamp,
    ) -> ChainManifest {
        ChainManifest {
            job,
            target,
            dataset,
            created,
            streams: Vec::new(),
        }
    }

    /// Reads a manifest; every failure is a [`ManifestError`] that says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<ChainManifest, ManifestError> {
        if bytes.len() > MAXIMUM_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge { bytes: bytes.len() });
        }
        let header: HeaderFile = serde_json::from_slice(bytes).map_err(json_error)?;
        if header.format != FORMAT {
            return Err(ManifestError::NotAManifest {
                found: header.format.escape_debug().to_string(),
            });
        }
        if header.version != u64::from(FORMAT_VERSION) {
            return Err(ManifestError::UnsupportedVersion {
                found: header.version,
            });
        }
        let file: ManifestFile = serde_json::from_slice(bytes).map_err(json_error)?;
        file.into_manifest()
    }

    /// The manifest as JSON (pretty-printed, ending with a newline).
    pub fn to_json(&self) -> String {
        let file = ManifestFile::from_manifest(self);
        // Serializing plain strings, numbers, booleans, options and vectors cannot fail.
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The chain as the backup planner reads it.
    pub fn to_planner(&self) -> Manifest {
        Manifest {
            dataset: self.dataset.clone(),
            job: Some(self.job.clone()),
            chain: self
                .streams
                .iter()
                .map(|stream| ChainLink {
                    from_guid: stream.from_guid(),
                    to: stream.to.clone(),
                    to_guid: stream.to_guid,
                })
                .collect(),
        }
    }

    /// The guid the next incremental must start from (the last stream's end).
    pub fn last_guid(&self) -> Option<u64> {
        self.streams.last().map(|stream| stream.to_guid)
    }
}

fn json_error(error: serde_json::Error) -> ManifestError {
    ManifestError::Json {
        message: error.to_string(),
        line: error.line(),
        column: error.column(),
    }
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// `2026-12-08T10:00:00Z` (read back by `Timestamp::parse_rfc3339`).
pub fn format_time(time: Timestamp) -> String {
    let civil = time.to_civil_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    )
}

// ------------------------------------------------------------------ the JSON form

#[derive(Deserialize)]
struct HeaderFile {
    format: String,
    version: u64,
}

#[derive(Serialize, Deserialize)]
struct ManifestFile {
    format: String,
    version: u64,
    job: String,
    target: String,
    dataset: String,
    created: String,
    streams: Vec<StreamFile>,
}

#[derive(Serialize, Deserialize)]
struct StreamFile {
    number: u64,
    kind: KindFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_guid: Option<String>,
    #[serde(default)]
    intermediates: bool,
    to: String,
    to_guid: String,
    to_createtxg: u64,
    raw: bool,
    compression: CompressionFile,
    encryption: EncryptionFile,
    volume_limit_bytes: Option<u64>,
    stream_bytes: u64,
    stream_sha256: String,
    created: String,
    volumes: Vec<VolumeFile>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum KindFile {
    Full,
    Incremental,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
enum CompressionFile {
    None,
    Zstd { level: u8 },
    Xz { level: u8 },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
enum EncryptionFile {
    None,
    Age { recipients: Vec<String> },
    Gpg { recipients: Vec<String> },
    OpenSsl { cipher: String },
}

#[derive(Serialize, Deserialize)]
struct VolumeFile {
    name: String,
    bytes: u64,
    sha256: String,
}

impl ManifestFile {
    fn from_manifest(manifest: &ChainManifest) -> ManifestFile {
        ManifestFile {
            format: FORMAT.to_owned(),
            version: u64::from(FORMAT_VERSION),
            job: manifest.job.as_str().to_owned(),
            target: manifest.target.as_str().to_owned(),
            dataset: manifest.dataset.as_str().to_owned(),
            created: format_time(manifest.created),
            streams: manifest
                .streams
                .iter()
                .map(StreamFile::from_record)
                .collect(),
        }
    }

    fn into_manifest(self) -> Result<ChainManifest, ManifestError> {
        let job = BackupJobId::new(&self.job).map_err(|error| invalid("job", error.to_string()))?;
        let target = TargetName::new(&self.target).map_err(|problem| invalid("target", problem))?;
        let dataset = DatasetName::new(&self.dataset)
            .map_err(|error| invalid("dataset", error.to_string()))?;
        let created = Timestamp::parse_rfc3339(&self.created)
            .ok_or_else(|| invalid("created", time_problem(&self.created)))?;
        if self.streams.len() > MAXIMUM_STREAMS as usize {
            return Err(invalid(
                "streams",
                format!("{} streams; at most {MAXIMUM_STREAMS}", self.streams.len()),
            ));
        }
        let streams = self
            .streams
            .into_iter()
            .enumerate()
            .map(|(index, stream)| stream.into_record(index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChainManifest {
            job,
            target,
            dataset,
            created,
            streams,
        })
    }
}

fn time_problem(text: &str) -> String {
    format!(
        "`{}` is not a UTC time like 2026-12-08T10:00:00Z",
        text.escape_debug()
    )
}

fn parse_guid(field: &str, text: &str) -> Result<u64, ManifestError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid(
            field,
            format!("`{}` is not a decimal guid", text.escape_debug()),
        ));
    }
    text.parse()
        .map_err(|_| invalid(field, format!("`{text}` is larger than 64 bits")))
}

fn parse_digest(field: &str, text: &str) -> Result<Sha256Digest, ManifestError> {
    Sha256Digest::from_hex(text).ok_or_else(|| {
        invalid(
            field,
            format!(
                "`{}` is not 64 hex digits of a SHA-256",
                text.escape_debug()
            ),
        )
    })
}

fn parse_base(field: &str, text: &str) -> Result<SendBase, ManifestError> {
    if text.contains('#') {
        BookmarkName::new(text)
            .map(SendBase::Bookmark)
            .map_err(|error| invalid(field, error.to_string()))
    } else {
        SnapshotName::new(text)
            .map(SendBase::Snapshot)
            .map_err(|error| invalid(field, error.to_string()))
    }
}

fn check_recipients(field: &str, recipients: &[String]) -> Result<(), ManifestError> {
    if recipients.is_empty() {
        return Err(invalid(field, "no recipient"));
    }
    if let Some(bad) = recipients
        .iter()
        .find(|recipient| recipient.is_empty() || recipient.chars().any(char::is_control))
    {
        return Err(invalid(
            field,
            format!("`{}` is not a recipient", bad.escape_debug()),
        ));
    }
    Ok(())
}

impl StreamFile {
    fn from_record(record: &StreamRecord) -> StreamFile {
        let (kind, from, from_guid, intermediates) = match &record.kind {
            StreamKind::Full => (KindFile::Full, None, None, false),
            StreamKind::Incremental {
                from_guid,
                from,
                intermediates,
            } => (
                KindFile::Incremental,
                Some(from.as_str().to_owned()),
                Some(from_guid.to_string()),
                *intermediates,
            ),
        };
        StreamFile {
            number: u64::from(record.number),
            kind,
            from,
            from_guid,
            intermediates,
            to: record.to.as_str().to_owned(),
            to_guid: record.to_guid.to_string(),
            to_createtxg: record.to_createtxg,
            raw: record.raw,
            compression: match record.compression {
                None => CompressionFile::None,
                Some(Compression::Zstd { level }) => CompressionFile::Zstd { level },
                Some(Compression::Xz { level }) => CompressionFile::Xz { level },
            },
            encryption: match &record.encryption {
                None => EncryptionFile::None,
                Some(EncryptionRecord::Age { recipients }) => EncryptionFile::Age {
                    recipients: recipients.clone(),
                },
                Some(EncryptionRecord::Gpg { recipients }) => EncryptionFile::Gpg {
                    recipients: recipients.clone(),
                },
                Some(EncryptionRecord::OpenSsl { cipher }) => EncryptionFile::OpenSsl {
                    cipher: cipher.clone(),
                },
            },
            volume_limit_bytes: record.volume_limit_bytes,
            stream_bytes: record.stream_bytes,
            stream_sha256: record.stream_sha256.to_hex(),
            created: format_time(record.created),
            volumes: record
                .volumes
                .iter()
                .map(|volume| VolumeFile {
                    name: volume.name.clone(),
                    bytes: volume.bytes,
                    sha256: volume.sha256.to_hex(),
                })
                .collect(),
        }
    }

    fn into_record(self, index: usize) -> Result<StreamRecord, ManifestError> {
        let field = |name: &str| format!("streams[{index}].{name}");
        let expected_number = index + 1;
        if self.number != expected_number as u64 {
            return Err(invalid(
                field("number"),
                format!(
                    "stream {} stands at position {expected_number}",
                    self.number
                ),
            ));
        }
        let number = expected_number as u32;
        let kind = match (self.kind, self.from, self.from_guid) {
            (KindFile::Full, None, None) => StreamKind::Full,
            (KindFile::Full, _, _) => {
                return Err(invalid(
                    field("kind"),
                    "a full stream has no `from` or `from_guid`",
                ));
            }
            (KindFile::Incremental, Some(from), Some(from_guid)) => StreamKind::Incremental {
                from_guid: parse_guid(&field("from_guid"), &from_guid)?,
                from: parse_base(&field("from"), &from)?,
                intermediates: self.intermediates,
            },
            (KindFile::Incremental, _, _) => {
                return Err(invalid(
                    field("kind"),
                    "an incremental stream needs both `from` and `from_guid`",
                ));
            }
        };
        let to =
            SnapshotName::new(&self.to).map_err(|error| invalid(field("to"), error.to_string()))?;
        let compression = match self.compression {
            CompressionFile::None => None,
            CompressionFile::Zstd { level } => Some(Compression::Zstd { level }),
            CompressionFile::Xz { level } => Some(Compression::Xz { level }),
        };
        if let Some(compression) = compression {
            check_compression(compression)
                .map_err(|error| invalid(field("compression"), error.to_string()))?;
        }
        let encryption = match self.encryption {
            EncryptionFile::None => None,
            EncryptionFile::Age { recipients } => {
                check_recipients(&field("encryption.recipients"), &recipients)?;
                Some(EncryptionRecord::Age { recipients })
            }
            EncryptionFile::Gpg { recipients } => {
                check_recipients(&field("encryption.recipients"), &recipients)?;
                Some(EncryptionRecord::Gpg { recipients })
            }
            EncryptionFile::OpenSsl { cipher } if cipher == OPENSSL_CIPHER => {
                Some(EncryptionRecord::OpenSsl { cipher })
            }
            EncryptionFile::OpenSsl { cipher } => {
                return Err(invalid(
                    field("encryption.cipher"),
                    format!(
                        "`{}` is not the cipher WiZFS uses (`{OPENSSL_CIPHER}`)",
                        cipher.escape_debug()
                    ),
                ));
            }
        };
        if self.volume_limit_bytes == Some(0) {
            return Err(invalid(field("volume_limit_bytes"), "a volume of 0 bytes"));
        }
        let suffix = volume_suffix(compression, encryption.as_ref());
        if self.volumes.is_empty() {
            return Err(invalid(
                field("volumes"),
                "a stream has at least one volume",
            ));
        }
        if self.volumes.len() > MAXIMUM_VOLUMES as usize {
            return Err(invalid(
                field("volumes"),
                format!("{} volumes; at most {MAXIMUM_VOLUMES}", self.volumes.len()),
            ));
        }
        let volumes = self
            .volumes
            .into_iter()
            .enumerate()
            .map(|(volume_index, volume)| {
                let volume_field = |name: &str| field(&format!("volumes[{volume_index}].{name}"));
                let expected = volume_name(number, volume_index as u32 + 1, &suffix);
                if volume.name != expected {
                    return Err(invalid(
                        volume_field("name"),
                        format!(
                            "`{}` should be `{expected}` (stream {number}, volume {}, {suffix})",
                            volume.name.escape_debug(),
                            volume_index + 1
                        ),
                    ));
                }
                Ok(VolumeRecord {
                    name: volume.name,
                    bytes: volume.bytes,
                    sha256: parse_digest(&volume_field("sha256"), &volume.sha256)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StreamRecord {
            number,
            kind,
            to,
            to_guid: parse_guid(&field("to_guid"), &self.to_guid)?,
            to_createtxg: self.to_createtxg,
            raw: self.raw,
            compression,
            encryption,
            volume_limit_bytes: self.volume_limit_bytes,
            stream_bytes: self.stream_bytes,
            stream_sha256: parse_digest(&field("stream_sha256"), &self.stream_sha256)?,
            created: Timestamp::parse_rfc3339(&self.created)
                .ok_or_else(|| invalid(field("created"), time_problem(&self.created)))?,
            volumes,
        })
    }
}

#[cfg(test)]
mod tests;
