//! `wizfsd`: the WiZFS daemon. Reads its configuration, wires the adapters and serves the web
//! console and API until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use wizfs_services::config::{Config, DEFAULT_PATH, ZfsBackend};

#[derive(Debug, Parser)]
#[command(name = "wizfsd", version = wizfsd::VERSION, about = "The WiZFS daemon: web console and API")]
struct Arguments {
    /// Configuration file (default /etc/wizfs/wizfsd.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen on this address instead of the configured one.
    #[arg(long, value_name = "ADDRESS")]
    listen: Option<SocketAddr>,
    /// Use the directory-backed fake ZFS at DIR (demo mode); without a configuration file,
    /// the daemon's state goes to DIR/.wizfs (where `wizfs --fake DIR` looks for it).
    #[arg(long, value_name = "DIR")]
    fake: Option<PathBuf>,
}

/// mimalloc, for the memory it gives back and the speed (`wizfsd::memory` says why).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    wizfsd::memory::tune_process();
    let descriptors = more_descriptors();
    let arguments = Arguments::parse();
    let file = arguments.config.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_PATH);
        default.exists().then_some(default)
    });
    let mut config = match &file {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = arguments.listen {
        config.listen = listen;
    }
    if let Some(root) = arguments.fake {
        // Without a configuration file, the state goes next to the fake pools, where the
        // CLI's `--fake` looks for it (and its control socket).
        if file.is_none() {
            config.data_dir = root.join(".wizfs");
        }
        config.zfs = ZfsBackend::Fake { root };
    }
    let filter =
        EnvFilter::try_from_env("WIZFS_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    tracing::info!(version = wizfsd::VERSION, ?config, "starting wizfsd");
    match &descriptors {
        Ok(limit) => tracing::info!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open file limit"),
    }

    let state = wizfs_services::wiring::services(&config)?;
    let mut options = serve_options(&config)?;
    // Connections take a descriptor each; keep room for the index, pools and processes.
    if let Ok(limit) = descriptors {
        let room = usize::try_from(limit.saturating_sub(256)).unwrap_or(usize::MAX);
        options.limits.max_connections = options.limits.max_connections.min(room.max(64));
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(wizfsd::server::serve(options, state))
}

/// Raises the soft limit on open files to the hard one (a console under a flood of
/// connections must not run out of descriptors at 1024); the limit now in force.
fn more_descriptors() -> anyhow::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = limit.maximum.unwrap_or(1 << 20).min(1 << 20);
    if limit.current.is_some_and(|current| current >= wanted) {
        return Ok(limit.current.unwrap_or(wanted));
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    )
    .context("setrlimit(RLIMIT_NOFILE)")?;
    Ok(wanted)
}

/// TLS, sessions, the console's files and the announcement, from the configuration.
fn serve_options(config: &Config) -> anyhow::Result<wizfsd::server::ServeOptions> {
    use wizfs_services::config::TlsMode;
    let secure = match config.console.tls {
        TlsMode::Http => false,
        TlsMode::Https => true,
        TlsMode::Auto => !wizfs_tls::is_loopback_only(&config.listen),
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let hostname = config
        .console
        .hostname
        .clone()
        .unwrap_or_else(wizfs_services::health::host_name);
    let certificate = if secure {
        let directory = config.data_dir.join("tls");
        let certificate = wizfs_tls::CertificateFiles::load_or_create(
            &directory,
            &wizfs_tls::SubjectNames::for_host(&hostname, &[]),
        )
        .with_context(|| format!("the console's certificate in {}", directory.display()))?;
        Some(certificate)
    } else {
        None
    };
    let hosts = wizfsd::security::HostCheck::for_machine(
        &config.console.allowed_hosts,
        config.console.hostname.as_deref(),
    );
    let auth = wizfsd::auth::Auth::open_with_hosts(&config.data_dir, secure, hosts)?;
    let advertise = config.console.advertise.then(|| wizfs_mdns::Advertisement {
        instance: format!("WiZFS on {hostname}"),
        hostname: hostname.clone(),
        port: config.listen.port(),
        https: secure,
        version: wizfsd::VERSION.to_owned(),
        path: "/".to_owned(),
    });
    Ok(wizfsd::server::ServeOptions {
        listen: config.listen,
        certificate,
        auth,
        console: wizfsd::console::Site::new(&config.console.site_dir),
        advertise,
        limits: wizfs_tls::ServeLimits::default(),
        control_socket: Some(wizfsd::control::socket_path(&config.data_dir)),
        task_log: Some(config.data_dir.join("tasks")),
    })
}
