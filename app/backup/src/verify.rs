//! Checking a file target without a pool: [`verify`] reads a chain directory's manifest,
//! then every volume it names (present, a plain file, the recorded size, the recorded
//! SHA-256), the chain's continuity (a full stream first, each incremental from the
//! previous stream's snapshot by guid), the stock-tool checksum list, and what lies in the
//! directory beside them; [`list_chains`] finds the chains of a whole target.
//!
//! This file exists so that a missing or corrupt volume is found before anything is
//! received, and reported precisely (which stream, which file, what was expected), for
//! `wizfs backup verify` and, through [`crate::reader`], `wizfs backup restore`.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use crate::checksums::{HashingReader, Sha256Digest};
use crate::durable::{FileAction, FileError, list_names};
use crate::instructions::checksum_file;
use crate::manifest::{ChainManifest, ManifestError, VolumeRecord};
use crate::names::{
    CHECKSUM_FILE, LOCK_FILE, MANIFEST_FILE, PARTIAL_SUFFIX, RESTORE_FILE, parse_volume_name,
};

/// Why a chain directory cannot be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The directory has no manifest.
    #[error("`{}` is not a WiZFS backup chain: it has no {MANIFEST_FILE}", directory.display())]
    NoManifest {
        /// The directory.
        directory: PathBuf,
    },
    /// The manifest cannot be read.
    #[error("the manifest `{}` cannot be read: {source}", path.display())]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// What is wrong with it.
        source: ManifestError,
    },
    /// The directory or the manifest could not be read.
    #[error(transparent)]
    File(#[from] FileError),
}

/// One thing wrong with a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A volume the manifest names is not there.
    MissingVolume {
        /// Its stream.
        stream: u32,
        /// Its file name.
        name: String,
    },
    /// Something else than a plain file (a directory, a symlink) has a volume's name.
    NotAFile {
        /// Its stream.
        stream: u32,
        /// Its file name.
        name: String,
    },
    /// A volume has another length than recorded.
    WrongSize {
        /// Its stream.
        stream: u32,
        /// Its file name.
        name: String,
        /// The recorded length.
        expected: u64,
        /// The length found.
        found: u64,
    },
    /// A volume's bytes differ from those written.
    Corrupt {
        /// Its stream.
        stream: u32,
        /// Its file name.
        name: String,
        /// The recorded SHA-256.
        expected: Sha256Digest,
        /// The SHA-256 of the file.
        found: Sha256Digest,
    },
    /// A volume could not be read.
    Unreadable {
        /// Its stream.
        stream: u32,
        /// Its file name.
        name: String,
        /// The system's error.
        error: String,
    },
    /// A stream does not start where the previous one ended.
    BrokenChain {
        /// The stream.
        stream: u32,
        /// The guid it starts from (`None`: a full stream).
        from_guid: Option<u64>,
        /// The guid it must start from (`None`: the chain's first stream is full).
        expected: Option<u64>,
    },
    /// `SHA256SUMS` is missing.
    ChecksumListMissing,
    /// `SHA256SUMS` does not list exactly the manifest's volumes and digests.
    ChecksumListDiffers,
    /// A volume of a stream the manifest does not have (left by an interrupted run; the
    /// next run removes it).
    LeftoverVolume {
        /// Its file name.
        name: String,
    },
    /// A temporary file of an interrupted run (the next run removes it).
    LeftoverTemporary {
        /// Its file name.
        name: String,
    },
}

impl Problem {
    /// Whether the chain cannot be restored as it is (leftovers and the stock-tool checksum
    /// list do not stand in the way of a restore by WiZFS).
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Problem::ChecksumListMissing
                | Problem::ChecksumListDiffers
                | Problem::LeftoverVolume { .. }
                | Problem::LeftoverTemporary { .. }
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingVolume { stream, name } => {
                write!(formatter, "stream {stream}: volume {name} is missing")
            }
            Problem::NotAFile { stream, name } => {
                write!(formatter, "stream {stream}: {name} is not a plain file")
            }
            Problem::WrongSize {
                stream,
                name,
                expected,
                found,
            } => write!(
                formatter,
                "stream {stream}: volume {name} is {found} bytes long, {expected} were written"
            ),
            Problem::Corrupt {
                stream,
                name,
                expected,
                found,
            } => write!(
                formatter,
                "stream {stream}: volume {name} is corrupt (SHA-256 {found}, written as {expected})"
            ),
            Problem::Unreadable {
                stream,
                name,
                error,
            } => write!(
                formatter,
                "stream {stream}: volume {name} cannot be read: {error}"
            ),
            Problem::BrokenChain {
                stream,
                from_guid,
                expected,
            } => {
                let describe = |guid: &Option<u64>| {
                    guid.map_or("a full stream".to_owned(), |guid| format!("guid {guid}"))
                };
                write!(
                    formatter,
                    "stream {stream} starts from {} but must start from {}: the chain is broken",
                    describe(from_guid),
                    describe(expected)
                )
            }
            Problem::ChecksumListMissing => write!(formatter, "{CHECKSUM_FILE} is missing"),
            Problem::ChecksumListDiffers => write!(
                formatter,
                "{CHECKSUM_FILE} does not match the manifest (the next backup run rewrites it)"
            ),
            Problem::LeftoverVolume { name } => write!(
                formatter,
                "{name} belongs to no stream of the manifest (left by an interrupted run)"
            ),
            Problem::LeftoverTemporary { name } => {
                write!(
                    formatter,
                    "{name} is a temporary file of an interrupted run"
                )
            }
        }
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The chain directory.
    pub directory: PathBuf,
    /// Its manifest.
    pub manifest: ChainManifest,
    /// Everything wrong, in the order found (streams in order).
    pub problems: Vec<Problem>,
    /// Files WiZFS does not write, found beside the chain (not a problem: a disc may carry
    /// other files).
    pub other_files: Vec<String>,
    /// The volumes read and found right.
    pub volumes_verified: usize,
    /// Their bytes.
    pub bytes_verified: u64,
}

