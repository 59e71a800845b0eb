//! The channels against real servers on 127.0.0.1: a minimal SMTP server written here (it
//! speaks just enough ESMTP for lettre: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) and an axum
//! server that records webhook, ntfy and Gotify requests. Nothing leaves the machine.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use wizfs_notify::config::{
    EmailChannel, GotifyChannel, NtfyChannel, SmtpSecurity, WebhookChannel, resolve_secret,
};
use wizfs_notify::{ChannelConfig, Message, NotifyError, Priority, Severity, build_notifier};

/// A message as a caller renders one (with a non-ASCII title, which headers cannot carry).
fn message() -> Message {
    Message {
        title: "[WiZFS nas1] CRITICAL: pool tank: pool_state – ärger".into(),
        body: "A new problem was found on nas1:\n\n  pool tank: DEGRADED\n".into(),
        priority: Priority::Urgent,
        tags: vec!["rotating_light".into(), "new".into(), "pool_state".into()],
        json: r#"{"source":"wizfs","host":"nas1"}"#.into(),
    }
}

// ---------------------------------------------------------------- SMTP sink

#[derive(Debug, Default)]
struct Mail {
    commands: Vec<String>,
    data: String,
}

/// Accepts one SMTP session and hands back what the client said.
fn smtp_sink() -> (SocketAddr, std::thread::JoinHandle<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        let mut mail = Mail::default();
        let mut reply = |text: &str| {
            writer.write_all(text.as_bytes()).expect("write");
            writer.flush().expect("flush");
        };
        reply("220 sink.test ESMTP\r\n");
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let command = line.trim_end().to_owned();
            mail.commands.push(command.clone());
            let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => reply("250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"),
                "AUTH" => reply("235 2.7.0 Authentication successful\r\n"),
                "MAIL" | "RCPT" | "RSET" | "NOOP" => reply("250 OK\r\n"),
                "DATA" => {
                    reply("354 End data with <CR><LF>.<CR><LF>\r\n");
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                        mail.data.push_str(&line);
                    }
                    reply("250 OK queued\r\n");
                }
                "QUIT" => {
                    reply("221 Bye\r\n");
                    break;
                }
                _ => reply("502 Command not implemented\r\n"),
            }
        }
        mail
    });
    (address, handle)
}

