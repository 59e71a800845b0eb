//! WiZFS core: the vocabulary every other WiZFS crate speaks.
//!
//! This crate exists so that names and domain data are validated once, in one
//! place, without any I/O: a [`DatasetName`] that exists is a name OpenZFS will
//! accept (and that can never be mistaken for a command-line option), so the
//! code that runs `zfs`/`zpool` and the daemon that serves the API can pass it
//! around without re-checking it.

pub mod backup;
pub mod duplicates;
pub mod entries;
pub mod guards;
pub mod media;
pub mod model;
pub mod names;
pub mod paths;
pub mod restore;
pub mod rotation;
pub mod text;
pub mod versioning;
pub mod versions;

pub use entries::*;
pub use model::*;
pub use names::*;
pub use paths::*;
