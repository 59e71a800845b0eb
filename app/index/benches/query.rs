//! Query latency benchmark: builds an index of N synthetic versions (default 100 000,
//! `--versions N`) over 20 snapshots of two datasets, then prints p50/p99 of each kind of
//! search and of `versions_of`, the index size per version, and a naive baseline (a linear
//! scan of the same names in memory). Run: `cargo bench -p wizfs-index -- --versions 100000`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wizfs_core::entries::{EntryKind, EntryMetadata, FileTime};
use wizfs_core::names::DatasetName;
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::{LIVE_TXG, VersionOp};
use wizfs_index::{IndexStore, NameMatch, SearchQuery, SnapshotChange, Sort};

const SNAPSHOTS: u64 = 20;
const DATASETS: [(u64, &str); 2] = [(1, "tank/projects"), (2, "tank/home")];
const WORDS: [&str; 48] = [
    "report",
    "invoice",
    "photo",
    "vacation",
    "budget",
    "draft",
    "final",
    "summary",
    "meeting",
    "notes",
    "backup",
    "archive",
    "project",
    "design",
    "sketch",
    "contract",
    "letter",
    "resume",
    "family",
    "birthday",
    "wedding",
    "holiday",
    "scan",
    "receipt",
    "tax",
    "statement",
    "plan",
    "schedule",
    "music",
    "video",
    "movie",
    "recipe",
    "garden",
    "house",
    "car",
    "insurance",
    "medical",
    "school",
    "homework",
    "thesis",
    "chapter",
    "slides",
    "poster",
    "logo",
    "icon",
    "readme",
    "config",
    "export",
];
const EXTENSIONS: [&str; 12] = [
    "pdf", "jpg", "png", "txt", "docx", "xlsx", "mp3", "mp4", "zip", "md", "csv", "odt",
];

mod common;
use common::Rng;

fn word(rng: &mut Rng) -> &'static str {
    WORDS[rng.below(WORDS.len())]
}

fn metadata(rng: &mut Rng, inode: u64) -> EntryMetadata {
    let time = FileTime {
        seconds: 1_400_000_000 + (rng.next() % 380_000_000) as i64,
        nanoseconds: 0,
    };
    let size = rng.next() % (1 << (10 + rng.below(20)));
    EntryMetadata {
        kind: EntryKind::File,
        size,
        allocated: size,
        mode: 0o644,
        uid: 1000,
        gid: 1000,
        modified: time,
        changed: time,
        inode,
        links: 1,
        symlink_target: None,
    }
}

