//! The administrator's credential file: first-boot setup, password change and verification.
//!
//! WiZFS has one account, `admin`. Its password is kept as an Argon2id PHC string (default
//! parameters) in a small JSON file:
//!
//! ```json
//! { "version": 1, "user": "admin", "password": "$argon2id$v=19$...", "created": 1700000000 }
//! ```
//!
//! A missing file means first boot: the console must offer setup ([`CredentialState::Unset`]).
//! The file is written atomically (temporary file in the same directory, mode 0600, fsync,
//! then rename, then fsync of the directory), and first setup never replaces an existing file,
//! even one created by another process meanwhile. A file that cannot be read as a valid
//! credential file is reported with its path and left untouched: deleting it by hand is the
//! documented way back to first-boot setup, so the daemon must never do that on its own.
//!
//! Verification always runs exactly one Argon2 verification, against a fixed dummy hash when
//! the user is unknown or no password is set, so response times do not reveal either.
//! The file is re-read when it changes on disk (for example after `wizfs` on the command line
//! reset the password), which a cheap `stat` before each operation detects.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, Params, PasswordHash};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use thiserror::Error;

/// The only account name.
pub const ADMIN_USER: &str = "admin";

/// Minimum password length, in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Maximum password length, in bytes of UTF-8.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Version of the credential file format written by this crate.
pub const CREDENTIAL_FILE_VERSION: u32 = 1;

/// Memory cost ceiling (KiB) accepted from a stored hash: 1 GiB. A file asking for more is
/// treated as corrupted rather than allowed to exhaust memory at the next login.
const MAX_STORED_M_COST_KIB: u32 = 1 << 20;

/// Hash verified when there is no real hash to verify against, so that every call of
/// [`CredentialStore::verify`] costs one Argon2 verification. Made with the same (default)
/// parameters as real hashes; its password is irrelevant since its result is discarded.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cJWYZqjXKxsWvFQVJkVT9w$Q+rO17BNkoMmuGtHRFZJuOPqvU1q9A6ckFvSH3Cy1xE";

/// Why a password was refused by the password policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password is too short: it has {actual} characters, at least {min} are required")]
    TooShort {
        /// Required minimum, in characters.
        min: usize,
        /// Length of the refused password, in characters.
        actual: usize,
    },
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("the password is too long: it has {actual} bytes, at most {max} are allowed")]
    TooLong {
        /// Allowed maximum, in bytes.
        max: usize,
        /// Length of the refused password, in bytes.
        actual: usize,
    },
    /// Only spaces, tabs, newlines or other white space.
    #[error("the password consists only of white space")]
    AllWhitespace,
    /// The new password is the same as the current one.
    #[error("the new password is the same as the current one")]
    SameAsOld,
}

/// Checks a candidate password against the policy: at least [`MIN_PASSWORD_CHARS`]
/// characters, at most [`MAX_PASSWORD_BYTES`] bytes, and not only white space.
///
/// Public so that the console can explain the rules before submitting.
pub fn check_password_policy(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong {
            max: MAX_PASSWORD_BYTES,
            actual: password.len(),
        });
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort {
            min: MIN_PASSWORD_CHARS,
            actual: chars,
        });
    }
    if password.chars().all(char::is_whitespace) {
        return Err(PasswordError::AllWhitespace);
    }
    Ok(())
}

/// Whether the administrator password has been set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    /// No credential file: first boot, the console must offer setup.
    Unset,
    /// A valid credential file exists.
    Set,
}

/// Errors of the credential store. Each names the file concerned.
#[derive(Debug, Error)]
pub enum CredentialError {
    /// Reading, writing or syncing a file or directory failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "rename into place"…).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file exists but is not a valid credential file. It is left untouched.
    #[error(
        "the credential file {path} is corrupted ({reason}); it was left untouched: \
         restore it from a backup, or move it aside to run first-boot setup again"
    )]
    Corrupt {
        /// The credential file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// First-boot setup was attempted but a password is already set.
    #[error("the administrator password is already set (in {path})")]
    AlreadySet {
        /// The credential file.
        path: PathBuf,
    },
    /// A password change was attempted before first-boot setup.
    #[error("no administrator password is set yet ({path} does not exist): run setup first")]
    NotSet {
        /// The credential file.
        path: PathBuf,
    },
    /// The current password given for a change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// The new password breaks the password policy.
    #[error("the new password was refused: {0}")]
    Policy(#[from] PasswordError),
    /// Argon2 failed to hash the new password (for example, no random salt could be drawn).
    #[error("could not hash the new password: {reason}")]
    Hash {
        /// The underlying error, as text.
        reason: String,
    },
}

/// The JSON document stored in the credential file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    version: u32,
    user: String,
    /// Argon2id PHC string.
    password: String,
    /// When the password was first set, seconds since the Unix epoch.
    created: u64,
    /// When the password was last changed, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changed: Option<u64>,
}

