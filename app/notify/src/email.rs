//! Email notifications over SMTP with lettre (`type = "email"`): STARTTLS (required, not
//! opportunistic) or implicit TLS with rustls and the webpki roots, optional authentication,
//! one connection per message and a time limit. Plain SMTP exists for relays on the local
//! network; it refuses to send a password anywhere but to a loopback server.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Email};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use crate::channel::{
    Notifier, NotifyError, default_min_severity, default_timeout_seconds, resolve_secret,
};
use crate::message::{Message, Severity};

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); the upgrade is required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25): only for a relay on the local network; credentials are then
    /// only accepted for a loopback server.
    None,
}

/// `type = "email"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    pub smtp_host: String,
    /// Defaults to 587, 465 or 25 by `security`.
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    /// `"WiZFS <nas@example.org>"`.
    pub from: String,
    pub to: Vec<String>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

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

    fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let mut builder = Email::builder()
            .from(self.from.clone())
            .subject(message.title.as_str())
            .header(ContentType::TEXT_PLAIN);
        for recipient in &self.to {
            builder = builder.to(recipient.clone());
        }
        let email = builder
            .body(message.body.clone())
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
