//! The two files a chain directory carries for people and stock tools, derived from the
//! manifest: `SHA256SUMS` (every volume, for `sha256sum -c`) and `RESTORE.txt` (the exact
//! commands that receive the chain without WiZFS, stream by stream).
//!
//! This file exists because a backup on a disc or a USB disk may be read years later on a
//! machine without WiZFS: what the volumes are and how to put them back must travel with
//! them. `docs/backup.md` explains the same commands.

use crate::checksums::checksum_list;
use crate::manifest::{ChainManifest, StreamKind, format_time};
use crate::names::{CHECKSUM_FILE, volume_glob};
use crate::pipeline::restore_filters;

/// The `SHA256SUMS` of a chain: every volume of every stream, in order.
pub fn checksum_file(manifest: &ChainManifest) -> String {
    checksum_list(
        manifest
            .streams
            .iter()
            .flat_map(|stream| &stream.volumes)
            .map(|volume| (volume.name.as_str(), &volume.sha256)),
    )
}

/// The restore instructions of a chain.
pub fn restore_file(manifest: &ChainManifest) -> String {
    let mut text = format!(
        "WiZFS backup of the ZFS dataset {} (backup job {}, target {}), chain started {}.\n\
         \n\
         Restore it with stock tools: check the volumes, then receive the streams one after\n\
         the other, in this order, into a dataset that does not exist yet (POOL/RESTORED\n\
         below; choose your own). Each stream is the concatenation of its volumes, in name\n\
         order; -u leaves the dataset unmounted until the last stream is in.\n\
         \n\
         \x20 sha256sum -c {CHECKSUM_FILE}\n",
        manifest.dataset,
        manifest.job,
        manifest.target,
        format_time(manifest.created),
    );
    if manifest.streams.is_empty() {
        text.push_str("\nThe chain holds no stream yet.\n");
    }
    let mut raw = false;
    for stream in &manifest.streams {
        let what = match &stream.kind {
            StreamKind::Full => format!("full stream of {}", stream.to),
            StreamKind::Incremental { from, .. } => {
                format!("incremental stream from {from} to {}", stream.to)
            }
        };
        let mut command = format!("cat {}", volume_glob(stream.number));
        for filter in restore_filters(stream.compression, stream.encryption.as_ref()) {
            command.push_str(" | ");
            command.push_str(&filter);
        }
        command.push_str(" | zfs receive -u POOL/RESTORED");
        text.push_str(&format!(
            "\n  # {}: {what} ({} volumes, {} bytes stored, written {})\n  {command}\n",
            stream.number,
            stream.volumes.len(),
            stream.stored_bytes(),
            format_time(stream.created),
        ));
        raw |= stream.raw;
    }
    if raw {
        text.push_str(
            "\nRaw streams keep an encrypted dataset encrypted: load its key before mounting\n\
             (zfs load-key POOL/RESTORED).\n",
        );
    }
    text.push_str(
        "\nKEY_FILE and PASSPHRASE_FILE, where they appear, stand for the age identity or\n\
         the passphrase file this backup was encrypted for; they are never stored here.\n\
         With WiZFS: wizfs backup verify checks everything, wizfs backup restore receives\n\
         the chain after checking every volume.\n",
    );
    text
}
