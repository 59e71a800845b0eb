//! [`SystemRunner`] against small real programs (`sh`, `cat`, `env`, `sleep`): output kept
//! up to its limits, the environment cleared, input given, time limits that kill the whole
//! process group, and failures reported as typed errors.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn sh(script: &str) -> Invocation {
    Invocation::new("sh").args(["-c", script])
}

/// A process is gone once it has no `/proc` entry or is a zombie nobody reaped yet.
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn output_and_status_are_captured() {
    let output = SystemRunner::new()
        .run(&sh("printf out; printf err >&2; exit 3"))
        .expect("runs");
    assert_eq!(output.status, ExitStatus::Code(3));
    assert_eq!(output.stdout, b"out");
    assert_eq!(output.stderr_text(), "err");
    assert!(!output.stdout_truncated && !output.stderr_truncated);
}

#[test]
fn a_signal_is_reported_as_such() {
    let output = SystemRunner::new().run(&sh("kill -TERM $$")).expect("runs");
    assert_eq!(output.status, ExitStatus::Signal(15));
    let error = output.checked(&sh("kill -TERM $$")).expect_err("signalled");
    assert!(
        matches!(error, ProcessError::Signalled { signal: 15, .. }),
        "{error}"
    );
}

#[test]
fn the_environment_is_cleared_to_the_fixed_variables_and_those_named() {
    let output = SystemRunner::new()
        .run(&Invocation::new("env").env("WIZFS_POLICY", "home"))
        .expect("runs");
    let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "LC_ALL=C".to_owned(),
            format!("PATH={DEFAULT_SEARCH_PATH}"),
            "TZ=UTC".to_owned(),
            "WIZFS_POLICY=home".to_owned(),
        ]
    );
}

#[test]
fn an_inherited_environment_keeps_this_process_variables() {
    let output = SystemRunner::new()
        .run(
            &Invocation::new("env")
                .inherit_environment()
                .env("WIZFS_SNAPSHOT", "a"),
        )
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.lines().any(|line| line == "WIZFS_SNAPSHOT=a"),
        "{text}"
    );
    let ours = std::env::vars().find(|(name, value)| !name.is_empty() && !value.contains('\n'));
    if let Some((name, value)) = ours {
        let line = format!("{name}={value}");
        assert!(
            text.lines().any(|seen| seen == line),
            "{line} missing: {text}"
        );
    }
}

#[test]
fn output_beyond_the_limit_is_dropped_without_blocking_the_program() {
    let output = SystemRunner::new()
        .run(
            &sh("head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2")
                .with_stdout_limit(1000)
                .with_stderr_limit(10),
        )
        .expect("runs");
    assert!(output.success());
    assert_eq!((output.stdout.len(), output.stdout_truncated), (1000, true));
    assert_eq!((output.stderr.len(), output.stderr_truncated), (10, true));
}

#[test]
fn standard_input_is_given_or_empty() {
    let given = SystemRunner::new()
        .run(&Invocation::new("cat").with_stdin("hello"))
        .expect("runs");
    assert_eq!(given.stdout, b"hello");
    let empty = SystemRunner::new()
        .run(&Invocation::new("cat"))
        .expect("runs");
    assert_eq!(empty.stdout, b"");
}

#[test]
fn a_streamed_input_goes_in_whole_while_the_output_is_read() {
    let input: Vec<u8> = (0..2_000_000u32).map(|index| (index % 251) as u8).collect();
    let output = SystemRunner::new()
        .run_with_input(
            &Invocation::new("cat").with_stdin("head:"),
            &mut input.as_slice(),
        )
        .expect("runs");
    assert_eq!(&output.stdout[..5], b"head:");
    assert!(output.stdout[5..] == input[..], "the stream arrives intact");
}

#[test]
fn a_program_that_stops_reading_explains_itself_by_its_status() {
    let input = vec![0u8; 4 << 20];
    let failed = SystemRunner::new()
        .run_with_input(&sh("echo no room >&2; exit 2"), &mut input.as_slice())
        .expect("the status explains the broken pipe");
    assert_eq!(
        (failed.status, failed.stderr_text().as_str()),
        (ExitStatus::Code(2), "no room\n")
    );
    let succeeded =
        SystemRunner::new().run_with_input(&Invocation::new("true"), &mut input.as_slice());
    assert!(
        matches!(succeeded, Err(ProcessError::Io { .. })),
        "input that was never read is an error when the program succeeded: {succeeded:?}"
    );
}

#[test]
fn a_stream_of_output_is_read_then_waited_for() {
    let mut running = SystemRunner::new()
        .spawn_reader(&sh("printf abc; echo oops >&2; exit 1"))
        .expect("starts");
    let mut text = String::new();
    running.read_to_string(&mut text).expect("reads");
    assert_eq!(text, "abc");
    let output = running.wait().expect("waits");
    assert_eq!(output.status, ExitStatus::Code(1));
    assert_eq!(output.stderr_text(), "oops\n");
}

#[test]
fn the_time_limit_kills_the_whole_process_group_and_returns_at_once() {
    let folder = tempfile::tempdir().expect("temp dir");
    let pid_file = folder.path().join("pid");
    let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let started = Instant::now();
    let error = SystemRunner::new()
        .run(&sh(&script).with_time_limit(Duration::from_millis(500)))
        .expect_err("too slow");
    assert!(
        matches!(&error, ProcessError::TimedOut { limit, .. } if *limit == Duration::from_millis(500)),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "killed, not waited for"
    );
    let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote its child's pid");
    let pid = pid.trim();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone(pid), "the program's own child {pid} was killed too");
}

#[test]
fn the_time_limit_holds_while_input_is_written_or_output_streamed() {
    let input = vec![0u8; 8 << 20];
    let started = Instant::now();
    let writing = SystemRunner::new().run_with_input(
        &Invocation::new("sleep")
            .arg("30")
            .with_time_limit(Duration::from_millis(300)),
        &mut input.as_slice(),
    );
    assert!(
        matches!(writing, Err(ProcessError::TimedOut { .. })),
        "{writing:?}"
    );
    let mut streaming = SystemRunner::new()
        .spawn_reader(&sh("printf x; sleep 30").with_time_limit(Duration::from_millis(300)))
        .expect("starts");
    let mut text = Vec::new();
    streaming.read_to_end(&mut text).expect("ends when killed");
    assert_eq!(text, b"x");
    let waited = streaming.wait();
    assert!(
        matches!(waited, Err(ProcessError::TimedOut { .. })),
        "{waited:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "killed, not waited for"
    );
}

#[test]
fn a_dropped_stream_stops_its_program() {
    let started = Instant::now();
    let running = SystemRunner::new()
        .spawn_reader(&Invocation::new("sleep").arg("30"))
        .expect("starts");
    drop(running);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    for program in ["/nonexistent/program", "wizfs-no-such-program"] {
        let error = SystemRunner::new()
            .run(&Invocation::new(program))
            .expect_err("not there");
        assert!(matches!(&error, ProcessError::Spawn { .. }), "{error}");
        assert_eq!(
            std::io::Error::from(error).kind(),
            std::io::ErrorKind::NotFound
        );
    }
}
