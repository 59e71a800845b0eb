//! The REST API of health: the latest round's view (`GET /api/v1/health`: disks, pools
//! with vdev trees and scrubs, sensors, findings, active alerts and the front-panel
//! summary), chart series (`GET /api/v1/health/history`), the alert book
//! (`GET /api/v1/health/alerts`), the test button (`POST /api/v1/health/test-notification`)
//! and a round now (`POST /api/v1/health/check`). Every route answers 503 when the daemon
//! does not run health monitoring.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use wizfs_health::Timestamp;
use wizfs_health::alerts::Alert;
use wizfs_health::history::ChartPoint;

use super::blocking;
use crate::server::{ApiError, AppState};
use wizfs_services::health::{HealthService, TestResult, test_notifications};
use wizfs_services::wire::health::HealthView;

/// Chart points when the request names none, and the most it may ask for.
const DEFAULT_POINTS: usize = 200;
const MAX_POINTS: usize = 5000;
/// The default chart span: a week.
const DEFAULT_SPAN_SECONDS: i64 = 7 * 24 * 3600;

fn service(state: &AppState) -> Result<HealthService, ApiError> {
    state
        .health
        .clone()
        .ok_or_else(|| ApiError::unavailable("health monitoring is not running".into()))
}

async fn view(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    let latest = service(&state)?.latest();
    latest
        .map(|view| Json(HealthView::clone(&view)))
        .ok_or_else(|| ApiError::unavailable("the first health check has not finished yet".into()))
}

async fn check(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    let service = service(&state)?;
    let udisks = service.ask_udisks().await;
    blocking(move || {
        let view = service.round(wizfs_recovery::system_clock(), true, &udisks);
        Ok(Json(HealthView::clone(&view)))
    })
    .await
}

/// `GET /api/v1/health/alerts`.
#[derive(Debug, Serialize)]
pub struct AlertsView {
    /// Most severe first.
    pub active: Vec<Alert>,
    /// Resolved in the last `keep_cleared_days`.
    pub cleared: Vec<Alert>,
}

