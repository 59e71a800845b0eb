//! Pre- and post-snapshot hooks: a user's command (an argv, never a shell line) run with a
//! timeout, its standard error kept for the report. A hook that does not finish in time is
//! killed, with whatever it started. The environment tells the hook what is happening: `WIZFS_POLICY`,
//! `WIZFS_SNAPSHOT` (the short name) and `WIZFS_DATASET` (the policy's dataset).

use std::time::Duration;

use wizfs_process::{ExitStatus, Invocation, ProcessError, Runner, SystemRunner};

/// How much of a hook's standard error a report keeps.
const STDERR_LIMIT: usize = 4096;

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The argv is empty.
    #[error("the hook command is empty")]
    Empty,
    /// The program could not be started.
    #[error("cannot start hook `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The program exited unsuccessfully.
    #[error("hook `{program}` exited with {status}: {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// Its exit status.
        status: ExitStatus,
        /// The start of its standard error.
        stderr: String,
    },
    /// The program ran longer than allowed and was killed.
    #[error("hook `{program}` did not finish within {seconds} s and was killed")]
    TimedOut {
        /// The program.
        program: String,
        /// The timeout.
        seconds: u64,
    },
    /// Waiting for the program failed.
    #[error("cannot wait for hook `{program}`: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs `argv` with `environment` added, waiting at most `timeout` (then the hook and what
/// it started are killed). Hooks are the administrator's own programs: they keep the
/// daemon's environment, as they always have, and their standard output is ignored.
pub fn run_hook(
    argv: &[String],
    timeout: Duration,
    environment: &[(&str, &str)],
) -> Result<(), HookError> {
    let Some((program, arguments)) = argv.split_first() else {
        return Err(HookError::Empty);
    };
    let mut invocation = Invocation::new(program)
        .args(arguments)
        .inherit_environment()
        .with_time_limit(timeout)
        .with_stdout_limit(0)
        .with_stderr_limit(STDERR_LIMIT);
    for (name, value) in environment {
        invocation = invocation.env(name, value);
    }
    let output = SystemRunner::new()
        .run(&invocation)
        .map_err(|error| match error {
            ProcessError::Spawn { source, .. } => HookError::Spawn {
                program: program.clone(),
                source,
            },
            ProcessError::TimedOut { .. } => HookError::TimedOut {
                program: program.clone(),
                seconds: timeout.as_secs(),
            },
            other => HookError::Wait {
                program: program.clone(),
                source: other.into(),
            },
        })?;
    if output.success() {
        Ok(())
    } else {
        Err(HookError::Failed {
            program: program.clone(),
            status: output.status,
            stderr: output.stderr_text().trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn hooks_succeed_fail_and_time_out() {
        let second = Duration::from_secs(1);
        run_hook(&argv(&["true"]), second, &[]).expect("true succeeds");
        let environment = [("WIZFS_POLICY", "home")];
        run_hook(
            &argv(&["sh", "-c", "test \"$WIZFS_POLICY\" = home"]),
            second,
            &environment,
        )
        .expect("the environment reaches the hook");
        let failed = run_hook(&argv(&["sh", "-c", "echo frozen >&2; exit 3"]), second, &[])
            .expect_err("exit 3");
        assert!(
            matches!(&failed, HookError::Failed { stderr, status, .. } if stderr == "frozen" && status.code() == Some(3)),
            "{failed:?}"
        );
        let started = Instant::now();
        let timed_out = run_hook(&argv(&["sleep", "30"]), second, &[]).expect_err("too slow");
        assert!(
            matches!(timed_out, HookError::TimedOut { seconds: 1, .. }),
            "{timed_out:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "killed, not waited for"
        );
        let missing = run_hook(&argv(&["/nonexistent/hook"]), second, &[]).expect_err("missing");
        assert!(matches!(missing, HookError::Spawn { .. }), "{missing:?}");
        assert!(matches!(run_hook(&[], second, &[]), Err(HookError::Empty)));
        let chatty = run_hook(
            &argv(&[
                "sh",
                "-c",
                "head -c 200000 /dev/zero | tr '\\0' x >&2; exit 1",
            ]),
            Duration::from_secs(20),
            &[],
        )
        .expect_err("exit 1");
        assert!(
            matches!(&chatty, HookError::Failed { stderr, .. } if stderr.len() == STDERR_LIMIT),
            "a full pipe does not block the hook"
        );
    }
}
