//! Typed reading of one TOML table of a backup job, every error naming the field by its
//! path (`backup[2].target.pool`), so a person finds the value to change without counting
//! lines. The tables are plain `toml::Table`s: serde's errors would name a line but not the
//! table a key belongs to, and the allowed keys of a target depend on its `type`.

use std::path::PathBuf;

/// A `[[backup]]` table that cannot be used: which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidBackup {
    /// The field's path (`backup[2].target.pool`).
    pub field: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// One table being read, with its path for messages.
pub(super) struct Fields<'a> {
    pub(super) path: String,
    pub(super) table: &'a toml::Table,
}

impl<'a> Fields<'a> {
    pub(super) fn new(path: impl Into<String>, table: &'a toml::Table) -> Self {
        Self {
            path: path.into(),
            table,
        }
    }

    /// The path of `key` in this table.
    pub(super) fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// An error about `key`.
    pub(super) fn invalid(&self, key: &str, message: impl Into<String>) -> InvalidBackup {
        InvalidBackup {
            field: self.field(key),
            message: message.into(),
        }
    }

    /// An error about the table itself.
    pub(super) fn invalid_table(&self, message: impl Into<String>) -> InvalidBackup {
        InvalidBackup {
            field: self.path.clone(),
            message: message.into(),
        }
    }

    /// Refuses keys outside `allowed` (a misspelt key would otherwise be silently ignored).
    pub(super) fn only(&self, allowed: &[&str], what: &str) -> Result<(), InvalidBackup> {
        match self
            .table
            .keys()
            .find(|key| !allowed.contains(&key.as_str()))
        {
            Some(key) => Err(self.invalid(
                key,
                format!(
                    "unknown key in {what}; the keys are {}",
                    allowed
                        .iter()
                        .map(|allowed| format!("`{allowed}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn mismatch(&self, key: &str, expected: &str, found: &toml::Value) -> InvalidBackup {
        self.invalid(
            key,
            format!("expected {expected}, found {}", found.type_str()),
        )
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<&'a str>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.mismatch(key, "a string", other)),
        }
    }

    pub(super) fn required_string(&self, key: &str) -> Result<&'a str, InvalidBackup> {
        self.string(key)?
            .ok_or_else(|| self.invalid(key, "is missing"))
    }

    pub(super) fn boolean(&self, key: &str) -> Result<Option<bool>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(value)) => Ok(Some(*value)),
            Some(other) => Err(self.mismatch(key, "true or false", other)),
        }
    }

    /// A whole number in `range`.
    pub(super) fn integer(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(value)) => match u64::try_from(*value) {
                Ok(value) if range.contains(&value) => Ok(Some(value)),
                _ => Err(self.invalid(
                    key,
                    format!("must be {} to {}, not {value}", range.start(), range.end()),
                )),
            },
            Some(other) => Err(self.mismatch(key, "a whole number", other)),
        }
    }

    /// An array of strings, each with its index for messages.
    pub(super) fn strings(&self, key: &str) -> Result<Vec<(String, &'a str)>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    toml::Value::String(text) => Ok((format!("{key}[{index}]"), text.as_str())),
                    other => Err(self.mismatch(&format!("{key}[{index}]"), "a string", other)),
                })
                .collect(),
            Some(other) => Err(self.mismatch(key, "an array of strings", other)),
        }
    }

    /// A sub-table.
    pub(super) fn table(&self, key: &str) -> Result<Option<Fields<'a>>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(table)) => Ok(Some(Fields::new(self.field(key), table))),
            Some(other) => Err(self.mismatch(key, "a table", other)),
        }
    }

    /// An array of tables (`[[backup.source]]`), each with its path.
    pub(super) fn tables(&self, key: &str) -> Result<Vec<Fields<'a>>, InvalidBackup> {
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    toml::Value::Table(table) => {
                        Ok(Fields::new(format!("{}.{key}[{index}]", self.path), table))
                    }
                    other => Err(self.mismatch(&format!("{key}[{index}]"), "a table", other)),
                })
                .collect(),
            Some(other) => Err(self.mismatch(key, "an array of tables", other)),
        }
    }

    /// An absolute path without NUL.
    pub(super) fn absolute_path(&self, key: &str) -> Result<Option<PathBuf>, InvalidBackup> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        if !text.starts_with('/') || text.contains('\0') {
            return Err(self.invalid(
                key,
                format!(
                    "`{}` must be an absolute path such as `/media/usb1/wizfs`",
                    text.escape_debug()
                ),
            ));
        }
        Ok(Some(PathBuf::from(text)))
    }

    /// A size in bytes: a whole number, or a string with a unit (`"4.7 GB"`, `"512 MiB"`,
    /// followed by `/s` for a rate when `per_second`), or one of the `words` (`"dvd"`).
    pub(super) fn size(
        &self,
        key: &str,
        minimum: u64,
        words: &[(&str, Option<u64>)],
        per_second: bool,
    ) -> Result<Option<Option<u64>>, InvalidBackup> {
        let bytes = match self.table.get(key) {
            None => return Ok(None),
            Some(toml::Value::Integer(value)) => u64::try_from(*value).ok(),
            Some(toml::Value::String(text)) => {
                let mut lower = text.trim().to_ascii_lowercase();
                if per_second && let Some(rate) = lower.strip_suffix("/s") {
                    lower = rate.trim_end().to_owned();
                }
                if let Some((_, value)) = words.iter().find(|(word, _)| *word == lower) {
                    return Ok(Some(*value));
                }
                super::units::parse_bytes(&lower)
            }
            Some(other) => return Err(self.mismatch(key, "a size", other)),
        };
        match bytes {
            Some(bytes) if bytes >= minimum => Ok(Some(Some(bytes))),
            Some(bytes) => Err(self.invalid(
                key,
                format!("{bytes} bytes is too small; the least is {minimum}"),
            )),
            None => Err(self.invalid(
                key,
                format!(
                    "{} is not a size: write a number of bytes or a number with a unit \
                     (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB){}{}",
                    self.table
                        .get(key)
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    if per_second { " per second" } else { "" },
                    if words.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", or one of {}",
                            words
                                .iter()
                                .map(|(word, _)| format!("`{word}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
            )),
        }
    }
}
