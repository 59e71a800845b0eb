//! The console's short-lived cache of reads. A page needs the pools, datasets, snapshots
//! and health of the machine; each of those is a `zfs`/`zpool` listing (a process per call on
//! real ZFS) that every page view would otherwise repeat, and under load the listings queue
//! behind each other. So an answer is reused for [`LISTING_TTL`]; for a short
//! [`REFRESH_GRACE`] after that it is still answered at once while one background refresh
//! runs (pages under steady load never wait for a listing); older than that, or after a
//! change, the caller reads anew, and concurrent callers of one key share that read (no
//! stampede). Keys are the typed reads the console makes (`super::Read`: the operation and
//! its request), answers the API's typed views, handed out as clones. Any operation that may
//! change something (every one the console makes besides reads) makes everything stale, so
//! the console always sees its own changes at once; what schedules or other tools change
//! shows within TTL + grace. Scripts using `/api/v1` directly, and the daemon's own tasks,
//! never read through this cache.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// How long a listing is reused as it is.
pub const LISTING_TTL: Duration = Duration::from_secs(2);
/// How long after that a listing is still answered while it is refreshed in the background.
pub const REFRESH_GRACE: Duration = Duration::from_secs(3);

/// Answers larger than this are not kept (a long listing, say). An answer's size is the
/// length of its JSON, measured once when it is kept: what the REST API would send for it.
const MAXIMUM_CACHED_BYTES: usize = 1 << 20;

/// At most this many different reads, and about this many bytes, are kept; a read that
/// finds no room is answered without being kept.
const MAXIMUM_ENTRIES: usize = 512;
const MAXIMUM_TOTAL_BYTES: usize = 8 << 20;

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0 += buffer.len();
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `value`: the length of its JSON (unbounded when it has none).
fn weight(value: &impl Serialize) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Debug)]
struct Entry {
    value: Value,
    weight: usize,
    generation: u64,
    at: Instant,
}

#[derive(Debug, Default)]
struct SlotState {
    entry: Option<Entry>,
    /// A background refresh of this key runs.
    refreshing: bool,
}

/// One key: its answer, and the lock of the caller reading it anew.
#[derive(Debug, Default)]
struct Slot {
    state: Mutex<SlotState>,
    reading: tokio::sync::Mutex<()>,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a kept answer is good for now.
enum Use {
    Fresh(Value),
    /// Answer it and refresh it in the background (unless a refresh already runs).
    Stale(Value, bool),
    Unusable,
}

/// The answers of reads keyed by `K`.
#[derive(Debug)]
pub struct ReadCache<K> {
    ttl: Duration,
    grace: Duration,
    /// Bumped after every operation that may have changed something; entries of an older
    /// generation are never answered.
    generation: AtomicU64,
    slots: Mutex<HashMap<K, Arc<Slot>>>,
}

impl<K: Hash + Eq + Clone> Default for ReadCache<K> {
    fn default() -> Self {
        Self::new(LISTING_TTL, REFRESH_GRACE)
    }
}

/// A kept value as `T` (`None` if the key was read as another type, which the keys of the
/// console never are).
fn typed<T: Clone + 'static>(value: &Value) -> Option<T> {
    value.downcast_ref::<T>().cloned()
}

