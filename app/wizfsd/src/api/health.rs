//! The REST API of health: the latest round's view (`GET /api/v1/health`: disks, pools
//! with vdev trees and scrubs, sensors, findings, active alerts and the front-panel
//! summary), chart series (`GET /api/v1/health/history`), the alert book
//! (`GET /api/v1/health/alerts`) and acknowledging an alert
//! (`POST /api/v1/health/alerts/acknowledge`), the test button
//! (`POST /api/v1/health/test-notification`), a round now (`POST /api/v1/health/check`), and
//! a scrub or SMART self-test now (`POST /api/v1/health/scrub`, `…/self-test`). Every route answers 503 when the daemon
//! does not run health monitoring; each handler is one call of the health services of
//! `wizfs-services`.

use axum::Json;
use axum::extract::State;
use wizfs_api::health::{
    AcknowledgeBody, AlertsView, ChannelChange, ChannelView, HealthView, HistoryQuery, HistoryView,
    ScrubBody, SelfTestBody, StartedView, TestQuery, TestResult,
};
use wizfs_api::routes;

use crate::http::{ApiError, ApiJson, ApiQuery, AppState};

async fn view(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    Ok(Json(state.health_view()?))
}

async fn check(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    Ok(Json(state.health_check().await?))
}

async fn alerts(State(state): State<AppState>) -> Result<Json<AlertsView>, ApiError> {
    Ok(Json(state.health_alerts().await?))
}

async fn history(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryView>, ApiError> {
    Ok(Json(state.health_history(query).await?))
}

async fn test_notification(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TestQuery>,
) -> Result<Json<Vec<TestResult>>, ApiError> {
    Ok(Json(state.test_notification(query).await?))
}

async fn channels(State(state): State<AppState>) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(state.health_channels()?))
}

async fn change_channel(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<ChannelChange>,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(state.change_channel(change).await?))
}

async fn acknowledge(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcknowledgeBody>,
) -> Result<Json<AlertsView>, ApiError> {
    Ok(Json(state.acknowledge_alert(body).await?))
}

async fn scrub(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ScrubBody>,
) -> Result<Json<StartedView>, ApiError> {
    Ok(Json(state.start_scrub(body).await?))
}

async fn self_test(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SelfTestBody>,
) -> Result<Json<StartedView>, ApiError> {
    Ok(Json(state.start_self_test(body).await?))
}

