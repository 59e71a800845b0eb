//! Copying one file's data from a snapshot to a live temporary file. `copy_file_range` is
//! tried first: on OpenZFS 2.2+ with block cloning, a copy inside one pool shares the blocks
//! instead of duplicating them, so restoring a large file takes no time and no space. Where
//! the kernel or file system cannot (another pool, `EXDEV`, no support) the copy falls back
//! to reading and writing. Either way only the data ranges the source reports with
//! `SEEK_DATA`/`SEEK_HOLE` are copied and the length is set at the end, so sparse files
//! (VM images, databases) stay sparse.

use std::fs::File;
use std::os::unix::fs::FileExt;

use rustix::fs::SeekFrom;
use rustix::io::Errno;
use wizfs_core::RelativePath;

use crate::error::{RestoreError, RestoreResult, io_failure, system_failure};

#[cfg(test)]
mod tests;

/// Bytes per `copy_file_range` call (small enough for regular progress reports).
const CLONE_CHUNK: u64 = 16 << 20;
/// Buffer of the read/write fallback.
const BUFFER_SIZE: usize = 1 << 20;

/// Copies the first `length` bytes of `source` to `destination` (a new, empty file), keeping
/// holes, and sets `destination`'s length to `length`. `copied` is called with each number of
/// bytes copied. Returns the bytes of data copied (holes excluded). `path` names the
/// destination in errors.
pub(crate) fn copy_file_data(
    source: &File,
    destination: &File,
    length: u64,
    path: &RelativePath,
    copied: &mut dyn FnMut(u64),
) -> RestoreResult<u64> {
    copy_file_data_with(source, destination, length, path, copied, true)
}

/// [`copy_file_data`], optionally without trying `copy_file_range` at all (tests use this to
/// exercise the fallback).
fn copy_file_data_with(
    source: &File,
    destination: &File,
    length: u64,
    path: &RelativePath,
    copied: &mut dyn FnMut(u64),
    try_clone: bool,
) -> RestoreResult<u64> {
    let mut copier = Copier {
        source,
        destination,
        path,
        clone: try_clone,
        buffer: Vec::new(),
    };
    let mut offset = 0;
    let mut total = 0;
    while offset < length {
        let data_start = match rustix::fs::seek(source, SeekFrom::Data(offset)) {
            Ok(position) => position,
            // Only a hole remains up to the end.
            Err(Errno::NXIO) => break,
            // No hole detection on this file system: everything is data.
            Err(Errno::INVAL | Errno::OPNOTSUPP) => offset,
            Err(errno) => {
                return Err(system_failure(
                    "find the data of the source of",
                    path,
                    errno,
                ));
            }
        };
        if data_start >= length {
            break;
        }
        let data_end = match rustix::fs::seek(source, SeekFrom::Hole(data_start)) {
            Ok(position) => position.min(length),
            Err(Errno::NXIO | Errno::INVAL | Errno::OPNOTSUPP) => length,
            Err(errno) => {
                return Err(system_failure(
                    "find the holes of the source of",
                    path,
                    errno,
                ));
            }
        };
        let data_end = if data_end <= data_start {
            length
        } else {
            data_end
        };
        copier.copy_range(data_start, data_end, copied)?;
        total += data_end - data_start;
        offset = data_end;
    }
    destination
        .set_len(length)
        .map_err(|error| io_failure("set the length of", path, error))?;
    Ok(total)
}

struct Copier<'a> {
    source: &'a File,
    destination: &'a File,
    path: &'a RelativePath,
    /// Whether `copy_file_range` is still worth trying.
    clone: bool,
    buffer: Vec<u8>,
}

impl Copier<'_> {
    /// Copies `start..end` to the same offsets.
    fn copy_range(
        &mut self,
        start: u64,
        end: u64,
        copied: &mut dyn FnMut(u64),
    ) -> RestoreResult<()> {
        let mut position = start;
        while position < end {
            let wanted = (end - position).min(CLONE_CHUNK);
            let done = if self.clone {
                match self.clone_chunk(position, wanted)? {
                    Some(done) => done,
                    None => {
                        self.clone = false;
                        continue;
                    }
                }
            } else {
                self.read_write_chunk(position, wanted)?
            };
            position += done;
            copied(done);
        }
        Ok(())
    }

    /// One `copy_file_range`; `None` when it is not supported here (then never tried again).
    fn clone_chunk(&mut self, position: u64, wanted: u64) -> RestoreResult<Option<u64>> {
        let mut source_offset = position;
        let mut destination_offset = position;
        let length = usize::try_from(wanted).unwrap_or(usize::MAX);
        match rustix::fs::copy_file_range(
            self.source,
            Some(&mut source_offset),
            self.destination,
            Some(&mut destination_offset),
            length,
        ) {
            Ok(0) => Err(source_ended(self.path)),
            Ok(done) => Ok(Some(u64::try_from(done).unwrap_or(wanted))),
            Err(Errno::XDEV | Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS | Errno::BADF) => {
                Ok(None)
            }
            Err(errno) => Err(system_failure("copy data to", self.path, errno)),
        }
    }

    /// One read and write through a buffer.
    fn read_write_chunk(&mut self, position: u64, wanted: u64) -> RestoreResult<u64> {
        if self.buffer.is_empty() {
            self.buffer = vec![0; BUFFER_SIZE];
        }
        let length = usize::try_from(wanted)
            .unwrap_or(BUFFER_SIZE)
            .min(BUFFER_SIZE);
        let Some(chunk) = self.buffer.get_mut(..length) else {
            return Err(source_ended(self.path));
        };
        let read = loop {
            match self.source.read_at(chunk, position) {
                Ok(read) => break read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(io_failure("read the source of", self.path, error)),
            }
        };
        if read == 0 {
            return Err(source_ended(self.path));
        }
        let data = chunk.get(..read).unwrap_or_default();
        self.destination
            .write_all_at(data, position)
            .map_err(|error| io_failure("write", self.path, error))?;
        Ok(u64::try_from(read).unwrap_or(wanted))
    }
}

/// The source is shorter than its metadata said (impossible for a snapshot).
fn source_ended(path: &RelativePath) -> RestoreError {
    RestoreError::Io {
        operation: "copy data to",
        path: path.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the source file ended before its recorded length",
        ),
    }
}
