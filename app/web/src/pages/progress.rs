//! The tasks strip under the navigation: long work (indexing, restores) with its progress,
//! live. In the browser it listens to `GET /api/v1/events` (server-sent events, one JSON list
//! of tasks per change); the server renders it empty.

use leptos::prelude::*;

use wizfs_api::progress::{ProgressState, ProgressView as Task};

#[component]
pub fn TasksStrip() -> impl IntoView {
    let tasks = RwSignal::new(Vec::<Task>::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| listen(tasks));
    view! {
        <div class="tasks" aria-live="polite">
            {move || {
                tasks.get()
                    .into_iter()
                    .filter(|task| task.state == ProgressState::Running)
                    .map(|task| {
                        let percent = (task.total > 0).then(|| task.done.saturating_mul(100) / task.total);
                        view! {
                            <div class="task">
                                <span class="task-title">{task.title.clone()}</span>
                                {match percent {
                                    Some(percent) => view! { <progress max="100" value=percent.to_string()></progress> }.into_any(),
                                    None => view! { <progress></progress> }.into_any(),
                                }}
                                <span class="muted small">{task.message.clone()}</span>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// Subscribes to the daemon's task events until the strip goes away.
#[cfg(feature = "hydrate")]
fn listen(tasks: RwSignal<Vec<Task>>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(list) = serde_json::from_str::<Vec<Task>>(&text)
            {
                tasks.set(list);
            }
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let held = SendWrapper::new((source, on_message));
    on_cleanup(move || {
        let (source, _on_message) = held.take();
        source.close();
    });
}
