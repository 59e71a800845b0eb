//! Where media facts come from: the [`MediaProbe`] trait (path → [`MediaFacts`], unknown for
//! anything unreadable), [`FfprobeCli`], which runs
//! `ffprobe -v error -protocol_whitelist file -print_format json -show_format -show_streams
//! file:PATH` through a [`wizfs_process::Runner`] (argv, cleared environment, a time limit,
//! an output cap) and reads its output with the pure [`crate::ffprobe::parse`], and
//! [`FakeProbe`], the fake for the tests of the crates above.
//!
//! The path is given as `file:PATH` and only the `file` protocol is allowed, so no file name
//! is taken for an option, a URL or another protocol (`concat:`, `http:`); it must be
//! absolute.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wizfs_process::{Invocation, ProcessError, Runner, SystemRunner};

use crate::facts::{MediaFacts, UnknownReason};
use crate::ffprobe;

/// Reads what a file says about itself.
pub trait MediaProbe: Send + Sync + fmt::Debug {
    /// The facts of the file at `path`; [`MediaFacts::Unknown`] for anything unreadable.
    fn probe(&self, path: &Path) -> MediaFacts;
}

/// Runs the real `ffprobe`.
#[derive(Clone, Debug)]
pub struct FfprobeCli {
    runner: Arc<dyn Runner>,
    program: PathBuf,
    time_limit: Duration,
    output_limit: usize,
}

/// Characters of ffprobe's complaint kept in [`UnknownReason::Unreadable`].
const MESSAGE_CHARACTERS: usize = 200;

impl FfprobeCli {
    /// ffprobe from the fixed search path, 20 s per file, at most 4 MiB of output.
    pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(20);
    pub const DEFAULT_OUTPUT_LIMIT: usize = 4 << 20;

    pub fn new() -> FfprobeCli {
        FfprobeCli::with_runner(Arc::new(SystemRunner::new()))
    }

    /// Runs through `runner` (a `ScriptedRunner` in tests).
    pub fn with_runner(runner: Arc<dyn Runner>) -> FfprobeCli {
        FfprobeCli {
            runner,
            program: PathBuf::from("ffprobe"),
            time_limit: FfprobeCli::DEFAULT_TIME_LIMIT,
            output_limit: FfprobeCli::DEFAULT_OUTPUT_LIMIT,
        }
    }

    /// Runs `program` instead of `ffprobe`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> FfprobeCli {
        self.program = program.into();
        self
    }

    pub fn time_limit(mut self, limit: Duration) -> FfprobeCli {
        self.time_limit = limit;
        self
    }

    /// Bytes of standard output kept; more makes the file unknown.
    pub fn output_limit(mut self, bytes: usize) -> FfprobeCli {
        self.output_limit = bytes;
        self
    }

    /// The command for `path`; `None` unless it is absolute.
    pub fn invocation(&self, path: &Path) -> Option<Invocation> {
        if !path.is_absolute() {
            return None;
        }
        let mut input = OsString::from("file:");
        input.push(path.as_os_str());
        Some(
            Invocation::new(&self.program)
                .args([
                    "-v",
                    "error",
                    "-protocol_whitelist",
                    "file",
                    "-print_format",
                    "json",
                    "-show_format",
                    "-show_streams",
                ])
                .arg(input)
                .with_time_limit(self.time_limit)
                .with_stdout_limit(self.output_limit)
                .with_stderr_limit(64 << 10),
        )
    }
}

impl Default for FfprobeCli {
    fn default() -> FfprobeCli {
        FfprobeCli::new()
    }
}

/// The first non-empty line of `stderr`, cut to [`MESSAGE_CHARACTERS`].
fn first_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("no message");
    line.chars().take(MESSAGE_CHARACTERS).collect()
}

impl MediaProbe for FfprobeCli {
    fn probe(&self, path: &Path) -> MediaFacts {
        let Some(invocation) = self.invocation(path) else {
            return MediaFacts::Unknown(UnknownReason::NotAbsolute);
        };
        let reason = match self.runner.run(&invocation) {
            Ok(output) if output.stdout_truncated => UnknownReason::OutputTooLarge {
                bytes: self.output_limit,
            },
            Ok(output) if output.success() => return ffprobe::parse(&output.stdout),
            Ok(output) => UnknownReason::Unreadable {
                message: first_line(&output.stderr_text()),
            },
            Err(ProcessError::TimedOut { limit, .. }) => UnknownReason::TimedOut {
                seconds: limit.as_secs(),
            },
            Err(error) => UnknownReason::ReaderFailed {
                message: error.to_string(),
            },
        };
        MediaFacts::Unknown(reason)
    }
}

/// The fake: facts given per path; any other path is unreadable.
#[derive(Clone, Debug, Default)]
pub struct FakeProbe {
    facts: BTreeMap<PathBuf, MediaFacts>,
}

impl FakeProbe {
    pub fn new() -> FakeProbe {
        FakeProbe::default()
    }

    /// Answers `facts` for `path`.
    pub fn with(mut self, path: impl Into<PathBuf>, facts: MediaFacts) -> FakeProbe {
        self.facts.insert(path.into(), facts);
        self
    }
}

impl MediaProbe for FakeProbe {
    fn probe(&self, path: &Path) -> MediaFacts {
        self.facts.get(path).cloned().unwrap_or_else(|| {
            MediaFacts::Unknown(UnknownReason::Unreadable {
                message: "no such file in the fake".to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests;
