//! Serving an axum router to a hostile network, over TLS or (on loopback) plain HTTP.
//!
//! axum's own `serve` has no limits a LAN attacker would meet: no time limit for a request's
//! headers, no idle timeout, no cap on connections per client, and its TLS wrapper stopped
//! accepting while its handshake slots were full. This file runs hyper's connection builders
//! directly, with:
//! - a cap on connections per client (an IPv4 address, an IPv6 /64) and in all; over a cap a
//!   new connection is closed at once (plain HTTP first gets a short `503`), so the accept
//!   loop never stalls and nobody else waits behind it;
//! - TLS handshakes in their own tasks, each with a time limit, at most a few at a time per
//!   client and [`ServeLimits::max_pending_handshakes`] in all;
//! - hyper's header-read timeout (a client that sends half a header is dropped), and an idle
//!   timeout: a connection that moved no byte for [`ServeLimits::idle_timeout`] while no
//!   request of it was being answered is closed;
//! - a cap on requests being answered at once: beyond it `503` with `Retry-After`, at once;
//! - graceful shutdown: on `shutdown` accepting stops and open connections finish their
//!   requests.
//!
//! Handlers can extract `axum::extract::ConnectInfo<SocketAddr>`, the client's address.
//!
//! The crypto provider is rustls' `ring`, passed explicitly: when another crate of the
//! process compiles in aws-lc-rs as well, rustls has no process-wide default and would
//! panic if asked for one.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::{ServerConfig, sign::SingleCertAndKey};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::{Certificate, TlsError};

/// The limits of [`serve`]. The defaults suit a NAS console: a handful of people with a few
/// tabs each, and attackers on the LAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Open connections in all (default 1024); keep it well below the descriptor limit.
    pub max_connections: usize,
    /// Open connections of one client (default 64: browsers open 6 per host and tab).
    pub max_connections_per_client: usize,
    /// TLS handshakes under way in all (default 256).
    pub max_pending_handshakes: usize,
    /// TLS handshakes under way for one client (default 16).
    pub max_pending_handshakes_per_client: usize,
    /// Time for a client to complete its TLS handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// Time for a client to send a request's headers (HTTP/1; default 10 s).
    pub header_read_timeout: Duration,
    /// A connection with no request being answered that moved no byte this long is closed
    /// (default 60 s; event streams send a keep-alive more often).
    pub idle_timeout: Duration,
    /// Concurrent requests on one HTTP/2 connection (default 64).
    pub max_streams_per_connection: u32,
    /// Requests being answered at once, all connections together (default 512); beyond,
    /// `503 Service Unavailable` with `Retry-After` at once. A request counts until its
    /// answer starts (an event stream does not hold its place while it streams).
    pub max_requests_in_flight: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_client: 64,
            max_pending_handshakes: 256,
            max_pending_handshakes_per_client: 16,
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_streams_per_connection: 64,
            max_requests_in_flight: 512,
        }
    }
}

