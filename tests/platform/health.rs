//! Platform test of health monitoring on the VM's real (emulated) hardware: `wizfsd` runs with
//! smartctl and OpenZFS as on the appliance, a round every two seconds, and a webhook channel
//! pointing at a receiver this test runs on 127.0.0.1. It proves that the scan finds both
//! NVMe disks by identity (the one with a critical warning is critical, the healthy one has
//! no finding), that the test pool's vdev tree is read, that taking one side of the mirror
//! offline reaches the webhook once within 60 s and `zpool online` + `zpool clear` brings
//! one "resolved" message, that the daemon's scrub schedule scrubs the pool again once its
//! last scan is the resilver, and that scrub becomes the last scrub (and a history point at
//! its end time), that checksum errors a scrub repairs on one side (its blocks of a file
//! overwritten behind ZFS's back) are one warning and `zpool clear` resolves it, that
//! `wizfs health --json` sees the same disks without sending
//! anything, that the test button works, and that a restarted daemon sends nothing again.
//! The test's name contains `health`: `tests/vm/run --filter health` runs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wizfs_tests::vm::{VmEnvironment, run};

/// Collects what the daemon posts to `/hook`.
struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    sink.lock().expect("lock").push(body);
                    "ok"
                }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            received,
            url,
            _runtime: runtime,
        }
    }

    fn messages(&self) -> Vec<Value> {
        self.received.lock().expect("lock").clone()
    }

    /// Messages of `event` about `kind` whose subject has `field` = `value`.
    fn count(&self, event: &str, kind: &str, field: &str, value: &str) -> usize {
        self.messages()
            .iter()
            .filter(|message| {
                message["event"] == event
                    && message["kind"] == kind
                    && message["subject"][field].as_str() == Some(value)
            })
            .count()
    }
}

/// A running `wizfsd`, stopped when dropped, and a signed-in session with it.
struct Daemon {
    child: Child,
    base: String,
    /// `name=value` of the session cookie.
    cookie: String,
    /// The session's CSRF token (this client sends no `Origin`).
    csrf: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Puts the offlined mirror side back, whatever happens to the test.
struct OnlineAgain {
    pool: String,
    device: String,
}

impl Drop for OnlineAgain {
    fn drop(&mut self) {
        let _ = Command::new("zpool")
            .args(["online", &self.pool, &self.device])
            .status();
        let _ = Command::new("zpool").args(["clear", &self.pool]).status();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(error) => (0, Value::String(error.to_string())),
    }
}

impl Daemon {
    fn start(environment: &VmEnvironment, config: &Path) -> Daemon {
        let child = Command::new(environment.bin_dir.join("wizfsd"))
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .spawn()
            .expect("start wizfsd");
        let listen = std::fs::read_to_string(config)
            .expect("config")
            .lines()
            .find_map(|line| line.strip_prefix("listen = "))
            .expect("listen line")
            .trim_matches('"')
            .to_owned();
        let mut daemon = Daemon {
            child,
            base: format!("http://{listen}"),
            cookie: String::new(),
            csrf: String::new(),
        };
        daemon.sign_in();
        wait_for("the first health round", Duration::from_secs(180), || {
            daemon.get("/api/v1/health").0 == 200
        });
        daemon
    }

