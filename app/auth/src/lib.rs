//! The security core of the WiZFS web console's login, with no web framework in it.
//!
//! The daemon's HTTP middleware owns requests and responses; this crate owns the decisions:
//! whose password is right, which session a cookie stands for, whether a login attempt may
//! go ahead, and whether a state-changing request may be a forgery. Every function that
//! depends on time takes `now` as seconds since the Unix epoch (`u64`; see [`unix_time`]),
//! so all of it is tested without sleeping.
//!
//! Security decisions:
//! - **Passwords** ([`credentials`]): one account, `admin`, its password stored as an
//!   Argon2id PHC string (default parameters, random salt) in a 0600 JSON file written
//!   atomically. A missing file means first boot and setup; a damaged one is reported and
//!   never overwritten. Every verification costs one Argon2 run, even for an unknown user or
//!   before setup, so timing does not tell them apart.
//! - **Sessions** ([`sessions`]): 32 random bytes per token (URL-safe base64), kept in
//!   memory only as SHA-256 digests; an idle timeout, an absolute lifetime and a cap on
//!   their number; all revoked when the password changes.
//! - **Cookies** ([`cookie`]): `HttpOnly; SameSite=Strict; Path=/`, plus `Secure` and the
//!   `__Host-` name prefix over HTTPS.
//! - **Forgery** ([`csrf`]): besides `SameSite=Strict`, state-changing requests must come
//!   from the console's own origin (`Sec-Fetch-Site`, `Origin`, `Referer`); clients that send
//!   neither header and have a session must echo the session's CSRF token in
//!   `X-CSRF-Token`, and a wrong token is always refused.
//! - **Guessing** ([`rate_limit`]): failed logins limited per client (IPv6 by /64) in a
//!   sliding window, plus a global ceiling against guessing from many addresses, in bounded
//!   memory.
//!
//! A login, as the middleware is expected to run it:
//! 1. `csrf::check(&facts)`; if refused, answer 403.
//! 2. At most a couple of password verifications at a time (each takes ~19 MiB and a core
//!    for a while): beyond that, answer 429 without counting or verifying.
//! 3. `limiter.attempt(ip, now)`: if limited, answer 429 with `Retry-After`; otherwise the
//!    attempt is counted as a failure now, before the verification, so parallel attempts
//!    see each other.
//! 4. `store.verify(user, password)`; on success `limiter.attempt_succeeded(ip, now)`,
//!    `sessions.create(user, now)` and `Set-Cookie: session_cookie(&new.token, secure)`
//!    (a cookie that ends with the browser; the server's lifetimes bound the session).
//!
//! Also here, as pure rules over plain values: the host names the console answers to
//! ([`hosts`], against DNS rebinding) and where a sign-in may lead ([`redirect`]).

pub mod cookie;
pub mod credentials;
pub mod csrf;
pub mod hosts;
pub mod rate_limit;
pub mod redirect;
pub mod sessions;
pub mod token;

use std::time::{SystemTime, UNIX_EPOCH};

pub use cookie::{
    CookieError, INSECURE_COOKIE_NAME, SECURE_COOKIE_NAME, clear_cookie, cookie_name,
    session_cookie, session_token_from_cookie_header,
};
pub use credentials::{
    ADMIN_USER, CredentialError, CredentialState, CredentialStore, MAX_PASSWORD_BYTES,
    MIN_PASSWORD_CHARS, PasswordError, check_password_policy,
};
pub use csrf::{CsrfRejection, RequestFacts};
pub use hosts::{AllowedHosts, Host, HostRefusal};
pub use rate_limit::{ClientKey, Decision, LimitPolicy, LoginLimiter};
pub use redirect::safe_next;
pub use sessions::{
    Ended, NewSession, SessionInfo, SessionOrigin, SessionPolicy, SessionSummary, Sessions,
};
pub use token::RandomnessError;

/// Seconds since the Unix epoch at `time`, the unit of every `now` in this crate; times
/// before the epoch give 0. Call it with `SystemTime::now()` at the edge of the program.
pub fn unix_time(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::time::Duration;

    #[test]
    fn unix_time_table() {
        let cases = [
            (UNIX_EPOCH, 0),
            (UNIX_EPOCH + Duration::from_millis(1_999), 1),
            (
                UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                1_700_000_000,
            ),
            (UNIX_EPOCH - Duration::from_secs(5), 0),
        ];
        for (time, expected) in cases {
            assert_eq!(unix_time(time), expected, "{time:?}");
        }
    }

    /// The pieces used together the way the module documentation describes a login.
    #[test]
    fn login_flow_end_to_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CredentialStore::open(&dir.path().join("admin.json")).expect("open");
        let sessions = Sessions::default();
        let mut limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.10".parse().expect("ip");
        let now = 1_700_000_000;

        assert_eq!(store.state().expect("state"), CredentialState::Unset);
        store
            .set_initial("a long enough password", now)
            .expect("setup");

        // A wrong guess, then the right password.
        assert_eq!(limiter.attempt(ip, now), Decision::Allowed);
        assert!(!store.verify(ADMIN_USER, "a wrong password"));
        assert_eq!(limiter.attempt(ip, now + 1), Decision::Allowed);
        assert!(store.verify(ADMIN_USER, "a long enough password"));
        limiter.attempt_succeeded(ip, now + 1);

        let new = sessions.create(ADMIN_USER, now + 1).expect("session");
        let set_cookie = session_cookie(&new.token, true).expect("cookie");
        let pair = set_cookie.split(';').next().expect("pair");

        // The next request brings the cookie back.
        let token = session_token_from_cookie_header(pair, true).expect("token");
        let info = sessions.validate(token, now + 2).expect("session");
        assert_eq!(info.user, ADMIN_USER);
        let facts = RequestFacts {
            method: "POST",
            host: Some("nas.local"),
            origin: Some("https://nas.local"),
            sec_fetch_site: Some("same-origin"),
            csrf_header: Some(&info.csrf_token),
            session_csrf: Some(&info.csrf_token),
            secure: true,
            ..RequestFacts::default()
        };
        assert_eq!(csrf::check(&facts), Ok(()));

        // Password change ends every session.
        store
            .change("a long enough password", "another long password", now + 3)
            .expect("change");
        assert_eq!(sessions.revoke_all(), 1);
        assert!(sessions.validate(token, now + 4).is_none());
        assert!(!clear_cookie(true).contains(token));
    }
}
