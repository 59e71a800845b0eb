//! `GET /api/v1/tasks/progress` (the tasks running and the last finished, oldest first) and
//! `GET /api/v1/events`: the same list as server-sent events, sent at once and again on every
//! change (the console's tasks strip).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use crate::http::AppState;
use wizfs_api::progress::ProgressView;

async fn progress(State(state): State<AppState>) -> Json<Vec<ProgressView>> {
    Json(state.progress.list())
}

fn event(list: &[ProgressView]) -> Event {
    Event::default()
        .json_data(list)
        .unwrap_or_else(|_| Event::default().data("[]"))
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut receiver = state.progress.subscribe();
    receiver.mark_changed();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        // Ends when the daemon drops the registry (shutdown).
        receiver.changed().await.ok()?;
        let list = receiver.borrow_and_update().clone();
        Some((Ok(event(&list)), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get(wizfs_api::routes::TASK_PROGRESS, progress)
        .get(wizfs_api::routes::EVENTS, events)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use futures_util::StreamExt;
    use tower::ServiceExt;

    use crate::server::AppState;

    /// The next `data:` payload of an event stream.
    async fn next_event(
        stream: &mut (impl futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin),
    ) -> String {
        loop {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
                .await
                .expect("an event within 5 s")
                .expect("the stream goes on")
                .expect("a chunk");
            let text = String::from_utf8_lossy(&chunk).into_owned();
            if let Some(data) = text.lines().find_map(|line| line.strip_prefix("data: ")) {
                return data.to_owned();
            }
        }
    }

    #[tokio::test]
    async fn events_stream_the_jobs_on_every_change() {
        let directory = tempfile::tempdir().unwrap();
        let zfs = wizfs_zfs::FakeZfs::open(directory.path()).unwrap();
        let state = AppState::new(Arc::new(zfs));
        let tasks = state.progress.clone();
        let task = tasks.start("restore", "Restore notes.txt");
        let response = crate::server::router(state)
            .oneshot(Request::get("/api/v1/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        let mut stream = response.into_body().into_data_stream();
        let first: serde_json::Value =
            serde_json::from_str(&next_event(&mut stream).await).unwrap();
        assert_eq!(first[0]["title"], "Restore notes.txt");
        assert_eq!(first[0]["state"], "running");
        task.progress(3, 4, "notes.txt");
        let second: serde_json::Value =
            serde_json::from_str(&next_event(&mut stream).await).unwrap();
        assert_eq!(
            (second[0]["done"].as_u64(), second[0]["total"].as_u64()),
            (Some(3), Some(4))
        );
        task.succeed("1 file");
        let third: serde_json::Value =
            serde_json::from_str(&next_event(&mut stream).await).unwrap();
        assert_eq!(third[0]["state"], "done");
    }
}