impl VerifyReport {
    /// Whether the chain can be restored: no fatal problem.
    pub fn is_restorable(&self) -> bool {
        !self.problems.iter().any(Problem::is_fatal)
    }

    /// The fatal problems.
    pub fn fatal_problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|problem| problem.is_fatal())
    }
}

/// Reads the manifest of the chain in `directory`.
pub fn read_manifest(directory: &Path) -> Result<ChainManifest, VerifyError> {
    let path = directory.join(MANIFEST_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(VerifyError::NoManifest {
                directory: directory.to_owned(),
            });
        }
        Err(error) => return Err(FileError::at(FileAction::Read, &path)(error).into()),
    };
    ChainManifest::parse(&bytes).map_err(|source| VerifyError::Manifest { path, source })
}

/// Checks the chain in `directory`: every volume read in full.
pub fn verify(directory: &Path) -> Result<VerifyReport, VerifyError> {
    let manifest = read_manifest(directory)?;
    let names = list_names(directory)?;
    let mut report = VerifyReport {
        directory: directory.to_owned(),
        manifest,
        problems: Vec::new(),
        other_files: Vec::new(),
        volumes_verified: 0,
        bytes_verified: 0,
    };
    let mut expected_from = None;
    for stream in &report.manifest.streams {
        if stream.from_guid() != expected_from {
            report.problems.push(Problem::BrokenChain {
                stream: stream.number,
                from_guid: stream.from_guid(),
                expected: expected_from,
            });
        }
        expected_from = Some(stream.to_guid);
        for volume in &stream.volumes {
            match check_volume(directory, stream.number, volume) {
                Ok(()) => {
                    report.volumes_verified += 1;
                    report.bytes_verified += volume.bytes;
                }
                Err(problem) => report.problems.push(problem),
            }
        }
    }
    match fs::read(directory.join(CHECKSUM_FILE)) {
        Ok(list) if list == checksum_file(&report.manifest).as_bytes() => {}
        Ok(_) => report.problems.push(Problem::ChecksumListDiffers),
        Err(_) => report.problems.push(Problem::ChecksumListMissing),
    }
    let committed = report.manifest.streams.len();
    for name in names {
        let known =
            [MANIFEST_FILE, CHECKSUM_FILE, RESTORE_FILE, LOCK_FILE].contains(&name.as_str());
        match parse_volume_name(&name) {
            _ if known => {}
            Some((stream, _, _)) if (stream as usize) <= committed => {
                let listed = report.manifest.streams[stream as usize - 1]
                    .volumes
                    .iter()
                    .any(|volume| volume.name == name);
                if !listed {
                    report.problems.push(Problem::LeftoverVolume { name });
                }
            }
            _ if name.ends_with(PARTIAL_SUFFIX) => {
                report.problems.push(Problem::LeftoverTemporary { name });
            }
            Some(_) => report.problems.push(Problem::LeftoverVolume { name }),
            None => report.other_files.push(name),
        }
    }
    Ok(report)
}

/// Checks one volume: a plain file of the recorded size and SHA-256.
fn check_volume(directory: &Path, stream: u32, volume: &VolumeRecord) -> Result<(), Problem> {
    let name = volume.name.clone();
    let path = directory.join(&volume.name);
    let unreadable = |error: io::Error| Problem::Unreadable {
        stream,
        name: name.clone(),
        error: error.to_string(),
    };
    let metadata = match fs::symlink_metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(Problem::MissingVolume {
                stream,
                name: name.clone(),
            });
        }
        Err(error) => return Err(unreadable(error)),
    };
    if !metadata.is_file() {
        return Err(Problem::NotAFile {
            stream,
            name: name.clone(),
        });
    }
    if metadata.len() != volume.bytes {
        return Err(Problem::WrongSize {
            stream,
            name: name.clone(),
            expected: volume.bytes,
            found: metadata.len(),
        });
    }
    let mut reader = HashingReader::new(File::open(&path).map_err(unreadable)?);
    io::copy(&mut reader, &mut io::sink()).map_err(unreadable)?;
    let (found, read_total) = reader.finish();
    if read_total != volume.bytes {
        return Err(Problem::WrongSize {
            stream,
            name: name.clone(),
            expected: volume.bytes,
            found: read_total,
        });
    }
    if found != volume.sha256 {
        return Err(Problem::Corrupt {
            stream,
            name: name.clone(),
            expected: volume.sha256,
            found,
        });
    }
    Ok(())
}

/// A chain found on a file target.
#[derive(Debug)]
pub struct FoundChain {
    /// Its directory.
    pub directory: PathBuf,
    /// Its manifest, or why it cannot be read.
    pub manifest: Result<ChainManifest, VerifyError>,
}

/// The chains of a file target: each subdirectory of `directory` that has a manifest, in
/// name order.
pub fn list_chains(directory: &Path) -> Result<Vec<FoundChain>, FileError> {
    let mut chains = Vec::new();
    for name in list_names(directory)? {
        let chain = directory.join(&name);
        if !chain.join(MANIFEST_FILE).exists() {
            continue;
        }
        chains.push(FoundChain {
            manifest: read_manifest(&chain),
            directory: chain,
        });
    }
    Ok(chains)
}
