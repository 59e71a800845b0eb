//! [`ServiceError`]: how a service fails — a kind (`wizfs_api::ErrorKind`) and a message for
//! a person — converted from the adapters' errors in one place. No HTTP here: `wizfsd` maps
//! the kind to a status, the CLI prints the message.

use wizfs_api::ErrorKind;
use wizfs_recovery::RecoveryError;
use wizfs_zfs::ZfsError;

/// A failure of a service operation.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadRequest(_) => ErrorKind::BadRequest,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<ZfsError> for ServiceError {
    fn from(error: ZfsError) -> Self {
        let message = error.to_string();
        match error {
            ZfsError::InvalidName(_)
            | ZfsError::InvalidArgument(_)
            | ZfsError::InvalidRequest(_) => Self::BadRequest(message),
            ZfsError::NotFound { .. } => Self::NotFound(message),
            ZfsError::AlreadyExists { .. } | ZfsError::Busy { .. } => Self::Conflict(message),
            ZfsError::Spawn { .. } => Self::Unavailable(message),
            _ => Self::Internal(message),
        }
    }
}

impl From<RecoveryError> for ServiceError {
    fn from(error: RecoveryError) -> Self {
        let message = error.to_string();
        match error {
            RecoveryError::Zfs(inner) => Self::from(inner),
            RecoveryError::Path(_)
            | RecoveryError::Plan(_)
            | RecoveryError::NotComparable { .. }
            | RecoveryError::WrongDataset { .. } => Self::BadRequest(message),
            RecoveryError::NotInAnyDataset(_)
            | RecoveryError::SnapshotNotFound(_)
            | RecoveryError::Missing { .. } => Self::NotFound(message),
            RecoveryError::NotMounted(_) => Self::Conflict(message),
            RecoveryError::Restore(inner) => match inner.http_class() {
                wizfs_restore::ErrorClass::NotFound => Self::NotFound(message),
                wizfs_restore::ErrorClass::Refused => Self::BadRequest(message),
                wizfs_restore::ErrorClass::Conflict => Self::Conflict(message),
                wizfs_restore::ErrorClass::Internal => Self::Internal(message),
            },
            RecoveryError::Read { .. } => Self::Internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_errors_keep_their_message_and_get_a_kind() {
        let missing = ServiceError::from(ZfsError::InvalidRequest("no such thing".into()));
        assert_eq!(missing.kind(), ErrorKind::BadRequest);
        assert_eq!(
            missing.to_string(),
            ZfsError::InvalidRequest("no such thing".into()).to_string()
        );
        assert_eq!(
            ServiceError::Unavailable("x".into()).kind(),
            ErrorKind::Unavailable
        );
    }
}
