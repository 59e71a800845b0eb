//! The `[backup.target]` table of a job: its `type` decides which keys it takes, and every
//! value is checked here (dataset names, host names, pinned host keys, bucket names, age
//! recipients, volume sizes, compression levels), so the engine and the target adapters only
//! ever see a target that can be used.

use std::path::PathBuf;
use wizfs_core::DatasetName;

use wizfs_core::backup::{Compression, Encryption, TargetKind};

use super::fields::{Fields, InvalidBackup};
use crate::manifest::TargetName;
use crate::pipeline::DEFAULT_ZSTD_LEVEL;
use crate::{BLU_RAY_VOLUME_BYTES, DVD_VOLUME_BYTES};

/// A job's target with everything needed to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupTarget {
    /// Another pool of this machine, received below `root`.
    LocalPool {
        /// The dataset the sources land under (`backup/wizfs/tank/home` for `tank/home`).
        root: DatasetName,
    },
    /// A pool on another host, over SSH.
    Ssh(SshTarget),
    /// Volumes in a directory on a mounted file system.
    Files(FileTarget),
    /// Volumes as objects in S3-compatible storage.
    S3(S3Target),
    /// Removable disks taken in turn, each known by its pool guid.
    RotatingDisks(Vec<RotatingDisk>),
}

impl BackupTarget {
    /// The planner's view of each place the target writes to.
    pub fn planner_kinds(&self) -> Vec<TargetKind> {
        match self {
            BackupTarget::LocalPool { root } => vec![TargetKind::LocalPool { root: root.clone() }],
            BackupTarget::Ssh(ssh) => vec![TargetKind::Ssh {
                host: ssh.host.clone(),
                port: ssh.port,
                user: ssh.user.clone(),
                root: ssh.root.clone(),
            }],
            BackupTarget::Files(files) => vec![TargetKind::Files {
                directory: files.directory.clone(),
                volume_bytes: files.volume_bytes,
            }],
            BackupTarget::S3(s3) => vec![TargetKind::S3 {
                endpoint: s3.endpoint.clone(),
                bucket: s3.bucket.clone(),
                prefix: s3.prefix.clone(),
                volume_bytes: s3.volume_bytes,
            }],
            BackupTarget::RotatingDisks(disks) => disks
                .iter()
                .map(|disk| TargetKind::RotatingDisk {
                    pool_guid: disk.pool_guid,
                    root: disk.root.clone(),
                })
                .collect(),
        }
    }

    /// The kind's word in the configuration (`pool`, `ssh`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            BackupTarget::LocalPool { .. } => "pool",
            BackupTarget::Ssh(_) => "ssh",
            BackupTarget::Files(_) => "files",
            BackupTarget::S3(_) => "s3",
            BackupTarget::RotatingDisks(_) => "rotating-disks",
        }
    }
}

/// An SSH host's pinned key, as `ssh-keyscan` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostKey {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, …
    pub algorithm: String,
    /// The key in base64.
    pub key: String,
}

/// A pool on another host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    /// Host name or address.
    pub host: String,
    /// Port (22 by default).
    pub port: u16,
    /// Remote user (`root` by default).
    pub user: String,
    /// The remote dataset the sources land under.
    pub root: DatasetName,
    /// The far side's host key: anything else is refused.
    pub host_key: HostKey,
    /// The private key to authenticate with (`None`: the daemon's default key).
    pub identity_file: Option<PathBuf>,
}

/// How a file or S3 target's streams are stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetStages {
    /// `None`: stored as sent.
    pub compression: Option<Compression>,
    /// `None`: in clear.
    pub encryption: Option<Encryption>,
}

/// Volumes in a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTarget {
    /// The name manifests carry (the job id when the table gives none).
    pub name: TargetName,
    /// The directory (absolute).
    pub directory: PathBuf,
    /// Volume size (`None`: one file per stream).
    pub volume_bytes: Option<u64>,
    /// Compression (zstd by default) and encryption.
    pub stages: TargetStages,
}

/// Volumes as S3 objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Target {
    /// The name manifests carry.
    pub name: TargetName,
    /// `https://…` (plain `http` only to localhost).
    pub endpoint: String,
    /// The region, when the provider wants one.
    pub region: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The key prefix of this job's objects (no leading or trailing `/`).
    pub prefix: String,
    /// The file holding the access key and secret (`None`: the environment's).
    pub credentials_file: Option<PathBuf>,
    /// Object size (`None`: one object per stream).
    pub volume_bytes: Option<u64>,
    /// Compression and encryption (encryption chosen explicitly).
    pub stages: TargetStages,
}

