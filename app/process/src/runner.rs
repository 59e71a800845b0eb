//! The [`Runner`] trait, how the rest of WiZFS starts programs, and [`Running`], a program
//! whose standard output is read as a stream.

use std::fmt;
use std::io::Read;

use crate::invocation::Invocation;
use crate::outcome::{Output, ProcessError};

/// Starts programs. Implementations: [`crate::SystemRunner`] and [`crate::ScriptedRunner`].
pub trait Runner: Send + Sync + fmt::Debug {
    /// Runs to the end, keeping standard output and error up to the invocation's limits.
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError>;
    /// Runs with `input` copied to standard input after the invocation's own bytes, if any
    /// (`zfs receive`). A failure to write is reported only when the program then succeeded:
    /// a program that stops reading early explains itself in its status and standard error.
    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> Result<Output, ProcessError>;
    /// Starts the program with standard output as a stream (`zfs send`).
    fn spawn_reader(&self, invocation: &Invocation) -> Result<Box<dyn Running>, ProcessError>;
}

/// A running program whose standard output is read through [`Read`]. Dropping it without
/// [`Running::wait`] kills the program.
pub trait Running: Read + Send + fmt::Debug {
    /// Reads what is left of standard output, then waits for the program. The output's
    /// `stdout` is empty: it was the stream.
    fn wait(self: Box<Self>) -> Result<Output, ProcessError>;
}
