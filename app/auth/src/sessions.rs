//! Logged-in sessions of the web console, kept in memory.
//!
//! A session is created after a successful login and is named by a random 32-byte token
//! that the browser keeps in a cookie; a second random token, the CSRF token, goes with it
//! for clients that cannot be recognised by their `Origin` (see [`crate::csrf`]).
//!
//! Only the SHA-256 digest of each session token is kept, so the map alone (a memory dump,
//! a debug print) does not give a usable cookie. Tokens are looked up by digest: a timing
//! difference in that lookup can only reveal something about a digest, never about a token
//! that hashes to it, so no constant-time comparison of the token itself is needed.
//!
//! A session ends when it has not been used for the idle timeout, when it reaches its
//! absolute lifetime, when it is revoked (logout, or every session at a password change),
//! or when the number of sessions reaches the cap and it is the one idle the longest.
//! Sessions do not survive a restart of the daemon, which simply means logging in again.
//!
//! The account page lists the live sessions ([`Sessions::list`]) under an id that is not the
//! token (the first 8 bytes of its digest, in hex), with where each came from (the client's
//! address and browser as it announced itself, for a person to recognise, never trusted),
//! and ends any of them by that id ([`Sessions::revoke_id`]).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use sha2::{Digest as _, Sha256};

use crate::token::{RandomnessError, generate_token, is_well_formed};

/// How long sessions live and how many may exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends (default 12 hours). Each use restarts it.
    pub idle_timeout_secs: u64,
    /// A session ends this long after login, however much it is used (default 7 days).
    pub absolute_lifetime_secs: u64,
    /// At most this many sessions exist at once (default 64); creating one more ends the
    /// session idle the longest. A value of 0 is treated as 1.
    pub max_sessions: usize,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 12 * 60 * 60,
            absolute_lifetime_secs: 7 * 24 * 60 * 60,
            max_sessions: 64,
        }
    }
}

/// A session just created: the tokens to hand to the client, once.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The session token, for the session cookie. Not stored anywhere by [`Sessions`].
    pub token: String,
    /// The session's CSRF token, for the console to send back in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When the session was created, seconds since the Unix epoch.
    pub created: u64,
    /// When the session ends if it is not used, seconds since the Unix epoch.
    pub expires: u64,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"<redacted>")
            .field("csrf_token", &"<redacted>")
            .field("created", &self.created)
            .field("expires", &self.expires)
            .finish()
    }
}

/// What a valid session token stands for.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Who logged in.
    pub user: String,
    /// The session's CSRF token, to compare with the request's `X-CSRF-Token`.
    pub csrf_token: String,
    /// When the session was created, seconds since the Unix epoch.
    pub created: u64,
    /// When the session ends if it is not used again, seconds since the Unix epoch: the
    /// earlier of the idle deadline (just refreshed) and the absolute one.
    pub expires: u64,
}

impl std::fmt::Debug for SessionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionInfo")
            .field("user", &self.user)
            .field("csrf_token", &"<redacted>")
            .field("created", &self.created)
            .field("expires", &self.expires)
            .finish()
    }
}

/// SHA-256 of a session token: the key under which a session is stored.
type TokenDigest = [u8; 32];

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// The id a session is listed under: the first 8 bytes of its digest, in hex.
fn id_of_digest(digest: &TokenDigest) -> String {
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Where a session was opened from, as the client announced itself: for a person to tell
/// their sessions apart, never for a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOrigin {
    /// The client's address.
    pub address: String,
    /// Its `User-Agent`, printable characters only, at most [`MAX_AGENT_CHARS`].
    pub agent: String,
}

/// The longest `User-Agent` kept with a session.
pub const MAX_AGENT_CHARS: usize = 160;

impl SessionOrigin {
    /// `address` and `agent` as given by a request, the agent cut to printable characters
    /// and [`MAX_AGENT_CHARS`].
    pub fn new(address: impl Into<String>, agent: &str) -> Self {
        Self {
            address: address.into(),
            agent: agent
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_AGENT_CHARS)
                .collect(),
        }
    }
}

/// What [`Sessions::end`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every session but the current one: how many.
    Others(usize),
    /// The current session itself (the caller signs it out).
    Current,
    /// The listed session asked for.
    Listed,
    /// No session is listed under that id (it had ended already).
    Unknown,
}

/// A live session as the account page lists it: no token, only its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session's id: 16 hex digits of its token's digest (not usable as a cookie).
    pub id: String,
    pub user: String,
    pub created: u64,
    pub last_used: u64,
    pub expires: u64,
    pub origin: SessionOrigin,
}