/// Base64 of `bytes` (standard alphabet, padded), for checking AUTH PLAIN.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |value, (index, byte)| {
            value | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(ALPHABET[(value >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

fn email_channel(port: u16) -> EmailChannel {
    EmailChannel {
        name: "mail".into(),
        min_severity: Severity::Warning,
        smtp_host: "127.0.0.1".into(),
        smtp_port: Some(port),
        security: SmtpSecurity::None,
        username: Some("nas".into()),
        password: Some("s3cret".into()),
        password_file: None,
        from: "WiZFS <nas@example.org>".into(),
        to: vec![
            "admin@example.org".into(),
            "Second <second@example.org>".into(),
        ],
        timeout_seconds: 10,
    }
}

#[test]
fn email_with_authentication_reaches_the_smtp_server() {
    let (address, server) = smtp_sink();
    let notifier =
        build_notifier(&ChannelConfig::Email(email_channel(address.port()))).expect("builds");
    notifier.send(&message()).expect("sends");
    let mail = server.join().expect("server");
    let expected_auth = format!("AUTH PLAIN {}", base64(b"\0nas\0s3cret"));
    assert!(
        mail.commands.contains(&expected_auth),
        "{:?}",
        mail.commands
    );
    for expected in [
        "MAIL FROM:<nas@example.org>",
        "RCPT TO:<admin@example.org>",
        "RCPT TO:<second@example.org>",
    ] {
        assert!(
            mail.commands.contains(&expected.to_owned()),
            "{expected}: {:?}",
            mail.commands
        );
    }
    assert!(mail.data.contains("Subject: "), "{}", mail.data);
    assert!(
        mail.data.contains("A new problem was found on nas1"),
        "{}",
        mail.data
    );
}

#[test]
fn email_refuses_a_password_in_clear_text_to_a_remote_server() {
    let mut channel = email_channel(25);
    channel.smtp_host = "mail.example.org".into();
    let error = build_notifier(&ChannelConfig::Email(channel)).expect_err("refused");
    assert!(error.to_string().contains("without TLS"), "{error}");
}

#[test]
fn email_configuration_errors_name_the_problem() {
    let mut bad_from = email_channel(25);
    bad_from.from = "not an address".into();
    assert!(matches!(
        build_notifier(&ChannelConfig::Email(bad_from)),
        Err(NotifyError::Address { .. })
    ));
    let mut nobody = email_channel(25);
    nobody.to.clear();
    assert!(matches!(
        build_notifier(&ChannelConfig::Email(nobody)),
        Err(NotifyError::Config { .. })
    ));
    let mut user_only = email_channel(25);
    user_only.password = None;
    assert!(matches!(
        build_notifier(&ChannelConfig::Email(user_only)),
        Err(NotifyError::Config { .. })
    ));
}

#[test]
fn email_to_a_closed_port_is_an_smtp_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let notifier = build_notifier(&ChannelConfig::Email(email_channel(port))).expect("builds");
    let error = notifier.send(&message()).expect_err("fails");
    assert!(matches!(error, NotifyError::Smtp { .. }), "{error}");
}

// ---------------------------------------------------------------- HTTP receiver

#[derive(Clone, Debug)]
struct Request {
    path: String,
    headers: HeaderMap,
    body: String,
}

type Recorded = Arc<Mutex<Vec<Request>>>;

async fn record(
    State(recorded): State<Recorded>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, &'static str) {
    let failing = path == "fail";
    if let Ok(mut requests) = recorded.lock() {
        requests.push(Request {
            path,
            headers,
            body,
        });
    }
    if failing {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom")
    } else {
        (StatusCode::OK, "ok")
    }
}

/// An axum server on 127.0.0.1 in its own thread and runtime; lives for the test process.
fn http_receiver() -> (String, Recorded) {
    let recorded: Recorded = Arc::default();
    let app = Router::new()
        .route("/{*path}", post(record))
        .with_state(recorded.clone());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (format!("http://{address}"), recorded)
}

fn requests(recorded: &Recorded) -> Vec<Request> {
    recorded
        .lock()
        .map(|requests| requests.clone())
        .unwrap_or_default()
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

fn webhook(name: &str, url: String) -> ChannelConfig {
    ChannelConfig::Webhook(WebhookChannel {
        name: name.into(),
        min_severity: Severity::Warning,
        url,
        token: Some("hook-token".into()),
        token_file: None,
        timeout_seconds: 10,
    })
}

fn ntfy_channel(server: String, token_file: Option<std::path::PathBuf>) -> NtfyChannel {
    NtfyChannel {
        name: "phone".into(),
        min_severity: Severity::Critical,
        server,
        topic: "wizfs-alerts".into(),
        token: None,
        token_file,
        timeout_seconds: 10,
    }
}

fn ntfy(server: String, token_file: Option<std::path::PathBuf>) -> ChannelConfig {
    ChannelConfig::Ntfy(ntfy_channel(server, token_file))
}

fn gotify_channel(url: String) -> GotifyChannel {
    GotifyChannel {
        name: "gotify".into(),
        min_severity: Severity::Warning,
        url,
        token: Some("AbCdEf.123".into()),
        token_file: None,
        timeout_seconds: 10,
    }
}

#[test]
fn webhook_posts_the_json_document() {
    let (base, recorded) = http_receiver();
    let notifier = build_notifier(&webhook("hook", format!("{base}/hook"))).expect("builds");
    notifier.send(&message()).expect("sends");
    let got = requests(&recorded);
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(request.path, "hook");
    assert_eq!(header(request, "content-type"), "application/json");
    assert_eq!(header(request, "authorization"), "Bearer hook-token");
    assert_eq!(request.body, message().json);
}

#[test]
fn ntfy_posts_text_with_title_priority_and_tags() {
    let (base, recorded) = http_receiver();
    let folder = tempfile::tempdir().expect("temp dir");
    let token_file = folder.path().join("ntfy-token");
    std::fs::write(&token_file, "tk_secret\n").expect("write");
    // A trailing slash on the server is fine.
    let notifier = build_notifier(&ntfy(format!("{base}/"), Some(token_file))).expect("builds");
    notifier.send(&message()).expect("sends");
    let resolved = Message {
        priority: Priority::Default,
        ..message()
    };
    notifier.send(&resolved).expect("sends");
    let got = requests(&recorded);
    let summary: Vec<_> = got
        .iter()
        .map(|request| {
            (
                request.path.as_str(),
                header(request, "title"),
                header(request, "priority"),
                header(request, "tags"),
                header(request, "authorization"),
            )
        })
        .collect();
    let row = |priority| {
        (
            "wizfs-alerts",
            "[WiZFS nas1] CRITICAL: pool tank: pool_state ? ?rger",
            priority,
            "rotating_light,new,pool_state",
            "Bearer tk_secret",
        )
    };
    assert_eq!(summary, vec![row("5"), row("3")]);
    assert_eq!(got[0].body, message().body);
}

#[test]
fn gotify_posts_title_message_and_priority_with_the_application_token() {
    let (base, recorded) = http_receiver();
    let notifier =
        build_notifier(&ChannelConfig::Gotify(gotify_channel(format!("{base}/")))).expect("builds");
    notifier.send(&message()).expect("sends");
    let info = Message {
        priority: Priority::Low,
        ..message()
    };
    notifier.send(&info).expect("sends");
    let got = requests(&recorded);
    assert_eq!(got.len(), 2);
    let request = &got[0];
    assert_eq!(request.path, "message");
    assert_eq!(header(request, "x-gotify-key"), "AbCdEf.123");
    assert_eq!(header(request, "authorization"), "");
    assert_eq!(header(request, "content-type"), "application/json");
    let json: serde_json::Value = serde_json::from_str(&request.body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "title": message().title,
            "message": message().body,
            "priority": 10,
        })
    );
    let quiet: serde_json::Value = serde_json::from_str(&got[1].body).expect("json");
    assert_eq!(quiet["priority"], 2);
}

#[test]
fn gotify_needs_an_application_token() {
    let channel = GotifyChannel {
        token: None,
        ..gotify_channel("https://gotify.example.org".into())
    };
    let error = build_notifier(&ChannelConfig::Gotify(channel)).expect_err("no token");
    assert!(error.to_string().contains("token"), "{error}");
}

#[test]
fn http_errors_carry_the_status_and_body() {
    let (base, recorded) = http_receiver();
    let failing = build_notifier(&webhook("broken", format!("{base}/fail"))).expect("builds");
    let error = failing.send(&message()).expect_err("HTTP 500");
    match error {
        NotifyError::HttpStatus {
            status,
            body,
            channel,
            ..
        } => {
            assert_eq!(
                (status, body.as_str(), channel.as_str()),
                (500, "boom", "broken")
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(requests(&recorded).len(), 1);
}

#[test]
fn unreachable_http_server_is_an_http_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let notifier =
        build_notifier(&webhook("hook", format!("http://{address}/hook"))).expect("builds");
    let error = notifier.send(&message()).expect_err("fails");
    assert!(matches!(error, NotifyError::Http { .. }), "{error}");
}

#[test]
fn channel_configuration_is_checked_when_building() {
    let cases = [
        webhook("hook", "ftp://example.org/x".into()),
        webhook("hook", "https://".into()),
        webhook("bad name", "https://example.org/x".into()),
        ChannelConfig::Ntfy(NtfyChannel {
            topic: "has/slash".into(),
            ..ntfy_channel("https://ntfy.sh".into(), None)
        }),
        ChannelConfig::Gotify(gotify_channel("gotify.example.org".into())),
    ];
    for config in cases {
        let error = build_notifier(&config).expect_err("invalid");
        assert!(matches!(error, NotifyError::Config { .. }), "{error}");
    }
}

#[test]
fn secrets_from_files() {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("secret");
    std::fs::write(&file, "pass word\r\n").expect("write");
    assert_eq!(
        resolve_secret("c", "password", None, Some(&file)).expect("reads"),
        Some("pass word".into())
    );
    assert_eq!(
        resolve_secret("c", "password", Some("x"), None).expect("inline"),
        Some("x".into())
    );
    assert_eq!(
        resolve_secret("c", "password", None, None).expect("none"),
        None
    );
    assert!(matches!(
        resolve_secret("c", "password", Some("x"), Some(&file)),
        Err(NotifyError::Config { .. })
    ));
    let empty = folder.path().join("empty");
    std::fs::write(&empty, "\n").expect("write");
    assert!(matches!(
        resolve_secret("c", "password", None, Some(&empty)),
        Err(NotifyError::Config { .. })
    ));
    assert!(matches!(
        resolve_secret("c", "password", None, Some(&folder.path().join("missing"))),
        Err(NotifyError::Secret { .. })
    ));
}
