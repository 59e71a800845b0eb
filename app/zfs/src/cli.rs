//! [`CliZfs`]: the real [`Zfs`], driving the `zfs` and `zpool` commands through a
//! [`CommandRunner`]. Every command is scripted mode (`-H`, and `-p` for exact numbers), the
//! runner supplies `LC_ALL=C`, and every name on the command line is a validated type, so the
//! only strings reaching `zfs` are ones its own grammar accepts. Output goes through the pure
//! parsers of [`crate::parse`]; stderr through [`crate::error::classify`].

use std::io::Read;
use std::sync::Arc;

use crate::error::{ZfsError, ZfsResult, classify};
use crate::parse::{self, ParseError};
use crate::runner::{
    CommandRunner, Invocation, Output, Program, RunningCommand, STDOUT_LIMIT, SystemRunner,
};
use crate::types::*;
use crate::{SendStream, Zfs};
use wizfs_core::{
    Bookmark, BookmarkName, Dataset, DatasetName, Hold, Pool, Snapshot, SnapshotName,
    ZfsObjectName, ZfsVersion,
};

/// The real implementation. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CliZfs {
    runner: Arc<dyn CommandRunner>,
}

impl Default for CliZfs {
    fn default() -> Self {
        Self::new(Arc::new(SystemRunner::default()))
    }
}

impl CliZfs {
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        Self { runner }
    }

    /// Runs and returns stdout, mapping a failure to a typed error about `target`.
    fn run(&self, invocation: Invocation, target: &str) -> ZfsResult<String> {
        let completed = self
            .runner
            .run(&invocation)
            .map_err(|error| ZfsError::Spawn {
                command: invocation.to_string(),
                source: error.into(),
            })?;
        checked(&invocation, target, completed)
    }

    fn parsed<T>(
        &self,
        invocation: Invocation,
        target: &str,
        parser: impl Fn(&str) -> Result<T, ParseError>,
    ) -> ZfsResult<T> {
        let command = invocation.to_string();
        let stdout = self.run(invocation, target)?;
        parser(&stdout).map_err(|error| ZfsError::Parse {
            command,
            line: error.line,
            reason: error.reason,
        })
    }
}

fn checked(invocation: &Invocation, target: &str, completed: Output) -> ZfsResult<String> {
    if !completed.success() {
        return Err(classify(
            &invocation.to_string(),
            target,
            &completed.status.to_string(),
            &completed.stderr_text(),
        ));
    }
    if completed.stdout_truncated {
        return Err(ZfsError::Parse {
            command: invocation.to_string(),
            line: String::new(),
            reason: format!("the output is longer than {STDOUT_LIMIT} bytes"),
        });
    }
    Ok(String::from_utf8_lossy(&completed.stdout).into_owned())
}

fn zfs() -> Invocation {
    Program::Zfs.invocation()
}

/// `-o name=value` pairs.
fn property_options(
    invocation: Invocation,
    properties: &[(PropertyName, String)],
) -> ZfsResult<Invocation> {
    let mut invocation = invocation;
    for (name, value) in properties {
        if value.contains(['\0', '\n']) {
            return Err(ZfsError::InvalidRequest(format!(
                "the value of property `{name}` contains a NUL or newline character"
            )));
        }
        invocation = invocation.arg("-o").arg(format!("{name}={value}"));
    }
    Ok(invocation)
}

/// `tank/a@x,y,z`: one dataset's snapshots in one argument, as `zfs destroy` takes them.
fn snapshot_list_argument(snapshots: &[&SnapshotName]) -> String {
    let mut argument = String::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        if index == 0 {
            argument.push_str(snapshot.as_str());
        } else {
            argument.push(',');
            argument.push_str(snapshot.short_name());
        }
    }
    argument
}

/// Groups snapshots per dataset, keeping first-seen order.
fn group_by_dataset(snapshots: &[SnapshotName]) -> Vec<(&DatasetName, Vec<&SnapshotName>)> {
    let mut groups: Vec<(&DatasetName, Vec<&SnapshotName>)> = Vec::new();
    for snapshot in snapshots {
        match groups
            .iter_mut()
            .find(|(dataset, _)| *dataset == snapshot.dataset())
        {
            Some((_, members)) => members.push(snapshot),
            None => groups.push((snapshot.dataset(), vec![snapshot])),
        }
    }
    groups
}

/// `zfs list -H -p -t snapshot -o COLUMNS -s createtxg (-d 1 | -r) dataset`.
fn snapshot_listing(columns: &str, dataset: &DatasetName, scope: Scope) -> Invocation {
    let depth: &[&str] = match scope {
        Scope::Dataset => &["-d", "1"],
        Scope::Recursive => &["-r"],
    };
    zfs()
        .args([
            "list",
            "-H",
            "-p",
            "-t",
            "snapshot",
            "-o",
            columns,
            "-s",
            "createtxg",
        ])
        .args(depth)
        .arg(dataset)
}

