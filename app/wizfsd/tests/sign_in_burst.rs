//! A burst of parallel sign-ins against the real daemon (issue 17, finding 2): before the
//! fix, 80 simultaneous `POST /login` got 77 password verifications, the console hung for two
//! minutes and the daemon grew to 1.5 GB (each Argon2 check takes ~19 MiB). Here 100 attempts
//! arrive at once; at most the limiter's allowance is verified and the daemon's peak memory
//! (`VmHWM`) stays under 100 MB.

use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon, killed when dropped.
struct Daemon {
    child: Child,
    base: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn start(directory: &std::path::Path) -> Daemon {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let config = directory.join("wizfsd.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n[console]\ntls = \"http\"\nadvertise = false\nsite_dir = \"{}\"\n",
            directory.join("state").display(),
            directory.join("site").display(),
        ),
    )
    .expect("config");
    let child = Command::new(env!("CARGO_BIN_EXE_wizfsd"))
        .arg("--config")
        .arg(&config)
        .arg("--fake")
        .arg(directory.join("pools"))
        .env("WIZFS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts wizfsd");
    let daemon = Daemon {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while agent()
        .get(format!("{}/healthz", daemon.base))
        .call()
        .map_or(true, |response| response.status() != 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "wizfsd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon
}

fn post_form(base: &str, path: &str, body: &str) -> (u16, String) {
    match agent()
        .post(format!("{base}{path}"))
        .header("Origin", base)
        .content_type("application/x-www-form-urlencoded")
        .send(body)
    {
        Ok(mut response) => {
            let location = response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let mut rest = String::new();
            let _ = response.body_mut().as_reader().read_to_string(&mut rest);
            (response.status().as_u16(), location)
        }
        // Refused at connect or closed (a connection cap): no password was checked.
        Err(_) => (0, String::new()),
    }
}

/// The daemon's peak resident memory in kB (`VmHWM`).
fn peak_memory_kb(daemon: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id()))
        .expect("the daemon's /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// How much the burst may raise the daemon's peak memory: two password checks' worth.
const BURST_BUDGET_KB: u64 = 40 * 1024;

#[test]
fn a_hundred_parallel_sign_ins_verify_few_passwords_in_bounded_memory() {
    let directory = tempfile::tempdir().expect("tempdir");
    let daemon = start(directory.path());
    let started = peak_memory_kb(&daemon);
    let (status, location) = post_form(
        &daemon.base,
        "/setup",
        "password=the+right+password&confirm=the+right+password",
    );
    assert_eq!((status, location.as_str()), (303, "/"));
    let before = peak_memory_kb(&daemon);

    let barrier = std::sync::Arc::new(std::sync::Barrier::new(100));
    let attempts: Vec<_> = (0..100)
        .map(|_| {
            let (base, barrier) = (daemon.base.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                post_form(&base, "/login", "password=a+wrong+guess")
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = attempts
        .into_iter()
        .map(|attempt| attempt.join().expect("an attempt"))
        .collect();
    let verified = answers
        .iter()
        .filter(|(status, location)| *status == 303 && location.contains("error=wrong-password"))
        .count();
    let refused = answers
        .iter()
        .filter(|(status, _)| matches!(status, 0 | 429 | 503))
        .count();
    assert_eq!(verified + refused, 100, "{answers:?}");
    let allowed = wizfs_auth::LimitPolicy::default().max_failures_per_client;
    assert!(
        verified <= allowed,
        "{verified} passwords verified, at most {allowed} allowed: {answers:?}"
    );
    let peak = peak_memory_kb(&daemon);
    println!(
        "peak memory: {started} kB once started, {before} kB after setup, {peak} kB after the burst; {verified} verified"
    );
    // What the burst may cost: one password check's memory (~19 MiB) and the connections'
    // buffers — not one check per attempt (before the fix: 77 checks, 1.5 GB). The peak is
    // measured against the peak before the burst (which already holds setup's own hashing),
    // not as an absolute figure: this is the debug build, whose code alone is twice the
    // release daemon's (whole release daemon after the demo's browser tests: ~45 MB).
    assert!(
        peak.saturating_sub(before) < BURST_BUDGET_KB,
        "the burst raised the daemon's peak memory by {} kB: from {before} kB to {peak} kB",
        peak.saturating_sub(before)
    );
    // The console still answers.
    let health = agent()
        .get(format!("{}/healthz", daemon.base))
        .call()
        .expect("healthz");
    assert_eq!(health.status(), 200);
}
