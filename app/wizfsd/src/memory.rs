//! How the daemon keeps its resident memory small on a NAS that runs it for months: no
//! transparent huge pages for its heap, and freed heap memory handed back to the kernel
//! after bursts of work. Both are process-wide settings of the C library and the kernel, so
//! only the daemon's `main` calls them (tests and the CLI keep the defaults).
//!
//! Why: measured on the appliance image (docs/health.md, "Memory"), the idle daemon's heap
//! was mostly pages it no longer used — glibc keeps what a thread freed in that thread's
//! arena, and with the kernel's transparent huge pages set to `always` each touched arena
//! region was backed by whole 2 MiB pages. Indexing a snapshot (tantivy's writer buffers
//! tens of MB) or a browser session then left the process tens of MB larger for good.

use std::time::Duration;

/// How often [`release_free_memory`] runs in the daemon: long enough to cost nothing
/// (`malloc_trim` walks the free lists once), short enough that the memory of a burst of
/// work is back with the kernel about a minute later.
pub const RELEASE_PERIOD: Duration = Duration::from_secs(30);

/// Called first thing in `main`, before any thread starts: turns transparent huge pages off
/// for this process (the flag is per process and inherited by children, such as `zfs`).
/// glibc's arenas are left as they are: limiting them to one per core (`M_ARENA_MAX`) made
/// console pages 20 % slower under load (`benches/console.rs`), and trimming returns what
/// the extra arenas hold.
pub fn tune_process() {
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        // An old kernel without the flag: huge pages stay as the system sets them.
        tracing::debug!("cannot turn off transparent huge pages: {error}");
    }
}

/// Returns the heap's free pages to the kernel (glibc's `malloc_trim`); how many bytes of
/// memory this freed is not reported by glibc, so nothing is returned.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::trim();
}

/// Runs [`release_free_memory`] every `period`, forever (spawned by the daemon).
pub async fn release_free_memory_every(period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        // It holds each arena's lock while it walks it: off the async workers.
        if tokio::task::spawn_blocking(release_free_memory)
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod glibc {
    /// `malloc_trim(0)`.
    pub fn trim() {
        // SAFETY: malloc_trim takes the allocator's own locks and only releases pages that
        // no allocation uses; it takes a plain integer.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Memory freed below a live allocation stays resident (glibc can only shrink a heap
    /// from its top) until it is released; releasing gives it back, and the heap still
    /// works afterwards.
    #[test]
    fn releasing_free_memory_gives_back_a_freed_burst_below_live_data() {
        const BLOCKS: usize = 128 * 1024;
        // Small blocks (below the mmap threshold, so they live in an arena), touched so
        // they are resident; then one block above them that stays alive.
        let burst: Vec<Vec<u8>> = (0..BLOCKS).map(|index| vec![index as u8; 1000]).collect();
        let pin = vec![7u8; 1000];
        drop(burst);
        let freed = resident_kib();
        release_free_memory();
        let released = resident_kib();
        // 128 MB were freed; other tests of this binary may allocate meanwhile, so ask
        // for most of it, not all.
        assert!(
            released + 96 * 1024 < freed,
            "128 MB freed: RSS {freed} KiB before releasing, {released} KiB after"
        );
        let again: Vec<Vec<u8>> = (0..1024).map(|index| vec![index as u8; 1000]).collect();
        assert!(
            again
                .iter()
                .enumerate()
                .all(|(index, block)| block[999] == index as u8)
        );
        assert_eq!(pin[999], 7);
    }
}
