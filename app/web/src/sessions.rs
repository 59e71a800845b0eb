//! The account page's data as it travels from the server to the browser: the signed-in
//! sessions (never their tokens) and the server's clock. Its own module because both the
//! server functions (`api.rs`) and the daemon's side of the account (`backend.rs`) name it.

use serde::{Deserialize, Serialize};

/// A signed-in session as the account page lists it (no token: its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    /// 16 hex digits naming the session (`POST /account/sessions/end` takes it).
    pub id: String,
    /// The session of this request.
    pub current: bool,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub last_used: u64,
    pub expires: u64,
    /// Where it was opened from, as the client said.
    pub address: String,
    pub agent: String,
}

/// The account page's data: the live sessions, the current one first, and the server's
/// clock (ages are reckoned from it, the same on the server and in the browser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub sessions: Vec<SessionRow>,
    pub now: u64,
}
