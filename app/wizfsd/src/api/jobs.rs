//! `GET /api/v1/jobs` (the jobs, oldest first) and `GET /api/v1/events`: the same list as
//! server-sent events, sent at once and again on every change (the console's jobs strip).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use crate::jobs::JobView;
use crate::server::AppState;

async fn jobs(State(state): State<AppState>) -> Json<Vec<JobView>> {
    Json(state.jobs.list())
}

fn event(list: &[JobView]) -> Event {
    Event::default()
        .json_data(list)
        .unwrap_or_else(|_| Event::default().data("[]"))
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut receiver = state.jobs.subscribe();
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
        .get("/api/v1/jobs", jobs)
        .get("/api/v1/events", events)
}
