//! How `zfs`/`zpool` processes are started: through [`wizfs_process`], the one place in
//! WiZFS that starts processes. [`SystemRunner`] runs the real programs from an argv, never
//! through a shell, with a clean environment (`LC_ALL=C`, `TZ=UTC`, fixed `PATH`) and no time
//! limit (a send or a receive may take hours). [`ScriptedRunner`] is the fake for unit tests:
//! it holds the exact argv sequence a test expects and the canned output of each, and fails
//! loudly on any other command. [`Program`] names the two programs, here and nowhere else.

use std::ffi::OsStr;

pub use wizfs_process::{
    ExitStatus, Invocation, Output, ProcessError, Runner as CommandRunner,
    Running as RunningCommand, ScriptedRunner, SystemRunner,
};

/// Bytes of standard output kept from one command: far more than any listing WiZFS asks for
/// (a million snapshots list in about 150 MiB); a longer output is reported as an error
/// rather than parsed in part.
pub const STDOUT_LIMIT: usize = 1 << 30;

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

    /// A command line of this program, with the output limit of every `zfs`/`zpool` command.
    pub fn invocation(self) -> Invocation {
        Invocation::new(self.name()).with_stdout_limit(STDOUT_LIMIT)
    }
}

impl AsRef<OsStr> for Program {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_runner_checks_argv_exactly() {
        let runner = ScriptedRunner::new().expect_ok(Program::Zfs, &["list", "-H"], "x\n");
        let wrong = runner.run(&Program::Zfs.invocation().args(["list", "-Hp"]));
        let message = wrong.expect_err("mismatch must fail").to_string();
        assert!(message.contains("expected `zfs list -H`"), "{message}");
        assert_eq!(
            runner.remaining(),
            0,
            "a mismatched call still consumes the expectation"
        );
        let extra = runner.run(&Program::Zfs.invocation().arg("list"));
        assert!(extra.is_err());
    }

    #[test]
    fn invocation_display_quotes_spaces() {
        let invocation = Program::Zfs
            .invocation()
            .args(["snapshot", "tank/my data@a"]);
        assert_eq!(invocation.to_string(), "zfs snapshot 'tank/my data@a'");
    }
}