/// The argv of `zfs send` (without `-n -v -P`).
fn send_arguments(source: &SendSource) -> Vec<String> {
    match source {
        SendSource::Resume(token) => vec!["-t".into(), token.as_str().into()],
        SendSource::Snapshot {
            snapshot,
            base,
            flags,
        } => {
            let mut arguments = Vec::new();
            let switches = [
                (flags.raw, "-w"),
                (flags.replicate, "-R"),
                (flags.properties, "-p"),
                (flags.large_blocks, "-L"),
                (flags.compressed, "-c"),
                (flags.embedded, "-e"),
            ];
            arguments.extend(
                switches
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, switch)| switch.to_string()),
            );
            match base {
                None => {}
                Some(IncrementalBase::Snapshot(from)) => {
                    arguments.extend(["-i".into(), from.as_str().into()]);
                }
                Some(IncrementalBase::SnapshotWithIntermediates(from)) => {
                    arguments.extend(["-I".into(), from.as_str().into()]);
                }
                Some(IncrementalBase::Bookmark(from)) => {
                    arguments.extend(["-i".into(), from.as_str().into()]);
                }
            }
            arguments.push(snapshot.as_str().into());
            arguments
        }
    }
}

fn send_target(source: &SendSource) -> String {
    match source {
        SendSource::Resume(token) => format!("resume token {}", token.as_str()),
        SendSource::Snapshot { snapshot, .. } => snapshot.to_string(),
    }
}

fn check_same_dataset(source: &SendSource) -> ZfsResult<()> {
    if let SendSource::Snapshot {
        snapshot,
        base: Some(base),
        ..
    } = source
    {
        let base_dataset = match base {
            IncrementalBase::Snapshot(from) | IncrementalBase::SnapshotWithIntermediates(from) => {
                from.dataset()
            }
            IncrementalBase::Bookmark(from) => from.dataset(),
        };
        if base_dataset != snapshot.dataset() {
            return Err(ZfsError::InvalidRequest(format!(
                "incremental base of {snapshot} must be of dataset {}, not {base_dataset}",
                snapshot.dataset()
            )));
        }
    }
    Ok(())
}

impl Zfs for CliZfs {
    fn version(&self) -> ZfsResult<ZfsVersion> {
        self.parsed(zfs().arg("version"), "zfs", parse::version)
    }

    fn list_pools(&self) -> ZfsResult<Vec<Pool>> {
        let invocation =
            Program::Zpool
                .invocation()
                .args(["list", "-H", "-p", "-o", parse::POOL_COLUMNS]);
        self.parsed(invocation, "pools", parse::pools)
    }

    fn pool_status(&self) -> ZfsResult<Vec<wizfs_core::PoolStatus>> {
        let invocation = Program::Zpool.invocation().args(["status", "-p"]);
        let mut statuses = self.parsed(invocation, "pools", parse::pool_statuses)?;
        let pools = self.list_pools()?;
        for status in &mut statuses {
            if let Some(pool) = pools.iter().find(|pool| pool.name.as_str() == status.name) {
                status.capacity_percent = Some(pool.capacity_percent);
                status.fragmentation_percent = pool.fragmentation_percent;
            }
        }
        Ok(statuses)
    }

    fn start_scrub(&self, pool: &wizfs_core::PoolName) -> ZfsResult<()> {
        let invocation = Program::Zpool.invocation().arg("scrub").arg(pool);
        self.run(invocation, pool.as_str()).map(drop)
    }

    fn list_datasets(&self, root: Option<&DatasetName>) -> ZfsResult<Vec<Dataset>> {
        let mut invocation = zfs().args([
            "list",
            "-H",
            "-p",
            "-t",
            "filesystem,volume",
            "-o",
            parse::DATASET_COLUMNS,
        ]);
        if let Some(root) = root {
            invocation = invocation.arg("-r").arg(root);
        }
        let target = root.map_or("datasets", DatasetName::as_str);
        self.parsed(invocation, target, parse::datasets)
    }

    fn list_snapshots(&self, dataset: &DatasetName, scope: Scope) -> ZfsResult<Vec<Snapshot>> {
        let invocation = snapshot_listing(parse::SNAPSHOT_COLUMNS, dataset, scope);
        self.parsed(invocation, dataset.as_str(), parse::snapshots)
    }