async fn alerts(State(state): State<AppState>) -> Result<Json<AlertsView>, ApiError> {
    let service = service(&state)?;
    // The book's lock is held through a round (which may wait on a slow mail server): read
    // it on the blocking pool, never on the executor.
    blocking(move || {
        let book = service.alerts();
        Ok(Json(AlertsView {
            active: book.active().into_iter().cloned().collect(),
            cleared: book
                .alerts
                .iter()
                .filter(|alert| !alert.is_active())
                .cloned()
                .collect(),
        }))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    /// A series name (`disk/<identity>/temperature`, `pool/tank/capacity_percent`, …);
    /// without it the answer lists the series.
    #[serde(default)]
    pub metric: Option<String>,
    /// Unix seconds; default a week before `to`.
    #[serde(default)]
    pub from: Option<i64>,
    /// Unix seconds; default now.
    #[serde(default)]
    pub to: Option<i64>,
    #[serde(default)]
    pub points: Option<usize>,
}

/// `GET /api/v1/health/history`: the series, or one series between two times.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum HistoryView {
    Metrics {
        metrics: Vec<String>,
    },
    Series {
        metric: String,
        from: i64,
        to: i64,
        points: Vec<ChartPoint>,
    },
}

async fn history(
    State(state): State<AppState>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryView>, ApiError> {
    let service = service(&state)?;
    let points = query.points.unwrap_or(DEFAULT_POINTS);
    if !(1..=MAX_POINTS).contains(&points) {
        return Err(ApiError::bad_request(format!(
            "points must be between 1 and {MAX_POINTS}"
        )));
    }
    let to = query.to.unwrap_or(wizfs_recovery::system_clock().seconds());
    let from = query
        .from
        .unwrap_or(to.saturating_sub(DEFAULT_SPAN_SECONDS));
    if from > to {
        return Err(ApiError::bad_request("`from` is after `to`".into()));
    }
    blocking(move || {
        let history = service.history().ok_or_else(|| {
            ApiError::unavailable("the health history could not be opened".into())
        })?;
        let failed = |error: wizfs_health::history::HistoryError| match error {
            wizfs_health::history::HistoryError::InvalidMetric { .. } => {
                ApiError::bad_request(error.to_string())
            }
            other => ApiError::internal(other.to_string()),
        };
        Ok(Json(match query.metric {
            None => HistoryView::Metrics {
                metrics: history.metrics().map_err(failed)?,
            },
            Some(metric) => HistoryView::Series {
                points: history
                    .query(&metric, Timestamp(from), Timestamp(to), points)
                    .map_err(failed)?,
                metric,
                from,
                to,
            },
        }))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct TestQuery {
    /// Only this channel (default: every configured channel).
    #[serde(default)]
    pub channel: Option<String>,
}

async fn test_notification(
    State(state): State<AppState>,
    Query(query): Query<TestQuery>,
) -> Result<Json<Vec<TestResult>>, ApiError> {
    let service = service(&state)?;
    if service.config().notify.is_empty() {
        return Err(ApiError::not_found(
            "no notification channel is configured ([[health.notify]])".into(),
        ));
    }
    blocking(move || {
        test_notifications(
            service.config(),
            query.channel.as_deref(),
            service.host(),
            wizfs_recovery::system_clock(),
        )
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no notification channel `{}` is configured",
                query.channel.unwrap_or_default()
            ))
        })
    })
    .await
}

/// The routes of health.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get("/api/v1/health", view)
        .post("/api/v1/health/check", check)
        .get("/api/v1/health/alerts", alerts)
        .get("/api/v1/health/history", history)
        .post("/api/v1/health/test-notification", test_notification)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::StatusCode;

    use super::super::tests::{get_json, post_json};
    use super::*;
    use wizfs_services::testing::{Machine, Receiver};

    async fn call(router: Router, method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
        match method {
            "POST" => post_json(&router, uri, serde_json::json!({})).await,
            _ => get_json(&router, uri).await,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn view_check_alerts_history_and_test_button() {
        let (receiver, url) = Receiver::start().await;
        let machine = Machine::new(&url);
        let without = crate::server::router(AppState::new(machine.zfs.clone()));
        let (status, body) = call(without, "GET", "/api/v1/health").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

        let state = AppState::new(machine.zfs.clone()).with_health(machine.service());
        let router = || crate::server::router(state.clone());
        let (status, body) = call(router(), "GET", "/api/v1/health").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("first health check")
        );

        let (status, checked) = call(router(), "POST", "/api/v1/health/check").await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        let (status, body) = call(router(), "GET", "/api/v1/health").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, checked);
        assert_eq!(body["summary"]["status"], "critical");
        assert_eq!(body["summary"]["disks"], 2);
        assert_eq!(body["summary"]["pools_online"], 1);
        assert_eq!(body["disks"][1]["disk"]["scheme"], "model_serial");
        assert_eq!(body["disks"][1]["disk"]["value"]["serial"], "WIZFSNVME1");
        assert_eq!(body["disks"][1]["severity"], "critical");
        assert_eq!(body["disks"][1]["summary"]["nvme"]["critical_warning"], 4);
        assert_eq!(body["pools"][0]["vdevs"][0]["state"], "ONLINE");
        // Never scrubbed: the first round started one ([health.scrubs]).
        assert_eq!(body["pools"][0]["scrub"]["state"], "scanning", "{body}");
        assert_eq!(body["round"]["scrubs_started"][0], "tank", "{body}");
        let critical: Vec<&str> = body["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|finding| finding["severity"] == "critical")
            .filter_map(|finding| finding["kind"].as_str())
            .collect();
        assert_eq!(critical, ["smart_status_failed", "nvme_critical_warning"]);
        assert_eq!(body["round"]["notifications"][0]["channel"], "hook");

        let (status, alerts) = call(router(), "GET", "/api/v1/health/alerts").await;
        assert_eq!(status, StatusCode::OK, "{alerts}");
        assert_eq!(alerts["active"][0]["kind"], "smart_status_failed");
        assert_eq!(alerts["active"][0]["subject"]["type"], "disk");
        assert_eq!(alerts["cleared"], serde_json::json!([]));

        let (status, listed) = call(router(), "GET", "/api/v1/health/history").await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let metrics = listed["metrics"].as_array().expect("metrics");
        assert!(
            metrics.contains(&serde_json::json!("pool/tank/capacity_percent")),
            "{listed}"
        );
        let (status, series) = call(
            router(),
            "GET",
            "/api/v1/health/history?metric=disk/QEMU_NVMe_Ctrl_WIZFSNVME1/temperature&points=10",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{series}");
        assert_eq!(series["points"][0]["average"], 50.0);
        for bad in [
            "/api/v1/health/history?metric=x&points=0",
            "/api/v1/health/history?metric=x&from=20&to=10",
            "/api/v1/health/history?from=soon",
        ] {
            let (status, body) = call(router(), "GET", bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }

        let before = receiver.events().len();
        let (status, tested) = call(router(), "POST", "/api/v1/health/test-notification").await;
        assert_eq!(status, StatusCode::OK, "{tested}");
        assert_eq!(tested[0]["channel"], "hook");
        assert_eq!(tested[0]["delivered"], true);
        let events = receiver.events();
        assert_eq!(events.len(), before + 1);
        assert_eq!(events[before].0, "test");
        let (status, body) = call(
            router(),
            "POST",
            "/api/v1/health/test-notification?channel=nope",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
}
