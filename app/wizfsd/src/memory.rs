//! How the daemon keeps its resident memory small on a NAS that runs it for months. Two
//! choices, made in the daemon's binary (and its console benchmark) only; the `wizfs` CLI
//! and the library's tests keep the C library's defaults:
//! - **mimalloc** as the global allocator (`#[global_allocator]` in `src/bin/wizfsd.rs`):
//!   it returns freed pages to the kernel by itself shortly after they are freed. With
//!   glibc's malloc the release daemon in the appliance VM grew from 24 MB idle to 67 MB
//!   after one browser session and stayed there, even with `malloc_trim` every 30 s; with
//!   mimalloc it is 29-31 MB idle and 34-35 MB half a minute after the same session. It
//!   also renders console pages faster under load (a fifth of the CPU was in glibc's
//!   malloc/free; see docs/benchmarks.md and docs/health.md, "Memory").
//! - **No transparent huge pages** ([`tune_process`]): with the kernel's setting `always`,
//!   every touched 2 MiB stretch of heap was backed by a whole huge page (16 MB of the idle
//!   daemon's 45 MB in the VM).

/// Called first thing in `main`, before any thread starts: turns transparent huge pages off
/// for this process (the flag is per process and inherited by children, such as `zfs`).
pub fn tune_process() {
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        // An old kernel without the flag: huge pages stay as the system sets them.
        tracing::debug!("cannot turn off transparent huge pages: {error}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tuning_turns_transparent_huge_pages_off() {
        super::tune_process();
        assert!(rustix::thread::transparent_huge_pages_are_disabled().unwrap());
    }
}
