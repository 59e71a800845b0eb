//! The administrator's account: change the password (the current one asked again; every
//! other session ends) and the signed-in sessions — where each came from, when it was last
//! used — with a button to end any of them or all but this one. Plain HTML forms posting to
//! the daemon (`POST /account/password`, `POST /account/sessions/end`), which answers with a
//! redirect here and `?done=CODE` or `?error=CODE`: the page shows only the fixed message of
//! a known [`AccountCode`], never text from its URL.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{error_note, loading};
use crate::api::account;
use crate::format::{age, count, utc_minute};
use crate::layout::Layout;
use crate::sessions::{AccountView, SessionRow};

/// What became of an account form, as its `?done=` or `?error=` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCode {
    PasswordChanged,
    SessionEnded,
    OthersEnded,
    WrongPassword,
    PasswordsDiffer,
    TooShort,
    TooLong,
    WhiteSpace,
    SameAsOld,
    TooManyAttempts,
    NoSuchSession,
    NotSaved,
}

impl AccountCode {
    pub const ALL: [Self; 12] = [
        Self::PasswordChanged,
        Self::SessionEnded,
        Self::OthersEnded,
        Self::WrongPassword,
        Self::PasswordsDiffer,
        Self::TooShort,
        Self::TooLong,
        Self::WhiteSpace,
        Self::SameAsOld,
        Self::TooManyAttempts,
        Self::NoSuchSession,
        Self::NotSaved,
    ];

    /// The code carried in the URL.
    pub fn code(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password-changed",
            Self::SessionEnded => "session-ended",
            Self::OthersEnded => "others-ended",
            Self::WrongPassword => "wrong-password",
            Self::PasswordsDiffer => "passwords-differ",
            Self::TooShort => "too-short",
            Self::TooLong => "too-long",
            Self::WhiteSpace => "white-space",
            Self::SameAsOld => "same-as-old",
            Self::TooManyAttempts => "too-many-attempts",
            Self::NoSuchSession => "no-such-session",
            Self::NotSaved => "not-saved",
        }
    }

    /// The code's meaning; unknown codes mean nothing.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.code() == code)
    }

    /// Whether it reports success (`?done=`) rather than a refusal (`?error=`).
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Self::PasswordChanged | Self::SessionEnded | Self::OthersEnded
        )
    }

    /// What the page says.
    pub fn message(self) -> &'static str {
        match self {
            Self::PasswordChanged => {
                "The password is changed. Every other session has ended: sign in there again."
            }
            Self::SessionEnded => "The session has ended.",
            Self::OthersEnded => "Every other session has ended.",
            Self::WrongPassword => "The current password is wrong; nothing was changed.",
            Self::PasswordsDiffer => "The two new passwords differ; nothing was changed.",
            Self::TooShort => "The new password is too short: at least 10 characters.",
            Self::TooLong => "The new password is too long.",
            Self::WhiteSpace => "The new password cannot be only spaces.",
            Self::SameAsOld => "The new password is the current one.",
            Self::TooManyAttempts => {
                "Too many wrong passwords from your address: try again in a few minutes."
            }
            Self::NoSuchSession => "That session had already ended.",
            Self::NotSaved => "The password could not be saved; the daemon's log says why.",
        }
    }
}

