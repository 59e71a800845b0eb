//! The two public pages: first-boot setup of the admin password and sign-in. Both are plain
//! HTML forms posting to the daemon (`POST /setup`, `POST /login`), so they work before the
//! browser bundle has loaded; the daemon answers with a redirect (and `?error=` on failure).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn error_from_query() -> impl IntoView {
    let query = use_query_map();
    move || {
        query.read().get("error").map(|error| {
            view! { <p class="error" role="alert">{error}</p> }
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    view! {
        <Title text="Sign in"/>
        <main class="narrow">
            <h1>"WiZFS"</h1>
            <form class="card" method="post" action="/login">
                <h2>"Sign in"</h2>
                {error_from_query()}
                <input type="hidden" name="next" prop:value=next/>
                <label>"User" <input name="user" value="admin" autocomplete="username"/></label>
                <label>
                    "Password"
                    <input name="password" type="password" autocomplete="current-password" required autofocus/>
                </label>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <Title text="Setup"/>
        <main class="narrow">
            <h1>"Welcome to WiZFS"</h1>
            <form class="card" method="post" action="/setup">
                <h2>"Choose the admin password"</h2>
                <p class="muted">
                    "This appliance has no password yet. The one you choose now protects the console; "
                    "at least 10 characters."
                </p>
                {error_from_query()}
                <label>
                    "Password"
                    <input name="password" type="password" autocomplete="new-password" minlength="10" required autofocus/>
                </label>
                <label>
                    "Repeat it"
                    <input name="confirm" type="password" autocomplete="new-password" minlength="10" required/>
                </label>
                <button type="submit" class="primary">"Set password and sign in"</button>
            </form>
        </main>
    }
}