impl std::fmt::Debug for CredentialFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialFile")
            .field("version", &self.version)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("created", &self.created)
            .field("changed", &self.changed)
            .finish()
    }
}

impl CredentialFile {
    /// Parses and validates the file's bytes; the error is the reason it is corrupt.
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let file: Self = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
        if file.version != CREDENTIAL_FILE_VERSION {
            return Err(format!(
                "unsupported version {} (this WiZFS reads version {CREDENTIAL_FILE_VERSION})",
                file.version
            ));
        }
        if file.user.is_empty() || file.user.chars().any(char::is_control) {
            return Err("the user name is empty or contains control characters".to_owned());
        }
        let hash = PasswordHash::new(&file.password)
            .map_err(|e| format!("the password field is not a PHC string: {e}"))?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(format!(
                "the password hash uses {}, not argon2id",
                hash.algorithm.as_str()
            ));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err("the password hash lacks its salt or output".to_owned());
        }
        let params = Params::try_from(&hash)
            .map_err(|e| format!("the password hash has invalid parameters: {e}"))?;
        if params.m_cost() > MAX_STORED_M_COST_KIB {
            return Err(format!(
                "the password hash asks for {} KiB of memory, more than the {} KiB allowed",
                params.m_cost(),
                MAX_STORED_M_COST_KIB
            ));
        }
        Ok(file)
    }
}

/// Identity of the file last read, to notice when it is replaced or rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
    ctime: i64,
    ctime_nsec: i64,
}

impl FileStamp {
    fn of(meta: &fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }
}

/// What the store last saw on disk.
#[derive(Debug, Clone)]
enum Cached {
    Missing,
    Present {
        stamp: FileStamp,
        file: CredentialFile,
    },
    Corrupt {
        stamp: FileStamp,
        reason: String,
    },
}

/// The administrator credential file, shared by all request handlers (`Send + Sync`).
///
/// Operations that write (setup, change) are serialized; verifications run concurrently and
/// hold no lock while Argon2 works.
pub struct CredentialStore {
    path: PathBuf,
    cached: Mutex<Cached>,
    /// Held for the whole of a setup or change, so two of them cannot interleave.
    writer: Mutex<()>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*lock(&self.cached) {
            Cached::Missing => "unset",
            Cached::Present { .. } => "set",
            Cached::Corrupt { .. } => "corrupt",
        };
        f.debug_struct("CredentialStore")
            .field("path", &self.path)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, carrying on if a thread panicked while holding it: every critical section
/// here leaves the data consistent at each step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CredentialStore {
    /// Opens the credential file at `path`. A missing file is not an error (state
    /// [`CredentialState::Unset`]); an unreadable or invalid one is.
    pub fn open(path: &Path) -> Result<Self, CredentialError> {
        let store = Self {
            path: path.to_owned(),
            cached: Mutex::new(Cached::Missing),
            writer: Mutex::new(()),
        };
        store.state()?;
        Ok(store)
    }

    /// The credential file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a password is set, re-reading the file if it changed on disk.
    pub fn state(&self) -> Result<CredentialState, CredentialError> {
        match self.refresh()? {
            Cached::Missing => Ok(CredentialState::Unset),
            Cached::Present { .. } => Ok(CredentialState::Set),
            Cached::Corrupt { reason, .. } => Err(self.corrupt(reason)),
        }
    }

