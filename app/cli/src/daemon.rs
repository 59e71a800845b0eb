//! The running daemon, from the CLI: its control socket (`<data_dir>/api.sock`, see
//! `wizfsd::control`) speaks the REST API of `wizfs-api` over HTTP/1.1. When a daemon
//! answers there, the CLI's writes to shared state — indexing, policy runs — go through it,
//! the index's single writer, so they never race it and a snapshot taken by hand is indexed
//! at once; when none does, the CLI runs the services in-process.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::http::{Method, Request, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest answer read from the daemon.
const MAXIMUM_ANSWER_BYTES: usize = 256 << 20;

/// A daemon that answered on its control socket.
#[derive(Debug)]
pub struct Daemon {
    socket: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Daemon {
    /// The daemon of the data directory `data_dir`, if one answers on its socket.
    pub fn find(data_dir: &Path) -> Option<Daemon> {
        let socket = data_dir.join(wizfs_api::routes::CONTROL_SOCKET);
        // A cheap probe first: no socket file, or nobody listening, is no daemon.
        std::os::unix::net::UnixStream::connect(&socket).ok()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        Some(Daemon { socket, runtime })
    }

    /// `GET path_and_query`, its JSON answer decoded.
    pub fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> anyhow::Result<T> {
        self.call(Method::GET, path_and_query, Bytes::new())
    }

    /// `POST path` with `body` as JSON, its JSON answer decoded.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let body = serde_json::to_vec(body).context("encoding the request")?;
        self.call(Method::POST, path, Bytes::from(body))
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Bytes,
    ) -> anyhow::Result<T> {
        let (status, answer) = self
            .runtime
            .block_on(exchange(&self.socket, method, path_and_query, body))
            .with_context(|| format!("asking the daemon at {}", self.socket.display()))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<wizfs_api::ErrorBody>(&answer)
                .map(|body| body.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&answer).into_owned());
            return Err(anyhow!("the daemon refused ({status}): {message}"));
        }
        serde_json::from_slice(&answer).context("reading the daemon's answer")
    }
}

/// One request and its answer over a fresh connection.
async fn exchange(
    socket: &Path,
    method: Method,
    path_and_query: &str,
    body: Bytes,
) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
    let stream = tokio::net::UnixStream::connect(socket).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(header::HOST, "wizfsd")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let answer = Limited::new(response.into_body(), MAXIMUM_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|error| anyhow!("reading the answer: {error}"))?
        .to_bytes();
    drop(sender);
    let _ = connection.await;
    Ok((status, answer))
}

/// A typed request as a query string (`a=1&b=x`).
pub fn query<T: Serialize>(request: &T) -> anyhow::Result<String> {
    serde_urlencoded::to_string(request).context("encoding the request")
}
