//! End-to-end test of the console's HTTPS: a certificate made in a temporary directory,
//! served on 127.0.0.1 by `serve_https`, reached by a rustls client trusting exactly that
//! certificate, as a browser would after the user accepted it.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::ConnectInfo, routing::get};
use rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use wizfs_tls::{CertificateFiles, SubjectNames, serve_https};

const TIMEOUT: Duration = Duration::from_secs(10);

fn client_config(trusted: &wizfs_tls::Certificate, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(trusted.cert_der().clone()).expect("trust anchor");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

async fn connect(
    server: SocketAddr,
    config: Arc<ClientConfig>,
    server_name: &str,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(server).await?;
    let server_name = ServerName::try_from(server_name.to_owned()).expect("server name");
    TlsConnector::from(config).connect(server_name, tcp).await
}

/// Sends `GET /` over HTTP/1.1 and returns the status line and the body.
async fn get_root(mut stream: TlsStream<TcpStream>) -> (String, String) {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read response");
    let response = String::from_utf8(response).expect("utf8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let status_line = head.lines().next().unwrap_or_default().to_owned();
    (status_line, body.to_owned())
}

#[tokio::test]
async fn serves_the_router_over_tls_with_the_client_address_until_shutdown() {
    let directory = tempfile::tempdir().expect("tempdir");
    let certificate = CertificateFiles::load_or_create(
        directory.path(),
        &SubjectNames::for_host("wizfs-test", &[]),
    )
    .expect("certificate");

    let router =
        Router::new().route(
            "/",
            get(|ConnectInfo(client): ConnectInfo<SocketAddr>| async move {
                format!("client={client}")
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server_address = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn({
        let certificate = certificate.clone();
        async move {
            serve_https(listener, &certificate, router, async move {
                let _ = stopped.await;
            })
            .await
        }
    });

    // A client that is not TLS at all, and one that refuses the certificate: their
    // handshakes fail, and the server must carry on.
    let mut plain = TcpStream::connect(server_address).await.expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut ignored = Vec::new();
    let _ = tokio::time::timeout(TIMEOUT, plain.read_to_end(&mut ignored)).await;
    let other = CertificateFiles::load_or_create(
        &directory.path().join("other"),
        &SubjectNames::for_host("other", &[]),
    )
    .expect("other certificate");
    let distrusting = connect(
        server_address,
        client_config(&other, &[b"http/1.1"]),
        "localhost",
    )
    .await;
    assert!(
        distrusting.is_err(),
        "a client trusting another certificate must refuse"
    );

    // The certificate is valid for each name the console is reached by, and no other.
    let config = client_config(&certificate, &[b"http/1.1"]);
    for name in [
        "localhost",
        "wizfs-test",
        "wizfs-test.local",
        "127.0.0.1",
        "::1",
    ] {
        let tls = tokio::time::timeout(TIMEOUT, connect(server_address, config.clone(), name))
            .await
            .expect("in time")
            .unwrap_or_else(|error| panic!("handshake as {name}: {error}"));
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let client_address = tls.get_ref().0.local_addr().expect("client address");
        let (status_line, body) = tokio::time::timeout(TIMEOUT, get_root(tls))
            .await
            .expect("in time");
        assert_eq!(status_line, "HTTP/1.1 200 OK");
        // The handler saw exactly this client's loopback address.
        assert_eq!(body, format!("client={client_address}"));
        assert!(client_address.ip().is_loopback());
    }
    let wrong_name = connect(server_address, config.clone(), "nas.example.org").await;
    assert!(
        wrong_name.is_err(),
        "the certificate must not claim other names"
    );

    // A browser offering h2 gets HTTP/2: the server answers the connection preface with
    // its SETTINGS frame (type 4) instead of an HTTP/1 error.
    let mut h2 = connect(
        server_address,
        client_config(&certificate, &[b"h2", b"http/1.1"]),
        "localhost",
    )
    .await
    .expect("h2 handshake");
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("preface");
    let mut frame_header = [0_u8; 9];
    tokio::time::timeout(TIMEOUT, h2.read_exact(&mut frame_header))
        .await
        .expect("in time")
        .expect("frame header");
    assert_eq!(frame_header[3], 0x4, "SETTINGS frame, got {frame_header:?}");
    drop(h2);
    drop(plain);

    stop.send(()).expect("server still running");
    let result = tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("the server stops after shutdown")
        .expect("the server task did not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        TcpStream::connect(server_address).await.is_err(),
        "nothing listens after shutdown"
    );
}