/// One of the disks of a rotating-disks target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotatingDisk {
    /// Its name, for messages and its hold tag.
    pub name: TargetName,
    /// Its pool's guid (the pool may be imported under any name).
    pub pool_guid: u64,
    /// The dataset on it the sources land under.
    pub root: DatasetName,
}

/// The xz level when a job does not choose one (`xz`'s own default).
pub const DEFAULT_XZ_LEVEL: u8 = 6;

/// The smallest volume a file or S3 target may be cut into.
pub const MINIMUM_VOLUME_BYTES: u64 = 1_000_000;

const TARGET_TYPES: &str = "`pool`, `ssh`, `files`, `s3` or `rotating-disks`";

/// The words `volume_size` takes besides sizes.
const VOLUME_WORDS: &[(&str, Option<u64>)] = &[
    ("unlimited", None),
    ("dvd", Some(DVD_VOLUME_BYTES)),
    ("bluray", Some(BLU_RAY_VOLUME_BYTES)),
    ("blu-ray", Some(BLU_RAY_VOLUME_BYTES)),
];

const STAGE_KEYS: &[&str] = &[
    "compression",
    "compression_level",
    "encryption",
    "recipients",
    "passphrase_file",
];

/// Reads `[backup.target]`; `job_id` names the target when it has no `name`.
pub(super) fn parse_target(
    target: &Fields<'_>,
    job_id: &str,
) -> Result<(BackupTarget, bool), InvalidBackup> {
    let kind = target.required_string("type").map_err(|_| {
        target.invalid(
            "type",
            format!("is missing: say which target this is, {TARGET_TYPES}"),
        )
    })?;
    let with = |keys: &[&'static str]| -> Vec<&'static str> {
        let mut all = vec!["type", "name"];
        all.extend_from_slice(keys);
        all
    };
    let what = format!("a `{}` target", kind.escape_debug());
    let parsed = match kind {
        "pool" => {
            target.only(&with(&["pool", "dataset", "roll_back"]), &what)?;
            BackupTarget::LocalPool {
                root: pool_or_dataset(target)?,
            }
        }
        "ssh" => {
            target.only(
                &with(&[
                    "host",
                    "port",
                    "user",
                    "dataset",
                    "host_key",
                    "identity_file",
                    "roll_back",
                ]),
                &what,
            )?;
            BackupTarget::Ssh(ssh(target)?)
        }
        "files" => {
            let mut keys = with(&["directory", "volume_size"]);
            keys.extend_from_slice(STAGE_KEYS);
            target.only(&keys, &what)?;
            BackupTarget::Files(FileTarget {
                name: target_name(target, job_id)?,
                directory: target
                    .absolute_path("directory")?
                    .ok_or_else(|| target.invalid("directory", "is missing"))?,
                volume_bytes: volume_bytes(target)?,
                stages: stages(target, false)?,
            })
        }
        "s3" => {
            let mut keys = with(&[
                "endpoint",
                "region",
                "bucket",
                "prefix",
                "credentials_file",
                "volume_size",
            ]);
            keys.extend_from_slice(STAGE_KEYS);
            target.only(&keys, &what)?;
            BackupTarget::S3(s3(target, job_id)?)
        }
        "rotating-disks" => {
            target.only(&["type", "disk", "roll_back"], &what)?;
            BackupTarget::RotatingDisks(rotating_disks(target)?)
        }
        other => {
            return Err(target.invalid(
                "type",
                format!(
                    "`{}` is not a target type; use {TARGET_TYPES}",
                    other.escape_debug()
                ),
            ));
        }
    };
    if !matches!(parsed, BackupTarget::Files(_) | BackupTarget::S3(_)) && target.has("name") {
        return Err(target.invalid(
            "name",
            "only file and S3 targets are named (rotating disks name each disk)",
        ));
    }
    let roll_back = target.boolean("roll_back")?.unwrap_or(false);
    Ok((parsed, roll_back))
}

fn dataset_name(fields: &Fields<'_>, key: &str, text: &str) -> Result<DatasetName, InvalidBackup> {
    DatasetName::new(text).map_err(|error| fields.invalid(key, error.to_string()))
}

/// `pool = "backup"` (the pool's root dataset) or `dataset = "backup/tank"`, exactly one.
fn pool_or_dataset(target: &Fields<'_>) -> Result<DatasetName, InvalidBackup> {
    match (target.string("pool")?, target.string("dataset")?) {
        (Some(_), Some(_)) => Err(target.invalid(
            "dataset",
            "give either `pool` (back up into the pool's root) or `dataset`, not both",
        )),
        (Some(pool), None) => {
            let root = dataset_name(target, "pool", pool)?;
            if !root.is_root() {
                return Err(target.invalid(
                    "pool",
                    format!(
                        "`{root}` is not a pool name; for a dataset write `dataset = \"{root}\"`"
                    ),
                ));
            }
            Ok(root)
        }
        (None, Some(dataset)) => dataset_name(target, "dataset", dataset),
        (None, None) => Err(target.invalid_table(
            "a pool target needs `pool = \"backup\"` or `dataset = \"backup/tank\"`",
        )),
    }
}

fn target_name(target: &Fields<'_>, job_id: &str) -> Result<TargetName, InvalidBackup> {
    let name = target.string("name")?.unwrap_or(job_id);
    TargetName::new(name).map_err(|message| target.invalid("name", message))
}

fn volume_bytes(target: &Fields<'_>) -> Result<Option<u64>, InvalidBackup> {
    Ok(target
        .size("volume_size", MINIMUM_VOLUME_BYTES, VOLUME_WORDS, false)?
        .flatten())
}

/// A host name or an IP address literal: letters, digits, `-`, `.`, `:` (IPv6), never
/// starting with `-` (it reaches `ssh` as an argument).
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['-', '.'])
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-.:".contains(&byte))
}

