//! What running a program gives: an [`Output`] (how it ended and what it wrote) when it
//! ended by itself, else a [`ProcessError`] (it could not start, ran past its time limit, or
//! its pipes failed). [`Output::checked`] turns an unsuccessful end into an error too.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::invocation::Invocation;

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl ExitStatus {
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }

    pub fn code(self) -> Option<i32> {
        match self {
            ExitStatus::Code(code) => Some(code),
            ExitStatus::Signal(_) => None,
        }
    }

    pub fn signal(self) -> Option<i32> {
        match self {
            ExitStatus::Code(_) => None,
            ExitStatus::Signal(signal) => Some(signal),
        }
    }
}

impl From<std::process::ExitStatus> for ExitStatus {
    fn from(status: std::process::ExitStatus) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(signal)) => ExitStatus::Signal(signal),
            // Neither is possible for a process that was waited for (stopped and continued
            // children are not reported by `wait`): keep the raw status as a code.
            (None, None) => ExitStatus::Code(status.into_raw()),
        }
    }
}

impl fmt::Display for ExitStatus {
    /// As the standard library writes it: "exit status: 1", "signal: 9".
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(formatter, "exit status: {code}"),
            ExitStatus::Signal(signal) => write!(formatter, "signal: {signal}"),
        }
    }
}

/// A program that ended by itself: its status and the output kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub status: ExitStatus,
    /// Standard output, empty when the caller read it as a stream.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Standard output went past the invocation's limit; the rest was dropped.
    pub stdout_truncated: bool,
    /// Standard error went past the invocation's limit; the rest was dropped.
    pub stderr_truncated: bool,
}

impl Output {
    /// An output with nothing written and nothing dropped.
    pub fn new(
        status: ExitStatus,
        stdout: impl Into<Vec<u8>>,
        stderr: impl Into<Vec<u8>>,
    ) -> Output {
        Output {
            status,
            stdout: stdout.into(),
            stderr: stderr.into(),
            stdout_truncated: false,
            stderr_truncated: false,
        }
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The output when the program succeeded, else [`ProcessError::Exited`] or
    /// [`ProcessError::Signalled`] with its standard error.
    pub fn checked(self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let stderr = self.stderr_text().trim().to_owned();
        match self.status {
            ExitStatus::Code(0) => Ok(self),
            ExitStatus::Code(code) => Err(ProcessError::Exited {
                command: invocation.to_string(),
                code,
                stderr,
            }),
            ExitStatus::Signal(signal) => Err(ProcessError::Signalled {
                command: invocation.to_string(),
                signal,
                stderr,
            }),
        }
    }
}

/// Why running a program gave no [`Output`] (or, through [`Output::checked`], why it failed).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started (not installed, not executable, …).
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },
    /// The time limit passed: the program and its process group were killed.
    #[error("`{command}` did not finish within {} and was killed", seconds(*.limit))]
    TimedOut { command: String, limit: Duration },
    /// The program exited unsuccessfully.
    #[error("`{command}` exited with status {code}: {stderr}")]
    Exited {
        command: String,
        code: i32,
        stderr: String,
    },
    /// A signal ended the program.
    #[error("`{command}` was ended by signal {signal}: {stderr}")]
    Signalled {
        command: String,
        signal: i32,
        stderr: String,
    },
    /// Writing its input, reading its output or waiting for it failed.
    #[error("input or output of `{command}` failed: {source}")]
    Io {
        command: String,
        #[source]
        source: io::Error,
    },
    /// A [`crate::ScriptedRunner`] was asked to run something its script does not say.
    #[error("unexpected command `{command}`{}", match .expected {
        Some(expected) => format!(", expected `{expected}`"),
        None => ": no more commands expected".to_owned(),
    })]
    Unexpected {
        command: String,
        expected: Option<String>,
    },
}

fn seconds(limit: Duration) -> String {
    if limit.subsec_nanos() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{:.3} s", limit.as_secs_f64())
    }
}

impl From<ProcessError> for io::Error {
    /// For callers whose errors carry an [`io::Error`]: a start or pipe failure gives its own
    /// error (so `NotFound` stays `NotFound`), anything else is wrapped.
    fn from(error: ProcessError) -> io::Error {
        match error {
            ProcessError::Spawn { source, .. } | ProcessError::Io { source, .. } => source,
            ProcessError::TimedOut { .. } => io::Error::new(io::ErrorKind::TimedOut, error),
            other => io::Error::other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_reports_exit_codes_and_signals() {
        let invocation = Invocation::new("tool").arg("x");
        let ok = Output::new(ExitStatus::Code(0), "out", "");
        assert_eq!(ok.clone().checked(&invocation).expect("success"), ok);
        let failed = Output::new(ExitStatus::Code(3), "", "frozen\n").checked(&invocation);
        assert_eq!(
            failed.expect_err("exit 3").to_string(),
            "`tool x` exited with status 3: frozen"
        );
        let killed = Output::new(ExitStatus::Signal(9), "", "").checked(&invocation);
        assert!(
            matches!(killed, Err(ProcessError::Signalled { signal: 9, .. })),
            "{killed:?}"
        );
    }

    #[test]
    fn statuses_read_like_the_standard_library() {
        assert_eq!(ExitStatus::Code(1).to_string(), "exit status: 1");
        assert_eq!(ExitStatus::Signal(9).to_string(), "signal: 9");
        assert!(ExitStatus::Code(0).success());
        assert_eq!(ExitStatus::Signal(15).code(), None);
    }

    #[test]
    fn io_errors_keep_their_kind() {
        let missing = ProcessError::Spawn {
            command: "zfs".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(io::Error::from(missing).kind(), io::ErrorKind::NotFound);
        let slow = ProcessError::TimedOut {
            command: "smartctl".into(),
            limit: Duration::from_millis(1500),
        };
        assert_eq!(
            slow.to_string(),
            "`smartctl` did not finish within 1.500 s and was killed"
        );
        assert_eq!(io::Error::from(slow).kind(), io::ErrorKind::TimedOut);
    }
}
