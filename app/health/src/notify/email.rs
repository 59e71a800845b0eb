//! Email notifications over SMTP with lettre: STARTTLS (required, not opportunistic) or
//! implicit TLS with rustls and the webpki roots, optional authentication, one connection per
//! message and a time limit. Plain SMTP exists for relays on the local network; it refuses to
//! send a password anywhere but to a loopback server.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};

use super::config::{EmailChannel, SmtpSecurity, resolve_secret};
use super::{Notifier, NotifyError, OutgoingMessage, render};

/// Sends notifications as plain-text emails.
#[derive(Debug)]
pub struct EmailNotifier {
    name: String,
    server: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: SmtpTransport,
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

impl EmailNotifier {
    pub fn new(config: &EmailChannel) -> Result<EmailNotifier, NotifyError> {
        let channel = config.name.clone();
        let config_error = |reason: String| NotifyError::Config {
            channel: channel.clone(),
            reason,
        };
        let parse = |address: &str| -> Result<Mailbox, NotifyError> {
            address.parse().map_err(|source| NotifyError::Address {
                channel: channel.clone(),
                address: address.to_owned(),
                source,
            })
        };
        let from = parse(&config.from)?;
        if config.to.is_empty() {
            return Err(config_error("`to` lists no recipient".into()));
        }
        let to = config
            .to
            .iter()
            .map(|address| parse(address))
            .collect::<Result<Vec<_>, _>>()?;
        let password = resolve_secret(
            &channel,
            "password",
            config.password.as_deref(),
            config.password_file.as_deref(),
        )?;
        let credentials = match (&config.username, password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password)),
            (None, None) => None,
            _ => {
                return Err(config_error(
                    "`username` and `password` (or `password_file`) go together".into(),
                ));
            }
        };
        if config.security == SmtpSecurity::None
            && credentials.is_some()
            && !is_loopback(&config.smtp_host)
        {
            return Err(config_error(format!(
                "refusing to send a password without TLS to {}: use `security = \"starttls\"` or \"tls\"",
                config.smtp_host
            )));
        }
        let smtp_error = |source| NotifyError::Smtp {
            channel: channel.clone(),
            server: config.smtp_host.clone(),
            source,
        };
        let (builder, default_port) = match config.security {
            SmtpSecurity::Starttls => (
                SmtpTransport::starttls_relay(&config.smtp_host).map_err(smtp_error)?,
                587,
            ),
            SmtpSecurity::Tls => (
                SmtpTransport::relay(&config.smtp_host).map_err(smtp_error)?,
                465,
            ),
            SmtpSecurity::None => (SmtpTransport::builder_dangerous(&config.smtp_host), 25),
        };
        let port = config.smtp_port.unwrap_or(default_port);
        let mut builder = builder
            .port(port)
            .timeout(Some(Duration::from_secs(u64::from(
                config.timeout_seconds.max(1),
            ))));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        Ok(EmailNotifier {
            name: config.name.clone(),
            server: format!("{}:{port}", config.smtp_host),
            from,
            to,
            transport: builder.build(),
        })
    }
}

impl Notifier for EmailNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, message: &OutgoingMessage) -> Result<(), NotifyError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(render::title(message))
            .header(ContentType::TEXT_PLAIN);
        for recipient in &self.to {
            builder = builder.to(recipient.clone());
        }
        let email = builder
            .body(render::body(message))
            .map_err(|source| NotifyError::Message {
                channel: self.name.clone(),
                source,
            })?;
        self.transport
            .send(&email)
            .map(|_| ())
            .map_err(|source| NotifyError::Smtp {
                channel: self.name.clone(),
                server: self.server.clone(),
                source,
            })
    }
}
