//! Where SMART data comes from: the [`SmartSource`] trait and its real implementation
//! [`SmartctlCli`], which runs `smartctl --scan-open --json`, `smartctl --json -a -n standby`
//! and `smartctl -t short|long` as an argv (never a shell) with a cleared environment
//! (`LC_ALL=C`, `TZ=UTC`, a fixed `PATH`) and a time limit, through [`wizfs_process`].
//! Turning the output into a [`SmartReading`] is the pure function [`interpret_output`],
//! tested on every fixture.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use wizfs_process::{Invocation, ProcessError, Runner, SystemRunner};

use super::exit::ExitStatus;
use super::report::SmartctlReport;
use super::selftest::SelfTestKind;

/// A device as `smartctl --scan-open` lists it: the path and the `-d` type to pass back.
/// The path is only used to talk to smartctl, never as the disk's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedDevice {
    pub name: String,
    pub device_type: Option<String>,
    pub protocol: Option<String>,
}

/// The outcome of reading one device.
#[derive(Clone, Debug)]
pub enum SmartReading {
    /// smartctl read the device; `exit` may still report problems (bits 2–7).
    Report {
        report: Box<SmartctlReport>,
        exit: ExitStatus,
    },
    /// The disk is in standby or sleep and `-n standby` kept it that way: not a failure.
    Sleeping { messages: Vec<String> },
    /// smartctl could not read the device (exit bits 0–1): unknown type, open failed, …
    Unavailable {
        exit: ExitStatus,
        messages: Vec<String>,
    },
}

/// Failures to run smartctl or to understand its output.
#[derive(Debug, thiserror::Error)]
pub enum SmartError {
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` did not finish within {} s and was killed", timeout.as_secs())]
    Timeout { command: String, timeout: Duration },
    #[error("`{command}` ended without an exit status ({status}): {stderr}")]
    Killed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`{command}` printed no usable JSON ({status}): {source}; stderr: {stderr}")]
    InvalidJson {
        command: String,
        status: String,
        stderr: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{command}` failed (exit status {}): {}", exit.0, messages.join("; "))]
    Failed {
        command: String,
        exit: ExitStatus,
        messages: Vec<String>,
    },
    #[error("refusing device {name:?} type {device_type:?}: not a device path smartctl listed")]
    InvalidDevice {
        name: String,
        device_type: Option<String>,
    },
}

/// Reads SMART data and starts self-tests.
pub trait SmartSource: Send + Sync + fmt::Debug {
    /// The devices smartctl can open.
    fn scan(&self) -> Result<Vec<ScannedDevice>, SmartError>;
    /// Reads one device without waking it if it sleeps.
    fn read(&self, device: &ScannedDevice) -> Result<SmartReading, SmartError>;
    /// Starts a self-test; returns once the drive has accepted it.
    fn start_self_test(&self, device: &ScannedDevice, kind: SelfTestKind)
    -> Result<(), SmartError>;
}

/// Words smartctl uses in its message when `-n` finds the disk in a low-power mode
/// ("Device is in STANDBY mode, exit(2)", "… SLEEP mode …", "… IDLE_B mode …").
const LOW_POWER_WORDS: [&str; 3] = ["STANDBY", "SLEEP", "IDLE"];

/// Interprets the stdout and exit code of `smartctl --json -a`. `exit_code` is the process
/// status; when absent the status smartctl wrote into the JSON is used.
pub fn interpret_output(
    stdout: &[u8],
    exit_code: Option<i32>,
) -> Result<SmartReading, serde_json::Error> {
    let report = SmartctlReport::from_json(stdout)?;
    let exit = exit_code
        .and_then(|code| ExitStatus::from_code(i64::from(code)))
        .or_else(|| {
            report
                .smartctl
                .as_ref()
                .and_then(|info| info.exit_status)
                .and_then(ExitStatus::from_code)
        })
        .unwrap_or_default();
    if exit.has_data() {
        return Ok(SmartReading::Report {
            report: Box::new(report),
            exit,
        });
    }
    let messages = report.messages();
    let asleep = exit.device_open_failed()
        && messages.iter().any(|message| {
            LOW_POWER_WORDS
                .iter()
                .any(|word| message.contains(word) && message.contains("mode"))
        });
    Ok(if asleep {
        SmartReading::Sleeping { messages }
    } else {
        SmartReading::Unavailable { exit, messages }
    })
}

/// Parses `smartctl --scan-open --json`: the devices that opened (entries with an
/// `open_error` are left out).
pub fn parse_scan(stdout: &[u8]) -> Result<Vec<ScannedDevice>, serde_json::Error> {
    let report = SmartctlReport::from_json(stdout)?;
    Ok(report
        .devices
        .unwrap_or_default()
        .into_iter()
        .filter(|device| device.open_error.is_none())
        .filter_map(|device| {
            Some(ScannedDevice {
                name: device.name?,
                device_type: device.device_type,
                protocol: device.protocol,
            })
        })
        .collect())
}

