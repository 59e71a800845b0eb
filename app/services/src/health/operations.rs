//! The health operations of the API as methods of [`Services`]: the latest round's view, a
//! round now, the alert book and acknowledging an alert, history series, test messages, and
//! starting a scrub or a SMART self-test now. Each but the scrub fails as `Unavailable` when
//! the daemon does not run health monitoring.

use wizfs_api::health::{
    AcknowledgeBody, AlertsView, ChannelView, HealthView, HistoryQuery, HistoryView, MetricsView,
    ScrubBody, SelfTestBody, SeriesView, StartedView, TestQuery, TestResult,
};
use wizfs_health::Timestamp;
use wizfs_health::history::HistoryError;

use super::{HealthService, test_notifications};
use crate::recovery::blocking;
use crate::views::health::{alert, chart_point};
use crate::{ServiceError, Services};

/// Chart points when the request names none, and the most it may ask for.
const DEFAULT_POINTS: usize = 200;
const MAX_POINTS: usize = 5000;
/// The default chart span: a week.
const DEFAULT_SPAN_SECONDS: i64 = 7 * 24 * 3600;

fn history_failed(error: HistoryError) -> ServiceError {
    match error {
        HistoryError::InvalidMetric { .. } => ServiceError::BadRequest(error.to_string()),
        other => ServiceError::Internal(other.to_string()),
    }
}

impl Services {
    pub(crate) fn health_service(&self) -> Result<HealthService, ServiceError> {
        self.health
            .clone()
            .ok_or_else(|| ServiceError::Unavailable("health monitoring is not running".into()))
    }

    /// The view of the latest round.
    pub fn health_view(&self) -> Result<HealthView, ServiceError> {
        self.health_service()?
            .latest()
            .map(|view| HealthView::clone(&view))
            .ok_or_else(|| {
                ServiceError::Unavailable("the first health check has not finished yet".into())
            })
    }

    /// A round now, the disks read whatever their last reading; its view.
    pub async fn health_check(&self) -> Result<HealthView, ServiceError> {
        let service = self.health_service()?;
        let udisks = service.ask_udisks().await;
        blocking(move || {
            let view = service.round(wizfs_recovery::system_clock(), true, &udisks);
            Ok(HealthView::clone(&view))
        })
        .await
    }

    /// The alert book: active alerts, most severe first, and those cleared recently.
    pub async fn health_alerts(&self) -> Result<AlertsView, ServiceError> {
        let service = self.health_service()?;
        // The book's lock is held through a round (which may wait on a slow mail server):
        // read it on the blocking pool, never on the executor.
        blocking(move || {
            let book = service.alerts();
            Ok(AlertsView {
                active: book.active().into_iter().map(alert).collect(),
                cleared: book
                    .alerts
                    .iter()
                    .filter(|candidate| !candidate.is_active())
                    .map(alert)
                    .collect(),
            })
        })
        .await
    }

    /// The configured notification channels, without their secrets.
    pub fn health_channels(&self) -> Result<Vec<ChannelView>, ServiceError> {
        Ok(self.health_service()?.channels())
    }

    /// Acknowledges an active alert; the book after it.
    pub async fn acknowledge_alert(
        &self,
        body: AcknowledgeBody,
    ) -> Result<AlertsView, ServiceError> {
        let service = self.health_service()?;
        blocking(move || {
            service.acknowledge(&body.subject, body.kind, wizfs_recovery::system_clock())
        })
        .await?;
        self.health_alerts().await
    }

    /// Starts a scrub of a pool now (`zpool scrub`; refused while one runs).
    pub async fn start_scrub(&self, body: ScrubBody) -> Result<StartedView, ServiceError> {
        let pool = wizfs_core::PoolName::new(body.pool.trim())
            .map_err(|error| ServiceError::BadRequest(error.to_string()))?;
        let zfs = self.zfs.clone();
        blocking(move || {
            zfs.start_scrub(&pool)?;
            tracing::info!(%pool, "scrub started on request");
            Ok(StartedView {
                message: format!(
                    "The scrub of {pool} started; the health page shows its progress and result."
                ),
            })
        })
        .await
    }

    /// Starts a SMART self-test of one disk now.
    pub async fn start_self_test(&self, body: SelfTestBody) -> Result<StartedView, ServiceError> {
        let service = self.health_service()?;
        blocking(move || {
            service
                .start_self_test_now(body.disk.trim(), body.kind, wizfs_recovery::system_clock())
                .map(|message| StartedView { message })
        })
        .await
    }

    /// The recorded series, or one series between two times.
    pub async fn health_history(&self, query: HistoryQuery) -> Result<HistoryView, ServiceError> {
        let service = self.health_service()?;
        let points = query.points.unwrap_or(DEFAULT_POINTS);
        if !(1..=MAX_POINTS).contains(&points) {
            return Err(ServiceError::BadRequest(format!(
                "points must be between 1 and {MAX_POINTS}"
            )));
        }
        let to = query.to.unwrap_or(wizfs_recovery::system_clock().seconds());
        let from = query
            .from
            .unwrap_or(to.saturating_sub(DEFAULT_SPAN_SECONDS));
        if from > to {
            return Err(ServiceError::BadRequest("`from` is after `to`".into()));
        }
        blocking(move || {
            let history = service.history().ok_or_else(|| {
                ServiceError::Unavailable("the health history could not be opened".into())
            })?;
            Ok(match query.metric {
                None => HistoryView::Metrics(MetricsView {
                    metrics: history.metrics().map_err(history_failed)?,
                }),
                Some(metric) => HistoryView::Series(SeriesView {
                    points: history
                        .query(&metric, Timestamp(from), Timestamp(to), points)
                        .map_err(history_failed)?
                        .iter()
                        .map(chart_point)
                        .collect(),
                    metric,
                    from,
                    to,
                }),
            })
        })
        .await
    }

    /// Sends a test message to every configured channel, or to the one named.
    pub async fn test_notification(
        &self,
        query: TestQuery,
    ) -> Result<Vec<TestResult>, ServiceError> {
        let service = self.health_service()?;
        let channels = service.channels_now();
        if channels.configs().is_empty() {
            return Err(ServiceError::NotFound(
                "no notification channel is configured ([[health.notify]])".into(),
            ));
        }
        blocking(move || {
            test_notifications(
                channels.configs(),
                query.channel.as_deref(),
                service.host(),
                wizfs_recovery::system_clock(),
            )
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no notification channel `{}` is configured",
                    query.channel.unwrap_or_default()
                ))
            })
        })
        .await
    }
}