    fn list_snapshots_with_properties(
        &self,
        dataset: &DatasetName,
        scope: Scope,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<(Snapshot, Vec<Option<String>>)>> {
        let mut columns = parse::SNAPSHOT_COLUMNS.to_owned();
        for property in properties {
            columns.push(',');
            columns.push_str(property.as_str());
        }
        let invocation = snapshot_listing(&columns, dataset, scope);
        self.parsed(invocation, dataset.as_str(), |output| {
            parse::snapshots_with_properties(output, properties.len())
        })
    }

    fn list_bookmarks(&self, dataset: &DatasetName) -> ZfsResult<Vec<Bookmark>> {
        let invocation = zfs()
            .args([
                "list",
                "-H",
                "-p",
                "-t",
                "bookmark",
                "-o",
                parse::BOOKMARK_COLUMNS,
                "-s",
                "createtxg",
                "-d",
                "1",
            ])
            .arg(dataset);
        self.parsed(invocation, dataset.as_str(), parse::bookmarks)
    }

    fn get_properties(
        &self,
        target: &ZfsObjectName,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<Property>> {
        if properties.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = properties.iter().map(PropertyName::as_str).collect();
        let invocation = zfs()
            .args(["get", "-H", "-p", "-o", "name,property,value,source"])
            .arg(names.join(","))
            .arg(target);
        let rows = self.parsed(invocation, target.as_str(), parse::properties)?;
        // `zfs get` answers in the order asked; match by name to be safe.
        Ok(properties
            .iter()
            .map(|wanted| {
                rows.iter()
                    .find(|(_, row)| row.name == wanted.as_str())
                    .map(|(_, row)| row.clone())
                    .unwrap_or(Property {
                        name: wanted.to_string(),
                        value: None,
                        source: PropertySource::None,
                    })
            })
            .collect())
    }

    fn set_property(
        &self,
        target: &ZfsObjectName,
        property: &PropertyName,
        value: &str,
    ) -> ZfsResult<()> {
        if value.contains(['\0', '\n']) {
            return Err(ZfsError::InvalidRequest(format!(
                "the value of property `{property}` contains a NUL or newline character"
            )));
        }
        let invocation = zfs()
            .arg("set")
            .arg(format!("{property}={value}"))
            .arg(target);
        self.run(invocation, target.as_str()).map(drop)
    }

    fn create_filesystem(
        &self,
        name: &DatasetName,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        let invocation = property_options(zfs().arg("create"), properties)?.arg(name);
        self.run(invocation, name.as_str()).map(drop)
    }

    fn destroy_filesystem(&self, name: &DatasetName, recursive: bool) -> ZfsResult<()> {
        let mut invocation = zfs().arg("destroy");
        if recursive {
            invocation = invocation.arg("-r");
        }
        self.run(invocation.arg(name), name.as_str()).map(drop)
    }

    fn create_snapshots(
        &self,
        snapshots: &[SnapshotName],
        recursive: bool,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        if snapshots.is_empty() {
            return Ok(());
        }
        let mut invocation = zfs().arg("snapshot");
        if recursive {
            invocation = invocation.arg("-r");
        }
        invocation = property_options(invocation, properties)?.args(snapshots);
        self.run(invocation, snapshots[0].as_str()).map(drop)
    }

    fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        options: DestroyOptions,
    ) -> ZfsResult<()> {
        for (_, members) in group_by_dataset(snapshots) {
            let mut invocation = zfs().arg("destroy");
            if options.recursive {
                invocation = invocation.arg("-r");
            }
            if options.defer {
                invocation = invocation.arg("-d");
            }
            let argument = snapshot_list_argument(&members);
            self.run(invocation.arg(&argument), &argument)?;
        }
        Ok(())
    }

    fn reclaimable_space(&self, snapshots: &[SnapshotName]) -> ZfsResult<u64> {
        let groups = group_by_dataset(snapshots);
        let [(_, members)] = groups.as_slice() else {
            return Err(ZfsError::InvalidRequest(
                "reclaimable space is computed for snapshots of one dataset at a time".into(),
            ));
        };
        let argument = snapshot_list_argument(members);
        self.parsed(
            zfs().args(["destroy", "-n", "-v", "-p"]).arg(&argument),
            &argument,
            parse::reclaimable,
        )
    }

    fn hold(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        let mut invocation = zfs().arg("hold");
        if recursive {
            invocation = invocation.arg("-r");
        }
        self.run(
            invocation.arg(tag.as_str()).arg(snapshot),
            snapshot.as_str(),
        )
        .map(drop)
    }

    fn release(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        let mut invocation = zfs().arg("release");
        if recursive {
            invocation = invocation.arg("-r");
        }
        self.run(
            invocation.arg(tag.as_str()).arg(snapshot),
            snapshot.as_str(),
        )
        .map(drop)
    }

    fn holds(&self, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>> {
        self.parsed(
            zfs().args(["holds", "-H"]).arg(snapshot),
            snapshot.as_str(),
            parse::holds,
        )
    }

    fn create_bookmark(&self, snapshot: &SnapshotName, bookmark: &BookmarkName) -> ZfsResult<()> {
        if snapshot.dataset() != bookmark.dataset() {
            return Err(ZfsError::InvalidRequest(format!(
                "bookmark {bookmark} must belong to the dataset of {snapshot}"
            )));
        }
        self.run(
            zfs().arg("bookmark").arg(snapshot).arg(bookmark),
            bookmark.as_str(),
        )
        .map(drop)
    }

    fn destroy_bookmark(&self, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.run(zfs().arg("destroy").arg(bookmark), bookmark.as_str())
            .map(drop)
    }

    fn diff(&self, from: &SnapshotName, to: DiffTarget<'_>) -> ZfsResult<Vec<DiffEntry>> {
        let mut invocation = zfs().args(["diff", "-H", "-F", "-t"]).arg(from);
        match to {
            DiffTarget::Snapshot(to) => {
                if to.dataset() != from.dataset() {
                    return Err(ZfsError::InvalidRequest(format!(
                        "cannot diff {from} against {to}: snapshots of different datasets"
                    )));
                }
                invocation = invocation.arg(to);
            }
            DiffTarget::Live => invocation = invocation.arg(from.dataset()),
        }
        self.parsed(invocation, from.as_str(), parse::diff)
    }

    fn send(&self, source: &SendSource) -> ZfsResult<Box<dyn SendStream>> {
        check_same_dataset(source)?;
        let invocation = zfs().arg("send").args(send_arguments(source));
        let command = invocation.to_string();
        let running = self
            .runner
            .spawn_reader(&invocation)
            .map_err(|error| ZfsError::Spawn {
                command: command.clone(),
                source: error.into(),
            })?;
        Ok(Box::new(CliSendStream {
            running,
            command,
            target: send_target(source),
        }))
    }

    fn estimate_send_size(&self, source: &SendSource) -> ZfsResult<u64> {
        check_same_dataset(source)?;
        let invocation = zfs()
            .args(["send", "-n", "-v", "-P"])
            .args(send_arguments(source));
        self.parsed(invocation, &send_target(source), parse::send_size)
    }

    fn receive(
        &self,
        target: &DatasetName,
        options: &ReceiveOptions,
        stream: &mut dyn Read,
    ) -> ZfsResult<()> {
        let mut invocation = zfs().arg("receive");
        for (enabled, switch) in [
            (options.resumable, "-s"),
            (options.force_rollback, "-F"),
            (options.unmounted, "-u"),
        ] {
            if enabled {
                invocation = invocation.arg(switch);
            }
        }
        invocation = property_options(invocation, &options.properties)?.arg(target);
        let command = invocation.to_string();
        let completed = self
            .runner
            .run_with_input(&invocation, stream)
            .map_err(|error| ZfsError::StreamIo {
                command,
                source: error.into(),
            })?;
        checked(&invocation, target.as_str(), completed).map(drop)
    }

    fn receive_resume_token(&self, dataset: &DatasetName) -> ZfsResult<Option<ResumeToken>> {
        let property = PropertyName::new("receive_resume_token")?;
        let values = self.get_properties(&ZfsObjectName::Dataset(dataset.clone()), &[property])?;
        match values
            .into_iter()
            .next()
            .and_then(|property| property.value)
        {
            None => Ok(None),
            Some(token) => Ok(Some(ResumeToken::new(&token)?)),
        }
    }

    fn abort_resumable_receive(&self, dataset: &DatasetName) -> ZfsResult<()> {
        self.run(zfs().args(["receive", "-A"]).arg(dataset), dataset.as_str())
            .map(drop)
    }
}

/// `zfs send`'s stdout, plus its exit status once read.
#[derive(Debug)]
struct CliSendStream {
    running: Box<dyn RunningCommand>,
    command: String,
    target: String,
}

impl Read for CliSendStream {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.running.read(buffer)
    }
}

impl SendStream for CliSendStream {
    fn finish(self: Box<Self>) -> ZfsResult<()> {
        let Self {
            running,
            command,
            target,
        } = *self;
        let completed = running.wait().map_err(|error| ZfsError::StreamIo {
            command: command.clone(),
            source: error.into(),
        })?;
        if completed.success() {
            Ok(())
        } else {
            Err(classify(
                &command,
                &target,
                &completed.status.to_string(),
                &completed.stderr_text(),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