/// A POSIX user name as `useradd` accepts it by default.
fn valid_user(user: &str) -> bool {
    let mut bytes = user.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == b'_')
        && user.len() <= 32
        && bytes
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"_-".contains(&byte))
}

/// The host key algorithms OpenSSH offers (`ssh-keyscan` prints them first on each line).
const HOST_KEY_ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
];

fn host_key(target: &Fields<'_>) -> Result<HostKey, InvalidBackup> {
    let text = target.string("host_key")?.ok_or_else(|| {
        target.invalid(
            "host_key",
            "is missing: pin the far side's host key as `ssh-keyscan` prints it \
             (\"ssh-ed25519 AAAA…\"); WiZFS never trusts a host key on first use",
        )
    })?;
    let words: Vec<&str> = text.split_whitespace().collect();
    let valid_base64 = |key: &str| {
        key.len() >= 16
            && key
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte))
    };
    match words.as_slice() {
        [algorithm, key] if HOST_KEY_ALGORITHMS.contains(algorithm) && valid_base64(key) => {
            Ok(HostKey {
                algorithm: (*algorithm).to_owned(),
                key: (*key).to_owned(),
            })
        }
        _ => Err(target.invalid(
            "host_key",
            format!(
                "`{}` is not a host key: write the algorithm and the base64 key, such as \
                 \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…\" (one of {})",
                text.escape_debug(),
                HOST_KEY_ALGORITHMS.join(", ")
            ),
        )),
    }
}

fn ssh(target: &Fields<'_>) -> Result<SshTarget, InvalidBackup> {
    let host = target.required_string("host")?;
    if !valid_host(host) {
        return Err(target.invalid(
            "host",
            format!(
                "`{}` is not a host name or address (letters, digits, `-`, `.`, `:`)",
                host.escape_debug()
            ),
        ));
    }
    let user = target.string("user")?.unwrap_or("root");
    if !valid_user(user) {
        return Err(target.invalid(
            "user",
            format!("`{}` is not a user name", user.escape_debug()),
        ));
    }
    let port = target.integer("port", 1..=65_535)?.unwrap_or(22);
    let dataset = target.required_string("dataset")?;
    Ok(SshTarget {
        host: host.to_owned(),
        port: u16::try_from(port).unwrap_or(22),
        user: user.to_owned(),
        root: dataset_name(target, "dataset", dataset)?,
        host_key: host_key(target)?,
        identity_file: target.absolute_path("identity_file")?,
    })
}

