//! The BEGIN record of a fake send stream's sub-stream (see [`super::stream`]): written by
//! `send`, read by `receive`, and kept in the state of an interrupted resumable receive. It
//! lives apart from the stream code so the state can hold it without depending on that code.

use serde::{Deserialize, Serialize};

/// The BEGIN record of a sub-stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BeginHeader {
    /// The sending dataset.
    pub dataset: String,
    /// The short name of the snapshot sent.
    pub snapshot: String,
    pub guid: u64,
    /// Guid of the incremental base (snapshot or bookmark); 0 for a full stream.
    pub base_guid: u64,
    pub creation: i64,
}
