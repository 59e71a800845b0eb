//! The stages between a send stream and the volume splitter: compression, then encryption.
//! A [`Pipeline`] is chosen once per stream from a job's options (the plain types of
//! `wizfs-core`), names the volumes' suffix (`.zfs.zst`, `.zfs.xz.gpg`, …: what a person
//! restoring with stock tools pipes them through), wraps the splitter in its encoders
//! ([`Pipeline::encoder`]) and, for restores, unwraps stored bytes again ([`decoder`]).
//!
//! Implemented: no compression, and zstd in process (the `zstd` crate writes standard
//! frames with a content checksum, which `zstd -d` reads). xz, age, GnuPG and OpenSSL are
//! typed here so the manifest format and the file names already know them, and each is
//! refused with [`PipelineError::NotYet`] until its stage exists: xz and age can run in
//! process (the `liblzma` and `age` crates), GnuPG and OpenSSL only as programs, through
//! `wizfs-process`, which needs a runner that streams both standard input and output.

use std::fmt;
use std::io::{self, Read, Write};

pub use wizfs_core::backup::{Compression, Encryption};

/// The zstd level when a job does not choose one.
pub const DEFAULT_ZSTD_LEVEL: u8 = 3;

/// The compression a job gets when it says nothing: zstd at [`DEFAULT_ZSTD_LEVEL`].
pub const DEFAULT_COMPRESSION: Compression = Compression::Zstd {
    level: DEFAULT_ZSTD_LEVEL,
};

/// Why a pipeline cannot be built or run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The stage is typed but not built yet.
    #[error("{stage} is not supported by file targets yet; {instead}")]
    NotYet {
        /// The stage (`xz compression`, `age encryption`, …).
        stage: &'static str,
        /// What to choose meanwhile.
        instead: &'static str,
    },
    /// A compression level outside what the compressor takes.
    #[error("{algorithm} level {level} is out of range {minimum}–{maximum}")]
    Level {
        /// `zstd` or `xz`.
        algorithm: &'static str,
        /// The level given.
        level: u8,
        /// The lowest level.
        minimum: u8,
        /// The highest level.
        maximum: u8,
    },
    /// The encryption has no recipient to encrypt to.
    #[error("{method} encryption needs at least one recipient")]
    NoRecipient {
        /// `age` or `GnuPG`.
        method: &'static str,
    },
    /// The compressor could not start.
    #[error("starting the {algorithm} compressor failed: {source}")]
    Start {
        /// `zstd`.
        algorithm: &'static str,
        /// What it said.
        source: io::Error,
    },
}

/// How a stream was encrypted, as its manifest records it (the public half only: the keys
/// or passphrase to decrypt with never reach the target).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EncryptionRecord {
    /// age, to these recipients (`age1…`).
    Age {
        /// The recipients.
        recipients: Vec<String>,
    },
    /// GnuPG, to these key ids or fingerprints.
    Gpg {
        /// The recipients.
        recipients: Vec<String>,
    },
    /// `openssl enc` with a passphrase, with this cipher and key derivation.
    OpenSsl {
        /// The `openssl enc` options, e.g. `-aes-256-cbc -pbkdf2 -iter 600000`.
        cipher: String,
    },
}

/// The cipher options `openssl enc` is run with.
pub const OPENSSL_CIPHER: &str = "-aes-256-cbc -pbkdf2 -iter 600000";

impl EncryptionRecord {
    /// What a job's encryption option records.
    pub fn of(encryption: &Encryption) -> EncryptionRecord {
        match encryption {
            Encryption::Age { recipients } => EncryptionRecord::Age {
                recipients: recipients.clone(),
            },
            Encryption::Gpg { recipients } => EncryptionRecord::Gpg {
                recipients: recipients.clone(),
            },
            Encryption::OpenSsl { .. } => EncryptionRecord::OpenSsl {
                cipher: OPENSSL_CIPHER.to_owned(),
            },
        }
    }

    /// The file-name suffix of the stage (`age`, `gpg`, `enc`).
    pub fn extension(&self) -> &'static str {
        match self {
            EncryptionRecord::Age { .. } => "age",
            EncryptionRecord::Gpg { .. } => "gpg",
            EncryptionRecord::OpenSsl { .. } => "enc",
        }
    }

    fn not_yet(&self) -> PipelineError {
        let stage = match self {
            EncryptionRecord::Age { .. } => "age encryption",
            EncryptionRecord::Gpg { .. } => "GnuPG encryption",
            EncryptionRecord::OpenSsl { .. } => "OpenSSL encryption",
        };
        PipelineError::NotYet {
            stage,
            instead: "leave encryption off for this target, or send raw streams of encrypted \
                      datasets",
        }
    }
}

