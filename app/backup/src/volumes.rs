//! The splitter at the bottom of a pipeline: what is written to it goes into the volumes of
//! one stream (`s000001.v000001.zfs.zst`, `….v000002…`), each at most the chosen size,
//! each written to a temporary name, flushed to the disk, renamed into place and its
//! directory flushed, with its SHA-256 computed on the way. A volume is opened only when
//! bytes come for it, so a stream that ends at a volume boundary has no empty last volume.
//!
//! This file exists so that "no file under a volume's final name is ever incomplete" holds
//! by construction: a name is given only to a volume that was completely written and is on
//! the disk.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::durable::{FileAction, FileError, commit, create_new, remove_if_present};
use crate::manifest::VolumeRecord;
use crate::names::{MAXIMUM_VOLUMES, partial_name, volume_name};

/// Bytes buffered before a write reaches the volume file.
const BUFFER_BYTES: usize = 1 << 20;

/// Why the splitter stopped.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// A volume file could not be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The stream needs more volumes than names have digits for.
    #[error(
        "stream {stream} needs more than {MAXIMUM_VOLUMES} volumes; choose a larger volume size"
    )]
    TooManyVolumes {
        /// The stream's number.
        stream: u32,
    },
}

#[derive(Debug)]
struct OpenVolume {
    writer: BufWriter<File>,
    temporary: PathBuf,
    name: String,
    bytes: u64,
    hasher: Sha256,
}

/// Writes one stream's volumes into a chain directory.
#[derive(Debug)]
pub struct Splitter {
    directory: PathBuf,
    stream: u32,
    suffix: String,
    limit: Option<u64>,
    current: Option<OpenVolume>,
    finished: Vec<VolumeRecord>,
    failure: Option<SplitError>,
}

impl Splitter {
    /// A splitter for stream `stream` of the chain in `directory`, volumes of at most
    /// `limit` bytes (`None` or 0: one volume), named with `suffix`.
    pub fn new(directory: &Path, stream: u32, suffix: &str, limit: Option<u64>) -> Splitter {
        Splitter {
            directory: directory.to_owned(),
            stream,
            suffix: suffix.to_owned(),
            limit: limit.filter(|bytes| *bytes > 0),
            current: None,
            finished: Vec::new(),
            failure: None,
        }
    }

    /// The cause of the last failed write, with the path (a [`Write`] can only return an
    /// `io::Error`).
    pub fn take_failure(&mut self) -> Option<SplitError> {
        self.failure.take()
    }

    fn open_next(&mut self) -> Result<&mut OpenVolume, SplitError> {
        let number = self.finished.len() as u64 + 1;
        let number = u32::try_from(number)
            .ok()
            .filter(|number| *number <= MAXIMUM_VOLUMES)
            .ok_or(SplitError::TooManyVolumes {
                stream: self.stream,
            })?;
        let name = volume_name(self.stream, number, &self.suffix);
        let temporary = self.directory.join(partial_name(&name));
        let file = create_new(&temporary)?;
        Ok(self.current.insert(OpenVolume {
            writer: BufWriter::with_capacity(BUFFER_BYTES, file),
            temporary,
            name,
            bytes: 0,
            hasher: Sha256::new(),
        }))
    }

    fn close_current(&mut self) -> Result<(), SplitError> {
        let Some(volume) = self.current.take() else {
            return Ok(());
        };
        let temporary = volume.temporary.clone();
        let committed = volume
            .writer
            .into_inner()
            .map_err(|error| FileError {
                action: FileAction::Write,
                path: temporary.clone(),
                source: error.into_error(),
            })
            .and_then(|file| commit(file, &temporary, &self.directory.join(&volume.name)));
        if let Err(error) = committed {
            let _ = remove_if_present(&temporary);
            return Err(error.into());
        }
        self.finished.push(VolumeRecord {
            name: volume.name,
            bytes: volume.bytes,
            sha256: volume.hasher.into(),
        });
        Ok(())
    }