#[derive(Clone)]
struct Entry {
    user: String,
    csrf_token: String,
    created: u64,
    last_used: u64,
    origin: SessionOrigin,
}

impl Entry {
    fn expires(&self, policy: &SessionPolicy) -> u64 {
        let idle = self.last_used.saturating_add(policy.idle_timeout_secs);
        let absolute = self.created.saturating_add(policy.absolute_lifetime_secs);
        idle.min(absolute)
    }

    fn is_live(&self, policy: &SessionPolicy, now: u64) -> bool {
        now < self.expires(policy)
    }

    fn info(&self, policy: &SessionPolicy) -> SessionInfo {
        SessionInfo {
            user: self.user.clone(),
            csrf_token: self.csrf_token.clone(),
            created: self.created,
            expires: self.expires(policy),
        }
    }
}

/// The live sessions, shared by all request handlers (`Send + Sync`).
///
/// Every method takes `now`, seconds since the Unix epoch, and first forgets the sessions
/// that have expired by then.
pub struct Sessions {
    policy: SessionPolicy,
    entries: Mutex<HashMap<TokenDigest, Entry>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("policy", &self.policy)
            .field("stored", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new(SessionPolicy::default())
    }
}

impl Sessions {
    /// No sessions yet, under `policy`.
    pub fn new(policy: SessionPolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// Creates a session for `user` (who has just proved who they are), ending the session
    /// idle the longest if the cap is reached.
    pub fn create(&self, user: &str, now: u64) -> Result<NewSession, RandomnessError> {
        self.create_from(user, now, SessionOrigin::default())
    }

    /// [`Sessions::create`], remembering where the session was opened from.
    pub fn create_from(
        &self,
        user: &str,
        now: u64,
        origin: SessionOrigin,
    ) -> Result<NewSession, RandomnessError> {
        let token = generate_token()?;
        let csrf_token = generate_token()?;
        let entry = Entry {
            user: user.to_owned(),
            csrf_token: csrf_token.clone(),
            created: now,
            last_used: now,
            origin,
        };
        let expires = entry.expires(&self.policy);
        let mut entries = self.lock();
        self.purge(&mut entries, now);
        let cap = self.policy.max_sessions.max(1);
        while entries.len() >= cap {
            let Some(victim) = entries
                .iter()
                .min_by_key(|(_, e)| (e.last_used, e.created))
                .map(|(key, _)| *key)
            else {
                break;
            };
            entries.remove(&victim);
        }
        entries.insert(digest(&token), entry);
        Ok(NewSession {
            token,
            csrf_token,
            created: now,
            expires,
        })
    }

    /// The session named by `token`, if it is live at `now`; using it restarts its idle
    /// timeout. Returns `None` for unknown, malformed, expired or revoked tokens.
    pub fn validate(&self, token: &str, now: u64) -> Option<SessionInfo> {
        if !is_well_formed(token) {
            return None;
        }
        let key = digest(token);
        let mut entries = self.lock();
        self.purge(&mut entries, now);
        let entry = entries.get_mut(&key)?;
        entry.last_used = entry.last_used.max(now);
        Some(entry.info(&self.policy))
    }

    /// Ends the session named by `token` (logout). Returns whether it existed.
    pub fn revoke(&self, token: &str) -> bool {
        if !is_well_formed(token) {
            return false;
        }
        self.lock().remove(&digest(token)).is_some()
    }

    /// Ends every session (after a password change). Returns how many were stored.
    pub fn revoke_all(&self) -> usize {
        let mut entries = self.lock();
        let count = entries.len();
        entries.clear();
        count
    }

    /// Ends every session but the one named by `keep` (after a password change, keeping the
    /// session that made it). Returns how many were ended.
    pub fn revoke_all_except(&self, keep: &str) -> usize {
        let keep = is_well_formed(keep).then(|| digest(keep));
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|key, _| Some(*key) == keep);
        before - entries.len()
    }

    /// The live sessions at `now`, the most recently used first.
    pub fn list(&self, now: u64) -> Vec<SessionSummary> {
        let mut entries = self.lock();
        self.purge(&mut entries, now);
        let mut list: Vec<SessionSummary> = entries
            .iter()
            .map(|(key, entry)| SessionSummary {
                id: id_of_digest(key),
                user: entry.user.clone(),
                created: entry.created,
                last_used: entry.last_used,
                expires: entry.expires(&self.policy),
                origin: entry.origin.clone(),
            })
            .collect();
        list.sort_by(|a, b| (b.last_used, b.created, &b.id).cmp(&(a.last_used, a.created, &a.id)));
        list
    }

