//! HTTP notifications with ureq (blocking, rustls): a generic webhook that POSTs the
//! message's JSON document; ntfy, which takes the text as the body and the title, priority and
//! tags as headers (`POST https://ntfy.sh/<topic>`, see the ntfy publishing docs); and Gotify,
//! which takes a JSON `{title, message, priority}` at `POST <server>/message` with the
//! application token in `X-Gotify-Key` (see the Gotify push-message docs). All use one agent
//! per channel with a global time limit, no proxy from the environment (the daemon's
//! environment is not the administrator's shell), and treat any non-2xx answer as a failure
//! that carries the start of the response body.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::Agent;

use crate::channel::{
    Notifier, NotifyError, default_min_severity, default_timeout_seconds, resolve_secret,
    valid_name,
};
use crate::message::{Message, Severity};

/// How much of an error response body is kept for the message.
const ERROR_BODY_LIMIT: u64 = 2048;

/// `type = "webhook"`: a POST of the message's JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    pub url: String,
    /// Sent as `Authorization: Bearer …`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

/// `type = "ntfy"`: a POST to `server/topic` with Title, Priority and Tags headers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// `https://ntfy.sh` or a self-hosted server.
    pub server: String,
    pub topic: String,
    /// Access token (`Authorization: Bearer …`) for protected topics.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

/// `type = "gotify"`: a POST to `url/message` with the application token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GotifyChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// The Gotify server (`https://gotify.example.org`, or with a path it is served under).
    pub url: String,
    /// The token of a Gotify application (required, inline or from `token_file`), sent as
    /// `X-Gotify-Key`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

fn agent(timeout_seconds: u32) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(u64::from(timeout_seconds.max(1)))))
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("wizfs-notify/", env!("CARGO_PKG_VERSION")))
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

/// Where a URL sends, without what may be secret in it (user, path, query: a webhook's
/// URL often carries its token, an ntfy topic is read and written by whoever knows it): its
/// scheme and host (and port). Errors and the console show this.
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Sends a request and turns transport errors and non-2xx statuses into [`NotifyError`]
/// (naming the URL without its secrets: [`shown_url`]).
fn post(
    channel: &str,
    url: &str,
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: &[u8],
) -> Result<(), NotifyError> {
    let mut response = request.send(body).map_err(|source| NotifyError::Http {
        channel: channel.into(),
        url: shown_url(url),
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
        url: shown_url(url),
        status,
        body: body.trim().to_owned(),
    })
}

/// What every HTTP channel holds: its name, the URL it posts to, the header that
/// authenticates it, if any, and its agent.
#[derive(Debug)]
struct HttpTarget {
    name: String,
    url: String,
    authentication: Option<(&'static str, String)>,
    agent: Agent,
}

impl HttpTarget {
    fn new(
        name: &str,
        url: String,
        authentication: Option<(&'static str, String)>,
        timeout_seconds: u32,
    ) -> Result<HttpTarget, NotifyError> {
        check_url(name, &url)?;
        Ok(HttpTarget {
            name: name.to_owned(),
            url,
            authentication,
            agent: agent(timeout_seconds),
        })
    }

    /// A target authenticated by an optional bearer token.
    fn with_bearer(
        name: &str,
        url: String,
        token: Option<&str>,
        token_file: Option<&Path>,
        timeout_seconds: u32,
    ) -> Result<HttpTarget, NotifyError> {
        let token = resolve_secret(name, "token", token, token_file)?;
        let authentication = token.map(|token| ("Authorization", format!("Bearer {token}")));
        HttpTarget::new(name, url, authentication, timeout_seconds)
    }

    /// A POST to the URL, with the authentication header when there is one.
    fn request(&self) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let request = self.agent.post(&self.url);
        match &self.authentication {
            Some((header, value)) => request.header(*header, value),
            None => request,
        }
    }

    fn post(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithBody>,
        body: &[u8],
    ) -> Result<(), NotifyError> {
        post(&self.name, &self.url, request, body)
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
            target: HttpTarget::with_bearer(
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

    fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let request = self
            .target
            .request()
            .header("Content-Type", "application/json");
        self.target.post(request, message.json.as_bytes())
    }
}

/// ntfy.
#[derive(Debug)]
pub struct NtfyNotifier {
    target: HttpTarget,
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
            target: HttpTarget::with_bearer(
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

    fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let request = self
            .target
            .request()
            .header("Title", header_text(&message.title))
            .header("Priority", message.priority.ntfy().to_string())
            .header("Tags", header_text(&message.tags.join(",")))
            .header("Content-Type", "text/plain; charset=utf-8");
        self.target.post(request, message.body.as_bytes())
    }
}

/// Gotify.
#[derive(Debug)]
pub struct GotifyNotifier {
    target: HttpTarget,
}

/// The JSON body of `POST /message`.
#[derive(Debug, Serialize)]
struct GotifyMessage<'a> {
    title: &'a str,
    message: &'a str,
    priority: u8,
}

impl GotifyNotifier {
    pub fn new(config: &GotifyChannel) -> Result<GotifyNotifier, NotifyError> {
        check_url(&config.name, &config.url)?;
        let token = resolve_secret(
            &config.name,
            "token",
            config.token.as_deref(),
            config.token_file.as_deref(),
        )?
        .ok_or_else(|| NotifyError::Config {
            channel: config.name.clone(),
            reason: "a Gotify channel needs the token of a Gotify application (`token` or \
                     `token_file`)"
                .into(),
        })?;
        Ok(GotifyNotifier {
            target: HttpTarget::new(
                &config.name,
                format!("{}/message", config.url.trim_end_matches('/')),
                Some(("X-Gotify-Key", token)),
                config.timeout_seconds,
            )?,
        })
    }
}

impl Notifier for GotifyNotifier {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let body = serde_json::to_vec(&GotifyMessage {
            title: &message.title,
            message: &message.body,
            priority: message.priority.gotify(),
        })
        .map_err(|error| NotifyError::Config {
            channel: self.target.name.clone(),
            reason: format!("encoding the message: {error}"),
        })?;
        let request = self
            .target
            .request()
            .header("Content-Type", "application/json");
        self.target.post(request, &body)
    }
}

#[cfg(test)]
mod shown_url_tests {
    #[test]
    fn a_failed_post_names_its_server_and_not_the_secret_path() {
        // Nothing listens on the discard port of loopback: the connection is refused.
        let url = "http://127.0.0.1:9/hooks/secret-path?token=s3cret";
        let error = super::post("hook", url, super::agent(5).post(url), b"{}")
            .expect_err("nothing listens there");
        let text = error.to_string();
        assert!(text.contains("http://127.0.0.1:9"), "{text}");
        assert!(
            !text.contains("secret") && !text.contains("s3cret"),
            "{text}"
        );
    }

    #[test]
    fn urls_show_where_they_send_and_nothing_secret() {
        for (url, shown) in [
            (
                "https://hooks.example.org/T000/B000/XXXX?token=s3cret",
                "https://hooks.example.org",
            ),
            (
                "https://user:pass@gotify.lan:8443/message",
                "https://gotify.lan:8443",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("ntfy.sh", "ntfy.sh"),
        ] {
            assert_eq!(super::shown_url(url), shown, "{url}");
        }
    }
}
