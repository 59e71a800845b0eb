//! The document shell (served once per page load, with the hydration scripts) and the app:
//! the router with every page. The frame the signed-in pages share is [`crate::layout`].

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::pages;

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The console.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="wizfs" href="/pkg/wizfs.css"/>
        <Title formatter=|page: String| format!("{page} · WiZFS")/>
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/") view=pages::dashboard::DashboardPage/>
                // Rendered whole once its search is done (a search takes about a millisecond):
                // one write instead of a streamed shell plus the results moved into place by a
                // script (console bench, 64 connections: p50 17-18 -> 12-13 ms, p99 30-33 ->
                // 25-30 ms).
                <Route path=path!("/search") view=pages::search::SearchPage ssr=SsrMode::Async/>
                <Route path=path!("/browse") view=pages::browse::BrowsePage/>
                <Route path=path!("/versions") view=pages::versions::VersionsPage/>
                <Route path=path!("/restore") view=pages::versions::DirectoryRestorePage/>
                <Route path=path!("/view") view=pages::view::ViewPage/>
                <Route path=path!("/snapshots") view=pages::snapshots::SnapshotsPage/>
                <Route path=path!("/policies") view=pages::policies::PoliciesPage/>
                <Route path=path!("/policies/edit") view=pages::policy_edit::PolicyEditPage/>
                <Route path=path!("/health") view=pages::health::HealthPage/>
                <Route path=path!("/notifications") view=pages::notifications::NotificationsPage/>
                <Route path=path!("/notifications/edit") view=pages::channel_edit::ChannelEditPage/>
                <Route path=path!("/backups") view=pages::backups::BackupsPage/>
                <Route path=path!("/space") view=pages::later::SpacePage/>
                <Route path=path!("/duplicates") view=pages::later::DuplicatesPage/>
                <Route path=path!("/login") view=pages::auth::LoginPage/>
                <Route path=path!("/setup") view=pages::auth::SetupPage/>
                <Route path=path!("/logout") view=pages::auth::LogoutPage/>
                <Route path=path!("/account") view=pages::account::AccountPage/>
            </Routes>
        </Router>
    }
}