    /// The id [`Sessions::list`] shows for the session named by `token` (whether or not it
    /// is live).
    pub fn id_of(&self, token: &str) -> Option<String> {
        is_well_formed(token).then(|| id_of_digest(&digest(token)))
    }

    /// Ends, for the holder of `current`, the session listed under `id` — or, without an id,
    /// every session but `current`. The current session is only reported: ending it is
    /// signing out, which the caller does.
    pub fn end(&self, current: &str, id: Option<&str>) -> Ended {
        match id {
            None => Ended::Others(self.revoke_all_except(current)),
            Some(id) if self.id_of(current).as_deref() == Some(id) => Ended::Current,
            Some(id) if self.revoke_id(id) => Ended::Listed,
            Some(_) => Ended::Unknown,
        }
    }

    /// Ends the session listed under `id`. Returns whether one was.
    pub fn revoke_id(&self, id: &str) -> bool {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|key, _| id_of_digest(key) != id);
        before != entries.len()
    }

    /// How many sessions are live at `now`.
    pub fn live_count(&self, now: u64) -> usize {
        let mut entries = self.lock();
        self.purge(&mut entries, now);
        entries.len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenDigest, Entry>> {
        // Every critical section leaves the map consistent, so a panic elsewhere while
        // holding the lock cannot have left it half-updated.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn purge(&self, entries: &mut HashMap<TokenDigest, Entry>, now: u64) {
        entries.retain(|_, e| e.is_live(&self.policy, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;
    const T0: u64 = 1_700_000_000;

    #[test]
    fn sessions_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sessions>();
    }

    #[test]
    fn create_then_validate() {
        let sessions = Sessions::default();
        let new = sessions.create("admin", T0).expect("create");
        assert!(is_well_formed(&new.token));
        assert!(is_well_formed(&new.csrf_token));
        assert_ne!(new.token, new.csrf_token);
        assert_eq!(new.created, T0);
        assert_eq!(new.expires, T0 + 12 * HOUR);

        let info = sessions.validate(&new.token, T0 + 60).expect("live");
        assert_eq!(info.user, "admin");
        assert_eq!(info.csrf_token, new.csrf_token);
        assert_eq!(info.created, T0);
        assert_eq!(info.expires, T0 + 60 + 12 * HOUR);
    }

    #[test]
    fn unknown_and_malformed_tokens_are_refused() {
        let sessions = Sessions::default();
        let new = sessions.create("admin", T0).expect("create");
        let other = generate_token().expect("token");
        let cases = ["", "garbage", &other, &new.csrf_token, &new.token[1..]];
        for token in cases {
            assert_eq!(sessions.validate(token, T0), None, "token {token:?}");
        }
        assert!(sessions.validate(&new.token, T0).is_some());
    }

    #[test]
    fn expiry_table() {
        let policy = SessionPolicy::default();
        // (uses after creation, as offsets from T0; the last is checked) → live?
        let cases: &[(&[u64], bool, &str)] = &[
            (&[12 * HOUR - 1], true, "just inside the idle timeout"),
            (&[12 * HOUR], false, "idle timeout reached"),
            (
                &[11 * HOUR, 22 * HOUR],
                true,
                "use refreshes the idle timeout",
            ),
            (
                &[11 * HOUR, 22 * HOUR, 34 * HOUR + 1],
                false,
                "idle after the last refresh",
            ),
            (
                &[
                    10 * HOUR,
                    20 * HOUR,
                    30 * HOUR,
                    40 * HOUR,
                    50 * HOUR,
                    60 * HOUR,
                    70 * HOUR,
                    80 * HOUR,
                    90 * HOUR,
                    100 * HOUR,
                    110 * HOUR,
                    120 * HOUR,
                    130 * HOUR,
                    140 * HOUR,
                    150 * HOUR,
                    160 * HOUR,
                    7 * DAY - 1,
                ],
                true,
                "busy session just before its absolute lifetime",
            ),
            (
                &[
                    10 * HOUR,
                    20 * HOUR,
                    30 * HOUR,
                    40 * HOUR,
                    50 * HOUR,
                    60 * HOUR,
                    70 * HOUR,
                    80 * HOUR,
                    90 * HOUR,
                    100 * HOUR,
                    110 * HOUR,
                    120 * HOUR,
                    130 * HOUR,
                    140 * HOUR,
                    150 * HOUR,
                    160 * HOUR,
                    7 * DAY,
                ],
                false,
                "absolute lifetime ends even a busy session",
            ),
        ];
        for (uses, live, why) in cases {
            let sessions = Sessions::new(policy);
            let new = sessions.create("admin", T0).expect("create");
            let (last, earlier) = uses.split_last().expect("at least one use");
            for offset in earlier {
                assert!(
                    sessions.validate(&new.token, T0 + offset).is_some(),
                    "{why}: use at +{offset}s"
                );
            }
            assert_eq!(
                sessions.validate(&new.token, T0 + last).is_some(),
                *live,
                "{why}"
            );
        }
    }

    #[test]
    fn listed_by_id_newest_use_first_and_revoked_by_id() {
        let sessions = Sessions::default();
        let phone = sessions
            .create_from(
                "admin",
                T0,
                SessionOrigin::new("192.0.2.7", "Phone\u{7}Browser\r\n"),
            )
            .expect("create");
        let desktop = sessions.create("admin", T0 + 10).expect("create");
        sessions.validate(&phone.token, T0 + 20).expect("live");
        let list = sessions.list(T0 + 30);
        assert_eq!(list.len(), 2);
        let phone_id = sessions.id_of(&phone.token).expect("id");
        let desktop_id = sessions.id_of(&desktop.token).expect("id");
        assert_eq!(
            list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            [phone_id.as_str(), desktop_id.as_str()],
            "the most recently used first"
        );
        assert_eq!(phone_id.len(), 16);
        assert!(!phone.token.contains(&phone_id) && !phone.csrf_token.contains(&phone_id));
        assert_eq!(list[0].origin.address, "192.0.2.7");
        assert_eq!(
            list[0].origin.agent, "PhoneBrowser",
            "control characters dropped"
        );
        assert_eq!((list[0].created, list[0].last_used), (T0, T0 + 20));
        assert_eq!(list[0].expires, T0 + 20 + 12 * HOUR);
        assert_eq!(sessions.id_of("garbage"), None);

        assert!(!sessions.revoke_id("0000000000000000"));
        assert!(sessions.revoke_id(&phone_id));
        assert!(!sessions.revoke_id(&phone_id), "gone already");
        assert_eq!(sessions.validate(&phone.token, T0 + 40), None);
        assert!(sessions.validate(&desktop.token, T0 + 40).is_some());
        assert_eq!(sessions.list(T0 + 40).len(), 1);
        assert!(
            sessions.list(T0 + 50 + 12 * HOUR).is_empty(),
            "expired ones are not listed"
        );
    }

    #[test]
    fn ending_others_one_or_this_session() {
        let sessions = Sessions::default();
        let [here, phone, laptop] =
            [0, 1, 2].map(|_| sessions.create("admin", T0).expect("create"));
        let phone_id = sessions.id_of(&phone.token).expect("id");
        let here_id = sessions.id_of(&here.token).expect("id");
        assert_eq!(sessions.end(&here.token, Some(&phone_id)), Ended::Listed);
        assert_eq!(sessions.end(&here.token, Some(&phone_id)), Ended::Unknown);
        assert_eq!(sessions.end(&here.token, Some(&here_id)), Ended::Current);
        assert!(
            sessions.validate(&here.token, T0).is_some(),
            "reported, not ended"
        );
        assert_eq!(sessions.end(&here.token, None), Ended::Others(1));
        assert!(sessions.validate(&laptop.token, T0).is_none());
        assert_eq!(sessions.list(T0).len(), 1);
    }

    #[test]
    fn a_long_agent_is_cut() {
        let origin = SessionOrigin::new("::1", &"x".repeat(1000));
        assert_eq!(origin.agent.chars().count(), MAX_AGENT_CHARS);
    }

    #[test]
    fn expires_is_capped_by_the_absolute_lifetime() {
        let sessions = Sessions::default();
        let new = sessions.create("admin", T0).expect("create");
        let late = T0 + 7 * DAY - HOUR;
        // Keep it alive up to there.
        let mut t = T0;
        while t < late {
            t += 10 * HOUR;
            let at = t.min(late);
            assert!(sessions.validate(&new.token, at).is_some(), "alive at {at}");
        }
        let info = sessions.validate(&new.token, late).expect("live");
        assert_eq!(info.expires, T0 + 7 * DAY);
    }

    #[test]
    fn configurable_policy() {
        let policy = SessionPolicy {
            idle_timeout_secs: 60,
            absolute_lifetime_secs: 300,
            max_sessions: 2,
        };
        let sessions = Sessions::new(policy);
        let new = sessions.create("admin", T0).expect("create");
        assert_eq!(new.expires, T0 + 60);
        assert_eq!(sessions.policy().absolute_lifetime_secs, 300);
        assert!(sessions.validate(&new.token, T0 + 59).is_some());
        assert!(sessions.validate(&new.token, T0 + 59 + 60).is_none());
    }

    #[test]
    fn revoke_one_all_and_all_but_one() {
        let sessions = Sessions::default();
        let a = sessions.create("admin", T0).expect("create");
        let b = sessions.create("admin", T0).expect("create");
        let c = sessions.create("admin", T0).expect("create");

        assert!(sessions.revoke(&a.token));
        assert!(!sessions.revoke(&a.token), "already revoked");
        assert!(!sessions.revoke("garbage"));
        assert!(sessions.validate(&a.token, T0).is_none());
        assert!(sessions.validate(&b.token, T0).is_some());

        assert_eq!(sessions.revoke_all_except(&c.token), 1);
        assert!(sessions.validate(&b.token, T0).is_none());
        assert!(sessions.validate(&c.token, T0).is_some());

        assert_eq!(sessions.revoke_all(), 1);
        assert!(sessions.validate(&c.token, T0).is_none());
        assert_eq!(sessions.live_count(T0), 0);
    }

    #[test]
    fn expired_sessions_are_purged_on_access() {
        let sessions = Sessions::default();
        sessions.create("admin", T0).expect("create");
        sessions.create("admin", T0 + HOUR).expect("create");
        assert_eq!(sessions.live_count(T0 + HOUR), 2);
        assert_eq!(sessions.live_count(T0 + 12 * HOUR), 1);
        // Purged, not merely hidden: the map shrank.
        assert!(
            format!("{sessions:?}").contains("stored: 1"),
            "{sessions:?}"
        );
        assert_eq!(sessions.live_count(T0 + 13 * HOUR), 0);
    }

    #[test]
    fn cap_evicts_the_session_idle_longest() {
        let sessions = Sessions::new(SessionPolicy {
            max_sessions: 3,
            ..SessionPolicy::default()
        });
        let a = sessions.create("admin", T0).expect("create");
        let b = sessions.create("admin", T0 + 1).expect("create");
        let c = sessions.create("admin", T0 + 2).expect("create");
        // `a` is the oldest but in use; `b` is now the one idle the longest.
        assert!(sessions.validate(&a.token, T0 + 3).is_some());
        let d = sessions.create("admin", T0 + 4).expect("create");
        assert_eq!(sessions.live_count(T0 + 4), 3);
        assert!(sessions.validate(&b.token, T0 + 4).is_none(), "b evicted");
        for kept in [&a, &c, &d] {
            assert!(sessions.validate(&kept.token, T0 + 4).is_some());
        }
    }

    #[test]
    fn zero_cap_still_admits_the_newest_session() {
        let sessions = Sessions::new(SessionPolicy {
            max_sessions: 0,
            ..SessionPolicy::default()
        });
        let a = sessions.create("admin", T0).expect("create");
        let b = sessions.create("admin", T0).expect("create");
        assert!(sessions.validate(&a.token, T0).is_none());
        assert!(sessions.validate(&b.token, T0).is_some());
    }

    #[test]
    fn clock_going_backwards_does_not_extend_or_crash() {
        let sessions = Sessions::default();
        let new = sessions.create("admin", T0).expect("create");
        let info = sessions.validate(&new.token, T0 - DAY).expect("still live");
        assert_eq!(info.expires, T0 + 12 * HOUR, "last use is not moved back");
        let max = Sessions::default();
        let late = max.create("admin", u64::MAX - 1).expect("create");
        assert!(max.validate(&late.token, u64::MAX - 1).is_some());
    }

    #[test]
    fn tokens_are_stored_hashed_and_never_printed() {
        let sessions = Sessions::default();
        let new = sessions.create("admin", T0).expect("create");
        {
            let entries = sessions.lock();
            assert!(entries.contains_key(&digest(&new.token)));
            let raw: Vec<u8> = new.token.bytes().take(32).collect();
            assert!(entries.keys().all(|k| k.as_slice() != raw.as_slice()));
        }
        let info = sessions.validate(&new.token, T0).expect("live");
        let debug = format!("{new:?} {info:?} {sessions:?}");
        assert!(!debug.contains(&new.token), "{debug}");
        assert!(!debug.contains(&new.csrf_token), "{debug}");
        assert!(debug.contains("<redacted>"));
    }
}
