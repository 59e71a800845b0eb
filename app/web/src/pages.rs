//! The console's pages, one module each, and the small pieces they share.

use leptos::prelude::*;
use wizfs_api::health::Alert;

pub mod account;
pub mod auth;
pub mod backups;
pub mod browse;
pub mod channel_edit;
pub mod dashboard;
pub mod health;
pub mod later;
pub mod notifications;
pub mod policies;
pub mod policy_edit;
pub mod progress;
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

/// The alerts still open, worst first (the order of the book among equals).
pub fn open_alerts(alerts: &[Alert]) -> Vec<&Alert> {
    let mut open: Vec<&Alert> = alerts
        .iter()
        .filter(|alert| alert.cleared.is_none())
        .collect();
    open.sort_by_key(|alert| std::cmp::Reverse(alert.severity));
    open
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

#[cfg(test)]
mod tests {
    use wizfs_api::health::{FindingKind, Severity, Subject};

    use super::*;

    #[test]
    fn alerts_are_open_and_worst_first() {
        let alert = |severity: Severity, cleared: Option<i64>| Alert {
            subject: Subject::Pool {
                pool: "tank".into(),
            },
            kind: FindingKind::PoolState,
            severity,
            message: format!("{severity} problem"),
            first_seen: 1,
            last_seen: 2,
            cleared,
            notified_severity: None,
            last_notified: None,
            missed_evaluations: 0,
            acknowledged: None,
        };
        let alerts = [
            alert(Severity::Info, None),
            alert(Severity::Critical, Some(5)),
            alert(Severity::Warning, None),
            alert(Severity::Critical, None),
        ];
        let open: Vec<Severity> = open_alerts(&alerts)
            .iter()
            .map(|alert| alert.severity)
            .collect();
        assert_eq!(
            open,
            [Severity::Critical, Severity::Warning, Severity::Info]
        );
    }
}
