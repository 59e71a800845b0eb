//! Serving an axum router over TLS. axum's own `serve` does HTTP/1 and HTTP/2 and graceful
//! shutdown; what it lacks is TLS, so this file gives it a listener whose connections are
//! already through the handshake. Handshakes run in their own tasks with a time limit, so a
//! client that stalls or fails its handshake delays nobody and never stops the server.
//!
//! The crypto provider is rustls' `ring`, passed explicitly: when another crate of the
//! process compiles in aws-lc-rs as well, rustls has no process-wide default and would
//! panic if asked for one.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    serve::{Listener, ListenerExt},
};
use rustls::{ServerConfig, sign::SingleCertAndKey};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

use crate::{Certificate, TlsError};

/// A client gets this long to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many handshakes at once; more connections wait in the kernel's backlog.
const MAX_PENDING_HANDSHAKES: usize = 256;

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

/// Serves `router` over HTTPS on `listener` with `certificate` until `shutdown` completes,
/// then stops accepting, lets open connections finish their requests and returns.
/// Connections still open are waited for without limit: bound the whole call with a
/// timeout if the caller cannot wait. Handlers can extract
/// `axum::extract::ConnectInfo<SocketAddr>`, the client's address.
pub async fn serve_https(
    listener: TcpListener,
    certificate: &Certificate,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TlsError> {
    let config = server_config(certificate)?;
    let address = listener
        .local_addr()
        .map_err(|source| TlsError::LocalAddress { source })?;
    tracing::info!(
        %address,
        sha256_fingerprint = certificate.sha256_fingerprint(),
        "serving the console over HTTPS"
    );
    // axum implements `Connected<IncomingStream<L>>` for `SocketAddr` only for its own
    // `TcpListener` and for `TapIo<L, _>` wrapping any listener whose address is a
    // `SocketAddr`; the orphan rule keeps us from adding our listener. A tap that does
    // nothing is how a custom listener gets `ConnectInfo<SocketAddr>`.
    let listener = TlsListener::new(listener, config).tap_io(|_| {});
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| TlsError::Serve { address, source })
}

type Handshake = (
    SocketAddr,
    Result<io::Result<TlsStream<TcpStream>>, tokio::time::error::Elapsed>,
);

/// A TCP listener yielding connections that completed a TLS handshake. Dropping it (axum
/// does at shutdown) aborts the handshakes in progress.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
}

impl TlsListener {
    fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
        }
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    /// Cancel-safe (axum drops it when shutdown is signalled): a connection accepted is
    /// handed to a handshake task at once, and a finished handshake is returned at once.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept(), if self.handshakes.len() < MAX_PENDING_HANDSHAKES => {
                    match accepted {
                        Ok((stream, client)) => {
                            if let Err(error) = stream.set_nodelay(true) {
                                tracing::trace!(%client, %error, "cannot set TCP_NODELAY");
                            }
                            let acceptor = self.acceptor.clone();
                            self.handshakes.spawn(async move {
                                let handshake =
                                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                                (client, handshake)
                            });
                        }
                        Err(error) => pause_after_accept_error(error).await,
                    }
                }
                Some(finished) = self.handshakes.join_next() => match finished {
                    Ok((client, Ok(Ok(stream)))) => return (stream, client),
                    Ok((client, Ok(Err(error)))) => {
                        tracing::debug!(%client, %error, "TLS handshake failed");
                    }
                    Ok((client, Err(_elapsed))) => {
                        tracing::debug!(%client, timeout = ?HANDSHAKE_TIMEOUT, "TLS handshake timed out");
                    }
                    Err(join_error) => {
                        tracing::warn!(error = %join_error, "a TLS handshake task failed");
                    }
                },
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("pending_handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

/// What axum does for its own listener: errors about one connection are ignored; others
/// (out of file descriptors) are logged and accepting pauses for a second, as retrying at
/// once would spin.
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
    tokio::time::sleep(Duration::from_secs(1)).await;
}
