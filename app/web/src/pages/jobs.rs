//! The jobs strip under the navigation: long work (indexing, restores) with its progress,
//! live. In the browser it listens to `GET /api/v1/events` (server-sent events, one JSON list
//! of jobs per change); the server renders it empty.

use leptos::prelude::*;

use wizfs_api::jobs::{JobState, JobView as Job};

#[component]
pub fn JobsStrip() -> impl IntoView {
    let jobs = RwSignal::new(Vec::<Job>::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| listen(jobs));
    view! {
        <div class="jobs" aria-live="polite">
            {move || {
                jobs.get()
                    .into_iter()
                    .filter(|job| job.state == JobState::Running)
                    .map(|job| {
                        let percent = (job.total > 0).then(|| job.done.saturating_mul(100) / job.total);
                        view! {
                            <div class="job">
                                <span class="job-title">{job.title.clone()}</span>
                                {match percent {
                                    Some(percent) => view! { <progress max="100" value=percent.to_string()></progress> }.into_any(),
                                    None => view! { <progress></progress> }.into_any(),
                                }}
                                <span class="muted small">{job.message.clone()}</span>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// Subscribes to the daemon's job events until the strip goes away.
#[cfg(feature = "hydrate")]
fn listen(jobs: RwSignal<Vec<Job>>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(list) = serde_json::from_str::<Vec<Job>>(&text)
            {
                jobs.set(list);
            }
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let held = SendWrapper::new((source, on_message));
    on_cleanup(move || {
        let (source, _on_message) = held.take();
        source.close();
    });
}