/// An S3 bucket name: 3–63 lower-case letters, digits, `.` and `-`, starting and ending
/// with a letter or digit.
fn valid_bucket(bucket: &str) -> bool {
    let edge = |byte: Option<u8>| {
        byte.is_some_and(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
    };
    (3..=63).contains(&bucket.len())
        && edge(bucket.bytes().next())
        && edge(bucket.bytes().last())
        && bucket
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-".contains(&byte))
}

fn s3(target: &Fields<'_>, job_id: &str) -> Result<S3Target, InvalidBackup> {
    let endpoint = target.required_string("endpoint")?;
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .map(|rest| rest.split(['/', ':']).next().unwrap_or_default());
    match host {
        Some(host) if valid_host(host) => {}
        _ => {
            return Err(target.invalid(
                "endpoint",
                format!(
                    "`{}` is not an endpoint URL such as `https://s3.eu-central-1.amazonaws.com`",
                    endpoint.escape_debug()
                ),
            ));
        }
    }
    let local = matches!(host, Some("localhost" | "127.0.0.1" | "::1" | "[::1]"));
    if endpoint.starts_with("http://") && !local {
        return Err(target.invalid(
            "endpoint",
            "plain http is allowed only to this machine (localhost); use https",
        ));
    }
    let bucket = target.required_string("bucket")?;
    if !valid_bucket(bucket) {
        return Err(target.invalid(
            "bucket",
            format!(
                "`{}` is not a bucket name: 3–63 lower-case letters, digits, `.` and `-`",
                bucket.escape_debug()
            ),
        ));
    }
    let prefix = target.string("prefix")?.unwrap_or("");
    let prefix_valid = !prefix.starts_with('/')
        && !prefix.split('/').any(|part| part == "." || part == "..")
        && prefix
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/._-".contains(&byte));
    if !prefix_valid {
        return Err(target.invalid(
            "prefix",
            format!(
                "`{}` is not a key prefix: letters, digits, `/`, `.`, `_`, `-`, no leading `/`",
                prefix.escape_debug()
            ),
        ));
    }
    let region = target.string("region")?;
    if let Some(region) = region
        && (region.is_empty()
            || !region
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-'))
    {
        return Err(target.invalid(
            "region",
            format!(
                "`{}` is not a region such as `eu-central-1`",
                region.escape_debug()
            ),
        ));
    }
    Ok(S3Target {
        name: target_name(target, job_id)?,
        endpoint: endpoint.to_owned(),
        region: region.map(str::to_owned),
        bucket: bucket.to_owned(),
        prefix: prefix.trim_end_matches('/').to_owned(),
        credentials_file: target.absolute_path("credentials_file")?,
        volume_bytes: volume_bytes(target)?,
        stages: stages(target, true)?,
    })
}

fn rotating_disks(target: &Fields<'_>) -> Result<Vec<RotatingDisk>, InvalidBackup> {
    let tables = target.tables("disk")?;
    if tables.is_empty() {
        return Err(target.invalid(
            "disk",
            "is missing: list each disk as a `[[backup.target.disk]]` table with `name`, \
             `pool_guid` and `dataset`",
        ));
    }
    let mut disks: Vec<RotatingDisk> = Vec::with_capacity(tables.len());
    for disk in &tables {
        disk.only(&["name", "pool_guid", "dataset"], "a rotating disk")?;
        let name = TargetName::new(disk.required_string("name")?)
            .map_err(|message| disk.invalid("name", message))?;
        let pool_guid = match disk.table.get("pool_guid") {
            Some(toml::Value::String(text)) => text.parse::<u64>().ok(),
            Some(toml::Value::Integer(value)) => u64::try_from(*value).ok(),
            _ => None,
        }
        .filter(|guid| *guid != 0)
        .ok_or_else(|| {
            disk.invalid(
                "pool_guid",
                "must be the disk's pool guid as `zpool get -Hp guid POOL` prints it, \
                 written as a string (\"11863340468135011397\")",
            )
        })?;
        let root = dataset_name(disk, "dataset", disk.required_string("dataset")?)?;
        if let Some(other) = disks
            .iter()
            .find(|other| other.name == name || other.pool_guid == pool_guid)
        {
            return Err(disk.invalid_table(format!(
                "disk `{}` already has this name or pool guid",
                other.name
            )));
        }
        disks.push(RotatingDisk {
            name,
            pool_guid,
            root,
        });
    }
    Ok(disks)
}

/// Compression and encryption of a file or S3 target; `encryption` is required on S3,
/// whose objects leave the machine (`"none"` says so on purpose).
fn stages(target: &Fields<'_>, encryption_required: bool) -> Result<TargetStages, InvalidBackup> {
    let level = target.integer("compression_level", 0..=19)?;
    let level = level.map(|level| u8::try_from(level).unwrap_or(u8::MAX));
    let compression = match target.string("compression")?.unwrap_or("zstd") {
        "none" if level.is_some() => {
            return Err(target.invalid("compression_level", "is set but `compression = \"none\"`"));
        }
        "none" => None,
        "zstd" => {
            let level = level.unwrap_or(DEFAULT_ZSTD_LEVEL);
            if !(1..=19).contains(&level) {
                return Err(target.invalid(
                    "compression_level",
                    format!("zstd takes 1 to 19, not {level}"),
                ));
            }
            Some(Compression::Zstd { level })
        }
        "xz" => {
            let level = level.unwrap_or(DEFAULT_XZ_LEVEL);
            if level > 9 {
                return Err(
                    target.invalid("compression_level", format!("xz takes 0 to 9, not {level}"))
                );
            }
            Some(Compression::Xz { level })
        }
        other => {
            return Err(target.invalid(
                "compression",
                format!(
                    "`{}` is not a compression; use `zstd` (the default), `xz` or `none`",
                    other.escape_debug()
                ),
            ));
        }
    };
    let recipients = target.strings("recipients")?;
    let passphrase_file = target.absolute_path("passphrase_file")?;
    let method = match target.string("encryption")? {
        Some(method) => method,
        None if encryption_required => {
            return Err(target.invalid(
                "encryption",
                "is missing: an S3 target's objects leave this machine; choose `age` (with \
                 `recipients`), `gpg` or `openssl`, or write `encryption = \"none\"` to store \
                 them in clear",
            ));
        }
        None => "none",
    };
    let needs_recipients = matches!(method, "age" | "gpg");
    if !needs_recipients && !recipients.is_empty() {
        return Err(target.invalid(
            "recipients",
            "only `age` and `gpg` encryption take recipients",
        ));
    }
    if method != "openssl" && passphrase_file.is_some() {
        return Err(target.invalid(
            "passphrase_file",
            "only `openssl` encryption takes a passphrase file",
        ));
    }
    if needs_recipients && recipients.is_empty() {
        return Err(target.invalid(
            "recipients",
            format!("is missing: `{method}` encrypts to public keys; list at least one"),
        ));
    }
    let checked = |valid: fn(&str) -> bool, example: &str| -> Result<Vec<String>, InvalidBackup> {
        recipients
            .iter()
            .map(|(field, recipient)| {
                if valid(recipient) {
                    Ok((*recipient).to_owned())
                } else {
                    Err(target.invalid(
                        field,
                        format!(
                            "`{}` is not a recipient such as {example}",
                            recipient.escape_debug()
                        ),
                    ))
                }
            })
            .collect()
    };
    let encryption = match method {
        "none" => None,
        "age" => Some(Encryption::Age {
            recipients: checked(valid_age_recipient, "`age1…` (from `age-keygen -y`)")?,
        }),
        "gpg" => Some(Encryption::Gpg {
            recipients: checked(valid_gpg_recipient, "a key fingerprint or e-mail address")?,
        }),
        "openssl" => Some(Encryption::OpenSsl {
            passphrase_file: passphrase_file.ok_or_else(|| {
                target.invalid(
                    "passphrase_file",
                    "is missing: `openssl` encryption reads its passphrase from a file",
                )
            })?,
        }),
        other => {
            return Err(target.invalid(
                "encryption",
                format!(
                    "`{}` is not an encryption; use `age`, `gpg`, `openssl` or `none`",
                    other.escape_debug()
                ),
            ));
        }
    };
    Ok(TargetStages {
        compression,
        encryption,
    })
}

/// An age X25519 recipient: `age1` and 58 bech32 characters.
fn valid_age_recipient(recipient: &str) -> bool {
    const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    recipient.len() == 62
        && recipient.starts_with("age1")
        && recipient.bytes().skip(4).all(|byte| BECH32.contains(&byte))
}

/// A GnuPG recipient: a key id or fingerprint (hex, optionally `0x`), or an e-mail address;
/// never starting with `-` (it reaches `gpg` as an argument).
fn valid_gpg_recipient(recipient: &str) -> bool {
    let hex = recipient.strip_prefix("0x").unwrap_or(recipient);
    let is_key =
        matches!(hex.len(), 16 | 40 | 64) && hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    let is_mail = recipient.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && valid_host(domain)
    }) && !recipient.starts_with('-')
        && recipient
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'<' && byte != b'>');
    is_key || is_mail
}

/// The datasets a pool target receives into, each with the path of its table, for the
/// check that a backup does not land inside its own source.
pub(super) fn receive_roots(target: &BackupTarget) -> Vec<(String, &DatasetName)> {
    match target {
        BackupTarget::LocalPool { root } => vec![("target".to_owned(), root)],
        BackupTarget::RotatingDisks(disks) => disks
            .iter()
            .enumerate()
            .map(|(index, disk)| (format!("target.disk[{index}]"), &disk.root))
            .collect(),
        BackupTarget::Ssh(_) | BackupTarget::Files(_) | BackupTarget::S3(_) => Vec::new(),
    }
}