/// The routes of health.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get(routes::HEALTH, view)
        .post(routes::HEALTH_CHECK, check)
        .get(routes::HEALTH_ALERTS, alerts)
        .get(routes::HEALTH_HISTORY, history)
        .post(routes::HEALTH_TEST_NOTIFICATION, test_notification)
        .get(routes::HEALTH_CHANNELS, channels)
        .post(routes::HEALTH_CHANNELS, change_channel)
        .post(routes::HEALTH_ACKNOWLEDGE, acknowledge)
        .post(routes::HEALTH_SCRUB, scrub)
        .post(routes::HEALTH_SELF_TEST, self_test)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::StatusCode;

    use std::os::unix::fs::PermissionsExt;

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

    #[tokio::test(flavor = "multi_thread")]
    async fn alerts_are_acknowledged_and_scrubs_and_self_tests_started() {
        let (_receiver, url) = Receiver::start().await;
        let machine = Machine::new(&url);
        let state = AppState::new(machine.zfs.clone()).with_health(machine.service());
        let router = || crate::server::router(state.clone());
        let (status, _) = call(router(), "POST", "/api/v1/health/check").await;
        assert_eq!(status, StatusCode::OK);
        let (status, channels) = call(router(), "GET", "/api/v1/health/channels").await;
        assert_eq!(status, StatusCode::OK, "{channels}");
        assert_eq!(channels[0]["settings"]["name"], "hook");
        assert_eq!(channels[0]["settings"]["kind"], "webhook");
        let base = url.split('/').take(3).collect::<Vec<_>>().join("/");
        assert_eq!(channels[0]["destination"], base, "no path: {channels}");
        assert_eq!(channels[0]["problem"], serde_json::Value::Null);
        let (_, alerts) = call(router(), "GET", "/api/v1/health/alerts").await;
        let first = &alerts["active"][0];
        assert_eq!(first["acknowledged"], serde_json::Value::Null);
        let body = serde_json::json!({ "subject": first["subject"], "kind": first["kind"] });
        let (status, after) = post_json(&router(), "/api/v1/health/alerts/acknowledge", body).await;
        assert_eq!(status, StatusCode::OK, "{after}");
        assert!(after["active"][0]["acknowledged"].is_i64(), "{after}");
        assert_eq!(after["active"][1]["acknowledged"], serde_json::Value::Null);
        let (_, view) = call(router(), "GET", "/api/v1/health").await;
        let acknowledged = view["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|alert| alert["acknowledged"].is_i64())
            .count();
        assert_eq!(acknowledged, 1, "the latest view shows it: {view}");
        let saved =
            std::fs::read_to_string(machine.directory.path().join("state/health/alerts.json"))
                .expect("alerts.json");
        assert!(
            saved.contains("\"acknowledged\""),
            "kept across restarts: {saved}"
        );
        let nothing = serde_json::json!({
            "subject": { "type": "pool", "pool": "nope" }, "kind": "pool_state"
        });
        let (status, body) =
            post_json(&router(), "/api/v1/health/alerts/acknowledge", nothing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

        let disk = serde_json::json!({ "disk": "QEMU_NVMe_Ctrl_WIZFSNVME0", "kind": "short" });
        let (status, started) = post_json(&router(), "/api/v1/health/self-test", disk).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        assert!(
            started["message"]
                .as_str()
                .unwrap_or_default()
                .contains("short SMART self-test")
        );
        let log = std::fs::read_to_string(
            machine
                .directory
                .path()
                .join("state/health/self-tests.json"),
        )
        .expect("self-tests.json");
        assert!(log.contains("QEMU_NVMe_Ctrl_WIZFSNVME0"), "recorded: {log}");
        for (body, expected) in [
            (
                serde_json::json!({ "disk": "nvme9", "kind": "short" }),
                StatusCode::NOT_FOUND,
            ),
            (
                serde_json::json!({ "disk": "QEMU_NVMe_Ctrl_WIZFSNVME0", "kind": "forever" }),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (status, answer) = post_json(&router(), "/api/v1/health/self-test", body).await;
            assert_eq!(status, expected, "{answer}");
        }

        let (status, started) = post_json(
            &router(),
            "/api/v1/health/scrub",
            serde_json::json!({ "pool": "tank" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{started}");
        assert!(
            started["message"]
                .as_str()
                .unwrap_or_default()
                .contains("scrub of tank")
        );
        for (pool, expected) in [
            ("nope", StatusCode::NOT_FOUND),
            ("bad/name", StatusCode::BAD_REQUEST),
        ] {
            let (status, body) = post_json(
                &router(),
                "/api/v1/health/scrub",
                serde_json::json!({ "pool": pool }),
            )
            .await;
            assert_eq!(status, expected, "{pool}: {body}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn channels_are_added_changed_and_removed_and_alerts_follow() {
        let (old_receiver, old_url) = Receiver::start().await;
        let machine = Machine::new(&old_url);
        let path = machine.directory.path().join("wizfsd.toml");
        let config = format!(
            "# The NAS.\n[health.intervals]\npools_seconds = 60\n\n[[health.notify]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{old_url}\"\n"
        );
        std::fs::write(&path, &config).expect("config");
        let state = AppState::new(machine.zfs.clone())
            .with_health(machine.service())
            .with_config_file(path.clone());
        let router = crate::server::router(state);
        let (receiver, url) = Receiver::start().await;

        let add = serde_json::json!({"channel": {
            "kind": "webhook", "name": "ops", "min_severity": "critical",
            "address": url, "secret": "s3cret"
        }});
        let (status, body) = post_json(&router, "/api/v1/health/channels", add).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[1]["settings"]["name"], "ops");
        assert_eq!(body[1]["settings"]["secret_inline"], true);
        assert!(
            !body.to_string().contains("s3cret"),
            "a secret is never shown: {body}"
        );
        let text = std::fs::read_to_string(&path).expect("reads");
        assert!(text.starts_with(&config), "{text}");
        assert!(text.contains("token = \"s3cret\""), "{text}");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o077;
        assert_eq!(mode, 0, "a file with a secret is its owner's only");

        // The daemon sends through the new channel at once.
        let (status, body) = post_json(
            &router,
            "/api/v1/health/test-notification?channel=ops",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[0]["delivered"], true, "{body}");
        assert_eq!(receiver.events().len(), 1);

        // Renamed and made less strict, its secret kept; then removed.
        let change = serde_json::json!({"original": "ops", "channel": {
            "kind": "webhook", "name": "team", "min_severity": "warning"
        }});
        let (status, body) = post_json(&router, "/api/v1/health/channels", change).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[1]["settings"]["name"], "team");
        let text = std::fs::read_to_string(&path).expect("reads");
        assert!(
            text.contains("token = \"s3cret\"") && !text.contains("critical"),
            "{text}"
        );
        let (status, body) = post_json(
            &router,
            "/api/v1/health/channels",
            serde_json::json!({"original": "hook"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(1), "{body}");
        let (status, body) = post_json(
            &router,
            "/api/v1/health/test-notification",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body.as_array().map(Vec::len),
            Some(1),
            "only `team` is left: {body}"
        );
        assert_eq!(
            old_receiver.events().len(),
            0,
            "the removed channel gets nothing"
        );
        assert_eq!(receiver.events().len(), 2);

        // Refused, nothing written: a channel that cannot be built, a taken name.
        let before = std::fs::read_to_string(&path).expect("reads");
        for (change, expected) in [
            (
                serde_json::json!({"channel": {"kind": "gotify", "name": "g", "min_severity": "info", "server": "https://gotify.example.org"}}),
                StatusCode::BAD_REQUEST,
            ),
            (
                serde_json::json!({"channel": {"kind": "webhook", "name": "bad name!", "min_severity": "info", "address": "https://example.org"}}),
                StatusCode::BAD_REQUEST,
            ),
            (
                serde_json::json!({"channel": {"kind": "webhook", "name": "team", "min_severity": "info", "address": "https://example.org"}}),
                StatusCode::CONFLICT,
            ),
        ] {
            let (status, body) =
                post_json(&router, "/api/v1/health/channels", change.clone()).await;
            assert_eq!(status, expected, "{change}: {body}");
        }
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), before);
    }
}
