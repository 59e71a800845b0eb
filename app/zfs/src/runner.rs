//! How `zfs`/`zpool` processes are started. [`SystemRunner`] runs the real programs with a
//! clean environment (`LC_ALL=C`, `TZ=UTC`, fixed `PATH`) from an argv, never through a shell.
//! [`ScriptedRunner`] is the fake for unit tests: it holds the exact argv sequence a test
//! expects and the canned output of each, and fails loudly on any other command.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// The two programs WiZFS drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Zfs,
    Zpool,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Self::Zfs => "zfs",
            Self::Zpool => "zpool",
        }
    }
}

/// A command line: program + argv (without the program name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub program: Program,
    pub args: Vec<OsString>,
}

impl Invocation {
    pub fn new(program: Program) -> Self {
        Self {
            program,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }
}

impl fmt::Display for Invocation {
    /// Human-readable (for messages and logs), quoting arguments with spaces.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.program.name())?;
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

/// The result of a finished command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    pub success: bool,
    /// Human-readable exit status ("exit status: 1", "signal: 9").
    pub status: String,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// A command whose stdout is streamed (`zfs send`).
pub trait RunningCommand: Read + Send + fmt::Debug {
    /// Waits for the process; stdout must have been read to the end or is discarded.
    fn wait(self: Box<Self>) -> io::Result<Completed>;
}

/// Starts processes. Implementations: [`SystemRunner`] and [`ScriptedRunner`].
pub trait CommandRunner: Send + Sync + fmt::Debug {
    /// Runs to completion, capturing stdout and stderr.
    fn run(&self, invocation: &Invocation) -> io::Result<Completed>;
    /// Runs with `input` copied to stdin (`zfs receive`).
    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> io::Result<Completed>;
    /// Starts with stdout as a stream (`zfs send`).
    fn spawn_reader(&self, invocation: &Invocation) -> io::Result<Box<dyn RunningCommand>>;
}

/// Runs the real `zfs` and `zpool` binaries.
#[derive(Clone, Debug)]
pub struct SystemRunner {
    search_path: OsString,
}

impl Default for SystemRunner {
    fn default() -> Self {
        Self {
            search_path: OsString::from(
                "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin",
            ),
        }
    }
}

impl SystemRunner {
    fn command(&self, invocation: &Invocation) -> Command {
        let mut command = Command::new(invocation.program.name());
        command
            .args(&invocation.args)
            .env_clear()
            .env("PATH", &self.search_path)
            .env("LC_ALL", "C")
            // Dates that ZFS prints (hold times) are then in UTC.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

fn completed(output: std::process::Output) -> Completed {
    Completed {
        success: output.status.success(),
        status: output.status.to_string(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl CommandRunner for SystemRunner {
    fn run(&self, invocation: &Invocation) -> io::Result<Completed> {
        self.command(invocation).output().map(completed)
    }

    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> io::Result<Completed> {
        let mut child = self.command(invocation).stdin(Stdio::piped()).spawn()?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("stdin not piped"))?;
        // stderr is drained by a thread so a chatty child cannot block on a full pipe while
        // we are still writing its stdin.
        let mut stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("stderr not piped"))?;
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut text);
            text
        });
        let copy_result = io::copy(input, &mut stdin).and_then(|_| stdin.flush());
        drop(stdin);
        let mut stdout = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            pipe.read_to_end(&mut stdout)?;
        }
        let status = child.wait()?;
        let stderr = stderr_reader.join().unwrap_or_default();
        // A receiver that exits early closes its stdin: the copy then fails with a broken
        // pipe, but the exit status and stderr explain why, so they take precedence.
        if let Err(error) = copy_result
            && status.success()
        {
            return Err(error);
        }
        Ok(Completed {
            success: status.success(),
            status: status.to_string(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    fn spawn_reader(&self, invocation: &Invocation) -> io::Result<Box<dyn RunningCommand>> {
        let mut child = self.command(invocation).spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("stdout not piped"))?;
        let mut stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("stderr not piped"))?;
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut text);
            text
        });
        Ok(Box::new(ChildStream {
            child: Some(child),
            stdout,
            stderr_reader: Some(stderr_reader),
        }))
    }
}

#[derive(Debug)]
struct ChildStream {
    child: Option<Child>,
    stdout: std::process::ChildStdout,
    stderr_reader: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Read for ChildStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buffer)
    }
}