/// The file-name suffix of a compression (`zst`, `xz`).
pub fn compression_extension(compression: Compression) -> &'static str {
    match compression {
        Compression::Zstd { .. } => "zst",
        Compression::Xz { .. } => "xz",
    }
}

/// The suffix of the volumes of a stream stored through these stages: `.zfs`, then the
/// compression's and the encryption's extension.
pub fn volume_suffix(
    compression: Option<Compression>,
    encryption: Option<&EncryptionRecord>,
) -> String {
    let mut suffix = ".zfs".to_owned();
    for extension in [
        compression.map(compression_extension),
        encryption.map(EncryptionRecord::extension),
    ]
    .into_iter()
    .flatten()
    {
        suffix.push('.');
        suffix.push_str(extension);
    }
    suffix
}

/// Checks a compression level against the compressor's range.
pub fn check_compression(compression: Compression) -> Result<(), PipelineError> {
    let (algorithm, level, minimum, maximum) = match compression {
        Compression::Zstd { level } => ("zstd", level, 1, 19),
        Compression::Xz { level } => ("xz", level, 0, 9),
    };
    if level < minimum || level > maximum {
        return Err(PipelineError::Level {
            algorithm,
            level,
            minimum,
            maximum,
        });
    }
    Ok(())
}

/// A writer stage that must be told when the stream ends (a compressor writes its last
/// frame then).
pub trait Encoder: Write {
    /// Writes what the stage still holds into the stage below, and finishes that too.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The bottom of a pipeline: the splitter, as a plain writer.
impl Encoder for &mut (dyn Write + '_) {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

/// zstd over the stage below.
impl Encoder for zstd::stream::write::Encoder<'static, Box<dyn Encoder + '_>> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        zstd::stream::write::Encoder::finish(*self)?.finish()
    }
}

/// The stages one stream goes through on its way to the splitter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    compression: Option<Compression>,
    encryption: Option<EncryptionRecord>,
}

impl Pipeline {
    /// The pipeline of a job's options, checked: levels in range, recipients named, and only
    /// stages that exist (else [`PipelineError::NotYet`]).
    pub fn new(
        compression: Option<Compression>,
        encryption: Option<&Encryption>,
    ) -> Result<Pipeline, PipelineError> {
        if let Some(compression) = compression {
            check_compression(compression)?;
            if let Compression::Xz { .. } = compression {
                return Err(PipelineError::NotYet {
                    stage: "xz compression",
                    instead: "choose zstd (the default) for this target",
                });
            }
        }
        let encryption = encryption.map(EncryptionRecord::of);
        if let Some(record) = &encryption {
            match record {
                EncryptionRecord::Age { recipients } if recipients.is_empty() => {
                    return Err(PipelineError::NoRecipient { method: "age" });
                }
                EncryptionRecord::Gpg { recipients } if recipients.is_empty() => {
                    return Err(PipelineError::NoRecipient { method: "GnuPG" });
                }
                _ => return Err(record.not_yet()),
            }
        }
        Ok(Pipeline {
            compression,
            encryption,
        })
    }

    /// No stage at all: volumes hold the send stream as `zfs send` wrote it.
    pub fn plain() -> Pipeline {
        Pipeline {
            compression: None,
            encryption: None,
        }
    }

    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    pub fn encryption(&self) -> Option<&EncryptionRecord> {
        self.encryption.as_ref()
    }

    /// The suffix of this pipeline's volumes.
    pub fn suffix(&self) -> String {
        volume_suffix(self.compression, self.encryption.as_ref())
    }

    /// The stages over `sink`: what is written to the result is compressed, encrypted and
    /// written to `sink`; [`Encoder::finish`] ends the stream.
    pub fn encoder<'a>(
        &self,
        sink: &'a mut dyn Write,
    ) -> Result<Box<dyn Encoder + 'a>, PipelineError> {
        let bottom: Box<dyn Encoder + 'a> = Box::new(sink);
        if let Some(record) = &self.encryption {
            return Err(record.not_yet());
        }
        match self.compression {
            None => Ok(bottom),
            Some(Compression::Zstd { level }) => {
                let start = |source| PipelineError::Start {
                    algorithm: "zstd",
                    source,
                };
                let mut encoder =
                    zstd::stream::write::Encoder::new(bottom, i32::from(level)).map_err(start)?;
                encoder.include_checksum(true).map_err(start)?;
                Ok(Box::new(encoder))
            }
            Some(Compression::Xz { .. }) => Err(PipelineError::NotYet {
                stage: "xz compression",
                instead: "choose zstd (the default) for this target",
            }),
        }
    }
}

impl fmt::Display for Pipeline {
    /// `zstd 3`, `none`, `zstd 3 + age`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.compression {
            None => formatter.write_str("no compression")?,
            Some(Compression::Zstd { level }) => write!(formatter, "zstd {level}")?,
            Some(Compression::Xz { level }) => write!(formatter, "xz {level}")?,
        }
        if let Some(record) = &self.encryption {
            write!(formatter, " + {}", record.extension())?;
        }
        Ok(())
    }
}