    /// First-boot setup: sets the administrator password, only if none is set.
    ///
    /// `now` is seconds since the Unix epoch, recorded as the creation time.
    pub fn set_initial(&self, password: &str, now: u64) -> Result<(), CredentialError> {
        let _writer = lock(&self.writer);
        match self.refresh()? {
            Cached::Missing => {}
            Cached::Present { .. } => {
                return Err(CredentialError::AlreadySet {
                    path: self.path.clone(),
                });
            }
            Cached::Corrupt { reason, .. } => return Err(self.corrupt(reason)),
        }
        check_password_policy(password)?;
        let file = CredentialFile {
            version: CREDENTIAL_FILE_VERSION,
            user: ADMIN_USER.to_owned(),
            password: hash_password(password)?,
            created: now,
            changed: None,
        };
        self.write(&file, WriteMode::CreateNew)?;
        self.refresh()?;
        Ok(())
    }

    /// Changes the administrator password after checking the current one.
    ///
    /// `now` is seconds since the Unix epoch, recorded as the change time. The caller should
    /// revoke the other sessions afterwards.
    pub fn change(&self, old: &str, new: &str, now: u64) -> Result<(), CredentialError> {
        let _writer = lock(&self.writer);
        let current = match self.refresh()? {
            Cached::Missing => {
                return Err(CredentialError::NotSet {
                    path: self.path.clone(),
                });
            }
            Cached::Present { file, .. } => file,
            Cached::Corrupt { reason, .. } => return Err(self.corrupt(reason)),
        };
        check_password_policy(new)?;
        if !verify_hash(old, &current.password) {
            return Err(CredentialError::WrongPassword);
        }
        if old == new {
            return Err(PasswordError::SameAsOld.into());
        }
        let file = CredentialFile {
            password: hash_password(new)?,
            changed: Some(now),
            ..current
        };
        self.write(&file, WriteMode::Replace)?;
        self.refresh()?;
        Ok(())
    }

    /// Whether `user` and `password` are the administrator's credentials.
    ///
    /// Always performs one Argon2 verification, whatever the user, the state of the file or
    /// the length of the password, so timing reveals none of them. A corrupted or unreadable
    /// file makes every verification fail ([`CredentialStore::state`] reports why).
    pub fn verify(&self, user: &str, password: &str) -> bool {
        let stored = match self.refresh() {
            Ok(Cached::Present { file, .. }) => Some(file),
            Ok(Cached::Missing | Cached::Corrupt { .. }) | Err(_) => None,
        };
        let password = if password.len() > MAX_PASSWORD_BYTES {
            None
        } else {
            Some(password)
        };
        match (stored, password) {
            (Some(file), Some(password)) => {
                let user_matches: bool = user.as_bytes().ct_eq(file.user.as_bytes()).into();
                let hash = if user_matches {
                    file.password.as_str()
                } else {
                    DUMMY_HASH
                };
                let verified = verify_hash(password, hash);
                user_matches & verified
            }
            _ => {
                verify_hash("", DUMMY_HASH);
                false
            }
        }
    }

    fn corrupt(&self, reason: String) -> CredentialError {
        CredentialError::Corrupt {
            path: self.path.clone(),
            reason,
        }
    }