    fn try_write(&mut self, buffer: &[u8]) -> Result<usize, SplitError> {
        let limit = self.limit;
        let volume = match self.current {
            Some(ref mut volume) => volume,
            None => self.open_next()?,
        };
        let room = limit.map_or(u64::MAX, |limit| limit - volume.bytes);
        let take = buffer
            .len()
            .min(usize::try_from(room).unwrap_or(usize::MAX));
        let chunk = &buffer[..take];
        volume
            .writer
            .write_all(chunk)
            .map_err(FileError::at(FileAction::Write, &volume.temporary))?;
        volume.hasher.update(chunk);
        volume.bytes += take as u64;
        if limit == Some(volume.bytes) {
            self.close_current()?;
        }
        Ok(take)
    }

    /// Closes the last volume and gives every volume's record. A stream of no bytes gets
    /// one empty volume, so every stream has a file.
    /// On failure nothing of the stream is left, as after [`Splitter::abort`].
    pub fn finish(mut self) -> Result<Vec<VolumeRecord>, SplitError> {
        let closed = if self.current.is_none() && self.finished.is_empty() {
            self.open_next().map(|_| ())
        } else {
            Ok(())
        };
        match closed.and_then(|()| self.close_current()) {
            Ok(()) => Ok(std::mem::take(&mut self.finished)),
            Err(error) => {
                let _ = self.abort();
                Err(error)
            }
        }
    }

    /// Removes every file this splitter made, complete or not (a failed stream leaves
    /// nothing behind). Failures to remove are given back for the caller to report; the
    /// next writer's cleanup removes what is left.
    pub fn abort(mut self) -> Vec<FileError> {
        let mut paths = Vec::new();
        if let Some(volume) = self.current.take() {
            paths.push(volume.temporary.clone());
            drop(volume.writer);
        }
        paths.extend(
            self.finished
                .iter()
                .map(|volume| self.directory.join(&volume.name)),
        );
        paths
            .iter()
            .filter_map(|path| remove_if_present(path).err())
            .collect()
    }
}

impl Write for Splitter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        if buffer.is_empty() {
            return Ok(0);
        }
        self.try_write(buffer).map_err(|failure| {
            let kind = match &failure {
                SplitError::File(error) => error.source.kind(),
                SplitError::TooManyVolumes { .. } => io::ErrorKind::Other,
            };
            let error = io::Error::new(kind, failure.to_string());
            self.failure = Some(failure);
            error
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some(volume) => volume.writer.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksums::Sha256Digest;
    use crate::durable::list_names;

    #[test]
    fn a_stream_is_cut_at_the_limit_and_no_empty_volume_follows() {
        let directory = tempfile::tempdir().expect("tempdir");
        let data: Vec<u8> = (0..30u8).collect();
        let mut splitter = Splitter::new(directory.path(), 1, ".zfs", Some(10));
        splitter.write_all(&data).expect("write");
        let volumes = splitter.finish().expect("finish");
        assert_eq!(volumes.len(), 3);
        for (index, volume) in volumes.iter().enumerate() {
            let chunk = &data[index * 10..index * 10 + 10];
            assert_eq!(volume.bytes, 10);
            assert_eq!(volume.sha256, Sha256Digest::of(chunk));
            let stored = std::fs::read(directory.path().join(&volume.name)).expect("read");
            assert_eq!(stored, chunk);
        }
        assert_eq!(
            list_names(directory.path()).expect("list"),
            [
                "s000001.v000001.zfs",
                "s000001.v000002.zfs",
                "s000001.v000003.zfs"
            ]
        );
    }

    #[test]
    fn an_empty_stream_has_one_empty_volume_and_no_limit_means_one_volume() {
        let directory = tempfile::tempdir().expect("tempdir");
        let volumes = Splitter::new(directory.path(), 2, ".zfs", None)
            .finish()
            .expect("finish");
        assert_eq!(volumes.len(), 1);
        assert_eq!(volumes[0].bytes, 0);
        let mut whole = Splitter::new(directory.path(), 3, ".zfs", Some(0));
        whole.write_all(&[7; 5000]).expect("write");
        assert_eq!(whole.finish().expect("finish").len(), 1);
    }

    #[test]
    fn an_aborted_stream_leaves_nothing() {
        let directory = tempfile::tempdir().expect("tempdir");
        let mut splitter = Splitter::new(directory.path(), 1, ".zfs", Some(4));
        splitter.write_all(&[1; 10]).expect("write");
        assert!(splitter.abort().is_empty());
        assert!(list_names(directory.path()).expect("list").is_empty());
    }
}