/// The rustls server configuration for `certificate`: TLS 1.2 and 1.3 with the `ring`
/// provider, no client certificates, ALPN `h2` then `http/1.1`.
pub fn server_config(certificate: &Certificate) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::ServerConfig { source })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(
            certificate.certified_key(),
        )));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` over HTTPS on `listener` with `certificate` and the default limits until
/// `shutdown` completes (see [`serve`]).
pub async fn serve_https(
    listener: TcpListener,
    certificate: &Certificate,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TlsError> {
    let config = server_config(certificate)?;
    tracing::info!(
        sha256_fingerprint = certificate.sha256_fingerprint(),
        "serving the console over HTTPS"
    );
    serve(
        listener,
        Some(config),
        router,
        ServeLimits::default(),
        shutdown,
    )
    .await
}

/// Serves `router` on `listener` — over TLS with `tls`, else plain HTTP — under `limits`
/// until `shutdown` completes; then stops accepting, lets open connections finish their
/// requests and returns. Connections still open are waited for without limit: bound the
/// whole call with a timeout if the caller cannot wait.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TlsError> {
    let address = listener
        .local_addr()
        .map_err(|source| TlsError::LocalAddress { source })?;
    let acceptor = tls.map(TlsAcceptor::from);
    let clients = Arc::new(Clients::new(limits));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(limits.max_requests_in_flight));
    let graceful = GracefulShutdown::new();
    let (stop_handshakes, stopped) = tokio::sync::watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams_per_connection)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after_accept_error(error).await;
                    continue;
                }
            },
        };
        let Some(slot) = clients.admit(client.ip()) else {
            tracing::debug!(%client, "connection refused: too many connections");
            if acceptor.is_none() {
                // Best effort: the socket buffer takes a response this small at once.
                let _ = stream.try_write(OVERLOADED);
            }
            continue;
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::trace!(%client, %error, "cannot set TCP_NODELAY");
        }
        let connection = Connection {
            stream,
            client,
            slot,
            acceptor: acceptor.clone(),
            router: router.clone(),
            builder: builder.clone(),
            watcher: graceful.watcher(),
            stopped: stopped.clone(),
            in_flight: in_flight.clone(),
            limits,
        };
        tokio::spawn(connection.run());
    }
    drop(listener);
    let _ = stop_handshakes.send(true);
    tracing::debug!(%address, "stopped accepting; waiting for open connections");
    graceful.shutdown().await;
    Ok(())
}

/// What a client over a connection cap gets on plain HTTP.
const OVERLOADED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// One accepted connection, on its own task.
struct Connection {
    stream: TcpStream,
    client: SocketAddr,
    slot: Slot,
    acceptor: Option<TlsAcceptor>,
    router: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: hyper_util::server::graceful::Watcher,
    stopped: tokio::sync::watch::Receiver<bool>,
    in_flight: Arc<tokio::sync::Semaphore>,
    limits: ServeLimits,
}

/// The answer to a request over [`ServeLimits::max_requests_in_flight`].
fn overloaded() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "2")],
        "The console is busy; try again in a moment.",
    )
        .into_response()
}

impl Connection {
    async fn run(self) {
        let Self {
            stream,
            client,
            slot,
            acceptor,
            router,
            builder,
            watcher,
            mut stopped,
            in_flight,
            limits,
        } = self;
        let activity = Activity::new();
        let io: Box<dyn Io> = match acceptor {
            Some(acceptor) => {
                let Some(_handshaking) = slot.begin_handshake() else {
                    tracing::debug!(%client, "connection refused: too many TLS handshakes");
                    return;
                };
                let handshake =
                    tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream));
                tokio::select! {
                    finished = handshake => match finished {
                        Ok(Ok(tls)) => Box::new(tls),
                        Ok(Err(error)) => {
                            tracing::debug!(%client, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_elapsed) => {
                            tracing::debug!(%client, "TLS handshake timed out");
                            return;
                        }
                    },
                    _ = stopped.wait_for(|stopped| *stopped) => return,
                }
            }
            None => Box::new(stream),
        };
        let io = Watched {
            inner: io,
            activity: activity.clone(),
        };
        let service = {
            let activity = activity.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(client));
                let answering = activity.begin_request();
                let router = router.clone();
                let turn = in_flight.clone().try_acquire_owned();
                async move {
                    let Ok(turn) = turn else {
                        drop(answering);
                        return Ok(overloaded());
                    };
                    let response = router.oneshot(request.map(axum::body::Body::new)).await;
                    drop((answering, turn));
                    response
                }
            })
        };
        let connection = watcher.watch(
            builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .into_owned(),
        );
        tokio::select! {
            result = connection => {
                if let Err(error) = result {
                    tracing::trace!(%client, %error, "connection ended with an error");
                }
            }
            () = activity.idle(limits.idle_timeout) => {
                tracing::debug!(%client, "idle connection closed");
            }
        }
        drop(slot);
    }
}

/// A connection's byte stream, TLS or not.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The clients' open connections and handshakes, counted.
#[derive(Debug)]
struct Clients {
    limits: ServeLimits,
    counts: Mutex<HashMap<IpAddr, ClientCounts>>,
    connections: AtomicUsize,
    handshakes: AtomicUsize,
}

#[derive(Debug, Default, Clone, Copy)]
struct ClientCounts {
    connections: usize,
    handshakes: usize,
}

/// The unit connections are counted by: an IPv4 address (also mapped into IPv6) or an
/// IPv6 /64, since one host usually owns a whole /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(octets.into())
        }
        v4 => v4,
    }
}

impl Clients {
    fn new(limits: ServeLimits) -> Self {
        Self {
            limits,
            counts: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            handshakes: AtomicUsize::new(0),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, ClientCounts>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection slot for `ip`, if it is under both caps.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = client_key(ip);
        let mut counts = self.counts();
        if self.connections.load(Ordering::Relaxed) >= self.limits.max_connections {
            return None;
        }
        let entry = counts.entry(key).or_default();
        if entry.connections >= self.limits.max_connections_per_client {
            return None;
        }
        entry.connections += 1;
        self.connections.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            clients: self.clone(),
            key,
        })
    }
}

/// An open connection, counted until dropped.
#[derive(Debug)]
struct Slot {
    clients: Arc<Clients>,
    key: IpAddr,
}

impl Slot {
    /// A handshake slot, if the client and everyone together are under their caps.
    fn begin_handshake(&self) -> Option<Handshaking<'_>> {
        let limits = &self.clients.limits;
        let mut counts = self.clients.counts();
        if self.clients.handshakes.load(Ordering::Relaxed) >= limits.max_pending_handshakes {
            return None;
        }
        let entry = counts.entry(self.key).or_default();
        if entry.handshakes >= limits.max_pending_handshakes_per_client {
            return None;
        }
        entry.handshakes += 1;
        self.clients.handshakes.fetch_add(1, Ordering::Relaxed);
        Some(Handshaking { slot: self })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.clients.counts();
        if let Some(entry) = counts.get_mut(&self.key) {
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections == 0 && entry.handshakes == 0 {
                counts.remove(&self.key);
            }
        }
        self.clients.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TLS handshake under way, counted until dropped.
struct Handshaking<'a> {
    slot: &'a Slot,
}

impl Drop for Handshaking<'_> {
    fn drop(&mut self) {
        let clients = &self.slot.clients;
        let mut counts = clients.counts();
        if let Some(entry) = counts.get_mut(&self.slot.key) {
            entry.handshakes = entry.handshakes.saturating_sub(1);
        }
        clients.handshakes.fetch_sub(1, Ordering::Relaxed);
    }
}

/// When a connection last moved a byte, and how many of its requests are being answered.
#[derive(Debug, Clone)]
struct Activity {
    inner: Arc<ActivityInner>,
}

#[derive(Debug)]
struct ActivityInner {
    started: Instant,
    /// Milliseconds after `started`.
    last: AtomicU64,
    answering: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            inner: Arc::new(ActivityInner {
                started: Instant::now(),
                last: AtomicU64::new(0),
                answering: AtomicUsize::new(0),
            }),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.inner.last.store(self.now(), Ordering::Relaxed);
    }

    fn begin_request(&self) -> Answering {
        self.inner.answering.fetch_add(1, Ordering::Relaxed);
        Answering {
            activity: self.clone(),
        }
    }

    /// Completes once the connection was idle for `timeout`: no byte moved and no request
    /// being answered.
    async fn idle(&self, timeout: Duration) {
        let limit = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        loop {
            let quiet = self
                .now()
                .saturating_sub(self.inner.last.load(Ordering::Relaxed));
            if quiet >= limit && self.inner.answering.load(Ordering::Relaxed) == 0 {
                return;
            }
            let wait = if quiet >= limit { limit } else { limit - quiet };
            tokio::time::sleep(Duration::from_millis(wait.max(10))).await;
        }
    }
}

/// A request being answered; the connection counts as busy until dropped.
struct Answering {
    activity: Activity,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity
            .inner
            .answering
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A byte stream that records when bytes move.
struct Watched {
    inner: Box<dyn Io>,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(context, buffer);
        if buffer.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(context, buffer);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(context, buffers);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

/// What axum does for its own listener: errors about one connection are ignored; others
/// (out of file descriptors) are logged and accepting pauses briefly, as retrying at once
/// would spin.
async fn pause_after_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_prefix() {
        let cases = [
            ("192.0.2.1", "192.0.2.1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff::1", "2001:db8:1:2::"),
        ];
        for (address, key) in cases {
            let address: IpAddr = address.parse().unwrap();
            assert_eq!(
                client_key(address),
                key.parse::<IpAddr>().unwrap(),
                "{address}"
            );
        }
    }

    #[test]
    fn connections_and_handshakes_are_capped_per_client_and_in_all() {
        let limits = ServeLimits {
            max_connections: 3,
            max_connections_per_client: 2,
            max_pending_handshakes: 2,
            max_pending_handshakes_per_client: 1,
            ..ServeLimits::default()
        };
        let clients = Arc::new(Clients::new(limits));
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "192.0.2.3".parse().unwrap(),
        );
        let first = clients.admit(a).expect("a's first");
        let second = clients.admit(a).expect("a's second");
        assert!(clients.admit(a).is_none(), "a is at its cap");
        let third = clients.admit(b).expect("b's first");
        assert!(clients.admit(c).is_none(), "everyone is at the cap");
        {
            let shaking = first.begin_handshake().expect("a's handshake");
            assert!(
                second.begin_handshake().is_none(),
                "a is at its handshake cap"
            );
            let other = third.begin_handshake().expect("b's handshake");
            drop((shaking, other));
        }
        assert!(second.begin_handshake().is_some(), "handshakes end");
        drop(first);
        assert!(clients.admit(c).is_some(), "a closed slot is free again");
        drop((second, third));
        assert_eq!(clients.connections.load(Ordering::Relaxed), 0);
        assert!(clients.counts().is_empty(), "nothing left behind");
    }
}