    /// Re-reads the file if its identity changed since the last read, and returns a copy of
    /// what is now known. The cache lock is not held during Argon2 work by callers.
    fn refresh(&self) -> Result<Cached, CredentialError> {
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut cached = lock(&self.cached);
                *cached = Cached::Missing;
                return Ok(Cached::Missing);
            }
            Err(source) => return Err(self.io("inspect", &self.path, source)),
        };
        let stamp = FileStamp::of(&meta);
        {
            let cached = lock(&self.cached);
            match &*cached {
                Cached::Present { stamp: seen, .. } | Cached::Corrupt { stamp: seen, .. }
                    if *seen == stamp =>
                {
                    return Ok(cached.clone());
                }
                _ => {}
            }
        }
        let fresh = if !meta.is_file() {
            Cached::Corrupt {
                stamp,
                reason: "it is not a regular file".to_owned(),
            }
        } else {
            let bytes = match fs::read(&self.path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let mut cached = lock(&self.cached);
                    *cached = Cached::Missing;
                    return Ok(Cached::Missing);
                }
                Err(source) => return Err(self.io("read", &self.path, source)),
            };
            match CredentialFile::parse(&bytes) {
                Ok(file) => Cached::Present { stamp, file },
                Err(reason) => Cached::Corrupt { stamp, reason },
            }
        };
        let mut cached = lock(&self.cached);
        *cached = fresh.clone();
        Ok(fresh)
    }

    fn io(&self, action: &'static str, path: &Path, source: io::Error) -> CredentialError {
        CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// Writes `file` atomically: temporary file in the same directory (mode 0600), fsync,
    /// then link (no clobbering) or rename into place, then fsync of the directory.
    fn write(&self, file: &CredentialFile, mode: WriteMode) -> Result<(), CredentialError> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .ok_or_else(|| CredentialError::Io {
                action: "write",
                path: self.path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
            })?
            .to_string_lossy()
            .into_owned();
        let mut json = serde_json::to_vec_pretty(file).map_err(|e| CredentialError::Io {
            action: "encode",
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        json.push(b'\n');

        let suffix = crate::token::generate_token().map_err(|e| CredentialError::Io {
            action: "name a temporary file for",
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        let suffix = suffix.get(..12).unwrap_or(&suffix);
        let temp = dir.join(format!(".{name}.tmp-{suffix}"));
        let result = self.write_temp_then_install(&temp, &dir, &json, mode);
        if result.is_err() {
            // Best effort: the temporary file is useless once installing it failed.
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn write_temp_then_install(
        &self,
        temp: &Path,
        dir: &Path,
        json: &[u8],
        mode: WriteMode,
    ) -> Result<(), CredentialError> {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(temp)
            .map_err(|e| self.io("create", temp, e))?;
        out.write_all(json).map_err(|e| self.io("write", temp, e))?;
        out.sync_all().map_err(|e| self.io("sync", temp, e))?;
        drop(out);
        match mode {
            WriteMode::CreateNew => {
                // A hard link fails if the target exists, unlike rename: setup never
                // replaces a file that appeared meanwhile.
                fs::hard_link(temp, &self.path).map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        CredentialError::AlreadySet {
                            path: self.path.clone(),
                        }
                    } else {
                        self.io("create", &self.path, e)
                    }
                })?;
                fs::remove_file(temp).map_err(|e| self.io("remove", temp, e))?;
            }
            WriteMode::Replace => {
                fs::rename(temp, &self.path).map_err(|e| self.io("rename into place", temp, e))?;
            }
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io("sync directory", dir, e))
    }
}

/// How [`CredentialStore::write`] installs the new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// Fail if the file exists.
    CreateNew,
    /// Atomically replace the existing file.
    Replace,
}

/// Hashes `password` with Argon2id, default parameters and a random salt, as a PHC string.
fn hash_password(password: &str) -> Result<String, CredentialError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| CredentialError::Hash {
            reason: e.to_string(),
        })?;
    Ok(hash.to_string())
}