impl<K: Hash + Eq + Clone> ReadCache<K> {
    pub fn new(ttl: Duration, grace: Duration) -> Self {
        Self {
            ttl,
            grace,
            generation: AtomicU64::new(0),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets everything: called after each operation that may have changed something.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn current(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// How old `entry` is, when no change has happened since it was read.
    fn age_if_current(&self, entry: &Entry) -> Option<Duration> {
        (entry.generation == self.current()).then(|| entry.at.elapsed())
    }

    /// What the kept answer of `state` is good for; claims the background refresh.
    fn classify(&self, state: &mut SlotState) -> Use {
        let Some((entry, age)) = state
            .entry
            .as_ref()
            .and_then(|entry| Some((entry, self.age_if_current(entry)?)))
        else {
            return Use::Unusable;
        };
        if age < self.ttl {
            Use::Fresh(entry.value.clone())
        } else if age < self.ttl + self.grace {
            let value = entry.value.clone();
            let refresh = !state.refreshing;
            state.refreshing = true;
            Use::Stale(value, refresh)
        } else {
            Use::Unusable
        }
    }

    /// The slot of `key`, or `None` when the cache is full of usable answers. A new key
    /// first sweeps out every answer that can no longer be used, so what a session read
    /// does not stay in memory after it.
    fn slot(&self, key: &K) -> Option<Arc<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(key) {
            return Some(slot.clone());
        }
        let limit = self.ttl + self.grace;
        let full = slots.len() >= MAXIMUM_ENTRIES;
        let mut kept_bytes = 0;
        // Keep answers that are still usable and slots being read right now; a slot not read
        // yet (its first caller may be about to lock it) goes only to make room.
        slots.retain(|_, slot| {
            let reading = || slot.reading.try_lock().is_err();
            match slot.state().entry.as_ref() {
                Some(entry) if self.age_if_current(entry).is_some_and(|age| age < limit) => {
                    kept_bytes += entry.weight;
                    true
                }
                Some(_) => reading(),
                None => !full || reading(),
            }
        });
        if slots.len() >= MAXIMUM_ENTRIES || kept_bytes >= MAXIMUM_TOTAL_BYTES {
            return None;
        }
        let slot = Arc::<Slot>::default();
        slots.insert(key.clone(), slot.clone());
        Some(slot)
    }

    /// Keeps `value`, read from generation `generation` starting at `at`, unless a change
    /// finished since or it is too big.
    fn keep<T: Serialize + Send + Sync + 'static>(
        slot: &Slot,
        value: T,
        generation: u64,
        at: Instant,
    ) {
        let weight = weight(&value);
        if weight <= MAXIMUM_CACHED_BYTES {
            slot.state().entry = Some(Entry {
                value: Arc::new(value),
                weight,
                generation,
                at,
            });
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> ReadCache<K> {
    /// The answer of `key`: a kept one, or `read`'s (kept when it succeeded and is small
    /// enough). Concurrent callers of one key that must wait share one read.
    pub async fn get_or_read<T, E, F>(self: &Arc<Self>, key: &K, read: F) -> Result<T, E>
    where
        T: Clone + Serialize + Send + Sync + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Send + 'static,
    {
        let Some(slot) = self.slot(key) else {
            return read.await;
        };
        let classified = self.classify(&mut slot.state());
        match classified {
            Use::Fresh(value) => {
                if let Some(value) = typed(&value) {
                    return Ok(value);
                }
            }
            Use::Stale(value, refresh) => match typed(&value) {
                Some(value) => {
                    if refresh {
                        let (cache, slot) = (self.clone(), slot.clone());
                        tokio::spawn(async move {
                            let _reading = slot.reading.lock().await;
                            let (generation, at) = (cache.current(), Instant::now());
                            if let Ok(value) = read.await {
                                Self::keep(&slot, value, generation, at);
                            }
                            slot.state().refreshing = false;
                        });
                    }
                    return Ok(value);
                }
                None if refresh => slot.state().refreshing = false,
                None => {}
            },
            Use::Unusable => {}
        }
        let _reading = slot.reading.lock().await;
        // Someone else may have read it while this caller waited.
        let kept = slot
            .state()
            .entry
            .as_ref()
            .filter(|entry| self.age_if_current(entry).is_some_and(|age| age < self.ttl))
            .and_then(|entry| typed(&entry.value));
        if let Some(value) = kept {
            return Ok(value);
        }
        // Taken before the read: a change finishing while it runs makes the answer stale.
        let (generation, at) = (self.current(), Instant::now());
        let value = read.await?;
        Self::keep(&slot, value.clone(), generation, at);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A read whose answer is how often `computed` was read so far.
    async fn read(cache: &Arc<Cache>, key: &str, computed: &Arc<AtomicUsize>) -> String {
        let computed = computed.clone();
        cache
            .get_or_read::<_, (), _>(&key.to_owned(), async move {
                let count = computed.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(count.to_string())
            })
            .await
            .expect("an answer")
    }

    type Cache = ReadCache<String>;

    fn cache(ttl_ms: u64, grace_ms: u64) -> Arc<Cache> {
        Arc::new(ReadCache::new(
            Duration::from_millis(ttl_ms),
            Duration::from_millis(grace_ms),
        ))
    }

    /// Lets spawned refreshes run (time is paused: nothing else moves).
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reused_for_the_ttl_refreshed_behind_in_the_grace_read_anew_after() {
        let cache = cache(2000, 3000);
        let computed = Arc::new(AtomicUsize::new(0));
        assert_eq!(read(&cache, "a", &computed).await, "1");
        assert_eq!(read(&cache, "b", &computed).await, "2");
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert_eq!(read(&cache, "a", &computed).await, "1");
        // Past the TTL: answered at once with the kept answer while one refresh runs.
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(read(&cache, "a", &computed).await, "1");
        assert_eq!(read(&cache, "a", &computed).await, "1");
        settle().await;
        assert_eq!(computed.load(Ordering::SeqCst), 3, "one refresh");
        assert_eq!(read(&cache, "a", &computed).await, "3");
        // Past TTL + grace ("b" was never asked again): read anew, the caller waits.
        tokio::time::advance(Duration::from_millis(3000)).await;
        assert_eq!(read(&cache, "b", &computed).await, "4");
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_makes_everything_stale_even_a_read_in_flight() {
        let cache = cache(60_000, 0);
        let computed = Arc::new(AtomicUsize::new(0));
        assert_eq!(read(&cache, "a", &computed).await, "1");
        cache.invalidate();
        assert_eq!(read(&cache, "a", &computed).await, "2");

        // A read that started before a change finished is answered but not reused.
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let reader = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_read::<_, (), _>(&"b".to_owned(), async move {
                        started_tx.send(()).expect("the test waits");
                        finish_rx.await.expect("the test finishes the read");
                        Ok("old".to_owned())
                    })
                    .await
            })
        };
        started_rx.await.expect("the read started");
        cache.invalidate();
        finish_tx.send(()).expect("the reader waits");
        assert_eq!(reader.await.expect("the reader"), Ok("old".to_owned()));
        assert_eq!(read(&cache, "b", &computed).await, "3");
    }

    #[tokio::test]
    async fn concurrent_readers_of_one_key_share_one_read() {
        let cache = cache(60_000, 0);
        let computed = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..32)
            .map(|_| {
                let (cache, computed) = (cache.clone(), computed.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_read::<_, (), _>(&"a".to_owned(), async move {
                            computed.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok("answer".to_owned())
                        })
                        .await
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.expect("a reader"), Ok("answer".to_owned()));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_and_big_answers_are_not_kept() {
        let cache = cache(60_000, 0);
        let computed = Arc::new(AtomicUsize::new(0));
        let counter = computed.clone();
        let failed = cache
            .get_or_read(&"a".to_owned(), async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Err::<String, _>("busy")
            })
            .await;
        assert_eq!(failed, Err("busy"));
        assert_eq!(read(&cache, "a", &computed).await, "2");

        for _ in 0..2 {
            let counter = computed.clone();
            let answer = cache
                .get_or_read::<_, (), _>(&"big".to_owned(), async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    // Its JSON, with the quotes, is one byte over.
                    Ok("x".repeat(MAXIMUM_CACHED_BYTES - 1))
                })
                .await;
            assert_eq!(answer.map(|body| body.len()), Ok(MAXIMUM_CACHED_BYTES - 1));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_full_cache_drops_stale_answers_and_still_answers() {
        let cache = cache(60_000, 0);
        let computed = Arc::new(AtomicUsize::new(0));
        for key in 0..MAXIMUM_ENTRIES {
            read(&cache, &key.to_string(), &computed).await;
        }
        // Full of usable answers: a new key is answered, not kept.
        assert_eq!(read(&cache, "new", &computed).await, "513");
        assert_eq!(read(&cache, "new", &computed).await, "514");
        assert_eq!(read(&cache, "0", &computed).await, "1");
        // After a change everything is stale and makes room.
        cache.invalidate();
        assert_eq!(read(&cache, "new", &computed).await, "515");
        assert_eq!(read(&cache, "new", &computed).await, "515");
    }

    /// Answers are kept up to about [`MAXIMUM_TOTAL_BYTES`] in all; expired ones are
    /// dropped as soon as a new key is read, so the memory of a burst of reads goes with
    /// their expiry.
    #[tokio::test(start_paused = true)]
    async fn kept_bytes_are_bounded_and_expired_answers_are_dropped() {
        let cache = cache(1_000, 1_000);
        let big = |key: &str| {
            let cache = cache.clone();
            let key = key.to_owned();
            async move {
                // Its JSON, with the quotes, is exactly the largest answer kept.
                cache
                    .get_or_read::<_, (), _>(&key, async {
                        Ok("x".repeat(MAXIMUM_CACHED_BYTES - 2))
                    })
                    .await
                    .unwrap();
            }
        };
        let kept = |cache: &Cache| {
            let slots = cache.slots.lock().unwrap();
            slots
                .values()
                .filter_map(|slot| slot.state().entry.as_ref().map(|entry| entry.weight))
                .sum::<usize>()
        };
        for key in 0..20 {
            big(&key.to_string()).await;
        }
        assert_eq!(kept(&cache), MAXIMUM_TOTAL_BYTES);
        // Expired: the next new key sweeps them all out.
        tokio::time::advance(Duration::from_millis(2_001)).await;
        let computed = Arc::new(AtomicUsize::new(0));
        assert_eq!(read(&cache, "small", &computed).await, "1");
        assert_eq!(kept(&cache), r#""1""#.len());
        assert_eq!(cache.slots.lock().unwrap().len(), 1);
    }
}
