//! `wizfs-cli`: the `wizfs` command line — ZFS inspection, snapshots, recovery, search and
//! health for administrators, with human output or `--json` (the types of `wizfs-api`). Its
//! operations are [`wizfs_api::Api`] calls: to the running daemon over its control socket,
//! else to the services of `wizfs-services` in-process ([`Backend`]). It is not linked with
//! the web stack.
//! Names are validated by clap value parsers using the `wizfs-core` types, so a bad name is
//! refused (exit status 2) before any command runs.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use wizfs_core::{BookmarkName, DatasetName, SnapshotName};
use wizfs_zfs::{HoldTag, PropertyName, Zfs};

use wizfs_api::*;

pub mod backup;
pub mod context;
pub mod daemon;
pub mod health;
pub mod output;
pub mod parse;
pub mod quick;
pub mod recovery;
pub mod search;
pub mod snapshots;
pub mod tasks;

use context::index_method_for;
pub use context::{Backend, Global, config_for, daemon, data_dir_for, zfs_for};
use output::{emit, format_bytes};
use parse::*;

#[derive(Debug, Parser)]
#[command(name = "wizfs", version = wizfs_services::VERSION, about = "WiZFS: snapshots, recovery and health of ZFS pools")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Versions of WiZFS and OpenZFS.
    Version,
    /// Pools.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Filesystems and volumes.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Snapshots.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// User holds on snapshots.
    #[command(subcommand)]
    Hold(HoldCommand),
    /// Bookmarks.
    #[command(subcommand)]
    Bookmark(BookmarkCommand),
    /// Snapshot policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Destroy the snapshots the policies no longer keep (see why with --dry-run).
    Prune(snapshots::PruneArguments),
    /// Disks, pools, scrubs, sensors and findings now (read-only; notifications are the
    /// daemon's); test the notification channels; the recorded history.
    Health(health::HealthArguments),
    /// The daemon's background tasks (index, snapshot policies, health rounds): their last
    /// and next runs, a task's run log, a run now.
    Tasks {
        #[command(subcommand)]
        command: Option<tasks::TasksCommand>,
    },
    /// Bring the search index up to date with every snapshot (and the live files).
    Index(search::IndexArguments),
    /// Find files by name across all snapshots and the live file system.
    Search(search::SearchArguments),
    /// List a directory, live or as it was in a snapshot.
    Ls(recovery::LsArguments),
    /// The unique versions of a file across all snapshots.
    Versions(recovery::VersionsArguments),
    /// Restore a file or directory from a snapshot (as a copy, or in place behind a guard
    /// snapshot).
    Restore(recovery::RestoreArguments),
    /// Compare a text file between a snapshot and a later snapshot or the live file.
    Compare(recovery::CompareArguments),
    /// Print a file, live or from a snapshot.
    Cat(recovery::CatArguments),
    /// Backups on file targets: check a chain directory without a pool, restore it into a
    /// new dataset.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Find WiZFS consoles on the LAN (mDNS `_wizfs._tcp`).
    Discover {
        /// How long to listen for answers.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Save a file (as itself) or a directory (as a tar or ZIP archive), live or from a
    /// snapshot.
    Download(recovery::DownloadArguments),
    /// What changed between a snapshot and a later snapshot or the live filesystem.
    Diff {
        #[arg(value_parser = parse_snapshot)]
        from: SnapshotName,
        /// A later snapshot of the same dataset (default: the live filesystem).
        #[arg(value_parser = parse_snapshot)]
        to: Option<SnapshotName>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    List,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    List {
        /// Only this dataset and its descendants.
        #[arg(value_parser = parse_dataset)]
        root: Option<DatasetName>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    List {
        #[arg(value_parser = parse_dataset)]
        dataset: DatasetName,
        /// Include the snapshots of descendants.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Create snapshots, all in one atomic transaction.
    Create {
        #[arg(required = true, value_parser = parse_snapshot)]
        snapshots: Vec<SnapshotName>,
        /// Also snapshot every descendant (atomically).
        #[arg(short, long)]
        recursive: bool,
        /// Set a property on the new snapshots: NAME=VALUE.
        #[arg(long = "property", short = 'o', value_parser = parse_property_assignment)]
        properties: Vec<(PropertyName, String)>,
    },
    /// Destroy snapshots (held ones are refused unless --defer).
    Destroy {
        #[arg(required = true, value_parser = parse_snapshot)]
        snapshots: Vec<SnapshotName>,
        #[arg(short, long)]
        recursive: bool,
        /// Destroy held snapshots when their last hold is released.
        #[arg(long)]
        defer: bool,
        /// Only report how much space the destroy would free.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the due snapshot policies now (as the daemon does every minute).
    Run,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Read the policies and say what each would do now.
    Check(snapshots::PolicyCheckArguments),
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    Add(HoldArguments),
    Release(HoldArguments),
    List {
        #[arg(value_parser = parse_snapshot)]
        snapshot: SnapshotName,
    },
}

#[derive(Debug, Args)]
pub struct HoldArguments {
    #[arg(value_parser = parse_hold_tag)]
    tag: HoldTag,
    #[arg(value_parser = parse_snapshot)]
    snapshot: SnapshotName,
    #[arg(short, long)]
    recursive: bool,
}

#[derive(Debug, Subcommand)]
pub enum BookmarkCommand {
    Create {
        #[arg(value_parser = parse_snapshot)]
        snapshot: SnapshotName,
        #[arg(value_parser = parse_bookmark)]
        bookmark: BookmarkName,
    },
    List {
        #[arg(value_parser = parse_dataset)]
        dataset: DatasetName,
    },
    Destroy {
        #[arg(value_parser = parse_bookmark)]
        bookmark: BookmarkName,
    },
}

/// The API's hold request for `wizfs hold add|release`.
fn hold_body(arguments: &HoldArguments) -> HoldBody {
    HoldBody {
        snapshot: arguments.snapshot.to_string(),
        tag: arguments.tag.to_string(),
        recursive: arguments.recursive,
    }
}

/// `wizfs discover`: the consoles announced on the LAN.
fn discover(seconds: u64, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let found = wizfs_mdns::browse(
        wizfs_mdns::Interfaces::All,
        std::time::Duration::from_secs(seconds.clamp(1, 60)),
    )?;
    let listed: Vec<ConsoleView> = found
        .iter()
        .map(|console| ConsoleView {
            instance: console.instance.clone(),
            hostname: console.hostname.clone(),
            addresses: console.addresses.iter().map(ToString::to_string).collect(),
            port: console.port,
            https: console.https,
            version: console.version.clone(),
            path: console.path.clone(),
            url: console.url(),
        })
        .collect();
    emit(out, json, &listed, |out| {
        if found.is_empty() {
            writeln!(out, "no WiZFS console answered within {seconds} s")?;
        }
        for console in &found {
            writeln!(
                out,
                "{}  {}  (version {})",
                console.instance,
                console.url(),
                console.version
            )?;
        }
        Ok(())
    })
}

/// Runs one `wizfs` command, writing its output to `out`.
pub fn run(cli: &Cli, zfs: Arc<dyn Zfs>, out: &mut dyn Write) -> anyhow::Result<()> {
    let (command, cli) = (&cli.command, &cli.global);
    let json = cli.json;
    let recovery =
        wizfs_recovery::Recovery::new(zfs.clone(), Arc::new(wizfs_recovery::system_clock));
    let zfs_handle = zfs.clone();
    let zfs = zfs.as_ref();
    let backend = |with_index| Backend::new(cli, &zfs_handle, with_index);
    match command {
        Command::Index(arguments) => match daemon(cli) {
            Some(daemon) => search::index_through(&Backend::through(daemon), arguments, json, out),
            None => search::index(
                zfs_handle.clone(),
                &data_dir_for(cli)?,
                index_method_for(cli)?,
                &config_for(cli)?.index,
                arguments,
                json,
                out,
            ),
        },
        Command::Search(arguments) => {
            search::search(&Backend::reading(cli, &zfs_handle)?, arguments, json, out)
        }
        Command::Policy(PolicyCommand::Check(arguments)) => {
            snapshots::check(cli, zfs_handle.as_ref(), arguments, json, out)
        }
        Command::Prune(arguments) => snapshots::prune(cli, &zfs_handle, arguments, json, out),
        Command::Snapshot(SnapshotCommand::Run) => snapshots::run(cli, &zfs_handle, json, out),
        Command::Health(arguments) => health::run(cli, &zfs_handle, arguments, json, out),
        Command::Tasks { command } => tasks::run(cli, command.as_ref(), json, out),
        Command::Ls(arguments) => recovery::ls(&backend(false)?, arguments, json, out),
        Command::Versions(arguments) if arguments.indexed => {
            search::indexed_versions(&recovery, &data_dir_for(cli)?, arguments, json, out)
        }
        Command::Versions(arguments) => recovery::versions(
            &data_dir_for(cli)?,
            || Backend::reading(cli, &zfs_handle),
            arguments,
            json,
            out,
        ),
        Command::Restore(arguments) => recovery::restore(&backend(false)?, arguments, json, out),
        Command::Compare(arguments) => recovery::compare(&backend(false)?, arguments, out),
        Command::Cat(arguments) => recovery::cat(&backend(false)?, &recovery, arguments, out),
        Command::Backup(command) => backup::run(zfs, &backend, command, json, out),
        Command::Discover { seconds } => discover(*seconds, cli.json, out),
        Command::Download(arguments) => {
            recovery::download(&backend(false)?, &recovery, arguments, out)
        }
        Command::Version => {
            let version = zfs.version().ok();
            let view = VersionView::new(wizfs_services::VERSION, version.as_ref());
            emit(out, json, &view, |out| {
                writeln!(out, "wizfs {}", view.wizfs)?;
                writeln!(
                    out,
                    "openzfs {}",
                    view.zfs_userland.as_deref().unwrap_or("(not available)")
                )?;
                writeln!(
                    out,
                    "openzfs kernel module {}",
                    view.zfs_kernel.as_deref().unwrap_or("(not loaded)")
                )
            })
        }
        Command::Pool(PoolCommand::List) => {
            let views = backend(false)?.run(|api| api.pools())?;
            emit(out, json, &views, |out| {
                writeln!(
                    out,
                    "{:<20} {:<9} {:>10} {:>10} {:>5}",
                    "NAME", "HEALTH", "SIZE", "FREE", "CAP"
                )?;
                for pool in &views {
                    writeln!(
                        out,
                        "{:<20} {:<9} {:>10} {:>10} {:>4}%",
                        pool.name,
                        pool.health,
                        format_bytes(pool.size),
                        format_bytes(pool.free),
                        pool.capacity_percent
                    )?;
                }
                Ok(())
            })
        }
        Command::Dataset(DatasetCommand::List { root }) => {
            let mut views = backend(false)?.run(|api| api.datasets())?;
            if let Some(root) = root {
                views.retain(|view| {
                    DatasetName::new(&view.name)
                        .is_ok_and(|name| name.is_same_or_descendant_of(root))
                });
            }
            emit(out, json, &views, |out| {
                writeln!(
                    out,
                    "{:<40} {:>10} {:>10} {:>10}  MOUNTPOINT",
                    "NAME", "USED", "AVAIL", "REFER"
                )?;
                for dataset in &views {
                    writeln!(
                        out,
                        "{:<40} {:>10} {:>10} {:>10}  {}",
                        dataset.name,
                        format_bytes(dataset.used),
                        format_bytes(dataset.available),
                        format_bytes(dataset.referenced),
                        dataset.mountpoint.as_deref().unwrap_or("-")
                    )?;
                }
                Ok(())
            })
        }
        Command::Snapshot(SnapshotCommand::List { dataset, recursive }) => {
            let query = DatasetQuery {
                dataset: dataset.to_string(),
                recursive: *recursive,
            };
            let views = backend(false)?.run(|api| api.snapshots(query))?;
            emit(out, json, &views, |out| {
                writeln!(
                    out,
                    "{:<50} {:<20} {:>10} {:>10} {:>5}",
                    "NAME", "CREATED", "USED", "WRITTEN", "HOLDS"
                )?;
                for snapshot in &views {
                    writeln!(
                        out,
                        "{:<50} {:<20} {:>10} {:>10} {:>5}",
                        snapshot.name,
                        snapshot.creation,
                        format_bytes(snapshot.used),
                        format_bytes(snapshot.written),
                        snapshot.holds
                    )?;
                }
                Ok(())
            })
        }
        Command::Snapshot(SnapshotCommand::Create {
            snapshots,
            recursive,
            properties,
        }) => {
            let (first, also) = snapshots
                .split_first()
                .context("name at least one snapshot")?;
            let body = CreateSnapshotBody {
                dataset: first.dataset().to_string(),
                name: first.short_name().to_owned(),
                recursive: *recursive,
                also: also.iter().map(ToString::to_string).collect(),
                properties: properties
                    .iter()
                    .map(|(property, value)| (property.to_string(), value.clone()))
                    .collect(),
            };
            backend(true)?
                .run(|api| api.create_snapshot(body))
                .context("creating snapshots")?;
            let names: Vec<String> = snapshots.iter().map(ToString::to_string).collect();
            emit(out, json, &names, |out| {
                for name in &names {
                    writeln!(
                        out,
                        "created {name}{}",
                        if *recursive { " (recursive)" } else { "" }
                    )?;
                }
                Ok(())
            })
        }
        Command::Snapshot(SnapshotCommand::Destroy {
            snapshots,
            recursive,
            defer,
            dry_run,
        }) => {
            if *dry_run {
                let query = ReclaimableQuery {
                    snapshots: snapshots
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                };
                let report = backend(false)?.run(|api| api.reclaimable(query))?;
                return emit(out, json, &report, |out| {
                    for entry in &report {
                        writeln!(
                            out,
                            "would destroy {} snapshot(s) of {} and free {}",
                            entry.snapshots.len(),
                            entry.dataset,
                            format_bytes(entry.reclaimable_bytes)
                        )?;
                    }
                    Ok(())
                });
            }
            let body = DestroySnapshotsBody {
                snapshots: snapshots.iter().map(ToString::to_string).collect(),
                recursive: *recursive,
                defer: *defer,
            };
            backend(true)?
                .run(|api| api.destroy_snapshots(body))
                .context("destroying snapshots")?;
            let names: Vec<String> = snapshots.iter().map(ToString::to_string).collect();
            emit(out, json, &names, |out| {
                for name in &names {
                    writeln!(out, "destroyed {name}")?;
                }
                Ok(())
            })
        }
        Command::Hold(HoldCommand::Add(arguments)) => {
            backend(false)?
                .run(|api| api.hold(hold_body(arguments)))
                .context("placing the hold")?;
            emit(out, json, &arguments.snapshot.to_string(), |out| {
                writeln!(
                    out,
                    "held {} with tag {}",
                    arguments.snapshot, arguments.tag
                )
            })
        }
        Command::Hold(HoldCommand::Release(arguments)) => {
            backend(false)?
                .run(|api| api.release(hold_body(arguments)))
                .context("releasing the hold")?;
            emit(out, json, &arguments.snapshot.to_string(), |out| {
                writeln!(
                    out,
                    "released tag {} from {}",
                    arguments.tag, arguments.snapshot
                )
            })
        }
        Command::Hold(HoldCommand::List { snapshot }) => {
            let query = SnapshotQuery {
                snapshot: snapshot.to_string(),
            };
            let views = backend(false)?
                .run(|api| api.holds(query))
                .with_context(|| format!("listing holds of {snapshot}"))?;
            emit(out, json, &views, |out| {
                for hold in &views {
                    writeln!(out, "{}\t{}\t{}", hold.snapshot, hold.tag, hold.created)?;
                }
                Ok(())
            })
        }
        Command::Bookmark(BookmarkCommand::Create { snapshot, bookmark }) => {
            let body = CreateBookmarkBody {
                snapshot: snapshot.to_string(),
                bookmark: bookmark.to_string(),
            };
            backend(false)?
                .run(|api| api.create_bookmark(body))
                .context("creating the bookmark")?;
            emit(out, json, &bookmark.to_string(), |out| {
                writeln!(out, "created {bookmark}")
            })
        }
        Command::Bookmark(BookmarkCommand::List { dataset }) => {
            let query = DatasetQuery {
                dataset: dataset.to_string(),
                recursive: false,
            };
            let views = backend(false)?
                .run(|api| api.bookmarks(query))
                .with_context(|| format!("listing bookmarks of {dataset}"))?;
            emit(out, json, &views, |out| {
                for bookmark in &views {
                    writeln!(out, "{}\t{}", bookmark.name, bookmark.creation)?;
                }
                Ok(())
            })
        }
        Command::Bookmark(BookmarkCommand::Destroy { bookmark }) => {
            let body = DestroyBookmarkBody {
                bookmark: bookmark.to_string(),
            };
            backend(false)?
                .run(|api| api.destroy_bookmark(body))
                .context("destroying the bookmark")?;
            emit(out, json, &bookmark.to_string(), |out| {
                writeln!(out, "destroyed {bookmark}")
            })
        }
        Command::Diff { from, to } => {
            let query = DiffQuery {
                from: from.to_string(),
                to: to.as_ref().map(ToString::to_string),
            };
            let views = backend(false)?
                .run(|api| api.diff(query))
                .with_context(|| format!("comparing {from}"))?;
            emit(out, json, &views, |out| {
                for entry in &views {
                    let symbol = match entry.change.as_str() {
                        "created" => "+",
                        "removed" => "-",
                        "modified" => "M",
                        _ => "R",
                    };
                    // {:?} escapes newlines and control characters in hostile names.
                    match &entry.renamed_to {
                        Some(to) => {
                            writeln!(out, "{symbol} {} {:?} -> {:?}", entry.kind, entry.path, to)?
                        }
                        None => writeln!(out, "{symbol} {} {:?}", entry.kind, entry.path)?,
                    }
                }
                Ok(())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_core::PoolName;
    use wizfs_zfs::FakeZfs;

    fn fake() -> (tempfile::TempDir, Arc<FakeZfs>) {
        let directory = tempfile::tempdir().unwrap();
        let fake = FakeZfs::open(directory.path()).unwrap();
        fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
            .unwrap();
        (directory, Arc::new(fake))
    }

    fn run_words(zfs: &Arc<FakeZfs>, words: &[&str]) -> anyhow::Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("wizfs").chain(words.iter().copied()))?;
        let mut out = Vec::new();
        run(&cli, zfs.clone(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    #[test]
    fn snapshot_lifecycle_through_the_cli() {
        let (_directory, zfs) = fake();
        let created = run_words(
            &zfs,
            &["snapshot", "create", "tank@one", "-o", "wizfs:managed=yes"],
        )
        .unwrap();
        assert_eq!(created, "created tank@one\n");
        let listed = run_words(&zfs, &["--json", "snapshot", "list", "tank"]).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&listed).unwrap();
        assert_eq!(parsed[0]["name"], "tank@one");
        assert_eq!(parsed[0]["holds"], 0);
        run_words(&zfs, &["hold", "add", "keep", "tank@one"]).unwrap();
        let refused = run_words(&zfs, &["snapshot", "destroy", "tank@one"]).unwrap_err();
        assert!(format!("{refused:#}").contains("busy"), "{refused:#}");
        let dry_run = run_words(&zfs, &["snapshot", "destroy", "--dry-run", "tank@one"]).unwrap();
        assert!(
            dry_run.starts_with("would destroy 1 snapshot(s) of tank and free"),
            "{dry_run}"
        );
        run_words(&zfs, &["hold", "release", "keep", "tank@one"]).unwrap();
        assert_eq!(
            run_words(&zfs, &["snapshot", "destroy", "tank@one"]).unwrap(),
            "destroyed tank@one\n"
        );
    }

    #[test]
    fn bad_names_are_usage_errors() {
        for words in [
            &["snapshot", "create", "tank@@x"][..],
            &["snapshot", "create", "tank/../x@y"],
            &["snapshot", "list", "-tank"],
            &["hold", "add", "-x", "tank@a"],
            &["snapshot", "create", "tank@a", "-o", "Bad=1"],
        ] {
            let error = Cli::try_parse_from(std::iter::once("wizfs").chain(words.iter().copied()))
                .unwrap_err();
            assert_eq!(error.exit_code(), 2, "{words:?}");
        }
        let error = Cli::try_parse_from(["wizfs", "snapshot", "create", "tank/a@"]).unwrap_err();
        assert!(error.to_string().contains("name"), "{error}");
    }

    #[test]
    fn diff_output_escapes_hostile_names() {
        let (_directory, zfs) = fake();
        run_words(&zfs, &["snapshot", "create", "tank@before"]).unwrap();
        let mountpoint = zfs.mountpoint(&DatasetName::new("tank").unwrap()).unwrap();
        std::fs::write(mountpoint.join("evil\nname"), b"x").unwrap();
        let output = run_words(&zfs, &["diff", "tank@before"]).unwrap();
        assert!(output.contains("+ F \""), "{output}");
        assert!(output.contains("evil\\nname"), "{output}");
        assert_eq!(
            output.lines().filter(|line| line.starts_with('+')).count(),
            1,
            "{output}"
        );
    }

    #[test]
    fn index_search_and_indexed_versions_through_the_cli() {
        let (directory, zfs) = fake();
        let mountpoint = zfs.mountpoint(&DatasetName::new("tank").unwrap()).unwrap();
        std::fs::write(mountpoint.join("budget.xlsx"), b"v1").unwrap();
        run_words(&zfs, &["snapshot", "create", "tank@one"]).unwrap();
        std::fs::write(mountpoint.join("budget.xlsx"), b"v2 longer").unwrap();
        run_words(&zfs, &["snapshot", "create", "tank@two"]).unwrap();
        std::fs::remove_file(mountpoint.join("budget.xlsx")).unwrap();
        let state = directory.path().join("state");
        let state = state.to_str().unwrap();
        let indexed = run_words(&zfs, &["--data-dir", state, "index"]).unwrap();
        assert!(indexed.contains("tank: 2 snapshot(s) indexed"), "{indexed}");
        let found = run_words(&zfs, &["--data-dir", state, "search", "budg", "--deleted"]).unwrap();
        assert!(found.starts_with("2 version(s) found"), "{found}");
        assert!(
            found.contains("tank:budget.xlsx") && found.contains("(deleted)"),
            "{found}"
        );
        let path = mountpoint.join("budget.xlsx");
        let versions = run_words(
            &zfs,
            &[
                "--data-dir",
                state,
                "versions",
                "--indexed",
                path.to_str().unwrap(),
            ],
        )
        .unwrap();
        assert!(
            versions.contains("version 2") && versions.contains("in @two"),
            "{versions}"
        );
        // A snapshot made through the CLI is indexed at once.
        std::fs::write(mountpoint.join("fresh.txt"), b"new").unwrap();
        run_words(
            &zfs,
            &["--data-dir", state, "snapshot", "create", "tank@three"],
        )
        .unwrap();
        let fresh = run_words(&zfs, &["--data-dir", state, "--json", "search", "fresh"]).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&fresh).unwrap();
        assert_eq!(parsed["hits"][0]["first_snapshot"], "three", "{fresh}");
    }

    #[test]
    fn downloads_a_file_as_itself_and_a_directory_as_an_archive() {
        let (directory, zfs) = fake();
        let mountpoint = zfs.mountpoint(&DatasetName::new("tank").unwrap()).unwrap();
        std::fs::create_dir(mountpoint.join("docs")).unwrap();
        std::fs::write(mountpoint.join("docs/report.txt"), b"numbers").unwrap();
        run_words(&zfs, &["snapshot", "create", "tank@one"]).unwrap();
        std::fs::write(mountpoint.join("docs/report.txt"), b"changed").unwrap();
        let output = |name: &str| directory.path().join(name);
        let file = mountpoint.join("docs/report.txt");
        let written = run_words(
            &zfs,
            &[
                "download",
                file.to_str().unwrap(),
                "--snapshot",
                "one",
                "--output",
                output("report.txt").to_str().unwrap(),
            ],
        )
        .unwrap();
        assert!(written.starts_with("wrote "), "{written}");
        assert_eq!(std::fs::read(output("report.txt")).unwrap(), b"numbers");
        let folder = mountpoint.join("docs");
        for (format, magic) in [("tar", &b"docs\0"[..]), ("zip", b"PK\x03\x04")] {
            let name = format!("docs.{format}");
            run_words(
                &zfs,
                &[
                    "download",
                    folder.to_str().unwrap(),
                    "--format",
                    format,
                    "--output",
                    output(&name).to_str().unwrap(),
                ],
            )
            .unwrap();
            let archive = std::fs::read(output(&name)).unwrap();
            assert!(archive.starts_with(magic), "{format}");
            assert!(
                archive.windows(7).any(|window| window == b"changed"),
                "{format}"
            );
        }
        let missing = mountpoint.join("docs/absent.txt");
        let error = run_words(
            &zfs,
            &[
                "download",
                missing.to_str().unwrap(),
                "--output",
                output("absent").to_str().unwrap(),
            ],
        )
        .unwrap_err();
        assert!(format!("{error:#}").contains("does not exist"), "{error:#}");
        assert!(!output("absent").exists(), "nothing half-written");
    }

    #[test]
    fn byte_formatting() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(5 << 30), "5.0 GiB");
        assert_eq!(
            format_bytes(u64::MAX),
            "16.0 EiB".replace("EiB", "PiB").replace("16.0", "16384.0")
        );
    }
}
