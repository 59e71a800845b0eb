//! What a person asks of health monitoring besides looking: acknowledge an alert (its
//! reminders stop until it gets worse; kept across restarts with the book) and start a SMART
//! self-test of one disk now (recorded in the self-test log as the scheduler's are, so the
//! schedule counts it); and the notification channels listed for people, without their
//! secrets. Scrubs need no monitoring state: [`crate::Services::start_scrub`].

use std::sync::PoisonError;

use wizfs_api::health::{FindingKind, SelfTestKind as WireSelfTestKind, Subject};
use wizfs_health::Timestamp;
use wizfs_health::smart::SelfTestKind;

use wizfs_health::notify::http::shown_url;

use super::{HealthService, save_json};
use crate::ServiceError;
use crate::views::health::{finding_kind, subject};

impl HealthService {
    /// Acknowledges the active alert about `about` of `kind` (as the API names them) at
    /// `now`, saves the book and marks it in the latest view.
    pub fn acknowledge(
        &self,
        about: &Subject,
        kind: FindingKind,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let inner = &self.inner;
        let mut memory = inner.memory.lock().unwrap_or_else(PoisonError::into_inner);
        let found = memory
            .book
            .active()
            .into_iter()
            .find(|alert| {
                subject(&alert.problem.subject) == *about
                    && finding_kind(alert.problem.kind) == kind
            })
            .map(|alert| (alert.problem.subject.clone(), alert.problem.kind));
        let Some((health_subject, health_kind)) = found else {
            return Err(ServiceError::NotFound(
                "no such active alert: it may have cleared meanwhile".into(),
            ));
        };
        memory.book.acknowledge(&health_subject, health_kind, now);
        let path = inner.state_dir.join("alerts.json");
        save_json(&path, &memory.book).map_err(|error| {
            ServiceError::Internal(format!("cannot save {}: {error}", path.display()))
        })?;
        drop(memory);
        let mut latest = inner.latest.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(view) = latest.as_mut() {
            let mut updated = (**view).clone();
            for alert in &mut updated.alerts {
                if alert.subject == *about && alert.kind == kind && alert.cleared.is_none() {
                    alert.acknowledged.get_or_insert(now.seconds());
                }
            }
            *view = std::sync::Arc::new(updated);
        }
        tracing::info!(subject = ?about, ?kind, "alert acknowledged");
        Ok(())
    }

    /// Starts a SMART self-test of `disk` (its identity token, or the device smartctl was
    /// given) now, as the last reading knows it. Refused while the disk runs one already.
    pub fn start_self_test_now(
        &self,
        disk: &str,
        kind: WireSelfTestKind,
        now: Timestamp,
    ) -> Result<String, ServiceError> {
        let inner = &self.inner;
        let mut memory = inner.memory.lock().unwrap_or_else(PoisonError::into_inner);
        let reading = memory
            .smart
            .as_ref()
            .and_then(|part| {
                part.disks.iter().find(|reading| {
                    reading.device.name == disk
                        || reading.disk().is_some_and(|id| id.token() == disk)
                })
            })
            .cloned()
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no disk `{disk}` in the last SMART reading (the health page lists them)"
                ))
            })?;
        let Some(summary) = reading.summary() else {
            return Err(ServiceError::Conflict(format!(
                "`{disk}` could not be read just now (asleep or unavailable); try again later"
            )));
        };
        if summary.self_test.in_progress {
            return Err(ServiceError::Conflict(format!(
                "{} is running a self-test already",
                summary.disk
            )));
        }
        let kind = match kind {
            WireSelfTestKind::Short => SelfTestKind::Short,
            WireSelfTestKind::Long => SelfTestKind::Long,
        };
        inner
            .smart
            .start_self_test(&reading.device, kind)
            .map_err(|error| {
                ServiceError::Unavailable(format!("smartctl did not start the test: {error}"))
            })?;
        let entry = memory
            .self_tests
            .disks
            .entry(summary.disk.token())
            .or_default();
        match kind {
            SelfTestKind::Short => entry.last_short = Some(now.seconds()),
            SelfTestKind::Long => entry.last_long = Some(now.seconds()),
        }
        entry.retry_after = None;
        let path = inner.state_dir.join("self-tests.json");
        if let Err(error) = save_json(&path, &memory.self_tests) {
            tracing::error!(path = %path.display(), %error, "saving the self-test log failed");
        }
        let what = match kind {
            SelfTestKind::Short => "short",
            SelfTestKind::Long => "long",
        };
        tracing::info!(disk = %summary.disk, kind = what, "SMART self-test started on request");
        Ok(format!(
            "A {what} SMART self-test of {} ({}) started; the health page shows its result when it ends.",
            summary.disk, reading.device.name
        ))
    }
}

