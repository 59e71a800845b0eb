//! Slowing down password guessing at the login form.
//!
//! Argon2 makes each guess cost the server a little; this limiter bounds how many guesses
//! are possible at all. Failed logins are counted per client in a sliding window: a client
//! that has failed [`LimitPolicy::max_failures_per_client`] times within
//! [`LimitPolicy::window_secs`] is refused until the oldest of those failures leaves the
//! window. Clients are IP addresses, IPv6 ones grouped by /64 (one host usually owns a whole
//! /64, so counting single addresses would let it rotate freely); IPv4-mapped IPv6 addresses
//! count as their IPv4 address.
//!
//! Since an attacker with many addresses could stay under the per-client limit (and could
//! push its own records out of the bounded table), a global ceiling counts failures from all
//! clients together: once it is reached, every login attempt waits until the window has room
//! again. This can also delay the administrator during such an attack, which is the price of
//! bounding distributed guessing; a successful login clears only that client's failures.
//!
//! The limiter is plain owned state with no clock or lock of its own: every method takes
//! `now` (seconds since the Unix epoch), and the daemon keeps it behind a mutex.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};

/// Limits of the [`LoginLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitPolicy {
    /// Length of the sliding window (default 15 minutes).
    pub window_secs: u64,
    /// Failures within the window after which a client is refused (default 5).
    pub max_failures_per_client: usize,
    /// Failures within the window, all clients together, after which everyone is refused
    /// (default 100).
    pub max_failures_global: usize,
    /// Clients remembered at most (default 4096); beyond, the one whose last failure is the
    /// oldest is forgotten.
    pub max_tracked_clients: usize,
}

impl Default for LimitPolicy {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            max_failures_per_client: 5,
            max_failures_global: 100,
            max_tracked_clients: 4096,
        }
    }
}

/// Whether a login attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Verify the password.
    Allowed,
    /// Refuse without verifying (HTTP 429 with `Retry-After`).
    Limited {
        /// Seconds until an attempt will be allowed again (at least 1).
        retry_after_secs: u64,
    },
}

/// The unit failures are counted by: an IPv4 address or an IPv6 /64 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A single IPv4 address (also for IPv4-mapped IPv6 addresses).
    V4(Ipv4Addr),
    /// The first 64 bits of an IPv6 address.
    V6Prefix([u8; 8]),
}

impl ClientKey {
    /// The key `ip` is counted under.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4),
                None => {
                    let o = v6.octets();
                    Self::V6Prefix([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
                }
            },
        }
    }
}

/// Recent failure times, oldest first, keeping only the newest `cap` (enough to decide,
/// since only whether `cap` of them are in the window matters).
#[derive(Debug, Clone, Default)]
struct Failures(VecDeque<u64>);

impl Failures {
    fn push(&mut self, now: u64, cap: usize) {
        self.0.push_back(now);
        while self.0.len() > cap.max(1) {
            self.0.pop_front();
        }
    }

    fn forget_aged_out(&mut self, now: u64, window: u64) {
        while self
            .0
            .front()
            .is_some_and(|&t| t.saturating_add(window) <= now)
        {
            self.0.pop_front();
        }
    }

    /// `Some(retry_after)` if at least `max` failures are in the window at `now`.
    fn limit(&self, now: u64, window: u64, max: usize) -> Option<u64> {
        let max = max.max(1);
        let in_window: Vec<u64> = self
            .0
            .iter()
            .copied()
            .filter(|&t| t.saturating_add(window) > now)
            .collect();
        if in_window.len() < max {
            return None;
        }
        // The attempt is allowed again once fewer than `max` remain: when the oldest of
        // the newest `max` ages out.
        let pivot = in_window[in_window.len() - max];
        Some(pivot.saturating_add(window).saturating_sub(now).max(1))
    }

    fn newest(&self) -> u64 {
        self.0.back().copied().unwrap_or(0)
    }
}

/// Counts failed logins and decides whether the next attempt may go ahead.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    policy: LimitPolicy,
    clients: HashMap<ClientKey, Failures>,
    global: Failures,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(LimitPolicy::default())
    }
}

