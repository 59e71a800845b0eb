//! Pre- and post-snapshot hooks: a user's command (an argv, never a shell line) run with a
//! timeout, its standard error kept for the report. A hook that does not finish in time is
//! killed. The environment tells the hook what is happening: `WIZFS_POLICY`,
//! `WIZFS_SNAPSHOT` (the short name) and `WIZFS_DATASET` (the policy's dataset).

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// Runs `argv` with `environment` added, waiting at most `timeout`.
pub fn run_hook(
    argv: &[String],
    timeout: Duration,
    environment: &[(&str, &str)],
) -> Result<(), HookError> {
    let Some((program, arguments)) = argv.split_first() else {
        return Err(HookError::Empty);
    };
    let mut child = Command::new(program)
        .args(arguments)
        .envs(environment.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| HookError::Spawn {
            program: program.clone(),
            source,
        })?;
    // Read standard error on a thread so a chatty hook cannot block on a full pipe.
    let stderr_reader = child.stderr.take().map(|mut stderr| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let room = STDERR_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..read.min(room)]);
            }
            String::from_utf8_lossy(&kept).trim().to_owned()
        })
    });
    let deadline = Instant::now() + timeout;
    let waited = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(HookError::TimedOut {
                    program: program.clone(),
                    seconds: timeout.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => {
                let _ = child.kill();
                break Err(HookError::Wait {
                    program: program.clone(),
                    source,
                });
            }
        }
    };
    let stderr = stderr_reader
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let status = waited?;
    if status.success() {
        Ok(())
    } else {
        Err(HookError::Failed {
            program: program.clone(),
            status,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
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