impl RunningCommand for ChildStream {
    fn wait(mut self: Box<Self>) -> io::Result<Completed> {
        io::copy(&mut self.stdout, &mut io::sink())?;
        let status = match self.child.take() {
            Some(mut child) => child.wait()?,
            None => return Err(io::Error::other("already waited")),
        };
        let stderr = self
            .stderr_reader
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Ok(Completed {
            success: status.success(),
            status: status.to_string(),
            stdout: Vec::new(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }
}

impl Drop for ChildStream {
    fn drop(&mut self) {
        // Dropped without `wait`: the reader gave up, so stop the sender and reap it.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One expected command and its canned result.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub invocation: Invocation,
    pub result: Completed,
}

/// A fake runner that checks the exact sequence of commands: each call must match the next
/// expectation's argv exactly, else the call fails with an error naming both command lines.
/// Input given to `run_with_input` is recorded for inspection.
#[derive(Debug, Default)]
pub struct ScriptedRunner {
    expected: Mutex<VecDeque<Expectation>>,
    received_input: Mutex<Vec<Vec<u8>>>,
}

impl ScriptedRunner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `program args...` and answers with `stdout` and success.
    pub fn expect_ok(self, program: Program, args: &[&str], stdout: &str) -> Self {
        self.push(program, args, true, stdout.as_bytes(), "")
    }

    /// Expects `program args...` and answers with exit status 1 and `stderr`.
    pub fn expect_failure(self, program: Program, args: &[&str], stderr: &str) -> Self {
        self.push(program, args, false, b"", stderr)
    }

    fn push(
        self,
        program: Program,
        args: &[&str],
        success: bool,
        stdout: &[u8],
        stderr: &str,
    ) -> Self {
        let expectation = Expectation {
            invocation: Invocation::new(program).args(args),
            result: Completed {
                success,
                status: if success {
                    "exit status: 0".into()
                } else {
                    "exit status: 1".into()
                },
                stdout: stdout.to_vec(),
                stderr: stderr.to_owned(),
            },
        };
        self.lock_expected().push_back(expectation);
        self
    }

    fn lock_expected(&self) -> std::sync::MutexGuard<'_, VecDeque<Expectation>> {
        self.expected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Commands still expected (a test ends by asserting this is zero).
    pub fn remaining(&self) -> usize {
        self.lock_expected().len()
    }

    /// Everything written to stdin by `run_with_input`, per call.
    pub fn received_input(&self) -> Vec<Vec<u8>> {
        self.received_input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn next(&self, invocation: &Invocation) -> io::Result<Completed> {
        let Some(expectation) = self.lock_expected().pop_front() else {
            return Err(io::Error::other(format!(
                "unexpected command `{invocation}`: no more commands expected"
            )));
        };
        if &expectation.invocation != invocation {
            return Err(io::Error::other(format!(
                "unexpected command `{invocation}`, expected `{}`",
                expectation.invocation
            )));
        }
        Ok(expectation.result)
    }
}

impl CommandRunner for ScriptedRunner {
    fn run(&self, invocation: &Invocation) -> io::Result<Completed> {
        self.next(invocation)
    }

    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> io::Result<Completed> {
        let result = self.next(invocation)?;
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        self.received_input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(bytes);
        Ok(result)
    }

    fn spawn_reader(&self, invocation: &Invocation) -> io::Result<Box<dyn RunningCommand>> {
        let result = self.next(invocation)?;
        Ok(Box::new(CannedStream {
            stdout: io::Cursor::new(result.stdout.clone()),
            result,
        }))
    }
}

#[derive(Debug)]
struct CannedStream {
    stdout: io::Cursor<Vec<u8>>,
    result: Completed,
}

impl Read for CannedStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buffer)
    }
}

impl RunningCommand for CannedStream {
    fn wait(self: Box<Self>) -> io::Result<Completed> {
        Ok(self.result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_runner_checks_argv_exactly() {
        let runner = ScriptedRunner::new().expect_ok(Program::Zfs, &["list", "-H"], "x\n");
        let wrong = runner.run(&Invocation::new(Program::Zfs).args(["list", "-Hp"]));
        let message = wrong.expect_err("mismatch must fail").to_string();
        assert!(message.contains("expected `zfs list -H`"), "{message}");
        assert_eq!(
            runner.remaining(),
            0,
            "a mismatched call still consumes the expectation"
        );
        let extra = runner.run(&Invocation::new(Program::Zfs).arg("list"));
        assert!(extra.is_err());
    }

    #[test]
    fn invocation_display_quotes_spaces() {
        let invocation = Invocation::new(Program::Zfs).args(["snapshot", "tank/my data@a"]);
        assert_eq!(invocation.to_string(), "zfs snapshot 'tank/my data@a'");
    }

    #[test]
    fn system_runner_streams_and_reports_failure() {
        // `zfs` is absent on development machines: spawning must fail cleanly, not panic.
        let runner = SystemRunner {
            search_path: OsString::from("/nonexistent"),
        };
        let result = runner.run(&Invocation::new(Program::Zfs).arg("version"));
        assert_eq!(
            result.expect_err("no zfs here").kind(),
            io::ErrorKind::NotFound
        );
    }
}