impl LoginLimiter {
    /// A limiter with no failures recorded, under `policy`.
    pub fn new(policy: LimitPolicy) -> Self {
        Self {
            policy,
            clients: HashMap::new(),
            global: Failures::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &LimitPolicy {
        &self.policy
    }

    /// Whether `ip` may attempt a login at `now`. Call it before verifying the password.
    ///
    /// When both the client's limit and the global ceiling apply, the longer wait is given.
    pub fn check(&self, ip: IpAddr, now: u64) -> Decision {
        let window = self.policy.window_secs;
        let client = self
            .clients
            .get(&ClientKey::of(ip))
            .and_then(|f| f.limit(now, window, self.policy.max_failures_per_client));
        let global = self
            .global
            .limit(now, window, self.policy.max_failures_global);
        match client.max(global) {
            Some(retry_after_secs) => Decision::Limited { retry_after_secs },
            None => Decision::Allowed,
        }
    }

    /// Decides whether `ip` may attempt a login at `now` and, if so, counts the attempt as a
    /// failure at once, before the password is verified: concurrent attempts then see each
    /// other, so a burst of parallel sign-ins cannot all pass the check before any of them is
    /// recorded. A successful attempt is taken back by [`LoginLimiter::attempt_succeeded`].
    pub fn attempt(&mut self, ip: IpAddr, now: u64) -> Decision {
        let decision = self.check(ip, now);
        if decision == Decision::Allowed {
            self.record_failure(ip, now);
        }
        decision
    }

    /// An attempt counted by [`LoginLimiter::attempt`] had the right password: the client's
    /// failures are forgotten (as [`LoginLimiter::record_success`]) and the attempt leaves
    /// the global count again (its newest entry, counting as the same).
    pub fn attempt_succeeded(&mut self, ip: IpAddr, now: u64) {
        self.global.0.pop_back();
        self.record_success(ip, now);
    }

    /// Records a failed login from `ip` at `now`.
    pub fn record_failure(&mut self, ip: IpAddr, now: u64) {
        let key = ClientKey::of(ip);
        let window = self.policy.window_secs;
        self.global.forget_aged_out(now, window);
        self.global.push(now, self.policy.max_failures_global);
        if !self.clients.contains_key(&key) {
            self.make_room(now);
        }
        let failures = self.clients.entry(key).or_default();
        failures.forget_aged_out(now, window);
        failures.push(now, self.policy.max_failures_per_client);
    }

    /// Records a successful login from `ip`: its failures are forgotten. The global count
    /// is kept, since the failures did happen.
    pub fn record_success(&mut self, ip: IpAddr, _now: u64) {
        self.clients.remove(&ClientKey::of(ip));
    }

    /// Number of clients currently remembered.
    pub fn tracked_clients(&self) -> usize {
        self.clients.len()
    }

    /// Makes room for one more client: forgets clients whose failures all aged out, then,
    /// if still full, the client whose last failure is the oldest.
    fn make_room(&mut self, now: u64) {
        let cap = self.policy.max_tracked_clients.max(1);
        if self.clients.len() < cap {
            return;
        }
        let window = self.policy.window_secs;
        self.clients.retain(|_, f| {
            f.forget_aged_out(now, window);
            !f.0.is_empty()
        });
        while self.clients.len() >= cap {
            let Some(oldest) = self
                .clients
                .iter()
                .min_by_key(|(_, f)| f.newest())
                .map(|(key, _)| *key)
            else {
                break;
            };
            self.clients.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;
    const WINDOW: u64 = 15 * 60;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn attempts_are_counted_before_their_passwords_are_verified() {
        let policy = LimitPolicy::default();
        let mut limiter = LoginLimiter::new(policy);
        let client = ip("192.0.2.7");
        // A burst: every attempt is decided before any password check has finished.
        let allowed = (0..80)
            .filter(|_| limiter.attempt(client, T0) == Decision::Allowed)
            .count();
        assert_eq!(allowed, policy.max_failures_per_client);
        assert_eq!(limiter.attempt(client, T0 + 1), wait(WINDOW - 1));

        // A right password takes its attempt back: nothing is held against the client, and
        // the global count holds only the failures.
        let person = ip("192.0.2.8");
        for _ in 0..3 {
            assert_eq!(limiter.attempt(person, T0), OK);
        }
        limiter.attempt_succeeded(person, T0);
        assert_eq!(limiter.check(person, T0), OK);
        assert_eq!(limiter.global.0.len(), policy.max_failures_per_client + 2);
    }

    enum Step {
        Fail(&'static str, u64),
        Succeed(&'static str, u64),
        Expect(&'static str, u64, Decision),
    }
    use Step::{Expect, Fail, Succeed};

    const OK: Decision = Decision::Allowed;
    const fn wait(retry_after_secs: u64) -> Decision {
        Decision::Limited { retry_after_secs }
    }

    fn run(policy: LimitPolicy, name: &str, steps: &[Step]) {
        let mut limiter = LoginLimiter::new(policy);
        for (i, step) in steps.iter().enumerate() {
            match *step {
                Fail(addr, t) => limiter.record_failure(ip(addr), T0 + t),
                Succeed(addr, t) => limiter.record_success(ip(addr), T0 + t),
                Expect(addr, t, expected) => assert_eq!(
                    limiter.check(ip(addr), T0 + t),
                    expected,
                    "{name}: step {i} ({addr} at +{t}s)"
                ),
            }
        }
    }

    #[test]
    fn per_client_table() {
        let a = "192.0.2.1";
        let b = "192.0.2.2";
        let cases: &[(&str, &[Step])] = &[
            ("fresh client is allowed", &[Expect(a, 0, OK)]),
            (
                "four failures still allowed, the fifth locks",
                &[
                    Fail(a, 0),
                    Fail(a, 10),
                    Fail(a, 20),
                    Fail(a, 30),
                    Expect(a, 31, OK),
                    Fail(a, 40),
                    Expect(a, 41, wait(WINDOW - 41)),
                    Expect(b, 41, OK),
                ],
            ),
            (
                "lock lasts until the oldest failure ages out",
                &[
                    Fail(a, 0),
                    Fail(a, 100),
                    Fail(a, 200),
                    Fail(a, 300),
                    Fail(a, 400),
                    Expect(a, WINDOW - 1, wait(1)),
                    Expect(a, WINDOW, OK),
                    // One more failure locks again, until the second-oldest ages out.
                    Fail(a, WINDOW),
                    Expect(a, WINDOW, wait(100)),
                    Expect(a, WINDOW + 100, OK),
                ],
            ),
            (
                "failures spread wider than the window never lock",
                &[
                    Fail(a, 0),
                    Fail(a, 300),
                    Fail(a, 600),
                    Fail(a, 900),
                    Fail(a, 1200),
                    Expect(a, 1200, OK),
                ],
            ),
            (
                "success resets the client",
                &[
                    Fail(a, 0),
                    Fail(a, 1),
                    Fail(a, 2),
                    Fail(a, 3),
                    Succeed(a, 4),
                    Fail(a, 5),
                    Fail(a, 6),
                    Fail(a, 7),
                    Fail(a, 8),
                    Expect(a, 9, OK),
                    Fail(a, 9),
                    Expect(a, 9, wait(WINDOW - 4)),
                ],
            ),
            (
                "success of another client does not reset",
                &[
                    Fail(a, 0),
                    Fail(a, 1),
                    Fail(a, 2),
                    Fail(a, 3),
                    Fail(a, 4),
                    Succeed(b, 5),
                    Expect(a, 5, wait(WINDOW - 5)),
                ],
            ),
            (
                "clock going backwards keeps the lock",
                &[
                    Fail(a, 500),
                    Fail(a, 500),
                    Fail(a, 500),
                    Fail(a, 500),
                    Fail(a, 500),
                    Expect(a, 0, wait(WINDOW + 500)),
                ],
            ),
        ];
        for (name, steps) in cases {
            run(LimitPolicy::default(), name, steps);
        }
    }

    #[test]
    fn ipv6_grouping_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("2001:db8:1:2::1", "2001:db8:1:2::ffff", true),
            (
                "2001:db8:1:2:aaaa:bbbb:cccc:dddd",
                "2001:db8:1:2:1111:2222:3333:4444",
                true,
            ),
            ("2001:db8:1:2::1", "2001:db8:1:3::1", false),
            ("2001:db8::1", "2001:db9::1", false),
            ("::ffff:192.0.2.1", "192.0.2.1", true),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.2", false),
            ("192.0.2.1", "192.0.2.2", false),
            ("fe80::1", "fe80::2", true),
        ];
        for (first, second, same) in cases {
            assert_eq!(
                ClientKey::of(ip(first)) == ClientKey::of(ip(second)),
                *same,
                "{first} vs {second}"
            );
            // And the limiter really counts them together (or not).
            let mut limiter = LoginLimiter::default();
            for t in 0..5 {
                limiter.record_failure(ip(first), T0 + t);
            }
            assert_eq!(
                matches!(limiter.check(ip(second), T0 + 5), Decision::Limited { .. }),
                *same,
                "{first} locks {second}?"
            );
        }
    }

    #[test]
    fn global_ceiling_limits_everyone() {
        let policy = LimitPolicy::default();
        let mut limiter = LoginLimiter::new(policy);
        // 100 clients fail once each, one second apart: none reaches its own limit.
        for i in 0..100_u64 {
            let addr = IpAddr::V4(Ipv4Addr::from(
                0xC000_0200_u32 + u32::try_from(i).expect("small"),
            ));
            assert_eq!(limiter.check(addr, T0 + i), Decision::Allowed, "client {i}");
            limiter.record_failure(addr, T0 + i);
        }
        // A newcomer (and the administrator) must now wait for the first failure to age out.
        let newcomer = ip("198.51.100.7");
        assert_eq!(limiter.check(newcomer, T0 + 100), wait(WINDOW - 100));
        assert_eq!(limiter.check(newcomer, T0 + WINDOW), OK);
        // A success does not lower the global count.
        limiter.record_success(ip("192.0.2.0"), T0 + 101);
        assert_eq!(limiter.check(newcomer, T0 + 101), wait(WINDOW - 101));
    }

    #[test]
    fn the_longer_of_both_waits_is_given() {
        let policy = LimitPolicy {
            max_failures_global: 6,
            ..LimitPolicy::default()
        };
        let steps = [
            Fail("192.0.2.1", 0),
            Fail("192.0.2.9", 100),
            Fail("192.0.2.9", 101),
            Fail("192.0.2.9", 102),
            Fail("192.0.2.9", 103),
            Fail("192.0.2.9", 104),
            // Client limit: until 100 + WINDOW; global (6 failures): until 0 + WINDOW.
            Expect("192.0.2.9", 200, wait(WINDOW - 100)),
            Expect("192.0.2.1", 200, wait(WINDOW - 200)),
        ];
        run(policy, "both limits", &steps);
    }

    #[test]
    fn memory_is_bounded() {
        let policy = LimitPolicy {
            max_tracked_clients: 8,
            ..LimitPolicy::default()
        };
        let mut limiter = LoginLimiter::new(policy);
        for i in 0..1000_u32 {
            limiter.record_failure(IpAddr::V4(Ipv4Addr::from(i)), T0 + u64::from(i));
            assert!(limiter.tracked_clients() <= 8, "after {i} clients");
        }
        // Per-client history is bounded too.
        let one = ip("203.0.113.1");
        for t in 0..10_000 {
            limiter.record_failure(one, T0 + 2000 + t);
        }
        let key = ClientKey::of(one);
        assert_eq!(
            limiter.clients[&key].0.len(),
            policy.max_failures_per_client
        );
        assert_eq!(limiter.global.0.len(), policy.max_failures_global);
    }

    #[test]
    fn eviction_forgets_the_stalest_client_first() {
        let policy = LimitPolicy {
            max_tracked_clients: 2,
            ..LimitPolicy::default()
        };
        let (old, busy, new) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        let mut limiter = LoginLimiter::new(policy);
        for t in 0..5 {
            limiter.record_failure(busy, T0 + t);
        }
        limiter.record_failure(old, T0 + 1);
        // `old` failed last at +1, `busy` at +4: `old` goes.
        limiter.record_failure(new, T0 + 10);
        assert_eq!(limiter.tracked_clients(), 2);
        assert!(!limiter.clients.contains_key(&ClientKey::of(old)));
        assert!(matches!(
            limiter.check(busy, T0 + 10),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn aged_out_clients_are_dropped_before_live_ones() {
        let policy = LimitPolicy {
            max_tracked_clients: 2,
            ..LimitPolicy::default()
        };
        let mut limiter = LoginLimiter::new(policy);
        limiter.record_failure(ip("192.0.2.1"), T0);
        limiter.record_failure(ip("192.0.2.2"), T0);
        limiter.record_failure(ip("192.0.2.3"), T0 + WINDOW);
        assert_eq!(
            limiter.tracked_clients(),
            1,
            "both aged-out clients dropped"
        );
    }
}
