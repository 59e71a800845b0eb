//! Index benchmark, run in the VM on real OpenZFS (`tests/vm/run --bench`): a generated
//! dataset (default 100,000 files in 1,000 directories, 100 snapshots, 1 % of the files
//! changed between snapshots; `WIZFS_BENCH_FILES` / `WIZFS_BENCH_DIRECTORIES` /
//! `WIZFS_BENCH_SNAPSHOTS` to change) is indexed by WiZFS
//! (adaptively — the default, by the objects of send streams —, by `zfs diff` only and by
//! metadata walks only, each into a fresh index; `WIZFS_BENCH_METHODS=adaptive,walk` picks
//! some) and
//! walked naively (every snapshot in full) in the same run. Prints indexing time and
//! file visits for both, one full walk of the dataset (the goal: indexing ≤ 3× one walk),
//! index size per version, search / versions-of-a-path latency percentiles, and a floor for
//! any method that asks ZFS for the changes: the send streams alone, written to /dev/null.
//! Asserts nothing about time.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wizfs_core::RelativePath;
use wizfs_index::{IndexStore, SearchQuery};
use wizfs_indexer::{Indexer, MethodPolicy};
use wizfs_restore::SafeRoot;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::objects::scan_objects;
use wizfs_zfs::{CliZfs, IncrementalBase, Scope, SendFlags, SendSource, Zfs};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index.min(samples.len() - 1)]
}

fn file_name(index: usize) -> String {
    const WORDS: [&str; 8] = [
        "report", "invoice", "holiday", "scan", "notes", "budget", "photo", "draft",
    ];
    const EXTENSIONS: [&str; 6] = ["txt", "pdf", "jpg", "docx", "xlsx", "md"];
    format!(
        "{}-{index:06}.{}",
        WORDS[index % WORDS.len()],
        EXTENSIONS[(index / 8) % EXTENSIONS.len()]
    )
}

