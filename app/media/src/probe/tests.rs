//! The ffprobe adapter: the exact argv (scripted runner), what each way of failing becomes,
//! and the time limit and output cap against real processes — small shell scripts standing in
//! for ffprobe, so these tests need no ffmpeg.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use wizfs_process::{ExitStatus, ScriptedRunner};

use super::*;

const ARGS: [&str; 9] = [
    "-v",
    "error",
    "-protocol_whitelist",
    "file",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "file:/tank/films/-i holiday.mp4",
];

const VIDEO_JSON: &str = r#"{"streams": [{"codec_type": "video", "codec_name": "h264",
    "width": 1280, "height": 720}], "format": {"duration": "4.004000"}}"#;

fn scripted(runner: ScriptedRunner) -> (Arc<ScriptedRunner>, FfprobeCli) {
    let runner = Arc::new(runner);
    let probe = FfprobeCli::with_runner(runner.clone());
    (runner, probe)
}

#[test]
fn ffprobe_gets_the_path_as_a_file_url_and_its_answers_become_facts() {
    let path = Path::new("/tank/films/-i holiday.mp4");
    let cases = [
        (ExitStatus::Code(0), VIDEO_JSON, "", "video"),
        (
            ExitStatus::Code(1),
            "{\n\n}\n",
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5] moov atom not found\nx.mp4: Invalid data\n",
            "unreadable: [mov,mp4,m4a,3gp,3g2,mj2 @ 0x5] moov atom not found",
        ),
        (ExitStatus::Signal(9), "", "", "unreadable: no message"),
        (
            ExitStatus::Code(0),
            "{",
            "",
            "the metadata reader printed no usable JSON",
        ),
    ];
    for (status, stdout, stderr, expected) in cases {
        let (runner, probe) =
            scripted(ScriptedRunner::new().expect_exit("ffprobe", &ARGS, status, stdout, stderr));
        let shown = match probe.probe(path) {
            MediaFacts::Video(facts) => {
                assert_eq!(facts.duration_millis, Some(4_004));
                "video".to_owned()
            }
            MediaFacts::Unknown(reason) => reason.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(shown, expected);
        assert_eq!(runner.remaining(), 0);
    }
}

#[test]
fn relative_paths_are_refused_before_anything_runs() {
    let (runner, probe) = scripted(ScriptedRunner::new());
    for path in ["holiday.mp4", "-i", "concat:a|b", ""] {
        assert_eq!(
            probe.probe(Path::new(path)),
            MediaFacts::Unknown(UnknownReason::NotAbsolute),
            "{path}"
        );
    }
    assert_eq!(runner.remaining(), 0);
}

/// A stand-in for ffprobe: a shell script running `body`.
fn stand_in(folder: &Path, name: &str, body: &str) -> PathBuf {
    let path = folder.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the script");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("make it executable");
    path
}

#[test]
fn time_limit_output_cap_and_a_missing_program_make_the_file_unknown() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let json = folder.path().join("video.json");
    fs::write(&json, VIDEO_JSON).expect("write the JSON");
    let media = Path::new("/tank/films/holiday.mp4");
    let cases = [
        (
            stand_in(
                folder.path(),
                "answers",
                &format!("cat '{}'", json.display()),
            ),
            "video".to_owned(),
        ),
        (
            stand_in(folder.path(), "hangs", "exec sleep 30"),
            UnknownReason::TimedOut { seconds: 1 }.to_string(),
        ),
        (
            stand_in(
                folder.path(),
                "floods",
                "yes '{\"streams\": []}' | head -c 2000000",
            ),
            UnknownReason::OutputTooLarge { bytes: 10_000 }.to_string(),
        ),
        (
            stand_in(
                folder.path(),
                "fails",
                "echo 'Invalid data found' >&2; exit 1",
            ),
            "unreadable: Invalid data found".to_owned(),
        ),
    ];
    for (program, expected) in cases {
        let probe = FfprobeCli::new()
            .program(&program)
            .time_limit(Duration::from_secs(1))
            .output_limit(10_000);
        let shown = match probe.probe(media) {
            MediaFacts::Video(_) => "video".to_owned(),
            MediaFacts::Unknown(reason) => reason.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(shown, expected, "{}", program.display());
    }
    let missing = FfprobeCli::new().program(folder.path().join("not-installed"));
    assert!(
        matches!(
            missing.probe(media),
            MediaFacts::Unknown(UnknownReason::ReaderFailed { .. })
        ),
        "a missing program"
    );
}

#[test]
fn the_fake_answers_what_it_was_given() {
    let facts = MediaFacts::Video(crate::VideoFacts {
        duration_millis: Some(1),
        ..Default::default()
    });
    let fake = FakeProbe::new().with("/a.mp4", facts.clone());
    assert_eq!(fake.probe(Path::new("/a.mp4")), facts);
    assert!(matches!(
        fake.probe(Path::new("/b.mp4")),
        MediaFacts::Unknown(UnknownReason::Unreadable { .. })
    ));
}
