//! [`Invocation`]: what to run, described completely before anything starts — the program,
//! its arguments, the environment, the time limit, standard input and how much output to keep.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::time::Duration;

/// The `PATH` a program is looked up in and runs with (the daemon's own `PATH` is not used).
pub const DEFAULT_SEARCH_PATH: &str =
    "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";

/// Bytes of standard output kept unless an invocation says otherwise.
pub const DEFAULT_STDOUT_LIMIT: usize = 64 << 20;

/// Bytes of standard error kept unless an invocation says otherwise.
pub const DEFAULT_STDERR_LIMIT: usize = 1 << 20;

/// A program with its arguments (never a shell line) and everything about how it runs.
///
/// By default the environment is cleared and holds only `PATH` ([`DEFAULT_SEARCH_PATH`]),
/// `LC_ALL=C` (messages in English, as the parsers expect) and `TZ=UTC`, plus what
/// [`Invocation::env`] adds; there is no time limit, standard input is empty, and at most
/// [`DEFAULT_STDOUT_LIMIT`] and [`DEFAULT_STDERR_LIMIT`] bytes of output are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    program: OsString,
    args: Vec<OsString>,
    variables: Vec<(OsString, OsString)>,
    inherit_environment: bool,
    time_limit: Option<Duration>,
    stdin: Option<Vec<u8>>,
    stdout_limit: usize,
    stderr_limit: usize,
}

impl Invocation {
    /// `program` is a name looked up in `PATH` or a path.
    pub fn new(program: impl AsRef<OsStr>) -> Invocation {
        Invocation {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            variables: Vec::new(),
            inherit_environment: false,
            time_limit: None,
            stdin: None,
            stdout_limit: DEFAULT_STDOUT_LIMIT,
            stderr_limit: DEFAULT_STDERR_LIMIT,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Invocation {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Invocation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets one environment variable (after the fixed ones, so it may replace them).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Invocation {
        self.variables
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Keeps the environment of this process instead of clearing it; the fixed `PATH`,
    /// `LC_ALL` and `TZ` are then not set, only what [`Invocation::env`] adds. For programs
    /// the administrator wrote (snapshot hooks), which run as they always have.
    pub fn inherit_environment(mut self) -> Invocation {
        self.inherit_environment = true;
        self
    }

    /// Kills the program (its whole process group) once it has run this long.
    pub fn with_time_limit(mut self, limit: Duration) -> Invocation {
        self.time_limit = Some(limit);
        self
    }

    /// Bytes given to the program on standard input (else it reads end of file at once).
    pub fn with_stdin(mut self, bytes: impl Into<Vec<u8>>) -> Invocation {
        self.stdin = Some(bytes.into());
        self
    }

    /// Keeps at most `bytes` of standard output; the rest is read and dropped, and
    /// [`crate::Output::stdout_truncated`] says so.
    pub fn with_stdout_limit(mut self, bytes: usize) -> Invocation {
        self.stdout_limit = bytes;
        self
    }

    /// Keeps at most `bytes` of standard error (see [`Invocation::with_stdout_limit`]).
    pub fn with_stderr_limit(mut self, bytes: usize) -> Invocation {
        self.stderr_limit = bytes;
        self
    }

    pub fn program(&self) -> &OsStr {
        &self.program
    }

    pub fn arguments(&self) -> &[OsString] {
        &self.args
    }

    /// The variables [`Invocation::env`] added, in order.
    pub fn variables(&self) -> &[(OsString, OsString)] {
        &self.variables
    }

    pub fn inherits_environment(&self) -> bool {
        self.inherit_environment
    }

    pub fn time_limit(&self) -> Option<Duration> {
        self.time_limit
    }

    pub fn stdin(&self) -> Option<&[u8]> {
        self.stdin.as_deref()
    }

    pub fn stdout_limit(&self) -> usize {
        self.stdout_limit
    }

    pub fn stderr_limit(&self) -> usize {
        self.stderr_limit
    }

    /// Whether `other` runs the same program with the same arguments (what a scripted
    /// expectation checks).
    pub fn same_argv(&self, other: &Invocation) -> bool {
        self.program == other.program && self.args == other.args
    }
}

impl fmt::Display for Invocation {
    /// The command line for messages and logs, quoting arguments with spaces or quotes.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.program.to_string_lossy())?;
        for arg in &self.args {
            let text = arg.to_string_lossy();
            if text.is_empty() || text.contains(|c: char| c.is_whitespace() || c == '\'') {
                write!(formatter, " '{}'", text.replace('\'', "'\\''"))?;
            } else {
                write!(formatter, " {text}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_spaces_and_quotes() {
        let invocation = Invocation::new("zfs").args(["snapshot", "tank/my data@a", "it's", ""]);
        assert_eq!(
            invocation.to_string(),
            "zfs snapshot 'tank/my data@a' 'it'\\''s' ''"
        );
    }

    #[test]
    fn same_argv_ignores_how_it_runs() {
        let plain = Invocation::new("smartctl").arg("--scan");
        let limited = plain
            .clone()
            .with_time_limit(Duration::from_secs(1))
            .env("A", "b");
        assert!(plain.same_argv(&limited));
        assert!(!plain.same_argv(&Invocation::new("smartctl").arg("--scan-open")));
        assert!(!plain.same_argv(&Invocation::new("other").arg("--scan")));
    }
}