fn new_path(rng: &mut Rng, serial: u64) -> RelativePath {
    let depth = 1 + rng.below(5);
    let mut path = String::new();
    for _ in 0..depth {
        path.push_str(word(rng));
        path.push_str(&format!("{}/", rng.below(8)));
    }
    let separator = ["-", "_", " ", "."][rng.below(4)];
    path.push_str(&format!(
        "{}{separator}{}{separator}{serial}.{}",
        word(rng),
        word(rng),
        EXTENSIONS[rng.below(EXTENSIONS.len())]
    ));
    RelativePath::new(path.as_bytes()).expect("valid synthetic path")
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

struct Row {
    label: String,
    p50: Duration,
    p99: Duration,
    hits: u64,
}

fn measure(label: &str, runs: usize, mut run: impl FnMut(usize) -> u64) -> Row {
    for warm in 0..runs.min(5) {
        black_box(run(warm));
    }
    let mut samples = Vec::with_capacity(runs);
    let mut hits = 0;
    for index in 0..runs {
        let started = Instant::now();
        hits += black_box(run(index));
        samples.push(started.elapsed());
    }
    Row {
        label: label.to_owned(),
        p50: percentile(&mut samples, 0.5),
        p99: percentile(&mut samples, 0.99),
        hits: hits / runs as u64,
    }
}

fn main() {
    let mut versions: u64 = 100_000;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        if argument == "--versions" {
            versions = arguments
                .next()
                .and_then(|value| value.parse().ok())
                .expect("--versions N");
        }
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = IndexStore::open(directory.path()).expect("open");
    for (guid, name) in DATASETS {
        store
            .register_dataset(guid, &DatasetName::new(name).expect("name"))
            .expect("register");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Every version's lower-cased name, for the baseline; open versions per dataset.
    let mut all_names: Vec<String> = Vec::with_capacity(versions as usize);
    let mut sample_paths: Vec<(u64, RelativePath)> = Vec::new();
    let mut open: Vec<Vec<(RelativePath, u64)>> = vec![Vec::new(); DATASETS.len()];
    let mut serial = 0u64;
    let initial = versions * 6 / 10;
    let per_snapshot = (versions - initial) / (SNAPSHOTS - 1);
    let started = Instant::now();
    let mut created = 0u64;
    for snapshot in 1..=SNAPSHOTS {
        let txg = snapshot * 10;
        for (slot, (guid, _)) in DATASETS.iter().enumerate() {
            let budget = if snapshot == 1 { initial } else { per_snapshot } / DATASETS.len() as u64;
            let mut ops = Vec::new();
            let mut opened_paths = Vec::new();
            for index in 0..budget {
                let changes = snapshot > 1 && index % 2 == 0 && !open[slot].is_empty();
                let path = if changes {
                    // A new version of an existing file (or, one time in four, a deletion).
                    let victim = rng.below(open[slot].len());
                    let (path, id) = open[slot].swap_remove(victim);
                    ops.push(VersionOp::SetDeath {
                        id,
                        death: Some(txg),
                    });
                    if index % 8 == 0 {
                        continue;
                    }
                    path
                } else {
                    serial += 1;
                    new_path(&mut rng, serial)
                };
                let name = path.file_name().unwrap_or_default();
                all_names.push(String::from_utf8_lossy(name).to_lowercase());
                if rng.below(50) == 0 {
                    sample_paths.push((*guid, path.clone()));
                }
                ops.push(VersionOp::Open {
                    metadata: metadata(&mut rng, serial),
                    path: path.clone(),
                    birth: txg,
                });
                opened_paths.push(path);
            }
            let report = store
                .apply(
                    *guid,
                    SnapshotChange::Indexed {
                        guid: guid * 1_000_000 + snapshot,
                        createtxg: txg,
                        name: format!("auto-{snapshot:02}"),
                    },
                    &ops,
                )
                .expect("apply");
            created += report.opened.len() as u64;
            open[slot].extend(opened_paths.into_iter().zip(report.opened));
        }
    }
    // A live refresh deleting a few files, for `deleted_only`.
    for (slot, (guid, _)) in DATASETS.iter().enumerate() {
        let ops: Vec<VersionOp> = (0..open[slot].len().min(500))
            .map(|_| {
                let victim = rng.below(open[slot].len());
                let (_, id) = open[slot].swap_remove(victim);
                VersionOp::SetDeath {
                    id,
                    death: Some(LIVE_TXG),
                }
            })
            .collect();
        store
            .apply(*guid, SnapshotChange::None, &ops)
            .expect("live refresh");
    }
    let build = started.elapsed();
    let report = store.check_consistency().expect("consistency");
    assert!(report.is_consistent(), "{report:?}");
    let (catalogue_bytes, index_bytes) = store.disk_usage().expect("disk usage");
    println!(
        "index: {created} versions over {SNAPSHOTS} snapshots x {} datasets, built in {:.1} s \
         ({:.0} versions/s)",
        DATASETS.len(),
        build.as_secs_f64(),
        created as f64 / build.as_secs_f64()
    );
    println!(
        "disk: tantivy {:.1} MiB + catalogue {:.1} MiB = {:.0} bytes per version",
        index_bytes as f64 / 1048576.0,
        catalogue_bytes as f64 / 1048576.0,
        (index_bytes + catalogue_bytes) as f64 / created as f64
    );

    let substrings = [
        "port", "vacat", "photo", "budget_", "ation", "sum", "2024", "tax", "eceip", "ome", "re-d",
        "wedd", "mp4", "chapter", "logo", "ic",
    ];
    let prefixes = ["rep", "vac", "ph", "bud", "s", "wed", "the", "in"];
    let fuzzy: Vec<String> = all_names
        .iter()
        .step_by(all_names.len() / 64 + 1)
        .map(|name| {
            let mut typo: Vec<char> = name.chars().collect();
            typo.swap(1, 2);
            typo.into_iter().collect()
        })
        .collect();
    let globs = [
        "*.jpg",
        "report*",
        "photo?vacation*",
        "*budget*.pdf",
        "*2?.md",
        "*",
    ];
    let runs = 200;
    let search = |query: SearchQuery| store.search(&query).expect("search").total;
    let query = |text: &str, name_match| SearchQuery {
        text: Some(text.to_owned()),
        name_match,
        limit: 50,
        ..SearchQuery::default()
    };
    let mut rows = vec![
        measure("substring", runs, |index| {
            search(query(
                substrings[index % substrings.len()],
                NameMatch::Substring,
            ))
        }),
        measure("prefix", runs, |index| {
            search(query(prefixes[index % prefixes.len()], NameMatch::Prefix))
        }),
        measure("fuzzy", runs, |index| {
            search(query(&fuzzy[index % fuzzy.len()], NameMatch::Fuzzy))
        }),
        measure("glob", runs, |index| {
            search(query(globs[index % globs.len()], NameMatch::Glob))
        }),
        measure("substring + dataset, ext, size filters", runs, |index| {
            search(SearchQuery {
                datasets: vec![DATASETS[index % 2].1.to_owned()],
                extensions: vec!["pdf".into(), "jpg".into()],
                size: (Some(1024), None),
                ..query(substrings[index % substrings.len()], NameMatch::Substring)
            })
        }),
        measure("substring + under a directory", runs, |index| {
            let (guid, path) = &sample_paths[index % sample_paths.len()];
            let top = path.components().next().unwrap_or_default();
            search(SearchQuery {
                under: Some((
                    DATASETS[(*guid - 1) as usize].1.to_owned(),
                    RelativePath::new(top).expect("component"),
                )),
                ..query(substrings[index % substrings.len()], NameMatch::Substring)
            })
        }),
        measure("substring + deleted only", runs, |index| {
            search(SearchQuery {
                deleted_only: true,
                ..query(substrings[index % substrings.len()], NameMatch::Substring)
            })
        }),
        measure("substring + as of a snapshot", runs, |index| {
            search(SearchQuery {
                as_of: Some((
                    1 + (index % 2) as u64,
                    10 * (1 + (index as u64 % SNAPSHOTS)),
                )),
                ..query(substrings[index % substrings.len()], NameMatch::Substring)
            })
        }),
        measure("substring sorted by size desc", runs, |index| {
            search(SearchQuery {
                sort: Sort::Size,
                descending: true,
                ..query(substrings[index % substrings.len()], NameMatch::Substring)
            })
        }),
        measure("no text, all versions, facets only", 50, |_| {
            search(SearchQuery {
                limit: 0,
                ..SearchQuery::default()
            })
        }),
        measure("versions_of", 2000, |index| {
            let (guid, path) = &sample_paths[index % sample_paths.len()];
            store.versions_of(*guid, path).expect("versions_of").len() as u64
        }),
    ];
    let baseline = measure("baseline: linear scan, substring", runs, |index| {
        let needle = substrings[index % substrings.len()];
        let mut first = Vec::with_capacity(50);
        let mut count = 0u64;
        for name in &all_names {
            if name.contains(needle) {
                count += 1;
                if first.len() < 50 {
                    first.push(name.as_str());
                }
            }
        }
        black_box(first);
        count
    });
    let substring_p50 = rows[0].p50;
    rows.push(baseline);
    println!(
        "{:<42} {:>9} {:>9} {:>10}",
        "query", "p50 ms", "p99 ms", "avg total"
    );
    for row in &rows {
        println!(
            "{:<42} {:>9.3} {:>9.3} {:>10}",
            row.label,
            milliseconds(row.p50),
            milliseconds(row.p99),
            row.hits
        );
    }
    let scan_p50 = rows.last().map_or(Duration::ZERO, |row| row.p50);
    println!(
        "substring p50: index {:.3} ms vs linear scan {:.3} ms (scan / index = {:.1})",
        milliseconds(substring_p50),
        milliseconds(scan_p50),
        scan_p50.as_secs_f64() / substring_p50.as_secs_f64()
    );
}
