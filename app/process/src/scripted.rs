//! [`ScriptedRunner`]: the fake for unit tests. It holds the exact sequence of command lines
//! a test expects with the answer to each, and fails any other command with an error naming
//! both the command it got and the one it expected.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::sync::{Mutex, MutexGuard};

use crate::invocation::Invocation;
use crate::outcome::{ExitStatus, Output, ProcessError};
use crate::runner::{Runner, Running};

/// One expected command and its answer.
#[derive(Clone, Debug)]
struct Expectation {
    invocation: Invocation,
    output: Output,
}

/// A fake runner that checks the exact sequence of commands: each call must match the next
/// expectation's program and arguments, else it fails with [`ProcessError::Unexpected`] (and
/// the expectation is used up). Standard input given to a command is recorded.
#[derive(Debug, Default)]
pub struct ScriptedRunner {
    expected: Mutex<VecDeque<Expectation>>,
    received_input: Mutex<Vec<Vec<u8>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ScriptedRunner {
    pub fn new() -> ScriptedRunner {
        ScriptedRunner::default()
    }

    /// Expects `program args…` and answers with `stdout` and success.
    pub fn expect_ok(
        self,
        program: impl AsRef<OsStr>,
        args: &[&str],
        stdout: impl AsRef<[u8]>,
    ) -> ScriptedRunner {
        self.expect_exit(program, args, ExitStatus::Code(0), stdout, "")
    }

    /// Expects `program args…` and answers with exit status 1 and `stderr`.
    pub fn expect_failure(
        self,
        program: impl AsRef<OsStr>,
        args: &[&str],
        stderr: &str,
    ) -> ScriptedRunner {
        self.expect_exit(program, args, ExitStatus::Code(1), "", stderr)
    }

    /// Expects `program args…` and answers with `status`, `stdout` and `stderr`.
    pub fn expect_exit(
        self,
        program: impl AsRef<OsStr>,
        args: &[&str],
        status: ExitStatus,
        stdout: impl AsRef<[u8]>,
        stderr: &str,
    ) -> ScriptedRunner {
        lock(&self.expected).push_back(Expectation {
            invocation: Invocation::new(program).args(args),
            output: Output::new(status, stdout.as_ref(), stderr.as_bytes()),
        });
        self
    }

    /// Commands still expected (a test ends by asserting this is zero).
    pub fn remaining(&self) -> usize {
        lock(&self.expected).len()
    }

    /// What each command was given on standard input, in order.
    pub fn received_input(&self) -> Vec<Vec<u8>> {
        lock(&self.received_input).clone()
    }

    fn next(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let Some(expectation) = lock(&self.expected).pop_front() else {
            return Err(ProcessError::Unexpected {
                command: invocation.to_string(),
                expected: None,
            });
        };
        if !expectation.invocation.same_argv(invocation) {
            return Err(ProcessError::Unexpected {
                command: invocation.to_string(),
                expected: Some(expectation.invocation.to_string()),
            });
        }
        Ok(expectation.output)
    }
}

impl Runner for ScriptedRunner {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let output = self.next(invocation)?;
        if let Some(bytes) = invocation.stdin() {
            lock(&self.received_input).push(bytes.to_vec());
        }
        Ok(output)
    }

    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> Result<Output, ProcessError> {
        let output = self.next(invocation)?;
        let mut bytes = invocation.stdin().unwrap_or_default().to_vec();
        input
            .read_to_end(&mut bytes)
            .map_err(|source| ProcessError::Io {
                command: invocation.to_string(),
                source,
            })?;
        lock(&self.received_input).push(bytes);
        Ok(output)
    }

    fn spawn_reader(&self, invocation: &Invocation) -> Result<Box<dyn Running>, ProcessError> {
        let mut output = self.next(invocation)?;
        let stdout = io::Cursor::new(std::mem::take(&mut output.stdout));
        Ok(Box::new(CannedStream { stdout, output }))
    }
}

/// The scripted standard output of a streamed command.
#[derive(Debug)]
struct CannedStream {
    stdout: io::Cursor<Vec<u8>>,
    output: Output,
}

impl Read for CannedStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buffer)
    }
}

impl Running for CannedStream {
    fn wait(self: Box<Self>) -> Result<Output, ProcessError> {
        Ok(self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_checked_exactly_and_a_mismatch_uses_up_the_expectation() {
        let runner = ScriptedRunner::new().expect_ok("zfs", &["list", "-H"], "x\n");
        let wrong = runner.run(&Invocation::new("zfs").args(["list", "-Hp"]));
        let message = wrong.expect_err("mismatch must fail").to_string();
        assert_eq!(
            message,
            "unexpected command `zfs list -Hp`, expected `zfs list -H`"
        );
        assert_eq!(runner.remaining(), 0);
        let extra = runner.run(&Invocation::new("zfs").arg("list"));
        assert_eq!(
            extra.expect_err("nothing expected").to_string(),
            "unexpected command `zfs list`: no more commands expected"
        );
    }

    #[test]
    fn answers_in_order_with_the_scripted_output() {
        let runner = ScriptedRunner::new()
            .expect_ok("zpool", &["list"], "tank\n")
            .expect_exit("smartctl", &["-a"], ExitStatus::Code(4), "{}", "warn")
            .expect_failure("zfs", &["destroy", "tank/x"], "busy\n");
        let listed = runner
            .run(&Invocation::new("zpool").arg("list"))
            .expect("ok");
        assert_eq!(
            (listed.success(), listed.stdout.as_slice()),
            (true, &b"tank\n"[..])
        );
        let read = runner
            .run(&Invocation::new("smartctl").arg("-a"))
            .expect("ok");
        assert_eq!(
            (read.status.code(), read.stderr_text().as_str()),
            (Some(4), "warn")
        );
        let failed = runner
            .run(&Invocation::new("zfs").args(["destroy", "tank/x"]))
            .expect("ran");
        assert_eq!(failed.status, ExitStatus::Code(1));
        assert_eq!(runner.remaining(), 0);
    }

    #[test]
    fn input_is_recorded_and_streams_are_answered() {
        let runner = ScriptedRunner::new()
            .expect_ok("zfs", &["receive", "tank/b"], "")
            .expect_ok("zfs", &["send", "tank/a@1"], "STREAM");
        runner
            .run_with_input(
                &Invocation::new("zfs").args(["receive", "tank/b"]),
                &mut &b"bytes"[..],
            )
            .expect("received");
        assert_eq!(runner.received_input(), [b"bytes".to_vec()]);
        let mut stream = runner
            .spawn_reader(&Invocation::new("zfs").args(["send", "tank/a@1"]))
            .expect("sends");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("reads");
        assert_eq!(text, "STREAM");
        assert!(stream.wait().expect("waits").success());
    }
}
