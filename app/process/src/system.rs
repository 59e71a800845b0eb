//! [`SystemRunner`]: runs real programs. Standard output and error are read by threads (so a
//! chatty program never blocks on a full pipe) and kept up to the invocation's limits. A
//! program with a time limit runs in its own process group; when the limit passes the whole
//! group is killed and the call returns at once — the program is reaped in the background,
//! since one stuck in the kernel (a read from a dying disk) dies only when that I/O ends.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::invocation::{DEFAULT_SEARCH_PATH, Invocation};
use crate::outcome::{ExitStatus, Output, ProcessError};
use crate::runner::{Runner, Running};

/// Runs the real programs.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRunner {
    _private: (),
}

impl SystemRunner {
    pub fn new() -> SystemRunner {
        SystemRunner::default()
    }
}

/// The bytes kept from one pipe.
#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads `pipe` to its end on a thread, keeping at most `limit` bytes.
fn capture(mut pipe: impl Read + Send + 'static, limit: usize) -> JoinHandle<Captured> {
    thread::spawn(move || {
        let mut captured = Captured::default();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => {
                    let room = limit.saturating_sub(captured.bytes.len());
                    captured.truncated |= read > room;
                    captured.bytes.extend_from_slice(&buffer[..read.min(room)]);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        captured
    })
}

fn joined(reader: Option<JoinHandle<Captured>>) -> Captured {
    reader
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default()
}

/// Who writes standard input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stdin {
    /// A thread writes the invocation's bytes (or the program reads end of file at once).
    Bytes,
    /// The caller writes it (the invocation's bytes, then a stream).
    Caller,
}

/// A started program.
#[derive(Debug)]
struct Process {
    child: Child,
    command: String,
    time_limit: Option<Duration>,
    deadline: Option<Instant>,
    /// A [`Watchdog`] killed it at its deadline.
    killed_at_deadline: bool,
    stderr: Option<JoinHandle<Captured>>,
}

impl Process {
    fn start(invocation: &Invocation, stdin: Stdin) -> Result<Process, ProcessError> {
        let mut command = Command::new(invocation.program());
        command.args(invocation.arguments());
        if !invocation.inherits_environment() {
            command
                .env_clear()
                .env("PATH", DEFAULT_SEARCH_PATH)
                .env("LC_ALL", "C")
                // Dates the programs print (zfs hold times, smartctl) are then in UTC.
                .env("TZ", "UTC");
        }
        command.envs(
            invocation
                .variables()
                .iter()
                .map(|(name, value)| (name, value)),
        );
        let piped = stdin == Stdin::Caller || invocation.stdin().is_some();
        command
            .stdin(if piped { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if invocation.time_limit().is_some() {
            // Its own process group, so a time-out also kills what the program started.
            command.process_group(0);
        }
        let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
            command: invocation.to_string(),
            source,
        })?;
        if stdin == Stdin::Bytes
            && let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), invocation.stdin())
        {
            let bytes = bytes.to_vec();
            // Not joined: a program that never reads its input must not hold up the caller;
            // the write ends with a broken pipe when the program does.
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let stderr = child
            .stderr
            .take()
            .map(|pipe| capture(pipe, invocation.stderr_limit()));
        Ok(Process {
            child,
            command: invocation.to_string(),
            time_limit: invocation.time_limit(),
            deadline: invocation
                .time_limit()
                .and_then(|limit| Instant::now().checked_add(limit)),
            killed_at_deadline: false,
            stderr,
        })
    }

    /// Kills the program (its process group when it has a time limit).
    fn kill(&mut self) {
        if self.time_limit.is_some() {
            let _ = kill_process_group(Pid::from_child(&self.child), Signal::KILL);
        }
        let _ = self.child.kill();
    }

    /// Waits for the program (past its deadline: kills it) and collects its output.
    fn finish(mut self, stdout: Option<JoinHandle<Captured>>) -> Result<Output, ProcessError> {
        let waited = if self.killed_at_deadline {
            Ok(None)
        } else {
            wait_until(&mut self.child, self.deadline)
        };
        match waited {
            Ok(Some(status)) => {
                let stderr = joined(self.stderr.take());
                let stdout = joined(stdout);
                Ok(Output {
                    status: ExitStatus::from(status),
                    stdout: stdout.bytes,
                    stderr: stderr.bytes,
                    stdout_truncated: stdout.truncated,
                    stderr_truncated: stderr.truncated,
                })
            }
            Ok(None) => {
                let error = ProcessError::TimedOut {
                    command: self.command.clone(),
                    limit: self.time_limit.unwrap_or_default(),
                };
                self.abandon();
                Err(error)
            }
            Err(source) => {
                let error = ProcessError::Io {
                    command: self.command.clone(),
                    source,
                };
                self.abandon();
                Err(error)
            }
        }
    }

    /// Kills the program and reaps it on a thread, without waiting for either.
    fn abandon(mut self) {
        self.kill();
        let mut child = self.child;
        thread::spawn(move || {
            let _ = child.wait();
        });
    }
}

