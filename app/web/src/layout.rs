//! The frame shared by the signed-in pages: the navigation bar, the tasks strip and the page
//! title. Pages import it from here, never from [`crate::app`], which imports the pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::pages::progress::TasksStrip;

/// The navigation bar: where each link goes and what it says.
const NAVIGATION: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/search", "Search"),
    ("/browse", "Browse"),
    ("/snapshots", "Snapshots"),
    ("/policies", "Policies"),
    ("/health", "Health"),
    ("/space", "Space"),
    ("/duplicates", "Duplicates"),
    ("/backups", "Backups"),
];

/// The frame of every signed-in page: navigation, the tasks strip, then the page.
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
        <a class="skip" href="#content">"Skip to the page"</a>
        <header class="top">
            <a class="brand" href="/">"WiZFS"</a>
            <nav aria-label="Main">{nav}</nav>
            <a class="account" href="/account" aria-current=(here == "/account").then_some("page")>"Account"</a>
            <form class="logout" method="post" action="/logout">
                <button type="submit">"Sign out"</button>
            </form>
        </header>
        <TasksStrip/>
        <main id="content">
            <h1>{title}</h1>
            {children()}
        </main>
    }
}
