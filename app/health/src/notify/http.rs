//! HTTP notifications with ureq (blocking, rustls): a generic webhook that POSTs the
//! notification as JSON, and ntfy, which takes the text as the body and the title, priority
//! and tags as headers (`POST https://ntfy.sh/<topic>`, see the ntfy publishing docs). Both
//! use one agent per channel with a global time limit, no proxy from the environment (the
//! daemon's environment is not the administrator's shell), and treat any non-2xx answer as a
//! failure that carries the start of the response body.

use std::time::Duration;

use ureq::Agent;

use super::config::{NtfyChannel, WebhookChannel, resolve_secret, valid_name};
use super::{Notifier, NotifyError, OutgoingMessage, render};
use crate::alerts::NotificationEvent;
use crate::finding::Severity;

/// How much of an error response body is kept for the message.
const ERROR_BODY_LIMIT: u64 = 2048;

fn agent(timeout_seconds: u32) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(u64::from(timeout_seconds.max(1)))))
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("wizfs-health/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

fn check_url(channel: &str, url: &str) -> Result<(), NotifyError> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(NotifyError::Config {
            channel: channel.into(),
            reason: format!("{url:?} is not an http:// or https:// URL"),
        }),
    }
}

/// Sends a request and turns transport errors and non-2xx statuses into [`NotifyError`].
fn post(
    channel: &str,
    url: &str,
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: &[u8],
) -> Result<(), NotifyError> {
    let mut response = request.send(body).map_err(|source| NotifyError::Http {
        channel: channel.into(),
        url: url.into(),
        source: Box::new(source),
    })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(ERROR_BODY_LIMIT)
        .lossy_utf8(true)
        .read_to_string()
        .unwrap_or_default();
    Err(NotifyError::HttpStatus {
        channel: channel.into(),
        url: url.into(),
        status,
        body: body.trim().to_owned(),
    })
}

/// What both HTTP channels hold: their name, the URL they post to, an optional bearer token
/// and their agent.
#[derive(Debug)]
struct HttpTarget {
    name: String,
    url: String,
    token: Option<String>,
    agent: Agent,
}

impl HttpTarget {
    fn new(
        name: &str,
        url: String,
        token: Option<&str>,
        token_file: Option<&std::path::Path>,
        timeout_seconds: u32,
    ) -> Result<HttpTarget, NotifyError> {
        check_url(name, &url)?;
        Ok(HttpTarget {
            token: resolve_secret(name, "token", token, token_file)?,
            name: name.to_owned(),
            url,
            agent: agent(timeout_seconds),
        })
    }

    /// A POST to the URL, with the bearer token when there is one.
    fn request(&self) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let request = self.agent.post(&self.url);
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }
}

/// The generic webhook.
#[derive(Debug)]
pub struct WebhookNotifier {
    target: HttpTarget,
}

impl WebhookNotifier {
    pub fn new(config: &WebhookChannel) -> Result<WebhookNotifier, NotifyError> {
        Ok(WebhookNotifier {
            target: HttpTarget::new(
                &config.name,
                config.url.clone(),
                config.token.as_deref(),
                config.token_file.as_deref(),
                config.timeout_seconds,
            )?,
        })
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn send(&self, message: &OutgoingMessage) -> Result<(), NotifyError> {
        let target = &self.target;
        let payload = serde_json::to_vec(&render::webhook_payload(message)).map_err(|error| {
            NotifyError::Config {
                channel: target.name.clone(),
                reason: format!("encoding the payload: {error}"),
            }
        })?;
        let request = target.request().header("Content-Type", "application/json");
        post(&target.name, &target.url, request, &payload)
    }
}

/// ntfy.
#[derive(Debug)]
pub struct NtfyNotifier {
    target: HttpTarget,
}

/// ntfy priorities: 1 min, 2 low, 3 default, 4 high, 5 max (urgent).
pub fn ntfy_priority(event: NotificationEvent, severity: Severity) -> u8 {
    match (event, severity) {
        (NotificationEvent::Resolved | NotificationEvent::Test, _) => 3,
        (_, Severity::Info) => 2,
        (_, Severity::Warning) => 4,
        (_, Severity::Critical) => 5,
    }
}

/// ntfy tags: an emoji short code (shown before the title) and the finding kind.
pub fn ntfy_tags(message: &OutgoingMessage) -> String {
    let notification = &message.notification;
    let emoji = match (notification.event, notification.problem.severity) {
        (NotificationEvent::Resolved, _) => "white_check_mark",
        (NotificationEvent::Test, _) => "test_tube",
        (_, Severity::Critical) => "rotating_light",
        (_, Severity::Warning) => "warning",
        (_, Severity::Info) => "information_source",
    };
    format!(
        "{emoji},{},{}",
        notification.event.as_str(),
        notification.problem.kind
    )
}

/// HTTP header values must be visible ASCII: anything else in a title becomes `?`.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character == ' ' || character.is_ascii_graphic() {
                character
            } else {
                '?'
            }
        })
        .collect()
}

impl NtfyNotifier {
    pub fn new(config: &NtfyChannel) -> Result<NtfyNotifier, NotifyError> {
        if !valid_name(&config.topic) {
            return Err(NotifyError::Config {
                channel: config.name.clone(),
                reason: format!(
                    "ntfy topic {:?} must be 1–64 letters, digits, `-` or `_`",
                    config.topic
                ),
            });
        }
        check_url(&config.name, &config.server)?;
        Ok(NtfyNotifier {
            target: HttpTarget::new(
                &config.name,
                format!("{}/{}", config.server.trim_end_matches('/'), config.topic),
                config.token.as_deref(),
                config.token_file.as_deref(),
                config.timeout_seconds,
            )?,
        })
    }
}

impl Notifier for NtfyNotifier {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn send(&self, message: &OutgoingMessage) -> Result<(), NotifyError> {
        let notification = &message.notification;
        let target = &self.target;
        let request = target
            .request()
            .header("Title", header_text(&render::title(message)))
            .header(
                "Priority",
                ntfy_priority(notification.event, notification.problem.severity).to_string(),
            )
            .header("Tags", ntfy_tags(message))
            .header("Content-Type", "text/plain; charset=utf-8");
        post(
            &target.name,
            &target.url,
            request,
            render::body(message).as_bytes(),
        )
    }
}
