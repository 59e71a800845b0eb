//! The server under the floods a LAN attacker can send (issue 17, finding 4): sockets that
//! never start their TLS handshake, connections that send half a request header and stop,
//! more connections than a client may hold. The attacker connects from other loopback
//! addresses (127.0.0.2, 127.0.0.3) than the person it tries to lock out (127.0.0.1), as it
//! would from another machine of the LAN; a normal request must still answer within a second.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::{Router, routing::get};
use rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use wizfs_tls::{CertificateFiles, ServeLimits, SubjectNames, serve};

/// How long a normal request may take while the flood is held open.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

struct Server {
    address: SocketAddr,
    certificate: Option<wizfs_tls::Certificate>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _directory: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(tls: bool, limits: ServeLimits) -> Server {
    let directory = tempfile::tempdir().expect("tempdir");
    let certificate = tls.then(|| {
        CertificateFiles::load_or_create(
            directory.path(),
            &SubjectNames::for_host("wizfs-test", &[]),
        )
        .expect("certificate")
    });
    let config = certificate
        .as_ref()
        .map(|certificate| wizfs_tls::server_config(certificate).expect("server config"));
    let router = Router::new().route("/", get(|| async { "ok" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(listener, config, router, limits, async move {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    Server {
        address,
        certificate,
        stop: Some(stop),
        _directory: directory,
    }
}

/// Raises this test process's descriptor limit: the floods hold over a thousand sockets.
fn more_descriptors() {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let wanted = limit.maximum.unwrap_or(65_536).min(65_536);
    rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    )
    .expect("raise the descriptor limit");
}

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(from: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(server).await
}

fn client_config(trusted: &wizfs_tls::Certificate) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(trusted.cert_der().clone()).expect("trust anchor");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// `GET /` as a person's browser would send it, from 127.0.0.1; the status line.
async fn normal_request(server: &Server) -> String {
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let tcp = TcpStream::connect(server.address).await.expect("connect");
    let mut response = Vec::new();
    match &server.certificate {
        Some(certificate) => {
            let mut tls = TlsConnector::from(client_config(certificate))
                .connect(ServerName::try_from("wizfs-test").expect("name"), tcp)
                .await
                .expect("handshake");
            tls.write_all(REQUEST).await.expect("write");
            tls.read_to_end(&mut response).await.expect("read");
        }
        None => {
            let mut tcp = tcp;
            tcp.write_all(REQUEST).await.expect("write");
            tcp.read_to_end(&mut response).await.expect("read");
        }
    }
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn answers_promptly(server: &Server) {
    let status = tokio::time::timeout(ANSWER_WITHIN, normal_request(server))
        .await
        .expect("a normal request answered within a second during the flood");
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_do_not_hold_up_anyone_else() {
    more_descriptors();
    let server = start(true, ServeLimits::default()).await;
    let attacker: IpAddr = "127.0.0.2".parse().unwrap();
    let mut silent = Vec::new();
    for _ in 0..400 {
        // Connections over the caps are closed by the server: that is fine, they are held
        // here either way and never send a ClientHello.
        if let Ok(stream) = connect_from(attacker, server.address).await {
            silent.push(stream);
        }
    }
    assert!(
        silent.len() >= 300,
        "the flood got through connect: {}",
        silent.len()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    answers_promptly(&server).await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_do_not_hold_up_anyone_else() {
    more_descriptors();
    let server = start(true, ServeLimits::default()).await;
    let certificate = server.certificate.clone().expect("tls");
    let connector = TlsConnector::from(client_config(&certificate));
    let attacker: IpAddr = "127.0.0.3".parse().unwrap();
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..1001 {
        let Ok(tcp) = connect_from(attacker, server.address).await else {
            refused += 1;
            continue;
        };
        let handshake = connector.connect(ServerName::try_from("wizfs-test").unwrap(), tcp);
        match tokio::time::timeout(Duration::from_secs(5), handshake).await {
            Ok(Ok(mut tls)) => {
                if tls.write_all(b"GET / HTTP/1.1\r\nHost: loc").await.is_ok() {
                    held.push(tls);
                } else {
                    refused += 1;
                }
            }
            _ => refused += 1,
        }
    }
    // Without a cap every one of them stays open, and a daemon at the usual limit of 1024
    // descriptors runs out of them.
    let limits = ServeLimits::default();
    assert!(
        (limits.max_connections_per_client / 2..=limits.max_connections_per_client)
            .contains(&held.len()),
        "the attacker holds connections up to its cap, no more: {} held, {refused} refused",
        held.len()
    );
    answers_promptly(&server).await;
    drop(held);
}

#[tokio::test]
async fn connections_over_the_per_client_cap_get_503_on_plain_http() {
    let limits = ServeLimits {
        max_connections_per_client: 3,
        ..ServeLimits::default()
    };
    let server = start(false, limits).await;
    let attacker: IpAddr = "127.0.0.2".parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            connect_from(attacker, server.address)
                .await
                .expect("connect"),
        );
    }
    // Accepted in order: give the server a moment to count the three.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = connect_from(attacker, server.address)
        .await
        .expect("connect");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), over.read_to_end(&mut answer))
        .await
        .expect("closed at once")
        .expect("read");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    answers_promptly(&server).await;
    drop(held);
}

#[tokio::test]
async fn half_a_header_and_idle_connections_are_closed() {
    let limits = ServeLimits {
        header_read_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(500),
        ..ServeLimits::default()
    };
    let server = start(false, limits).await;
    let mut half = TcpStream::connect(server.address).await.expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\nHost: loc")
        .await
        .expect("write");
    let mut idle = TcpStream::connect(server.address).await.expect("connect");
    for (name, stream) in [("half a header", &mut half), ("idle", &mut idle)] {
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(
            matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
            "{name}: the server closed the connection"
        );
    }
    answers_promptly(&server).await;
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_get_503_at_once() {
    let limits = ServeLimits {
        max_requests_in_flight: 1,
        ..ServeLimits::default()
    };
    let (release, released) = tokio::sync::watch::channel(false);
    let router = Router::new()
        .route(
            "/slow",
            get(move || {
                let mut released = released.clone();
                async move {
                    let _ = released.wait_for(|released| *released).await;
                    "slow"
                }
            }),
        )
        .route("/", get(|| async { "ok" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(serve(
        listener,
        None,
        router,
        limits,
        std::future::pending(),
    ));
    let mut slow = TcpStream::connect(address).await.expect("connect");
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server = Server {
        address,
        certificate: None,
        stop: None,
        _directory: tempfile::tempdir().expect("tempdir"),
    };
    let status = tokio::time::timeout(ANSWER_WITHIN, normal_request(&server))
        .await
        .expect("refused at once");
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    release.send(true).expect("release");
    let mut answer = [0u8; 12];
    slow.read_exact(&mut answer).await.expect("the slow answer");
    assert_eq!(&answer, b"HTTP/1.1 200");
    answers_promptly(&server).await;
}
