//! Notifications that reach people: email, webhook, ntfy and Gotify channels with per-channel
//! rate limiting.
//!
//! A channel is configured as a `[[notify]]` entry ([`ChannelConfig`], one variant per
//! channel type) and built into a [`Notifier`] by [`build_notifier`], which reads its secrets
//! and checks its addresses. Every channel sends the same [`Message`]: a title, a plain-text
//! body, a [`Priority`], tags, and the JSON document the generic webhook posts; what to say is
//! the caller's business (`wizfs-health` renders its alerts into messages). [`ChannelLog`] is
//! the memory of one channel's rate limit, and [`ChannelRoute`] what routing needs of a
//! channel: its name and the least [`Severity`] it wants.
//!
//! Sending is blocking (one connection per message, a time limit on each); the daemon calls
//! it from a blocking task, never on the async executor.
//!
//! The modules depend one way: [`message`] ← [`channel`] ← [`email`], [`http`] ← [`config`].

pub mod channel;
pub mod config;
pub mod email;
pub mod http;
pub mod message;
pub mod rate;

pub use channel::{Notifier, NotifyError};
pub use config::{ChannelConfig, ChannelRoute, build_notifier};
pub use message::{Message, Priority, Severity};
pub use rate::ChannelLog;
