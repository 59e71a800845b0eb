//! Running programs by argv: a time limit, a cleared environment, captured output, and a
//! scripted fake for tests.
//!
//! This crate is the only place in WiZFS that starts processes (a tidy test holds every other
//! crate to it). An [`Invocation`] is a program and its arguments, never a shell line, with
//! the environment cleared down to a fixed `PATH`, `LC_ALL=C` and `TZ=UTC` plus the variables
//! a caller names, an optional time limit, optional standard input and caps on the output kept.
//! A [`Runner`] runs it: [`SystemRunner`] starts the real program (and kills its process group
//! when the time limit passes); [`ScriptedRunner`] is the fake for unit tests, answering the
//! exact argv it was told to expect and failing on any other.

mod invocation;
mod outcome;
mod runner;
mod scripted;
mod system;

pub use invocation::{DEFAULT_SEARCH_PATH, DEFAULT_STDERR_LIMIT, DEFAULT_STDOUT_LIMIT, Invocation};
pub use outcome::{ExitStatus, Output, ProcessError};
pub use runner::{Runner, Running};
pub use scripted::ScriptedRunner;
pub use system::SystemRunner;
