//! The control socket: the REST API of [`crate::server::router`] on a Unix socket
//! (`<data_dir>/api.sock`, mode 0600) for the `wizfs` CLI on the same machine, so that its
//! writes (snapshots, indexing, restores) go through the daemon — the index's single writer —
//! instead of racing it. The kernel vouches for the peer: a connection is served only when
//! its credentials (`SO_PEERCRED`) are root's or the daemon's own user; no session, no CSRF
//! (there is no browser on this path). A socket file left by a daemon that died is replaced;
//! one that still answers belongs to a running daemon and is left alone.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};

/// Where the control socket of a daemon with this data directory is.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(wizfs_api::routes::CONTROL_SOCKET)
}

/// Why the control socket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another wizfsd answers on {}", path.display())]
    InUse { path: PathBuf },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Binds the control socket at `path` (replacing a stale one), readable and writable by its
/// owner only.
pub async fn bind(path: &Path) -> Result<PeerChecked, ControlError> {
    let io = |action: &'static str| {
        move |source| ControlError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ControlError::InUse {
                path: path.to_owned(),
            });
        }
        std::fs::remove_file(path).map_err(io("removing the stale socket"))?;
    }
    let listener = UnixListener::bind(path).map_err(io("binding"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io("restricting"))?;
    Ok(PeerChecked {
        listener,
        own_uid: rustix::process::geteuid().as_raw(),
    })
}

/// A Unix listener that hands on only connections from root or from the daemon's own user.
#[derive(Debug)]
pub struct PeerChecked {
    listener: UnixListener,
    own_uid: u32,
}

impl PeerChecked {
    fn allowed(&self, uid: u32) -> bool {
        uid == 0 || uid == self.own_uid
    }
}

impl axum::serve::Listener for PeerChecked {
    type Io = UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.listener.accept().await {
                Ok((stream, address)) => match stream.peer_cred() {
                    Ok(credentials) if self.allowed(credentials.uid()) => {
                        return (stream, address);
                    }
                    Ok(credentials) => {
                        tracing::warn!(
                            uid = credentials.uid(),
                            "refused a control-socket connection from another user"
                        );
                    }
                    Err(error) => {
                        tracing::warn!(%error, "control socket: no peer credentials");
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, "control socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Serves the REST API on the control socket until `stop` resolves.
pub async fn serve(
    listener: PeerChecked,
    state: crate::http::AppState,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::api::router(state).layer(axum::Extension(crate::http::Caller("cli")));
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_api_answers_on_the_socket_and_a_second_daemon_cannot_take_it() {
        let directory = tempfile::tempdir().expect("tempdir");
        let fake = wizfs_zfs::FakeZfs::open(directory.path().join("pools")).expect("fake");
        fake.create_pool(&wizfs_core::PoolName::new("tank").expect("name"), 1 << 30)
            .expect("pool");
        let state = crate::http::AppState::new(Arc::new(fake));
        let path = socket_path(directory.path());
        // A stale socket file (nobody listening) is replaced.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("stale"));
        let listener = bind(&path).await.expect("bind");
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (stop_sender, stop) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(serve(listener, state, async move {
            let _ = stop.await;
        }));
        assert!(
            matches!(bind(&path).await, Err(ControlError::InUse { .. })),
            "a live socket is never taken over"
        );
        let mut stream = UnixStream::connect(&path).await.expect("connect");
        stream
            .write_all(b"GET /api/v1/pools HTTP/1.1\r\nHost: wizfsd\r\nConnection: close\r\n\r\n")
            .await
            .expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"name\":\"tank\""), "{answer}");
        stop_sender.send(()).expect("stop");
        serving.await.expect("task").expect("served");
    }
}
