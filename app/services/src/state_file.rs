//! The services' small state files (the alert book, the self-test log, the backup runs):
//! JSON written whole through a temporary file and a rename, read back with a corrupt file
//! set aside instead of stopping the daemon.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Writes `value` as JSON to `path` through a temporary file and a rename, so a crash leaves
/// the old or the new file, never half of one.
pub(crate) fn save_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    use std::io::Write;
    let directory = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory)?;
    let mut file = tempfile::NamedTempFile::new_in(directory)?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    std::fs::File::open(directory)?.sync_all()
}

/// Reads a JSON state file; a missing one is the default. A corrupt one is kept aside as
/// `<name>.corrupt` and replaced by the default (said in the log).
pub(crate) fn load_json<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> T {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return T::default(),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "cannot read a state file; starting empty");
            return T::default();
        }
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|error| {
        let aside = path.with_extension("json.corrupt");
        let _ = std::fs::rename(path, &aside);
        tracing::error!(path = %path.display(), aside = %aside.display(), %error, "a state file is corrupt; starting empty");
        T::default()
    })
}
