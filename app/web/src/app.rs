//! The document shell (served once per page load, with the hydration scripts) and the app:
//! the router with every page and the layout shared by the signed-in pages.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
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
                <Route path=path!("/health") view=pages::health::HealthPage/>
                <Route path=path!("/backups") view=pages::later::BackupsPage/>
                <Route path=path!("/space") view=pages::later::SpacePage/>
                <Route path=path!("/duplicates") view=pages::later::DuplicatesPage/>
                <Route path=path!("/login") view=pages::auth::LoginPage/>
                <Route path=path!("/setup") view=pages::auth::SetupPage/>
            </Routes>
        </Router>
    }
}

/// The navigation bar: where each link goes and what it says.
const NAVIGATION: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/search", "Search"),
    ("/browse", "Browse"),
    ("/snapshots", "Snapshots"),
    ("/health", "Health"),
    ("/space", "Space"),
    ("/duplicates", "Duplicates"),
    ("/backups", "Backups"),
];

/// The frame of every signed-in page: navigation, the jobs strip, then the page.
#[component]
pub fn Layout(title: &'static str, children: Children) -> impl IntoView {
    // Plain links (the router still navigates them in the browser): the page is rendered
    // anew on every navigation, so which one is current is known here, without the
    // reactive bookkeeping of one `<A>` per link on every server-rendered page.
    let here = use_location().pathname.get_untracked();
    let nav = NAVIGATION
        .iter()
        .map(|(href, label)| {
            let current =
                (*href == here || (*href != "/" && here.starts_with(href))).then_some("page");
            view! { <a href=*href aria-current=current>{*label}</a> }
        })
        .collect_view();
    view! {
        <Title text=title/>
        <header class="top">
            <a class="brand" href="/">"WiZFS"</a>
            <nav>{nav}</nav>
            <form class="logout" method="post" action="/logout">
                <button type="submit">"Sign out"</button>
            </form>
        </header>
        <pages::jobs::JobsStrip/>
        <main>
            <h1>{title}</h1>
            {children()}
        </main>
    }
}
