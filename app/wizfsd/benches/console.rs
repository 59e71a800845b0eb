//! Console load benchmark: `cargo bench -p wizfsd --bench console`. Serves the whole app
//! (sign-in guard, server-rendered pages, REST API) on 127.0.0.1 over a `FakeZfs` pool with an
//! indexed dataset, signs in once, then has 64 connections (one keep-alive client per thread;
//! see `WIZFS_BENCH_CONNECTIONS`)
//! request each target in turn (after three unmeasured requests each) and prints latency
//! percentiles — with a static file served by
//! the same router as the in-process baseline, and each p99 as a ratio of the baseline's. Also
//! prints the size of the browser bundle when `target/site` holds one. Sizes:
//! `WIZFS_BENCH_FILES` (default 2000), `WIZFS_BENCH_REQUESTS` per connection (default 20),
//! `WIZFS_BENCH_CONNECTIONS` (default 64; 1 shows the unloaded latency),
//! `WIZFS_BENCH_CLIENT_NICE` (default 0: client threads at the server's priority);
//! words after `--` choose the targets whose names contain them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wizfs_core::{DatasetName, PoolName};
use wizfs_zfs::{FakeZfs, Zfs};

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// `connections` threads, each its own keep-alive connection: `warm_up` unmeasured GETs of `path` (the
/// connection, the thread's allocator caches), then `requests` measured ones. Returns the
/// sorted times and the size of the last body.
fn load(
    connections: usize,
    nice: i32,
    base: &str,
    cookie: &str,
    path: &str,
    warm_up: usize,
    requests: usize,
) -> (Vec<Duration>, usize) {
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (url, cookie) = (format!("{base}{path}"), cookie.to_owned());
            std::thread::spawn(move || {
                if nice != 0 {
                    // This thread only: Linux keeps a nice value per thread.
                    rustix::process::setpriority_process(None, nice).expect("setpriority");
                }
                let agent = agent();
                let mut times = Vec::with_capacity(requests);
                let mut size = 0;
                for round in 0..warm_up + requests {
                    let started = Instant::now();
                    let mut response = agent
                        .get(&url)
                        .header("Cookie", &cookie)
                        .call()
                        .expect("a response");
                    assert_eq!(response.status(), 200, "{url}");
                    let body = response.body_mut().read_to_vec().expect("a body");
                    assert!(!body.is_empty());
                    size = body.len();
                    if round >= warm_up {
                        times.push(started.elapsed());
                    }
                }
                (times, size)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut size = 0;
    for thread in threads {
        let (times, body) = thread.join().expect("a load thread");
        all.extend(times);
        size = body;
    }
    all.sort();
    (all, size)
}

/// The daemon's allocator and settings (`wizfsd::memory`), so the figures are its own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    wizfsd::memory::tune_process();
    let files = size("WIZFS_BENCH_FILES", 2000);
    let requests = size("WIZFS_BENCH_REQUESTS", 20);
    let connections = size("WIZFS_BENCH_CONNECTIONS", 64).max(1);
    // Client threads at a lower priority (a positive nice value) stand in for clients on
    // other machines: the server is then not preempted by its own load generator.
    let nice = size("WIZFS_BENCH_CLIENT_NICE", 0).min(19) as i32;
    let directory = tempfile::tempdir()?;
    let fake = FakeZfs::open(directory.path().join("pools"))?;
    fake.create_pool(&PoolName::new("tank")?, 1 << 34)?;
    let dataset = DatasetName::new("tank/home")?;
    fake.create_filesystem(&dataset, &[])?;
    let mountpoint = fake
        .mountpoint(&dataset)
        .ok_or_else(|| anyhow::anyhow!("tank/home has no mountpoint"))?;
    for snapshot in 0..10 {
        for index in 0..files {
            let folder = mountpoint.join(format!("folder-{}", index % 50));
            std::fs::create_dir_all(&folder)?;
            // One file in fifty is deleted half-way, for the deleted-files search.
            if snapshot == 5 && index % 50 == 13 {
                std::fs::remove_file(folder.join(format!("file-{index}.txt")))?;
                continue;
            }
            if snapshot == 0 || index % 100 == snapshot {
                std::fs::write(
                    folder.join(format!("file-{index}.txt")),
                    format!("{snapshot}"),
                )?;
            }
        }
        fake.create_snapshots(&[dataset.snapshot(&format!("s{snapshot}"))?], false, &[])?;
    }
    let zfs: Arc<dyn Zfs> = Arc::new(fake);
    let data = directory.path().join("state");
    let store = wizfs_services::open_index(&data)?;
    let state = wizfsd::server::AppState::new(zfs).with_index(
        store,
        wizfs_services::config::IndexConfig::default(),
        wizfs_indexer::MethodPolicy::Diff,
    );
    let indexing = Instant::now();
    state
        .reconcile_index()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let site = directory.path().join("site");
    std::fs::create_dir_all(site.join("pkg"))?;
    std::fs::copy("app/web/style/console.css", site.join("pkg/wizfs.css"))
        .or_else(|_| std::fs::copy("../web/style/console.css", site.join("pkg/wizfs.css")))?;
    let auth = wizfsd::auth::Auth::open(&data, false)?;
    let app = wizfsd::server::app(state, auth, &wizfsd::console::Site::new(&site));
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    // The daemon's own server, with its limits (64 connections per client: the bench's 64
    // connections all fit).
    runtime.spawn(wizfs_tls::serve(
        listener,
        None,
        app,
        wizfs_tls::ServeLimits::default(),
        std::future::pending(),
    ));
    println!(
        "console bench: {files} files × 10 snapshots indexed in {:.1} s; {connections} connections × {requests} requests per target",
        indexing.elapsed().as_secs_f64()
    );

    let password = "benchmark password";
    let mut response = agent()
        .post(format!("{base}/setup"))
        .header("Origin", &base)
        .content_type("application/x-www-form-urlencoded")
        .send(format!(
            "password={0}&confirm={0}",
            password.replace(' ', "+")
        ))?;
    let _ = response.body_mut().read_to_string();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("setup gave no session cookie"))?
        .to_owned();

    let targets = [
        ("static file (baseline)", "/pkg/wizfs.css"),
        ("page: sign-in (no data)", "/login"),
        ("page: search form", "/search"),
        ("page: dashboard", "/"),
        (
            "page: search, deleted files",
            "/search?q=file-1&deleted=true",
        ),
        (
            "page: versions",
            "/versions?dataset=tank%2Fhome&path=folder-1%2Ffile-1.txt",
        ),
        // The search page's own cost: its search finds nothing.
        ("page: search, no hits", "/search?q=zzzz&deleted=true"),
        ("api: search", "/api/v1/search?q=file-1"),
    ];
    let mut baseline_p99 = None;
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "target", "p50 ms", "p99 ms", "max ms", "p99/base", "KiB"
    );
    // `cargo bench -p wizfsd --bench console -- WORD…`: only targets whose name contains a
    // word (the baseline always runs).
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| !argument.starts_with("--"))
        .collect();
    for (index, (name, path)) in targets.into_iter().enumerate() {
        if index > 0 && !words.is_empty() && !words.iter().any(|word| name.contains(word)) {
            continue;
        }
        let (times, size) = load(connections, nice, &base, &cookie, path, 3, requests);
        let p99 = percentile(&times, 0.99);
        let base_p99 = *baseline_p99.get_or_insert(p99);
        println!(
            "{:<24} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>8.1}",
            name,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            p99.as_secs_f64() / base_p99.as_secs_f64().max(1e-9),
            size as f64 / 1024.0
        );
    }
    for candidate in [
        "target/site/pkg/wizfs_bg.wasm.gz",
        "../../target/site/pkg/wizfs_bg.wasm.gz",
    ] {
        if let Ok(metadata) = std::fs::metadata(candidate) {
            println!(
                "browser bundle: {candidate}: gzip {} bytes ({:.0} KiB; goal ≤ 400 KiB)",
                metadata.len(),
                metadata.len() as f64 / 1024.0
            );
            break;
        }
    }
    Ok(())
}
