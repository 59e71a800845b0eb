//! The background tasks over REST: `GET /api/v1/tasks` (each task with what it is doing, its
//! last run and its next one), `GET /api/v1/tasks/runs?task=…` (a task's run log, newest
//! first, across restarts) and `POST /api/v1/tasks/trigger` (run one now; `by` is `cli` when
//! the request came through the control socket, else `api`).

use axum::extract::State;
use axum::{Extension, Json};
use wizfs_api::{RunView, TaskRunsQuery, TaskView, TriggerRequest, routes};

use crate::http::{ApiError, ApiJson, ApiQuery, AppState, Caller};

async fn tasks(State(state): State<AppState>) -> Result<Json<Vec<TaskView>>, ApiError> {
    Ok(Json(state.tasks()?))
}

async fn runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TaskRunsQuery>,
) -> Result<Json<Vec<RunView>>, ApiError> {
    Ok(Json(state.task_runs(query).await?))
}

async fn trigger(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    ApiJson(request): ApiJson<TriggerRequest>,
) -> Result<Json<TaskView>, ApiError> {
    let by = caller.map_or("api", |Extension(Caller(by))| by);
    Ok(Json(state.trigger_task(request, by)?))
}

pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get(routes::TASKS, tasks)
        .get(routes::TASK_RUNS, runs)
        .post(routes::TASK_TRIGGER, trigger)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::StatusCode;
    use wizfs_api::{OutcomeView, TriggerView};
    use wizfs_core::PoolName;
    use wizfs_zfs::{FakeZfs, Zfs};

    use super::super::tests::{get_json, post_json};
    use crate::server::AppState;

    /// A daemon's services with an index over a fake pool, its tasks started with their log
    /// in `log`.
    fn daemon(
        directory: &std::path::Path,
        log: &std::path::Path,
        stop: tokio_util::sync::CancellationToken,
    ) -> (AppState, wizfs_tasks::Driver) {
        let root = directory.join("pools");
        let fake = FakeZfs::open(&root).unwrap();
        if fake.list_pools().unwrap().is_empty() {
            fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
                .unwrap();
        }
        let store = wizfs_services::open_index(&directory.join("state")).unwrap();
        let state = AppState::new(Arc::new(fake)).with_index(
            store,
            wizfs_services::config::IndexConfig::default(),
            wizfs_indexer::MethodPolicy::Diff,
        );
        let driver = wizfs_services::tasks::start(&state, log, stop).unwrap();
        (state, driver)
    }

    async fn runs_of_index(router: &axum::Router, at_least: usize) -> Vec<wizfs_api::RunView> {
        for _ in 0..500 {
            let (status, body) = get_json(router, "/api/v1/tasks/runs?task=index&limit=10").await;
            assert_eq!(status, StatusCode::OK);
            let runs: Vec<wizfs_api::RunView> = serde_json::from_value(body).unwrap();
            if runs.len() >= at_least && runs.iter().all(|run| run.outcome.is_some()) {
                return runs;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the index task did not finish {at_least} run(s)");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn tasks_are_listed_triggered_and_their_runs_survive_a_restart() {
        let directory = tempfile::tempdir().unwrap();
        let log = directory.path().join("tasks");
        let stop = tokio_util::sync::CancellationToken::new();
        let (state, driver) = daemon(directory.path(), &log, stop.clone());
        let router = crate::server::router(state);

        let (status, body) = get_json(&router, "/api/v1/tasks").await;
        assert_eq!(status, StatusCode::OK);
        let tasks: Vec<wizfs_api::TaskView> = serde_json::from_value(body).unwrap();
        let index = tasks.iter().find(|task| task.id == "index").expect("index");
        assert_eq!(index.title, "Index reconciliation");
        assert_eq!(index.period_seconds, Some(900));

        // The startup run, then one triggered by hand.
        let first = runs_of_index(&router, 1).await;
        assert_eq!(first[0].trigger, TriggerView::Startup);
        let (status, _) = post_json(
            &router,
            "/api/v1/tasks/trigger",
            serde_json::json!({"task": "index"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let runs = runs_of_index(&router, 2).await;
        assert_eq!(runs[0].trigger, TriggerView::Triggered { by: "api".into() });
        assert_eq!(runs[0].outcome, Some(OutcomeView::Succeeded));
        assert!(runs[0].summary.as_deref().unwrap_or("").contains("indexed"));

        let (status, body) = post_json(
            &router,
            "/api/v1/tasks/trigger",
            serde_json::json!({"task": "nope"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

        // A restart: the earlier runs are still listed, and numbering goes on.
        stop.cancel();
        driver.stopped().await;
        drop(router);
        let stop = tokio_util::sync::CancellationToken::new();
        let (state, driver) = daemon(directory.path(), &log, stop.clone());
        let router = crate::server::router(state);
        let after = runs_of_index(&router, 3).await;
        assert_eq!(after[0].run, 3);
        assert_eq!(after[0].trigger, TriggerView::Startup);
        assert_eq!(&after[1..], &runs[..2]);
        stop.cancel();
        driver.stopped().await;
    }
}