fn main() {
    let files = setting("WIZFS_BENCH_FILES", 100_000);
    let snapshots = setting("WIZFS_BENCH_SNAPSHOTS", 100);
    // Files are spread over this many directories below the root.
    let directories = setting("WIZFS_BENCH_DIRECTORIES", 1000).max(1);
    let changed_per_snapshot = (files / 100).max(1);
    let environment = VmEnvironment::from_env();
    let zfs: Arc<dyn Zfs> = Arc::new(CliZfs::default());
    let dataset = environment.unique_dataset(&environment.pool, "indexbench");
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let mountpoint = PathBuf::from(format!("/{dataset}"));

    println!(
        "generating {files} files in {directories} directories, {snapshots} snapshots, {changed_per_snapshot} files changed between snapshots"
    );
    let started = Instant::now();
    let path_of =
        |index: usize| mountpoint.join(format!("d{:03}/{}", index % directories, file_name(index)));
    for directory in 0..directories.min(files) {
        fs::create_dir_all(mountpoint.join(format!("d{directory:03}"))).expect("mkdir");
    }
    for index in 0..files {
        fs::write(path_of(index), index.to_le_bytes()).expect("write");
    }
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for snapshot in 0..snapshots {
        for _ in 0..changed_per_snapshot {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state % files as u64) as usize;
            fs::write(path_of(index), format!("changed in round {snapshot}")).expect("rewrite");
        }
        let status = Command::new("zfs")
            .arg("snapshot")
            .arg(format!("{dataset}@b{snapshot:03}"))
            .status()
            .expect("zfs snapshot");
        assert!(status.success());
    }
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());

    // One full walk of the newest snapshot: the yardstick of the goal.
    let listed = zfs
        .list_snapshots(&dataset, Scope::Dataset)
        .expect("snapshots");
    let walk = |short: &str| -> (usize, Duration) {
        let started = Instant::now();
        let root = SafeRoot::open_snapshot(&mountpoint, short).expect("snapshot root");
        let entries = root.read_tree(&RelativePath::root()).expect("walk").len();
        root.forget_snapshot_mount();
        (entries, started.elapsed())
    };
    let newest = listed
        .last()
        .expect("a snapshot")
        .name
        .short_name()
        .to_owned();
    let (entries_one_walk, one_walk) = walk(&newest);
    println!(
        "one full walk: {entries_one_walk} entries in {:.1} s",
        one_walk.as_secs_f64()
    );

    // WiZFS: the first snapshot walked, every other compared by `zfs diff`, by a metadata
    // walk, or adaptively (the default); each into its own fresh index.
    let dataset_info = zfs
        .list_datasets(Some(&dataset))
        .expect("dataset")
        .remove(0);
    let mut runs = Vec::new();
    let mut kept = None;
    let methods =
        std::env::var("WIZFS_BENCH_METHODS").unwrap_or_else(|_| "adaptive,diff,walk".into());
    let policies: Vec<MethodPolicy> = methods
        .split(',')
        .map(|method| match method.trim() {
            "adaptive" => MethodPolicy::Adaptive,
            "objects" => MethodPolicy::Objects,
            "diff" => MethodPolicy::Diff,
            "walk" => MethodPolicy::Walk,
            other => panic!("WIZFS_BENCH_METHODS: unknown method {other}"),
        })
        .collect();
    for policy in policies {
        let state_directory = tempfile::tempdir().expect("state");
        let store =
            Arc::new(IndexStore::open(&state_directory.path().join("index")).expect("index"));
        let indexer = Indexer::with_policy(store.clone(), zfs.clone(), policy);
        let started = Instant::now();
        let report = indexer
            .sync_dataset(&dataset_info, &mut |_| {})
            .expect("index");
        let indexing = started.elapsed();
        println!(
            "wizfs indexing ({policy:?}) done in {:.1} s: {} object comparisons ({} objects streamed, {} changed, {} decoded without a stat), {} diffs, {} walks, {} unchanged ({})",
            indexing.as_secs_f64(),
            report.object_comparisons,
            report.streamed_objects,
            report.changed_objects,
            report.decoded_objects,
            report.diffs,
            report.full_walks,
            report.unchanged,
            report.timings
        );
        for fallback in &report.fallbacks {
            println!("  fell back: {fallback}");
        }
        runs.push((
            policy,
            indexing,
            report.walked_entries + report.observed_paths,
        ));
        if kept.is_none() {
            kept = Some((store, state_directory));
        }
    }
    let (store, _state_directory) = kept.expect("at least one method");

    // Naive: walk every snapshot in full. Under TCG that takes long, so every k-th snapshot
    // is walked (at least 10 of them) and the time scaled up; every snapshot holds the same
    // number of entries here, so the visit count is exact.
    let stride = (listed.len() / 10).max(1);
    let started = Instant::now();
    let mut walked = 0;
    for snapshot in listed.iter().step_by(stride) {
        walk(snapshot.name.short_name());
        walked += 1;
        println!(
            "  naive walk {walked} done at {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let naive = started
        .elapsed()
        .mul_f64(listed.len() as f64 / walked as f64);
    let naive_visits = entries_one_walk * listed.len();
    let naive_label = if walked == listed.len() {
        "naive: full walk of every snapshot".to_owned()
    } else {
        format!("naive: walk of every snapshot (scaled from {walked})")
    };

    // A floor for any method that learns the changes from ZFS: the kernel's own work for
    // the send streams the object comparisons read (`zfs send -i` of each changed snapshot
    // to /dev/null, one at a time, nothing parsed). ZFS reports changes per dnode block, so
    // 1 % of the files changed at random puts about a quarter of all objects in each stream.
    let started = Instant::now();
    let mut streams = 0;
    for pair in listed.windows(2).filter(|pair| pair[1].written > 0) {
        let status = Command::new("zfs")
            .env("LC_ALL", "C")
            .args(["send", "-L", "-c", "-e", "-i"])
            .arg(pair[0].name.as_str())
            .arg(pair[1].name.as_str())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("zfs send");
        assert!(status.success(), "zfs send failed: {status}");
        streams += 1;
    }
    let streams_alone = started.elapsed();
    // The same streams read as the indexer reads them (`wizfs_zfs::objects::scan_objects`,
    // the flags it uses), nothing compared or written: the reading side's own cost.
    let started = Instant::now();
    let mut objects_read = 0;
    for pair in listed.windows(2).filter(|pair| pair[1].written > 0) {
        let mut stream = zfs
            .send(&SendSource::Snapshot {
                snapshot: pair[1].name.clone(),
                base: Some(IncrementalBase::Snapshot(pair[0].name.clone())),
                flags: SendFlags {
                    large_blocks: true,
                    compressed: true,
                    embedded: true,
                    ..SendFlags::default()
                },
            })
            .expect("zfs send");
        objects_read += scan_objects(&mut stream).expect("scan").objects.len();
        stream.finish().expect("zfs send finished");
    }
    let streams_read = started.elapsed();
    let cpus = std::thread::available_parallelism().map_or(1, |cpus| cpus.get());

    let consistency = store.check_consistency().expect("consistency");
    let (catalogue_bytes, index_bytes) = store.disk_usage().expect("disk usage");
    let versions = consistency.catalogue_versions.max(1);

    let mut search_times = Vec::new();
    for round in 0..300usize {
        let text = format!("{:04}", (round * 7919) % 10_000);
        let query = SearchQuery {
            text: Some(text),
            ..SearchQuery::default()
        };
        let started = Instant::now();
        let results = store.search(&query).expect("search");
        search_times.push(started.elapsed());
        assert!(results.total < u64::MAX);
    }
    let mut versions_times = Vec::new();
    for round in 0..300usize {
        let index = (round * 104_729) % files;
        let path = RelativePath::new(
            format!("d{:03}/{}", index % directories, file_name(index)).as_bytes(),
        )
        .expect("path");
        let started = Instant::now();
        let found = store
            .versions_of(dataset_info.guid, &path)
            .expect("versions");
        versions_times.push(started.elapsed());
        assert!(!found.is_empty());
    }

    println!("{:<44} {:>12} {:>14}", "", "time", "file visits");
    println!(
        "{:<44} {:>10.1} s {:>14}",
        "one full walk of the dataset",
        one_walk.as_secs_f64(),
        entries_one_walk
    );
    println!(
        "{:<44} {:>10.1} s {:>14}",
        naive_label,
        naive.as_secs_f64(),
        naive_visits
    );
    for (policy, indexing, visits) in &runs {
        println!(
            "{:<44} {:>10.1} s {:>14}",
            format!("wizfs ({policy:?}): all snapshots and live"),
            indexing.as_secs_f64(),
            visits
        );
    }
    println!(
        "{:<44} {:>10.1} s {:>14}",
        format!("floor: {streams} send streams to /dev/null"),
        streams_alone.as_secs_f64(),
        "-"
    );
    println!(
        "{:<44} {:>10.1} s {:>14}",
        format!("the same streams read: {objects_read} objects"),
        streams_read.as_secs_f64(),
        "-"
    );
    // Perfectly overlapped on every CPU, the first snapshot's walk and the streams alone
    // take (walk + streams) / CPUs; what is left of 3 walks is all WiZFS's own work may cost.
    let overlapped = (one_walk + streams_alone).as_secs_f64() / cpus as f64;
    println!(
        "floor = {:.2}× one full walk one at a time; with the first walk, spread perfectly over {cpus} CPUs {:.2}×, leaving {:.1} s of 3 walks for WiZFS's own work",
        streams_alone.as_secs_f64() / one_walk.as_secs_f64(),
        overlapped / one_walk.as_secs_f64(),
        3.0 * one_walk.as_secs_f64() - overlapped
    );
    for (policy, indexing, visits) in &runs {
        println!(
            "wizfs ({policy:?}) = {:.2}× one full walk, {:.3}× the naive walk; {:.1}× fewer file visits",
            indexing.as_secs_f64() / one_walk.as_secs_f64(),
            indexing.as_secs_f64() / naive.as_secs_f64(),
            naive_visits as f64 / (*visits).max(1) as f64
        );
    }
    println!(
        "index: {} versions for {} files × {} snapshots; {:.0} bytes per version ({:.1} MiB catalogue + {:.1} MiB tantivy)",
        versions,
        files,
        snapshots,
        (catalogue_bytes + index_bytes) as f64 / versions as f64,
        catalogue_bytes as f64 / 1048576.0,
        index_bytes as f64 / 1048576.0
    );
    println!(
        "search (substring, limit 50): p50 {:.2} ms, p99 {:.2} ms; versions of a path: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&mut search_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut search_times, 0.99).as_secs_f64() * 1e3,
        percentile(&mut versions_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut versions_times, 0.99).as_secs_f64() * 1e3
    );
    assert!(consistency.is_consistent());
    let _ = Command::new("zfs")
        .args(["destroy", "-r", dataset.as_str()])
        .status();
}
