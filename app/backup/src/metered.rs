//! A send stream on its way to a receive, counted and, when the job sets a bandwidth limit,
//! paced: the bytes of each stream go into the run's report, and a limit keeps the average
//! rate since the stream began at or under the limit (a pure [`pace`] says how long the
//! bytes so far should have taken; the reader sleeps off any lead).

use std::io::{self, Read};
use std::time::{Duration, Instant};

/// How long `bytes` take at `limit` bytes per second.
pub fn pace(bytes: u64, limit_bytes_per_second: u64) -> Duration {
    let limit = u128::from(limit_bytes_per_second.max(1));
    let nanoseconds = u128::from(bytes) * 1_000_000_000 / limit;
    Duration::from_nanos(u64::try_from(nanoseconds).unwrap_or(u64::MAX))
}

/// A reader that counts what passes and holds it to a rate.
#[derive(Debug)]
pub struct Metered<R> {
    inner: R,
    bytes: u64,
    limit_bytes_per_second: Option<u64>,
    started: Instant,
}

impl<R: Read> Metered<R> {
    /// Wraps `inner`; `limit_bytes_per_second` `None` reads at full speed.
    pub fn new(inner: R, limit_bytes_per_second: Option<u64>) -> Self {
        Self {
            inner,
            bytes: 0,
            limit_bytes_per_second,
            started: Instant::now(),
        }
    }

    /// The bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The reader inside.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(read).unwrap_or(u64::MAX));
        if let Some(limit) = self.limit_bytes_per_second {
            let due = pace(self.bytes, limit);
            let elapsed = self.started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_is_bytes_over_rate() {
        assert_eq!(pace(0, 1000), Duration::ZERO);
        assert_eq!(pace(1000, 1000), Duration::from_secs(1));
        assert_eq!(pace(500, 1000), Duration::from_millis(500));
        assert_eq!(pace(20_000_000, 20_000_000), Duration::from_secs(1));
        assert_eq!(pace(1, 0), Duration::from_secs(1));
        assert!(pace(u64::MAX, 1) > Duration::from_secs(1 << 30));
    }

    #[test]
    fn counts_and_paces() {
        let data = vec![7_u8; 4000];
        let mut unlimited = Metered::new(data.as_slice(), None);
        let mut sink = Vec::new();
        unlimited.read_to_end(&mut sink).expect("read");
        assert_eq!(unlimited.bytes_read(), 4000);
        let started = Instant::now();
        let mut limited = Metered::new(data.as_slice(), Some(40_000));
        sink.clear();
        limited.read_to_end(&mut sink).expect("read");
        assert_eq!(sink.len(), 4000);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