/// A channel of the configuration as the console lists it.
fn channel_view(
    channel: &wizfs_health::notify::ChannelConfig,
    problem: Option<String>,
) -> wizfs_api::health::ChannelView {
    use wizfs_api::health::{ChannelKind, ChannelSettings};
    use wizfs_health::notify::ChannelConfig;
    use wizfs_health::notify::email::SmtpSecurity;
    let path =
        |file: &Option<std::path::PathBuf>| file.as_ref().map(|file| file.display().to_string());
    let mut settings = ChannelSettings::new(
        ChannelKind::Webhook,
        channel.name(),
        crate::views::health::severity(channel.min_severity()),
    );
    let destination = match channel {
        ChannelConfig::Email(email) => {
            settings.kind = ChannelKind::Email;
            settings.server = Some(email.smtp_host.clone());
            settings.smtp_port = email.smtp_port;
            settings.security = Some(
                match email.security {
                    SmtpSecurity::Starttls => "starttls",
                    SmtpSecurity::Tls => "tls",
                    SmtpSecurity::None => "none",
                }
                .to_owned(),
            );
            settings.username.clone_from(&email.username);
            settings.from = Some(email.from.clone());
            settings.to.clone_from(&email.to);
            settings.secret_file = path(&email.password_file);
            settings.secret_inline = email.password.is_some();
            format!(
                "to {} via {}{}",
                email.to.join(", "),
                email.smtp_host,
                email
                    .smtp_port
                    .map(|port| format!(":{port}"))
                    .unwrap_or_default()
            )
        }
        ChannelConfig::Webhook(webhook) => {
            settings.address_set = !webhook.url.is_empty();
            settings.secret_file = path(&webhook.token_file);
            settings.secret_inline = webhook.token.is_some();
            shown_url(&webhook.url)
        }
        ChannelConfig::Ntfy(ntfy) => {
            settings.kind = ChannelKind::Ntfy;
            settings.server = Some(ntfy.server.clone());
            settings.address_set = !ntfy.topic.is_empty();
            settings.secret_file = path(&ntfy.token_file);
            settings.secret_inline = ntfy.token.is_some();
            format!("{} (its topic)", shown_url(&ntfy.server))
        }
        ChannelConfig::Gotify(gotify) => {
            settings.kind = ChannelKind::Gotify;
            settings.server = Some(gotify.url.clone());
            settings.secret_file = path(&gotify.token_file);
            settings.secret_inline = gotify.token.is_some();
            shown_url(&gotify.url)
        }
    };
    wizfs_api::health::ChannelView {
        settings,
        destination,
        problem,
    }
}

impl HealthService {
    /// The configured notification channels (secrets left out), each with why it cannot
    /// send when it could not be built.
    pub fn channels(&self) -> Vec<wizfs_api::health::ChannelView> {
        let channels = self.channels_now();
        channels
            .configs()
            .iter()
            .map(|channel| {
                channel_view(channel, channels.problem(channel.name()).map(str::to_owned))
            })
            .collect()
    }
}
