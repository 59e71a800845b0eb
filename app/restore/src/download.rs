//! Download: a file or directory of a snapshot (or of the live file system) streamed as a
//! tar or ZIP archive, read through [`SafeRoot`] like everything else, so a download can neither
//! follow a symlink out of the dataset nor wander into a child dataset. Entries are named
//! after the requested path's file name (`docs/a.txt` for a download of `…/docs`), with
//! GNU long-name records for long paths and the exact bytes of non-UTF-8 names; symlinks
//! stay symlinks; FIFOs, sockets and device nodes are left out.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use wizfs_core::{EntryKind, EntryMetadata, RelativePath};

use crate::error::{RestoreError, RestoreResult};
use crate::root::SafeRoot;

#[cfg(test)]
mod tests;

/// The archive a download is packed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchiveFormat {
    /// tar (GNU long-name records): exact names, modes, owners and symlinks; what Unix tools
    /// and restores by hand read.
    Tar,
    /// ZIP, stored (the data is sent as it is: photos and videos do not shrink, and nothing
    /// waits for a compressor), ZIP64 when large, written as a stream (sizes and checksums
    /// in data descriptors): what Windows and macOS open with a double click. Names that are
    /// not UTF-8 are written with U+FFFD in place of their bad bytes (ZIP has no way to carry
    /// them exactly; tar does), made unique when two become equal.
    Zip,
}

/// Writes a tar archive of `path` (a file or a directory tree) below `root` to `out` and
/// returns the number of bytes written. A file that changes size while it is read is cut or
/// padded with zeros to the size it had when listed, so the archive stays well-formed.
pub fn write_tar(root: &SafeRoot, path: &RelativePath, out: &mut dyn Write) -> RestoreResult<u64> {
    write_archive(root, path, ArchiveFormat::Tar, out)
}

/// Writes an archive of `path` (a file or a directory tree) below `root` to `out` in
/// `format` and returns the number of bytes written (see [`write_tar`]).
pub fn write_archive(
    root: &SafeRoot,
    path: &RelativePath,
    format: ArchiveFormat,
    out: &mut dyn Write,
) -> RestoreResult<u64> {
    let tree = root.read_tree(path)?;
    if tree.is_empty() {
        return Err(root.not_found(path));
    }
    let mut counter = CountingWriter {
        inner: out,
        written: 0,
    };
    let mut packer: Box<dyn Packer + '_> = match format {
        ArchiveFormat::Tar => Box::new(tar::Builder::new(&mut counter)),
        ArchiveFormat::Zip => Box::new(ZipPacker {
            writer: zip::ZipWriter::new_stream(&mut counter),
            names: HashSet::new(),
        }),
    };
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
        let metadata = &entry.metadata;
        let failed = |source| RestoreError::Io {
            operation: "write the archive entry for",
            path: entry.path.clone(),
            source,
        };
        match metadata.kind {
            EntryKind::Directory => packer.directory(&name, metadata).map_err(failed)?,
            EntryKind::File => {
                let file = root.open_regular_file(&entry.path)?;
                let mut content = ExactLength {
                    inner: file,
                    remaining: metadata.size,
                    ended: false,
                };
                packer.file(&name, metadata, &mut content).map_err(failed)?;
            }
            EntryKind::Symlink => {
                let target = metadata.symlink_target.as_deref().unwrap_or_default();
                packer.symlink(&name, metadata, target).map_err(failed)?;
            }
            EntryKind::Fifo
            | EntryKind::Socket
            | EntryKind::BlockDevice
            | EntryKind::CharacterDevice => {}
        }
    }
    packer.finish().map_err(|source| RestoreError::Io {
        operation: "finish the archive of",
        path: path.clone(),
        source,
    })?;
    Ok(counter.written)
}

