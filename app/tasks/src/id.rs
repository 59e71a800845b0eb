//! Task identifiers: stable, short, safe in URLs, log keys and command lines.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest identifier accepted.
pub const MAX_TASK_ID: usize = 64;

/// A task's stable identifier: 1 to 64 of `a`–`z`, `0`–`9` and `-`, starting and ending
/// with a letter or digit (`index-reconcile`, `snapshot-policies`, `health-round`). It names
/// the task in the API, the CLI and the run log, so it never changes between versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId(String);

/// An identifier that breaks the rules of [`TaskId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid task id {id:?}: {reason}")]
pub struct InvalidTaskId {
    pub id: String,
    pub reason: &'static str,
}

impl TaskId {
    pub fn new(id: &str) -> Result<TaskId, InvalidTaskId> {
        let reason = if id.is_empty() {
            Some("empty")
        } else if id.len() > MAX_TASK_ID {
            Some("longer than 64 characters")
        } else if !id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        {
            Some("only a-z, 0-9 and '-' are allowed")
        } else if id.starts_with('-') || id.ends_with('-') {
            Some("starts or ends with '-'")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidTaskId {
                id: id.to_owned(),
                reason,
            }),
            None => Ok(TaskId(id.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for TaskId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for TaskId {
    type Err = InvalidTaskId;

    fn from_str(id: &str) -> Result<TaskId, InvalidTaskId> {
        TaskId::new(id)
    }
}

impl TryFrom<String> for TaskId {
    type Error = InvalidTaskId;

    fn try_from(id: String) -> Result<TaskId, InvalidTaskId> {
        TaskId::new(&id)
    }
}

impl From<TaskId> for String {
    fn from(id: TaskId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_ids_are_accepted() {
        for id in [
            "a",
            "index-reconcile",
            "health-round",
            "scrub-tank0",
            "0",
            "a-b-c",
        ] {
            assert_eq!(TaskId::new(id).unwrap().as_str(), id);
        }
        assert!(TaskId::new(&"a".repeat(MAX_TASK_ID)).is_ok());
    }

    #[test]
    fn bad_ids_are_refused_with_a_reason() {
        for (id, reason) in [
            ("", "empty"),
            ("Index", "only a-z"),
            ("index_reconcile", "only a-z"),
            ("index reconcile", "only a-z"),
            ("index/reconcile", "only a-z"),
            ("idé", "only a-z"),
            ("a\0b", "only a-z"),
            ("-index", "starts or ends"),
            ("index-", "starts or ends"),
        ] {
            let error = TaskId::new(id).unwrap_err();
            assert!(error.reason.contains(reason), "{id:?}: {error}");
            assert_eq!(error.id, id);
        }
        let error = TaskId::new(&"a".repeat(MAX_TASK_ID + 1)).unwrap_err();
        assert!(error.reason.contains("longer"), "{error}");
    }

    #[test]
    fn serde_checks_the_rules_too() {
        let id: TaskId = serde_json::from_str("\"health-round\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"health-round\"");
        assert!(serde_json::from_str::<TaskId>("\"Health\"").is_err());
    }
}