/// Verifies `password` against the PHC string `hash`; any parse error counts as a mismatch.
fn verify_hash(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const GOOD: &str = "correct horse battery";
    const OTHER: &str = "another fine password";

    fn store_in(dir: &tempfile::TempDir) -> (CredentialStore, PathBuf) {
        let path = dir.path().join("admin.json");
        (CredentialStore::open(&path).expect("open"), path)
    }

    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CredentialStore>();
    }

    #[test]
    fn password_policy_table() {
        let long_ok = "x".repeat(MAX_PASSWORD_BYTES);
        let too_long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        // 10 two-byte characters: short in bytes would be 20, but characters count.
        let accented = "éééééééééé";
        let cases: &[(&str, Result<(), PasswordError>)] = &[
            ("", Err(PasswordError::TooShort { min: 10, actual: 0 })),
            (
                "123456789",
                Err(PasswordError::TooShort { min: 10, actual: 9 }),
            ),
            ("1234567890", Ok(())),
            (accented, Ok(())),
            (
                "ééééééééé",
                Err(PasswordError::TooShort { min: 10, actual: 9 }),
            ),
            ("          ", Err(PasswordError::AllWhitespace)),
            ("\t\n \u{a0}      ", Err(PasswordError::AllWhitespace)),
            ("  spaced out  ", Ok(())),
            (&long_ok, Ok(())),
            (
                &too_long,
                Err(PasswordError::TooLong {
                    max: 1024,
                    actual: 1025,
                }),
            ),
        ];
        for (password, expected) in cases {
            assert_eq!(
                &check_password_policy(password),
                expected,
                "password of {} bytes",
                password.len()
            );
        }
    }

    #[test]
    fn policy_messages_are_clear() {
        let msg = check_password_policy("short").unwrap_err().to_string();
        assert_eq!(
            msg,
            "the password is too short: it has 5 characters, at least 10 are required"
        );
        assert_eq!(
            PasswordError::AllWhitespace.to_string(),
            "the password consists only of white space"
        );
    }

    #[test]
    fn dummy_hash_uses_the_default_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("dummy hash parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).expect("params");
        let default = Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (default.m_cost(), default.t_cost(), default.p_cost()),
            "the dummy hash must cost what a real verification costs"
        );
        assert!(
            CredentialFile::parse(
                format!(r#"{{"version":1,"user":"admin","password":"{DUMMY_HASH}","created":1}}"#)
                    .as_bytes()
            )
            .is_ok()
        );
    }

    #[test]
    fn missing_file_is_unset_and_verifies_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        assert_eq!(store.state().expect("state"), CredentialState::Unset);
        assert!(!store.verify(ADMIN_USER, GOOD));
        assert!(!path.exists(), "verify must not create the file");
        let err = store.change(GOOD, OTHER, 5).unwrap_err();
        assert!(matches!(err, CredentialError::NotSet { .. }), "{err}");
    }

    #[test]
    fn setup_writes_a_private_versioned_file_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        store.set_initial(GOOD, 1_700_000_000).expect("setup");
        assert_eq!(store.state().expect("state"), CredentialState::Set);

        let meta = fs::metadata(&path).expect("file exists");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(json["version"], 1);
        assert_eq!(json["user"], "admin");
        assert_eq!(json["created"], 1_700_000_000_u64);
        let phc = json["password"].as_str().expect("password string");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains(GOOD));

        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("admin.json")]);

        let err = store.set_initial(OTHER, 1_700_000_001).unwrap_err();
        assert!(matches!(err, CredentialError::AlreadySet { .. }), "{err}");
        assert!(store.verify(ADMIN_USER, GOOD), "the first password stays");
    }

    #[test]
    fn setup_refuses_a_password_breaking_the_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        let err = store.set_initial("short", 1).unwrap_err();
        assert!(
            matches!(err, CredentialError::Policy(PasswordError::TooShort { .. })),
            "{err}"
        );
        assert!(!path.exists());
        assert_eq!(store.state().expect("state"), CredentialState::Unset);
    }

    #[test]
    fn setup_never_replaces_a_file_that_appeared_meanwhile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        // Another process completes setup after this store was opened.
        let other = CredentialStore::open(&path).expect("open");
        other
            .set_initial(OTHER, 10)
            .expect("setup by the other process");
        let err = store.set_initial(GOOD, 11).unwrap_err();
        assert!(matches!(err, CredentialError::AlreadySet { .. }), "{err}");
        assert!(store.verify(ADMIN_USER, OTHER));
    }

    #[test]
    fn verify_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _) = store_in(&dir);
        store.set_initial(GOOD, 1).expect("setup");
        let too_long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        let cases: &[(&str, &str, bool)] = &[
            (ADMIN_USER, GOOD, true),
            (ADMIN_USER, OTHER, false),
            (ADMIN_USER, "", false),
            ("root", GOOD, false),
            ("Admin", GOOD, false),
            ("", GOOD, false),
            (ADMIN_USER, &too_long, false),
        ];
        for (user, password, expected) in cases {
            assert_eq!(
                store.verify(user, password),
                *expected,
                "user {user:?}, password of {} bytes",
                password.len()
            );
        }
    }

    #[test]
    fn change_checks_the_old_password_and_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        store.set_initial(GOOD, 100).expect("setup");

        let err = store
            .change(OTHER, "yet another password", 200)
            .unwrap_err();
        assert!(matches!(err, CredentialError::WrongPassword), "{err}");
        let err = store.change(GOOD, "short", 200).unwrap_err();
        assert!(matches!(err, CredentialError::Policy(_)), "{err}");
        let err = store.change(GOOD, GOOD, 200).unwrap_err();
        assert!(
            matches!(err, CredentialError::Policy(PasswordError::SameAsOld)),
            "{err}"
        );
        assert!(
            store.verify(ADMIN_USER, GOOD),
            "failed changes keep the password"
        );

        store.change(GOOD, OTHER, 200).expect("change");
        assert!(store.verify(ADMIN_USER, OTHER));
        assert!(!store.verify(ADMIN_USER, GOOD));

        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(json["created"], 100);
        assert_eq!(json["changed"], 200);
        let meta = fs::metadata(&path).expect("file exists");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn file_changed_on_disk_is_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        store.set_initial(GOOD, 1).expect("setup");
        // The command line resets the password through its own store.
        let cli = CredentialStore::open(&path).expect("open");
        cli.change(GOOD, OTHER, 2).expect("change");
        assert!(store.verify(ADMIN_USER, OTHER));
        assert!(!store.verify(ADMIN_USER, GOOD));
        // Deleting the file by hand goes back to first-boot setup.
        fs::remove_file(&path).expect("remove");
        assert_eq!(store.state().expect("state"), CredentialState::Unset);
        assert!(!store.verify(ADMIN_USER, OTHER));
    }

    #[test]
    fn corrupted_files_are_reported_and_left_untouched() {
        let hash = hash_password(GOOD).expect("hash");
        let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        let cases: Vec<(String, &str)> = vec![
            ("".to_owned(), "invalid JSON"),
            ("{ not json".to_owned(), "invalid JSON"),
            (
                format!(r#"{{"version":2,"user":"admin","password":"{hash}","created":1}}"#),
                "unsupported version 2",
            ),
            (
                r#"{"version":1,"user":"admin","password":"hunter2","created":1}"#.to_owned(),
                "not a PHC string",
            ),
            (
                format!(r#"{{"version":1,"user":"admin","password":"{bcrypt}","created":1}}"#),
                "not a PHC string",
            ),
            (
                format!(r#"{{"version":1,"user":"","password":"{hash}","created":1}}"#),
                "user name",
            ),
            (
                format!(
                    r#"{{"version":1,"user":"admin","password":"{hash}","created":1,"extra":true}}"#
                ),
                "unknown field",
            ),
            (
                r#"{"version":1,"user":"admin","password":"$argon2i$v=19$m=19456,t=2,p=1$cJWYZqjXKxsWvFQVJkVT9w$Q+rO17BNkoMmuGtHRFZJuOPqvU1q9A6ckFvSH3Cy1xE","created":1}"#
                    .to_owned(),
                "not argon2id",
            ),
            (
                r#"{"version":1,"user":"admin","password":"$argon2id$v=19$m=4194304,t=2,p=1$cJWYZqjXKxsWvFQVJkVT9w$Q+rO17BNkoMmuGtHRFZJuOPqvU1q9A6ckFvSH3Cy1xE","created":1}"#
                    .to_owned(),
                "KiB of memory",
            ),
        ];
        for (content, reason_part) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("admin.json");
            fs::write(&path, &content).expect("write");
            let err = CredentialStore::open(&path).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, CredentialError::Corrupt { .. }), "{msg}");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(reason_part), "{content:?}: {msg}");
            assert_eq!(fs::read_to_string(&path).expect("read"), content);
        }
    }

    #[test]
    fn a_file_corrupted_after_open_blocks_setup_and_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        store.set_initial(GOOD, 1).expect("setup");
        fs::write(&path, b"garbage").expect("corrupt it");
        assert!(matches!(
            store.state(),
            Err(CredentialError::Corrupt { .. })
        ));
        assert!(!store.verify(ADMIN_USER, GOOD));
        assert!(matches!(
            store.set_initial(OTHER, 2),
            Err(CredentialError::Corrupt { .. })
        ));
        assert!(matches!(
            store.change(GOOD, OTHER, 2),
            Err(CredentialError::Corrupt { .. })
        ));
        assert_eq!(fs::read(&path).expect("read"), b"garbage");
    }

    #[test]
    fn debug_output_never_shows_the_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, path) = store_in(&dir);
        store.set_initial(GOOD, 1).expect("setup");
        let text = fs::read_to_string(&path).expect("read");
        let file = CredentialFile::parse(text.as_bytes()).expect("parse");
        let debug = format!("{file:?} {store:?}");
        assert!(!debug.contains("argon2id"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("set"), "{debug}");
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("no-such-dir").join("admin.json");
        let store = CredentialStore::open(&path).expect("a missing file is fine");
        let err = store.set_initial(GOOD, 1).unwrap_err();
        assert!(matches!(err, CredentialError::Io { .. }), "{err}");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
    }
}