/// Runs the real `smartctl`.
#[derive(Clone, Debug)]
pub struct SmartctlCli {
    program: PathBuf,
    timeout: Duration,
}

impl Default for SmartctlCli {
    fn default() -> Self {
        SmartctlCli {
            program: PathBuf::from("smartctl"),
            timeout: Duration::from_secs(60),
        }
    }
}

struct Output {
    stdout: Vec<u8>,
    stderr: String,
    code: Option<i32>,
    status: String,
}

impl SmartctlCli {
    /// Runs `program` instead of `smartctl` from the fixed search path (tests, other
    /// installations).
    pub fn with_program(program: impl Into<PathBuf>) -> SmartctlCli {
        SmartctlCli {
            program: program.into(),
            ..SmartctlCli::default()
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> SmartctlCli {
        self.timeout = timeout;
        self
    }

    fn invocation(&self, args: &[&str]) -> Invocation {
        Invocation::new(&self.program)
            .args(args)
            .with_time_limit(self.timeout)
    }

    fn describe(&self, args: &[&str]) -> String {
        self.invocation(args).to_string()
    }

    fn run(&self, args: &[&str]) -> Result<Output, SmartError> {
        let invocation = self.invocation(args);
        let output = SystemRunner::new()
            .run(&invocation)
            .map_err(|error| match error {
                ProcessError::TimedOut { command, limit } => SmartError::Timeout {
                    command,
                    timeout: limit,
                },
                ProcessError::Spawn { command, source } | ProcessError::Io { command, source } => {
                    SmartError::Spawn { command, source }
                }
                other => SmartError::Spawn {
                    command: invocation.to_string(),
                    source: other.into(),
                },
            })?;
        Ok(Output {
            code: output.status.code(),
            status: output.status.to_string(),
            stderr: output.stderr_text(),
            stdout: output.stdout,
        })
    }

    /// `-d TYPE DEVICE`, refusing anything that could be taken for an option.
    fn device_args(device: &ScannedDevice) -> Result<Vec<&str>, SmartError> {
        let type_ok = device.device_type.as_deref().is_none_or(|device_type| {
            !device_type.is_empty()
                && device_type.chars().all(|character| {
                    character.is_ascii_alphanumeric() || ",+_-".contains(character)
                })
                && !device_type.starts_with('-')
        });
        if !device.name.starts_with('/') || !type_ok {
            return Err(SmartError::InvalidDevice {
                name: device.name.clone(),
                device_type: device.device_type.clone(),
            });
        }
        let mut args = Vec::new();
        if let Some(device_type) = &device.device_type {
            args.extend(["-d", device_type.as_str()]);
        }
        args.push(device.name.as_str());
        Ok(args)
    }

    fn parse<T>(
        &self,
        args: &[&str],
        output: &Output,
        parse: impl FnOnce(&[u8], Option<i32>) -> Result<T, serde_json::Error>,
    ) -> Result<T, SmartError> {
        if output.code.is_none() {
            return Err(SmartError::Killed {
                command: self.describe(args),
                status: output.status.clone(),
                stderr: output.stderr.clone(),
            });
        }
        parse(&output.stdout, output.code).map_err(|source| SmartError::InvalidJson {
            command: self.describe(args),
            status: output.status.clone(),
            stderr: output.stderr.clone(),
            source,
        })
    }
}

impl SmartSource for SmartctlCli {
    fn scan(&self) -> Result<Vec<ScannedDevice>, SmartError> {
        let args = ["--scan-open", "--json"];
        let output = self.run(&args)?;
        self.parse(&args, &output, |stdout, _| parse_scan(stdout))
    }

    fn read(&self, device: &ScannedDevice) -> Result<SmartReading, SmartError> {
        let mut args = vec!["--json", "-a", "-n", "standby"];
        args.extend(Self::device_args(device)?);
        let output = self.run(&args)?;
        self.parse(&args, &output, interpret_output)
    }

    fn start_self_test(
        &self,
        device: &ScannedDevice,
        kind: SelfTestKind,
    ) -> Result<(), SmartError> {
        let mut args = vec!["--json", "-t", kind.smartctl_argument()];
        args.extend(Self::device_args(device)?);
        let output = self.run(&args)?;
        let report = self.parse(&args, &output, |stdout, _| {
            SmartctlReport::from_json(stdout)
        })?;
        let exit = output
            .code
            .and_then(|code| ExitStatus::from_code(i64::from(code)))
            .unwrap_or_default();
        // Bits 0–2: bad arguments, open failed, or the drive refused the command.
        if exit.0 & 0b111 != 0 {
            return Err(SmartError::Failed {
                command: self.describe(&args),
                exit,
                messages: report.messages(),
            });
        }
        Ok(())
    }
}
