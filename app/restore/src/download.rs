//! Download: a file or directory of a snapshot (or of the live file system) streamed as a
//! tar archive, read through [`SafeRoot`] like everything else, so a download can neither
//! follow a symlink out of the dataset nor wander into a child dataset. Entries are named
//! after the requested path's file name (`docs/a.txt` for a download of `…/docs`), with
//! GNU long-name records for long paths and the exact bytes of non-UTF-8 names; symlinks
//! stay symlinks; FIFOs, sockets and device nodes are left out.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use wizfs_core::{EntryKind, RelativePath};

use crate::error::{RestoreError, RestoreResult};
use crate::root::SafeRoot;

#[cfg(test)]
mod tests;

/// Writes a tar archive of `path` (a file or a directory tree) below `root` to `out` and
/// returns the number of bytes written. A file that changes size while it is read is cut or
/// padded with zeros to the size it had when listed, so the archive stays well-formed.
pub fn write_tar(root: &SafeRoot, path: &RelativePath, out: &mut dyn Write) -> RestoreResult<u64> {
    let tree = root.read_tree(path)?;
    if tree.is_empty() {
        return Err(root.not_found(path));
    }
    let mut counter = CountingWriter {
        inner: out,
        written: 0,
    };
    let mut builder = tar::Builder::new(&mut counter);
    for entry in &tree {
        let Some(below) = entry.path.strip_prefix(path) else {
            continue;
        };
        let name: Vec<u8> = match (path.file_name(), below.is_root()) {
            (Some(top), true) => top.to_vec(),
            (Some(top), false) => [top, b"/", below.as_bytes()].concat(),
            // The dataset root itself: its entries go at the top of the archive.
            (None, true) => continue,
            (None, false) => below.as_bytes().to_vec(),
        };
        let name = Path::new(OsStr::from_bytes(&name));
        let metadata = &entry.metadata;
        let mut header = tar::Header::new_gnu();
        header.set_mode(metadata.mode & 0o7777);
        header.set_uid(u64::from(metadata.uid));
        header.set_gid(u64::from(metadata.gid));
        header.set_mtime(u64::try_from(metadata.modified.seconds).unwrap_or(0));
        let failed = |source| RestoreError::Io {
            operation: "write the archive entry for",
            path: entry.path.clone(),
            source,
        };
        match metadata.kind {
            EntryKind::Directory => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, name, std::io::empty())
                    .map_err(failed)?;
            }
            EntryKind::File => {
                let file = root.open_regular_file(&entry.path)?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(metadata.size);
                let content = ExactLength {
                    inner: file,
                    remaining: metadata.size,
                    ended: false,
                };
                builder
                    .append_data(&mut header, name, content)
                    .map_err(failed)?;
            }
            EntryKind::Symlink => {
                let target = metadata.symlink_target.as_deref().unwrap_or_default();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(&mut header, name, Path::new(OsStr::from_bytes(target)))
                    .map_err(failed)?;
            }
            EntryKind::Fifo
            | EntryKind::Socket
            | EntryKind::BlockDevice
            | EntryKind::CharacterDevice => {}
        }
    }
    builder.into_inner().map_err(|source| RestoreError::Io {
        operation: "finish the archive of",
        path: path.clone(),
        source,
    })?;
    Ok(counter.written)
}

/// Counts the bytes passed to the real output.
struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    written: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.written += u64::try_from(written).unwrap_or(0);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Exactly `remaining` bytes of `inner`: cut when longer, padded with zeros when it ends
/// early (a live file that shrank), because a tar entry's size is written before its data.
struct ExactLength<R> {
    inner: R,
    remaining: u64,
    ended: bool,
}

impl<R: Read> Read for ExactLength<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 || buffer.is_empty() {
            return Ok(0);
        }
        let wanted = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        let Some(window) = buffer.get_mut(..wanted) else {
            return Ok(0);
        };
        let read = if self.ended {
            0
        } else {
            self.inner.read(window)?
        };
        let produced = if read == 0 {
            self.ended = true;
            window.fill(0);
            wanted
        } else {
            read
        };
        self.remaining -= u64::try_from(produced).unwrap_or(self.remaining);
        Ok(produced)
    }
}