/// The stock commands that undo the stages of a stored stream, in the order to pipe
/// through (decryption first, then decompression); `KEY_FILE` and `PASSPHRASE_FILE` stand
/// for what only the person restoring has.
pub fn restore_filters(
    compression: Option<Compression>,
    encryption: Option<&EncryptionRecord>,
) -> Vec<String> {
    let mut filters = Vec::new();
    match encryption {
        None => {}
        Some(EncryptionRecord::Age { .. }) => filters.push("age -d -i KEY_FILE".to_owned()),
        Some(EncryptionRecord::Gpg { .. }) => filters.push("gpg -d".to_owned()),
        Some(EncryptionRecord::OpenSsl { cipher }) => {
            filters.push(format!(
                "openssl enc -d {cipher} -pass file:PASSPHRASE_FILE"
            ));
        }
    }
    match compression {
        None => {}
        Some(Compression::Zstd { .. }) => filters.push("zstd -d".to_owned()),
        Some(Compression::Xz { .. }) => filters.push("xz -d".to_owned()),
    }
    filters
}

/// Undoes the stages of a stored stream: `stored` is the volumes' bytes in order, the
/// result the send stream. Encrypted streams are refused until their stage exists.
pub fn decoder<'a>(
    compression: Option<Compression>,
    encryption: Option<&EncryptionRecord>,
    stored: Box<dyn Read + Send + 'a>,
) -> Result<Box<dyn Read + Send + 'a>, PipelineError> {
    if let Some(record) = encryption {
        return Err(record.not_yet());
    }
    match compression {
        None => Ok(stored),
        Some(Compression::Zstd { .. }) => {
            let decoder = zstd::stream::read::Decoder::new(stored).map_err(|source| {
                PipelineError::Start {
                    algorithm: "zstd",
                    source,
                }
            })?;
            Ok(Box::new(decoder))
        }
        Some(Compression::Xz { .. }) => Err(PipelineError::NotYet {
            stage: "xz decompression",
            instead: "decompress with `xz -d` (RESTORE.txt shows how)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(pipeline: &Pipeline, data: &[u8]) -> Vec<u8> {
        let mut stored = Vec::new();
        let mut encoder = pipeline.encoder(&mut stored).expect("encoder");
        encoder.write_all(data).expect("write");
        encoder.finish().expect("finish");
        stored
    }

    #[test]
    fn zstd_round_trips_and_plain_is_the_identity() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|n| (n % 251).to_le_bytes())
            .collect();
        let zstd = Pipeline::new(Some(DEFAULT_COMPRESSION), None).expect("zstd");
        assert_eq!(zstd.suffix(), ".zfs.zst");
        let stored = through(&zstd, &data);
        assert!(stored.len() < data.len() / 4, "{} bytes", stored.len());
        let mut decoded = Vec::new();
        decoder(zstd.compression(), None, Box::new(&stored[..]))
            .expect("decoder")
            .read_to_end(&mut decoded)
            .expect("decode");
        assert_eq!(decoded, data);
        let plain = Pipeline::plain();
        assert_eq!(plain.suffix(), ".zfs");
        assert_eq!(through(&plain, &data), data);
    }

    #[test]
    fn stages_not_built_yet_are_refused_by_name() {
        let xz = Pipeline::new(Some(Compression::Xz { level: 6 }), None);
        assert!(
            matches!(
                xz,
                Err(PipelineError::NotYet {
                    stage: "xz compression",
                    ..
                })
            ),
            "{xz:?}"
        );
        let age = Encryption::Age {
            recipients: vec!["age1example".to_owned()],
        };
        let refused = Pipeline::new(None, Some(&age)).expect_err("age is not built yet");
        assert!(refused.to_string().contains("age encryption"), "{refused}");
        let nobody = Encryption::Gpg { recipients: vec![] };
        assert!(matches!(
            Pipeline::new(None, Some(&nobody)),
            Err(PipelineError::NoRecipient { method: "GnuPG" })
        ));
        assert!(matches!(
            Pipeline::new(Some(Compression::Zstd { level: 20 }), None),
            Err(PipelineError::Level { level: 20, .. })
        ));
    }

    #[test]
    fn suffixes_name_every_stage() {
        let age = EncryptionRecord::Age {
            recipients: vec!["age1x".to_owned()],
        };
        assert_eq!(
            volume_suffix(Some(Compression::Xz { level: 6 }), Some(&age)),
            ".zfs.xz.age"
        );
        let openssl = EncryptionRecord::of(&Encryption::OpenSsl {
            passphrase_file: "/etc/wizfs/pass".into(),
        });
        assert_eq!(volume_suffix(None, Some(&openssl)), ".zfs.enc");
    }
}
