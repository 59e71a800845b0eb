//! Test support, with feature `testing` (and in this crate's own tests): a fake machine for
//! health rounds — `FakeZfs` with a pool, the two NVMe disks captured in the test VM, a
//! sysfs tree with one warm sensor — and a webhook receiver on 127.0.0.1 that records what
//! it is sent. Used by the tests of the services, the HTTP API and the CLI.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use wizfs_core::PoolName;
use wizfs_health::config::HealthConfig;
use wizfs_zfs::{FakeZfs, Zfs};

use crate::health::HealthService;
use crate::health::fixtures::FixtureSmartSource;

/// The simulated time the machine's rounds start at (its fake's scrubs end then).
pub const START: i64 = 1_800_000_000;

/// A webhook receiver on 127.0.0.1: every JSON body it was sent.
#[derive(Clone, Debug, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    /// Starts the receiver on the current runtime; returns it and its URL.
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let received = receiver.received.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                let received = received.clone();
                tokio::spawn(read_json_post(connection, received));
            }
        });
        (receiver, format!("http://{address}/hook"))
    }

    /// `(event, kind)` of every message so far.
    pub fn events(&self) -> Vec<(String, String)> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|body| {
                (
                    body["event"].as_str().unwrap_or_default().to_owned(),
                    body["kind"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

/// A fake machine: a pool, the two captured NVMe disks, one hwmon sensor above its warning
/// level, and a health configuration that sends warnings to `url`.
#[allow(missing_debug_implementations)]
pub struct Machine {
    pub directory: tempfile::TempDir,
    pub zfs: Arc<dyn Zfs>,
    pub config: HealthConfig,
}

impl Machine {
    pub fn new(url: &str) -> Machine {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = FakeZfs::open(directory.path().join("pools")).expect("fake");
        // The rounds run at simulated times from START on; the fake's scrubs end at START.
        fake.set_clock(Arc::new(|| wizfs_core::Timestamp(START)));
        fake.create_pool(&PoolName::new("tank").expect("name"), 1 << 30)
            .expect("pool");
        let hwmon = directory.path().join("sys/class/hwmon/hwmon0");
        std::fs::create_dir_all(&hwmon).expect("hwmon");
        for (file, text) in [
            ("name", "drivetemp\n"),
            ("temp1_input", "45000\n"),
            ("temp1_crit", "50000\n"),
        ] {
            std::fs::write(hwmon.join(file), text).expect("sysfs file");
        }
        let text = format!(
            "[sensors]\nsysfs_root = \"{}\"\nthermal = false\nudisks = false\n\n\
             [[notify]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{url}\"\n",
            directory.path().join("sys").display()
        );
        Machine {
            zfs: Arc::new(fake),
            config: HealthConfig::from_toml(&text).expect("health config"),
            directory,
        }
    }

    pub fn smart_directory(&self) -> std::path::PathBuf {
        self.directory.path().join("smartctl")
    }

    pub fn service(&self) -> HealthService {
        let source = FixtureSmartSource::seeded(&self.smart_directory()).expect("fixtures");
        HealthService::open(
            self.config.clone(),
            self.zfs.clone(),
            Arc::new(source),
            &self.directory.path().join("state"),
        )
    }
}

/// Reads one HTTP/1.1 POST with a JSON body, keeps the body (if it is JSON) in `received`,
/// then answers `200 ok` and closes — in that order, so a sender that got its answer finds
/// the message there (the other order let a test look before it was kept).
async fn read_json_post(
    connection: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
) -> Option<()> {
    let mut reader = BufReader::new(connection);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await.ok()?;
    if let Ok(body) = serde_json::from_slice(&body) {
        received.lock().expect("lock").push(body);
    }
    let mut connection = reader.into_inner();
    connection
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        .await
        .ok()
}
