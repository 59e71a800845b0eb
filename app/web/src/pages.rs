//! The console's pages, one module each, and the small pieces they share.

use leptos::prelude::*;

pub mod auth;
pub mod browse;
pub mod dashboard;
pub mod health;
pub mod jobs;
pub mod later;
pub mod search;
pub mod snapshots;
pub mod versions;
pub mod view;

/// An error as a page shows it.
pub fn error_note(error: &ServerFnError) -> AnyView {
    let text = match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    };
    view! { <p class="error" role="alert">{text}</p> }.into_any()
}

/// Shown while data loads.
pub fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// A state badge (`live`, `deleted`, `ONLINE`, `critical`, …) coloured by meaning.
pub fn badge(text: String) -> impl IntoView {
    let class = badge_class(&text);
    view! { <span class=class>{text}</span> }
}

/// The class of a [`badge`] for `text`.
pub fn badge_class(text: &str) -> &'static str {
    match text.to_ascii_lowercase().as_str() {
        "live" | "online" | "ok" | "done" | "read" => "badge good",
        "deleted" | "critical" | "faulted" | "unavail" | "failed" | "removed" => "badge bad",
        "degraded" | "warning" | "older version" | "running" | "sleeping" => "badge warn",
        _ => "badge",
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <crate::layout::Layout title="Not found">
            <p>"There is no such page. " <a href="/">"Back to the dashboard"</a></p>
        </crate::layout::Layout>
    }
}
