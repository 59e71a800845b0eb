//! Pages whose capabilities arrive in later releases: they hold their place in the navigation
//! and say what they will show, so nothing is a dead link.

use leptos::prelude::*;

use crate::layout::Layout;

#[component]
pub fn SpacePage() -> impl IntoView {
    view! {
        <Layout title="Space">
            <p class="card muted">
                "The largest files and folders, and the space each snapshot pins, are not available in this release yet. "
                "The Snapshots page already shows what destroying snapshots would free."
            </p>
        </Layout>
    }
}

#[component]
pub fn DuplicatesPage() -> impl IntoView {
    view! {
        <Layout title="Duplicates">
            <p class="card muted">
                "Finding duplicate files and videos is not available in this release yet."
            </p>
        </Layout>
    }
}
