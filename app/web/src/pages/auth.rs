//! The public pages: first-boot setup of the admin password, sign-in and sign-out (a link
//! to `/logout` asks before it signs out: a GET never changes anything). Plain
//! HTML forms posting to the daemon (`POST /setup`, `POST /login`), so they work before the
//! browser bundle has loaded; the daemon answers with a redirect (and `?error=CODE` on
//! failure). The page shows only the fixed message of a known [`SignInError`] code: text
//! taken from the URL would let any link put words in the console's trusted error box.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Why a sign-in or setup was refused, as its `?error=` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    WrongPassword,
    AlreadySet,
    PasswordsDiffer,
    TooShort,
    TooLong,
    WhiteSpace,
    NotSaved,
}

impl SignInError {
    pub const ALL: [Self; 7] = [
        Self::WrongPassword,
        Self::AlreadySet,
        Self::PasswordsDiffer,
        Self::TooShort,
        Self::TooLong,
        Self::WhiteSpace,
        Self::NotSaved,
    ];

    /// The code carried in the URL.
    pub fn code(self) -> &'static str {
        match self {
            Self::WrongPassword => "wrong-password",
            Self::AlreadySet => "already-set",
            Self::PasswordsDiffer => "passwords-differ",
            Self::TooShort => "too-short",
            Self::TooLong => "too-long",
            Self::WhiteSpace => "white-space",
            Self::NotSaved => "not-saved",
        }
    }

    /// The error a code stands for; unknown codes stand for none.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }

    /// What the page says.
    pub fn message(self) -> &'static str {
        match self {
            Self::WrongPassword => "Wrong user or password.",
            Self::AlreadySet => "The admin password is already set: sign in with it.",
            Self::PasswordsDiffer => "The two passwords differ.",
            Self::TooShort => "The password is too short: at least 10 characters.",
            Self::TooLong => "The password is too long.",
            Self::WhiteSpace => "The password cannot be only spaces.",
            Self::NotSaved => "The password could not be saved; the daemon's log says why.",
        }
    }
}

fn error_from_query() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .and_then(|code| SignInError::from_code(&code))
            .map(|error| view! { <p class="error" role="alert">{error.message()}</p> })
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
                // Shown so that password managers save the password under its user.
                <label>"User" <input name="user" value="admin" autocomplete="username" readonly/></label>
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

/// `GET /logout` (a bookmarked or typed link): asks, then posts the form that signs out.
/// The daemon sends a request without a session on to the sign-in page instead.
#[component]
pub fn LogoutPage() -> impl IntoView {
    view! {
        <Title text="Sign out"/>
        <main class="narrow">
            <h1>"WiZFS"</h1>
            <form class="card" method="post" action="/logout">
                <h2>"Sign out?"</h2>
                <p class="muted">"This ends this browser's session; others stay signed in."</p>
                <button type="submit" class="primary">"Sign out"</button>
                " "
                <a href="/">"Stay signed in"</a>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_show_nothing() {
        for error in SignInError::ALL {
            assert_eq!(SignInError::from_code(error.code()), Some(error));
        }
        for forged in [
            "",
            "Your NAS is infected: call +1 555 0100",
            "wrong-password ",
            "WRONG-PASSWORD",
        ] {
            assert_eq!(SignInError::from_code(forged), None, "{forged:?}");
        }
    }
}
