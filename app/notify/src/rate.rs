//! The rate limit of one channel: at most N messages in any hour; what the limit holds back
//! is counted, and the count travels with the channel's next message. Pure over the time
//! passed in, and serializable so the daemon keeps it across restarts.

use serde::{Deserialize, Serialize};

const HOUR_SECONDS: i64 = 60 * 60;

/// Rate-limit memory of one channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelLog {
    /// Unix seconds of the messages sent in the last hour.
    pub sent: Vec<i64>,
    /// Messages held back since the last one sent.
    pub suppressed: u32,
}

impl ChannelLog {
    /// Whether one more message may go out at `now` (Unix seconds) with at most `per_hour`
    /// in any hour: `Some(held back before it)` when it may (it is then counted as sent),
    /// `None` when the limit holds it back (it is then counted as held back).
    pub fn admit(&mut self, now: i64, per_hour: u32) -> Option<u32> {
        self.sent
            .retain(|sent| now.saturating_sub(*sent) < HOUR_SECONDS);
        let budget = usize::try_from(per_hour).unwrap_or(usize::MAX);
        if self.sent.len() >= budget {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        self.sent.push(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_budget_per_hour_and_the_held_back_count_travels_on() {
        let mut log = ChannelLog::default();
        assert_eq!(log.admit(1000, 2), Some(0));
        assert_eq!(log.admit(1001, 2), Some(0));
        assert_eq!(log.admit(1002, 2), None);
        assert_eq!(log.admit(1003, 2), None);
        assert_eq!(log.suppressed, 2);
        // An hour after the first, one slot is free again: the next says what was held.
        assert_eq!(log.admit(1000 + HOUR_SECONDS, 2), Some(2));
        assert_eq!(log.admit(1001 + HOUR_SECONDS, 2), Some(0));
        assert_eq!(log.sent, [1000 + HOUR_SECONDS, 1001 + HOUR_SECONDS]);
    }

    #[test]
    fn a_budget_of_zero_holds_everything_back() {
        let mut log = ChannelLog::default();
        assert_eq!(log.admit(5, 0), None);
        assert_eq!(log.suppressed, 1);
    }
}