/// One archive format's way of writing entries.
trait Packer {
    fn directory(&mut self, name: &[u8], metadata: &EntryMetadata) -> std::io::Result<()>;
    fn file(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        content: &mut dyn Read,
    ) -> std::io::Result<()>;
    fn symlink(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        target: &[u8],
    ) -> std::io::Result<()>;
    /// Ends the archive (its trailer; ZIP's central directory).
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

fn tar_header(metadata: &EntryMetadata, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_mode(metadata.mode & 0o7777);
    header.set_uid(u64::from(metadata.uid));
    header.set_gid(u64::from(metadata.gid));
    header.set_mtime(u64::try_from(metadata.modified.seconds).unwrap_or(0));
    header.set_entry_type(kind);
    header.set_size(size);
    header
}

fn os_path(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

impl<W: Write> Packer for tar::Builder<W> {
    fn directory(&mut self, name: &[u8], metadata: &EntryMetadata) -> std::io::Result<()> {
        let mut header = tar_header(metadata, tar::EntryType::Directory, 0);
        self.append_data(&mut header, os_path(name), std::io::empty())
    }

    fn file(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        content: &mut dyn Read,
    ) -> std::io::Result<()> {
        let mut header = tar_header(metadata, tar::EntryType::Regular, metadata.size);
        self.append_data(&mut header, os_path(name), content)
    }

    fn symlink(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        target: &[u8],
    ) -> std::io::Result<()> {
        let mut header = tar_header(metadata, tar::EntryType::Symlink, 0);
        self.append_link(&mut header, os_path(name), os_path(target))
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        self.into_inner().map(drop)
    }
}

/// A streamed ZIP and the names already in it.
struct ZipPacker<W: Write> {
    writer: zip::ZipWriter<zip::write::StreamWriter<W>>,
    names: HashSet<String>,
}

impl<W: Write> ZipPacker<W> {
    /// `name` as ZIP carries it: UTF-8 (bad bytes replaced), unique in the archive.
    fn name(&mut self, name: &[u8]) -> String {
        let text = String::from_utf8_lossy(name).into_owned();
        let mut unique = text.clone();
        let mut count = 1;
        while self.names.contains(&unique) {
            count += 1;
            unique = format!("{text} ({count})");
        }
        self.names.insert(unique.clone());
        unique
    }
}

/// The entry options: stored, the mode, the modification time (UTC; ZIP knows no zone and
/// nothing before 1980 or after 2107, so those become its earliest time), ZIP64 for large
/// files.
fn zip_options(metadata: &EntryMetadata) -> zip::write::SimpleFileOptions {
    let civil = wizfs_core::Timestamp(metadata.modified.seconds).to_civil_utc();
    let time = u16::try_from(civil.year)
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                civil.month,
                civil.day,
                civil.hour,
                civil.minute,
                civil.second,
            )
            .ok()
        })
        .unwrap_or_default();
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(metadata.mode & 0o7777)
        .last_modified_time(time)
        .large_file(metadata.size >= u64::from(u32::MAX))
}

fn zip_failed(error: zip::result::ZipError) -> std::io::Error {
    match error {
        zip::result::ZipError::Io(error) => error,
        other => std::io::Error::other(other),
    }
}

impl<W: Write> Packer for ZipPacker<W> {
    fn directory(&mut self, name: &[u8], metadata: &EntryMetadata) -> std::io::Result<()> {
        let name = self.name(name);
        self.writer
            .add_directory(name, zip_options(metadata))
            .map_err(zip_failed)
    }

    fn file(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        content: &mut dyn Read,
    ) -> std::io::Result<()> {
        let name = self.name(name);
        self.writer
            .start_file(name, zip_options(metadata))
            .map_err(zip_failed)?;
        std::io::copy(content, &mut self.writer)?;
        Ok(())
    }

    fn symlink(
        &mut self,
        name: &[u8],
        metadata: &EntryMetadata,
        target: &[u8],
    ) -> std::io::Result<()> {
        let name = self.name(name);
        let target = String::from_utf8_lossy(target).into_owned();
        self.writer
            .add_symlink(name, target, zip_options(metadata))
            .map_err(zip_failed)
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        self.writer.finish().map(drop).map_err(zip_failed)
    }
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