fn outcome_from_query() -> impl IntoView {
    let query = use_query_map();
    move || {
        let query = query.read();
        let done = query
            .get("done")
            .and_then(|code| AccountCode::from_code(&code));
        let error = query
            .get("error")
            .and_then(|code| AccountCode::from_code(&code));
        match (
            done.filter(|code| code.is_success()),
            error.filter(|code| !code.is_success()),
        ) {
            (_, Some(error)) => {
                Some(view! { <p class="error" role="alert">{error.message()}</p> }.into_any())
            }
            (Some(done), None) => {
                Some(view! { <p class="notice" role="status">{done.message()}</p> }.into_any())
            }
            (None, None) => None,
        }
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| account());
    view! {
        <Layout title="Account">
            {outcome_from_query()}
            <section class="card">
                <h2>"Change the password"</h2>
                <form class="stacked" method="post" action="/account/password">
                    // For password managers: whose password this is.
                    <input type="hidden" name="user" value="admin" autocomplete="username"/>
                    <label>
                        "Current password"
                        <input name="current" type="password" autocomplete="current-password" required/>
                    </label>
                    <label>
                        "New password"
                        <input name="password" type="password" autocomplete="new-password" minlength="10" required/>
                    </label>
                    <label>
                        "New password again"
                        <input name="confirm" type="password" autocomplete="new-password" minlength="10" required/>
                    </label>
                    <p class="muted">"At least 10 characters. Every other signed-in session ends."</p>
                    <button type="submit" class="primary">"Change password"</button>
                </form>
            </section>
            <section class="card">
                <h2>"Signed-in sessions"</h2>
                <Suspense fallback=loading>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(view) => sessions_table(view).into_any(),
                            Err(error) => error_note(&error),
                        }
                    })}
                </Suspense>
            </section>
        </Layout>
    }
}

fn sessions_table(view: AccountView) -> impl IntoView {
    let now = i64::try_from(view.now).unwrap_or(i64::MAX);
    let others = view
        .sessions
        .iter()
        .filter(|session| !session.current)
        .count();
    let rows = view
        .sessions
        .into_iter()
        .map(|session| session_row(session, now))
        .collect_view();
    let end_others = (others > 0).then(|| {
        view! {
            <form method="post" action="/account/sessions/end">
                <button type="submit">{format!("End the {}", count(others as u64, "other session", "other sessions"))}</button>
            </form>
        }
    });
    view! {
        <p class="muted">
            "Sessions end after 12 hours unused and 7 days at most, and when the daemon restarts."
        </p>
        <div class="table-scroll">
            <table class="sessions">
                <thead>
                    <tr>
                        <th scope="col">"From"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Ends"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {end_others}
    }
}

fn moment(seconds: u64, now: i64) -> impl IntoView {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    view! { <span title=utc_minute(seconds)>{age(seconds, now)}</span> }
}

fn session_row(session: SessionRow, now: i64) -> impl IntoView {
    let agent = if session.agent.is_empty() {
        "an unnamed client".to_owned()
    } else {
        session.agent.clone()
    };
    let (button, label) = if session.current {
        ("Sign out", "This session".to_owned())
    } else {
        ("End", format!("Session {}", session.id))
    };
    view! {
        <tr>
            <td>
                <span class="break">{session.address.clone()}</span>
                {session.current.then(|| view! { " " <span class="badge good">"this session"</span> })}
                <br/>
                <small class="muted break">{agent}</small>
            </td>
            <td>{moment(session.created, now)}</td>
            <td>{moment(session.last_used, now)}</td>
            <td>{moment(session.expires, now)}</td>
            <td>
                <form method="post" action="/account/sessions/end">
                    <input type="hidden" name="id" value=session.id.clone()/>
                    <button type="submit" aria-label=format!("{button}: {label}")>{button}</button>
                </form>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_show_nothing() {
        for code in AccountCode::ALL {
            assert_eq!(AccountCode::from_code(code.code()), Some(code));
            assert!(!code.message().is_empty());
        }
        for forged in [
            "",
            "Call +1 555 0100",
            "PASSWORD-CHANGED",
            "password-changed ",
        ] {
            assert_eq!(AccountCode::from_code(forged), None, "{forged:?}");
        }
        let successes: Vec<_> = AccountCode::ALL
            .into_iter()
            .filter(|code| code.is_success())
            .collect();
        assert_eq!(
            successes,
            [
                AccountCode::PasswordChanged,
                AccountCode::SessionEnded,
                AccountCode::OthersEnded
            ]
        );
    }
}