/// The exit status, or `None` once `deadline` has passed.
fn wait_until(
    child: &mut Child,
    deadline: Option<Instant>,
) -> io::Result<Option<std::process::ExitStatus>> {
    let Some(deadline) = deadline else {
        return child.wait().map(Some);
    };
    // Short pauses first: most programs end within milliseconds.
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Kills a program's process group at its deadline while the caller is busy with its pipes
/// (a blocked write to its input, a stream being read). Stopped before the program is
/// reaped, so it never signals a process group whose leader is gone.
#[derive(Debug)]
struct Watchdog {
    stop: mpsc::Sender<()>,
    /// Says whether it killed.
    thread: JoinHandle<bool>,
}

impl Watchdog {
    fn start(process: &Process) -> Option<Watchdog> {
        let deadline = process.deadline?;
        let group = Pid::from_child(&process.child);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let wait = deadline.saturating_duration_since(Instant::now());
            let timed_out = matches!(
                stopped.recv_timeout(wait),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            if timed_out {
                let _ = kill_process_group(group, Signal::KILL);
            }
            timed_out
        });
        Some(Watchdog { stop, thread })
    }

    /// Stops watching; true when the deadline had already passed and it killed.
    fn stop(self) -> bool {
        drop(self.stop);
        self.thread.join().unwrap_or(false)
    }
}

/// Writes the invocation's bytes and then `input` to the program's standard input.
fn feed(process: &mut Process, invocation: &Invocation, input: &mut dyn Read) -> io::Result<()> {
    let mut pipe = process
        .child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("standard input is not a pipe"))?;
    if let Some(bytes) = invocation.stdin() {
        pipe.write_all(bytes)?;
    }
    io::copy(input, &mut pipe)?;
    pipe.flush()
}

impl Runner for SystemRunner {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let mut process = Process::start(invocation, Stdin::Bytes)?;
        let stdout = process
            .child
            .stdout
            .take()
            .map(|pipe| capture(pipe, invocation.stdout_limit()));
        process.finish(stdout)
    }

    fn run_with_input(
        &self,
        invocation: &Invocation,
        input: &mut dyn Read,
    ) -> Result<Output, ProcessError> {
        let mut process = Process::start(invocation, Stdin::Caller)?;
        let stdout = process
            .child
            .stdout
            .take()
            .map(|pipe| capture(pipe, invocation.stdout_limit()));
        let watchdog = Watchdog::start(&process);
        // The pipe is closed when `feed` returns, so the program sees the end of its input.
        let fed = feed(&mut process, invocation, input);
        if let Some(watchdog) = watchdog {
            process.killed_at_deadline = watchdog.stop();
        }
        let command = process.command.clone();
        let output = process.finish(stdout)?;
        match fed {
            Err(source) if output.success() => Err(ProcessError::Io { command, source }),
            _ => Ok(output),
        }
    }

    fn spawn_reader(&self, invocation: &Invocation) -> Result<Box<dyn Running>, ProcessError> {
        let mut process = Process::start(invocation, Stdin::Bytes)?;
        let Some(stdout) = process.child.stdout.take() else {
            let command = process.command.clone();
            process.abandon();
            return Err(ProcessError::Io {
                command,
                source: io::Error::other("standard output is not a pipe"),
            });
        };
        let watchdog = Watchdog::start(&process);
        Ok(Box::new(Stream {
            process: Some(process),
            stdout,
            watchdog,
        }))
    }
}

/// A program whose standard output the caller reads.
#[derive(Debug)]
struct Stream {
    process: Option<Process>,
    stdout: ChildStdout,
    watchdog: Option<Watchdog>,
}

impl Read for Stream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buffer)
    }
}

impl Running for Stream {
    fn wait(mut self: Box<Self>) -> Result<Output, ProcessError> {
        if let Err(source) = io::copy(&mut self.stdout, &mut io::sink()) {
            let command = self
                .process
                .as_ref()
                .map(|process| process.command.clone())
                .unwrap_or_default();
            return Err(ProcessError::Io { command, source });
        }
        let killed = self.watchdog.take().is_some_and(Watchdog::stop);
        match self.process.take() {
            Some(mut process) => {
                process.killed_at_deadline = killed;
                process.finish(None)
            }
            None => Err(ProcessError::Io {
                command: String::new(),
                source: io::Error::other("already waited for"),
            }),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.stop();
        }
        // Dropped without `wait`: the reader gave up, so stop the program and reap it.
        if let Some(mut process) = self.process.take() {
            process.kill();
            let _ = process.child.wait();
        }
    }
}

#[cfg(test)]
mod tests;