    /// First-boot setup (a fresh data folder) or sign-in (a restarted daemon).
    fn sign_in(&mut self) {
        wait_for("the daemon to answer", Duration::from_secs(60), || {
            answer(agent().get(format!("{}/healthz", self.base)).call()).0 != 0
        });
        let no_redirects: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        let password = "password+of+the+health+test";
        let cookie = ["/setup", "/login"].iter().find_map(|page| {
            let response = no_redirects
                .post(format!("{}{page}", self.base))
                .content_type("application/x-www-form-urlencoded")
                .send(format!("password={password}&confirm={password}"))
                .ok()?;
            let cookie = response.headers().get("set-cookie")?.to_str().ok()?;
            Some(cookie.split(';').next()?.to_owned())
        });
        self.cookie = cookie.expect("a session from /setup or /login");
        let (status, session) = self.get("/api/v1/session");
        assert_eq!(status, 200, "{session}");
        self.csrf = session["csrf_token"]
            .as_str()
            .expect("a CSRF token")
            .to_owned();
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(
            agent()
                .get(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .call(),
        )
    }

    fn post(&self, path: &str) -> (u16, Value) {
        answer(
            agent()
                .post(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .header("X-CSRF-Token", &self.csrf)
                .send_empty(),
        )
    }

    fn view(&self) -> Value {
        let (status, view) = self.get("/api/v1/health");
        assert_eq!(status, 200, "{view}");
        view
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn pool<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["pools"]
        .as_array()
        .and_then(|pools| pools.iter().find(|pool| pool["name"] == name))
        .unwrap_or_else(|| panic!("pool {name} in {view}"))
}

/// The disks of a view by serial number: (identity token, severity).
fn disks(view: &Value) -> Vec<(String, String, Value)> {
    let mut found: Vec<(String, String, Value)> = view["disks"]
        .as_array()
        .expect("disks")
        .iter()
        .map(|disk| {
            (
                disk["summary"]["serial"].as_str().unwrap_or("-").to_owned(),
                disk["identity"].as_str().unwrap_or("-").to_owned(),
                disk["severity"].clone(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn write_config(directory: &Path, port: u16, hook: &str, mail_port: u16) -> PathBuf {
    let config = directory.join("wizfsd.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\n\
             data_dir = \"{}\"\n\
             log = \"info\"\n\n\
             [index]\ninterval_seconds = 0\nexclude = [\"wzt\", \"wzb\"]\n\n\
             [health.intervals]\nsmart_minutes = 60\npools_seconds = 2\nsensors_seconds = 2\n\n\
             [health.alerts]\nmax_per_hour_per_channel = 100\n\n\
             [[health.notify]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{hook}\"\n\n\
             [[health.notify]]\ntype = \"email\"\nname = \"mail\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {mail_port}\nsecurity = \"none\"\nfrom = \"WiZFS <nas@example.org>\"\n\
             to = [\"admin@example.org\"]\n",
            directory.join("state").display()
        ),
    )
    .expect("write the configuration");
    config
}

/// Where ZFS's data area starts on a leaf vdev (`VDEV_LABEL_START_SIZE`: two 256 KiB labels
/// and 3.5 MiB of boot space); the offsets of block pointers count from there.
const LABEL_START: u64 = 4 << 20;

/// The data blocks of `file` in `dataset` as (offset, allocated size) in the data area of the
/// pool's first top-level vdev: the `L0` block pointers that `zdb -ddddd` lists for the
/// file's object, `vdev:offset:asize` in hex (the same format in 2.1 and 2.3).
fn data_blocks(dataset: &str, file: &Path) -> Vec<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let object = std::fs::metadata(file).expect("stat the file").ino();
    let listing = run(&["zdb", "-ddddd", dataset, &object.to_string()]);
    let hex = |text: &str, line: &str| {
        u64::from_str_radix(text, 16).unwrap_or_else(|_| panic!("zdb: {line:?}"))
    };
    let blocks: Vec<(u64, u64)> = listing
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some("L0"))
        .map(|line| {
            let dva = line.split_whitespace().nth(2).unwrap_or_default();
            match dva.split(':').collect::<Vec<_>>().as_slice() {
                ["0", offset, size] => (hex(offset, line), hex(size, line)),
                _ => panic!("zdb: not a block on vdev 0: {line:?}"),
            }
        })
        .collect();
    assert!(!blocks.is_empty(), "zdb lists no data blocks:\n{listing}");
    blocks
}

/// Overwrites `blocks` (from [`data_blocks`]) on one leaf vdev of the mirror, behind ZFS's
/// back: `leg` is the partition ZFS made on a whole disk.
fn overwrite(leg: &str, blocks: &[(u64, u64)]) {
    use std::io::{Seek as _, SeekFrom, Write as _};
    let mut device = std::fs::OpenOptions::new()
        .write(true)
        .open(leg)
        .unwrap_or_else(|error| panic!("{leg}: {error}"));
    for &(offset, size) in blocks {
        let garbage = vec![0x5a_u8; usize::try_from(size).expect("block size")];
        device
            .seek(SeekFrom::Start(LABEL_START + offset))
            .and_then(|_| device.write_all(&garbage))
            .unwrap_or_else(|error| panic!("{leg} at {offset:#x}: {error}"));
    }
    device.sync_all().expect("flush the leg");
}

#[test]
fn health_monitoring_reaches_the_webhook_once_and_resolves() {
    let environment = VmEnvironment::from_env();
    let pool_name = environment.pool.to_string();
    let directory = tempfile::tempdir().expect("temporary directory");
    let receiver = Receiver::start();
    let mail = wizfs_tests::smtp::SmtpSink::start().expect("SMTP sink");
    // Mails whose subject names `what` (e.g. "CRITICAL: pool wzt: pool_state").
    let mails = |what: &str| -> usize {
        mail.messages()
            .iter()
            .filter(|message| {
                message
                    .lines()
                    .any(|line| line.starts_with("Subject:") && line.contains(what))
            })
            .count()
    };
    let config = write_config(
        directory.path(),
        free_port(),
        &receiver.url,
        mail.address.port(),
    );
    let mut daemon = Daemon::start(&environment, &config);

    // Both emulated NVMe disks, by serial (QEMU has no WWN or EUI-64): the one with the
    // injected critical warning is critical, the healthy one has no finding.
    let view = daemon.view();
    let found = disks(&view);
    assert_eq!(
        found,
        [
            (
                "WIZFSNVME0".to_owned(),
                "QEMU_NVMe_Ctrl_WIZFSNVME0".to_owned(),
                Value::Null
            ),
            (
                "WIZFSNVME1".to_owned(),
                "QEMU_NVMe_Ctrl_WIZFSNVME1".to_owned(),
                Value::from("critical")
            ),
        ],
        "{view}"
    );
    let about_disk = |serial: &str| -> Vec<String> {
        view["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|finding| finding["subject"]["disk"]["value"]["serial"] == serial)
            .map(|finding| format!("{} {}", finding["severity"], finding["kind"]))
            .collect()
    };
    assert!(about_disk("WIZFSNVME0").is_empty(), "{view}");
    assert!(
        about_disk("WIZFSNVME1").contains(&"\"critical\" \"nvme_critical_warning\"".to_owned()),
        "{view}"
    );
    wait_for("the disk's message", Duration::from_secs(60), || {
        receiver
            .messages()
            .iter()
            .any(|message| message["event"] == "new" && message["kind"] == "nvme_critical_warning")
    });

    // The test pool: a healthy mirror and its vdev tree.
    let tank = pool(&view, &pool_name);
    assert_eq!(tank["state"], "ONLINE", "{tank}");
    let mirror = &tank["vdevs"][0];
    assert!(
        mirror["name"].as_str().unwrap_or("").starts_with("mirror"),
        "{tank}"
    );
    let sides = mirror["children"].as_array().expect("mirror sides");
    assert_eq!(sides.len(), 2, "{tank}");
    assert!(sides.iter().all(|side| side["state"] == "ONLINE"), "{tank}");
    assert_ne!(tank["severity"], "critical", "{tank}");
    let side = sides[1]["name"].as_str().expect("side name").to_owned();

    // One side offline: one message within 60 s, and no second one in later rounds.
    let restore = OnlineAgain {
        pool: pool_name.clone(),
        device: side.clone(),
    };
    run(&["zpool", "offline", &pool_name, &side]);
    let pool_state_mail = format!("CRITICAL: pool {pool_name}: pool_state");
    wait_for("the pool_state message", Duration::from_secs(60), || {
        receiver.count("new", "pool_state", "pool", &pool_name) == 1 && mails(&pool_state_mail) == 1
    });
    // The round publishes its view after it has sent its messages: wait for that view.
    let mut degraded = Value::Null;
    wait_for("the degraded view", Duration::from_secs(30), || {
        degraded = daemon.view();
        pool(&degraded, &pool_name)["state"] == "DEGRADED"
    });
    let tank = pool(&degraded, &pool_name);
    assert_eq!(tank["state"], "DEGRADED", "{tank}");
    assert_eq!(
        tank["vdevs"][0]["children"][1]["state"], "OFFLINE",
        "{tank}"
    );
    assert_eq!(tank["severity"], "critical", "{tank}");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(receiver.count("new", "pool_state", "pool", &pool_name), 1);
    assert_eq!(mails(&pool_state_mail), 1, "{:#?}", mail.messages());
    assert_eq!(receiver.count("new", "vdev_state", "vdev", &side), 1);

    // Back online and cleared: one "resolved".
    let resilver_started = unix_now();
    run(&["zpool", "online", &pool_name, &side]);
    run(&["zpool", "clear", &pool_name]);
    let resolved_mail = format!("RESOLVED: pool {pool_name}: pool_state");
    wait_for("the resolved message", Duration::from_secs(60), || {
        receiver.count("resolved", "pool_state", "pool", &pool_name) == 1
            && mails(&resolved_mail) == 1
    });
    drop(restore);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        receiver.count("resolved", "pool_state", "pool", &pool_name),
        1
    );
    assert_eq!(receiver.count("new", "pool_state", "pool", &pool_name), 1);

    // The schedule ([health.scrubs], default 30 days) scrubs the pool again: its last scan
    // is now the resilver, which is no scrub. That scrub becomes the last scrub, with its end
    // time, and a point of the scrub history.
    run(&["zpool", "wait", "-t", "resilver", &pool_name]);
    let mut checked = serde_json::Value::Null;
    wait_for("the scheduled scrub", Duration::from_secs(120), || {
        let (status, view) = daemon.post("/api/v1/health/check");
        assert_eq!(status, 200, "{view}");
        let scrub = &pool(&view, &pool_name)["scrub"];
        let done = scrub["function"] == "scrub"
            && scrub["state"] == "finished"
            && scrub["ended_unix"]
                .as_i64()
                .is_some_and(|ended| ended + 1 >= resilver_started);
        checked = view;
        done
    });
    let before = resilver_started;
    let after = unix_now();
    let scrub = &pool(&checked, &pool_name)["scrub"];
    assert_eq!(scrub["errors"], 0, "{scrub}");
    let ended = scrub["ended_unix"].as_i64().expect("scrub end");
    assert!(
        (before - 1..=after + 1).contains(&ended),
        "{before} <= {ended} <= {after}"
    );
    let (status, series) = daemon.get(&format!(
        "/api/v1/health/history?metric=pool/{pool_name}/scrub/errors&from={}&to={}",
        before - 60,
        after + 60
    ));
    assert_eq!(status, 200, "{series}");
    // (The daemon's first scheduled scrub of the pool may be in the series too.)
    assert!(
        series["points"]
            .as_array()
            .is_some_and(|points| points.iter().any(|point| point["time"] == ended)),
        "{series}"
    );

    // One mirror leg overwritten behind ZFS's back, then a scrub: it repairs the damage and
    // counts checksum errors on that leg, which is one warning by mail and webhook, once;
    // `zpool clear` resolves it.
    let data = format!("{pool_name}/healthdata");
    run(&["zfs", "create", &data]);
    let mut noise = vec![0u8; 64 << 20];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in noise.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let file = PathBuf::from(format!("/{data}/noise.bin"));
    std::fs::write(&file, &noise).expect("write data");
    run(&["zpool", "sync", &pool_name]);
    // Where the file's blocks lie is ZFS's choice, so the damage goes where zdb says they are.
    // OpenZFS 2.1 writes each object through one of four allocators, each filling a metaslab
    // of its own (256 MiB each here), while 2.3 has one allocator per four CPUs, one in this
    // VM: a fixed stretch at the front of the disk held the file on 2.3, and none of it on
    // 2.1, where the file landed 1 GiB in.
    let blocks = data_blocks(&data, &file);
    let leg = format!("/dev/{side}1");
    overwrite(&leg, &blocks);
    run(&["zpool", "scrub", "-w", &pool_name]);
    // ZFS itself counted the damage (else the test missed the data, not WiZFS the errors).
    let status = run(&["zpool", "status", "-p", &pool_name]);
    assert!(
        status.lines().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.first() == Some(&side.as_str()) && words.get(4).is_some_and(|count| *count != "0")
        }),
        "no checksum errors on {side} after the scrub:\n{status}"
    );
    let errors_mail = format!("WARNING: vdev {side} of pool {pool_name}: vdev_errors");
    wait_for(
        "the checksum error messages",
        Duration::from_secs(60),
        || receiver.count("new", "vdev_errors", "vdev", &side) == 1 && mails(&errors_mail) == 1,
    );
    let (_, repaired) = daemon.post("/api/v1/health/check");
    let damaged = &pool(&repaired, &pool_name)["vdevs"][0]["children"][1];
    assert!(
        damaged["checksum_errors"].as_u64().unwrap_or(0) > 0,
        "{damaged}"
    );
    assert_eq!(
        pool(&repaired, &pool_name)["scrub"]["errors"],
        0,
        "repaired"
    );
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(receiver.count("new", "vdev_errors", "vdev", &side), 1);
    assert_eq!(mails(&errors_mail), 1);
    run(&["zpool", "clear", &pool_name]);
    let errors_resolved = format!("RESOLVED: vdev {side} of pool {pool_name}: vdev_errors");
    wait_for(
        "the checksum errors resolved",
        Duration::from_secs(60),
        || {
            receiver.count("resolved", "vdev_errors", "vdev", &side) == 1
                && mails(&errors_resolved) == 1
        },
    );
    run(&["zfs", "destroy", "-r", &data]);

    // The CLI sees the same disks, and sends nothing.
    let sent_before = receiver.messages().len();
    let config_text = config.to_string_lossy().into_owned();
    let wizfs_path = environment
        .bin_dir
        .join("wizfs")
        .to_string_lossy()
        .into_owned();
    let wizfs = wizfs_path.as_str();
    let config_text = config_text.as_str();
    let shown = run(&[wizfs, "--config", config_text, "--json", "health"]);
    let cli_view: Value = serde_json::from_str(&shown).expect("wizfs health --json");
    assert_eq!(disks(&cli_view), found, "{shown}");
    assert_eq!(pool(&cli_view, &pool_name)["state"], "ONLINE");
    let human = run(&[wizfs, "--config", config_text, "health"]);
    assert!(human.contains("QEMU_NVMe_Ctrl_WIZFSNVME1"), "{human}");
    let listed = run(&[wizfs, "--config", config_text, "health", "history"]);
    assert!(
        listed.contains(&format!("pool/{pool_name}/capacity_percent")),
        "{listed}"
    );
    assert_eq!(receiver.messages().len(), sent_before);

    // The test button, from the CLI and the API.
    let tested = run(&[
        wizfs,
        "--config",
        config_text,
        "health",
        "test-notification",
    ]);
    assert!(tested.contains("hook: test message sent"), "{tested}");
    assert!(tested.contains("mail: test message sent"), "{tested}");
    let (status, body) = daemon.post("/api/v1/health/test-notification");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["delivered"], true, "{body}");
    assert_eq!(body[1]["delivered"], true, "{body}");
    wait_for("two test messages", Duration::from_secs(10), || {
        receiver
            .messages()
            .iter()
            .filter(|message| message["event"] == "test")
            .count()
            == 2
    });

    // A restart remembers what it told: no message again for the failing disk.
    let before_restart = receiver.messages().len();
    drop(daemon);
    daemon = Daemon::start(&environment, &config);
    std::thread::sleep(Duration::from_secs(6));
    let (status, alerts) = daemon.get("/api/v1/health/alerts");
    assert_eq!(status, 200, "{alerts}");
    assert!(
        alerts["active"]
            .as_array()
            .expect("active")
            .iter()
            .any(|alert| alert["kind"] == "nvme_critical_warning"),
        "{alerts}"
    );
    let new_messages: Vec<Value> = receiver.messages()[before_restart..].to_vec();
    assert!(new_messages.is_empty(), "{new_messages:?}");

    // What the idle daemon costs in memory with monitoring on (recorded in docs/health.md).
    std::thread::sleep(Duration::from_secs(10));
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id()))
        .expect("the daemon's status");
    let rss = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS");
    // How much of it is heap and stacks rather than pages of the (debug) program file.
    let anonymous = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", daemon.child.id()))
        .ok()
        .and_then(|rollup| {
            rollup
                .lines()
                .find(|line| line.starts_with("Anonymous:"))
                .map(|line| {
                    line.split_whitespace()
                        .skip(1)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        })
        .unwrap_or_else(|| "unknown".into());
    // Straight to the process's stderr, past libtest's capture, so the run's log shows it.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "idle wizfsd with health monitoring: {rss} (anonymous {anonymous})"
    );
}
