//! Changing the configuration from the console: snapshot policies (`[[policy]]`) and
//! notification channels (`[[health.notify]]`) of `wizfsd.toml`. A change is made in the
//! file's document (`tables.rs`: everything else in the file stays as written, comments
//! included), the whole new text is checked as the daemon reads it at start-up, then written
//! atomically — a temporary file beside it, flushed, renamed over it, the directory flushed;
//! its owner and mode kept, and readable by its owner only once it holds a secret — and
//! the running services follow it at once (the scheduler's next run uses the new policies,
//! the next alert the new channels). Other settings of the file still need a restart.
//! A policy change can be previewed: the next run's plan for its snapshots under the new
//! policies, before anything is saved.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use toml_edit::DocumentMut;
use wizfs_api::health::{ChannelChange, ChannelView};
use wizfs_api::policies::{PlanView, PoliciesView, PolicyChange, PolicyPreviewView};

use crate::config::Config;
use crate::recovery::{blocking, dataset};
use crate::views::policies::{only_policies, plan, policy};
use crate::{ServiceError, Services};

mod tables;

/// The configuration file the daemon was started with, changed one change at a time.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    turn: Mutex<()>,
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            turn: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `change` to the file's document, checks the result reads as a configuration
    /// and passes `check`, then writes it when `write` (else nothing is written). The
    /// configuration as it would be, or is now.
    fn change(
        &self,
        change: impl FnOnce(&mut DocumentMut) -> Result<(), ServiceError>,
        check: impl FnOnce(&Config) -> Result<(), ServiceError>,
        write: bool,
    ) -> Result<Config, ServiceError> {
        let _turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        // The file a symbolic link names is the one replaced, not the link.
        let path = std::fs::canonicalize(&self.path).map_err(|error| self.failed(&error))?;
        let before = std::fs::read_to_string(&path).map_err(|error| self.failed(&error))?;
        let mut document: DocumentMut = before.parse().map_err(|error| {
            ServiceError::Conflict(format!(
                "{} does not read as TOML now ({error}): correct it by hand first",
                self.path.display()
            ))
        })?;
        change(&mut document)?;
        let after = document.to_string();
        let config = Config::parse(&after, &self.path).map_err(|error| match error {
            crate::config::ConfigError::Invalid { message, .. } => {
                ServiceError::BadRequest(format!("the change was not saved: {message}"))
            }
            other => ServiceError::Internal(other.to_string()),
        })?;
        check(&config)?;
        if write && after != before {
            let secret = config.health.notify.iter().any(has_inline_secret);
            write_atomically(&path, after.as_bytes(), secret)
                .map_err(|error| self.failed(&error))?;
            tracing::info!(path = %self.path.display(), "configuration changed from the console");
        }
        Ok(config)
    }

    fn failed(&self, error: &std::io::Error) -> ServiceError {
        ServiceError::Internal(format!("{}: {error}", self.path.display()))
    }
}

/// Whether a channel carries its token or password in the configuration itself.
fn has_inline_secret(channel: &wizfs_health::notify::ChannelConfig) -> bool {
    use wizfs_health::notify::ChannelConfig;
    match channel {
        ChannelConfig::Email(email) => email.password.is_some(),
        ChannelConfig::Webhook(webhook) => webhook.token.is_some() || webhook.url.contains('@'),
        ChannelConfig::Ntfy(ntfy) => ntfy.token.is_some(),
        ChannelConfig::Gotify(gotify) => gotify.token.is_some(),
    }
}

/// Replaces `path` with `contents`: a crash leaves the old file or the new one, never a part.
/// The new file gets the old one's owner and mode (without group and other permissions when
/// it holds a secret).
fn write_atomically(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let directory = path.parent().unwrap_or(Path::new("/"));
    let metadata = std::fs::metadata(path)?;
    let mut mode = metadata.permissions().mode() & 0o7777;
    if secret {
        mode &= 0o700;
    }
    let mut file = tempfile::Builder::new()
        .prefix(".wizfsd.toml.")
        .tempfile_in(directory)?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    // Root may give the file back to its owner; anyone else keeps the file as its own.
    let _ = std::os::unix::fs::fchown(file.as_file(), Some(metadata.uid()), Some(metadata.gid()));
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    std::fs::File::open(directory)?.sync_all()
}

impl Services {
    /// With the configuration file the console may change.
    pub fn with_config_file(mut self, path: PathBuf) -> Self {
        self.config_file = Some(Arc::new(ConfigFile::new(path)));
        self
    }

    fn config_file(&self) -> Result<Arc<ConfigFile>, ServiceError> {
        self.config_file.clone().ok_or_else(|| {
            ServiceError::Unavailable(
                "wizfsd runs without a configuration file, so settings cannot be changed here: start it with --config FILE".into(),
            )
        })
    }

    /// The configuration after a policy change, checked (the policy's dataset must exist);
    /// written when `write`.
    async fn policy_change(
        &self,
        change: &PolicyChange,
        write: bool,
    ) -> Result<Config, ServiceError> {
        if let Some(edit) = &change.policy {
            let name = dataset(edit.dataset.trim())?;
            let zfs = self.zfs.clone();
            let exists = blocking(move || {
                Ok(zfs
                    .list_datasets(Some(&name))
                    .is_ok_and(|found| found.iter().any(|info| info.name == name)))
            })
            .await?;
            if !exists {
                return Err(ServiceError::NotFound(format!(
                    "there is no dataset `{}`",
                    edit.dataset.trim()
                )));
            }
        }
        let file = self.config_file()?;
        let change = change.clone();
        blocking(move || {
            file.change(
                |document| {
                    tables::change_policy(
                        document,
                        change.original.as_deref(),
                        change.policy.as_ref(),
                    )
                },
                |_| Ok(()),
                write,
            )
        })
        .await
    }

    /// What a policy change would do: the policy as it would be, the next run's plan for its
    /// snapshots (as it was and as it would be), and what else to know. Nothing is saved.
    pub async fn preview_policy_change(
        &self,
        change: PolicyChange,
    ) -> Result<PolicyPreviewView, ServiceError> {
        let config = self.policy_change(&change, false).await?;
        let new_id = change.policy.as_ref().map(|edit| edit.id.trim().to_owned());
        let ids: Vec<String> = change
            .original
            .iter()
            .cloned()
            .chain(new_id.clone())
            .collect();
        let current = self.snapshots.policies();
        let has_original = change.original.is_some();
        let zfs = self.zfs.clone();
        let (plan_view, policy_view, managed_before) = blocking(move || {
            let now = crate::snapshots::now();
            let after = wizfs_snapshots::plan_now(zfs.as_ref(), &config.policies, now, true);
            // Which snapshots the changed policy manages today, for the notes on what it
            // leaves (a new policy manages none: no second listing then).
            let managed_before = if has_original {
                let before = wizfs_snapshots::plan_now(zfs.as_ref(), &current, now, false);
                plan(&before)
                    .decisions
                    .into_iter()
                    .filter(|decision| decision.managed_by.is_some())
                    .map(|decision| (decision.managed_by.unwrap_or_default(), decision.snapshot))
                    .collect::<Vec<_>>()
            } else {
                Vec::new()
            };
            let mut view = only_policies(plan(&after), &ids);
            view.due.retain(|due| Some(&due.policy) == new_id.as_ref());
            let policy = config
                .policies
                .iter()
                .find(|policy| Some(policy.id().as_str()) == new_id.as_deref())
                .map(policy);
            Ok((view, policy, managed_before))
        })
        .await?;
        let notes = preview_notes(&change, &plan_view, &managed_before);
        Ok(PolicyPreviewView {
            policy: policy_view,
            plan: plan_view,
            notes,
        })
    }

    /// Saves a policy change to the configuration file; the scheduler follows it from its
    /// next run. The policies as they are now.
    pub async fn change_policy(&self, change: PolicyChange) -> Result<PoliciesView, ServiceError> {
        let config = self.policy_change(&change, true).await?;
        self.snapshots.set_policies(config.policies);
        Ok(self.policies())
    }

    /// Saves a notification channel change to the configuration file (a channel that could
    /// not be built is refused with why); alerts go through the new channels from now on.
    pub async fn change_channel(
        &self,
        change: ChannelChange,
    ) -> Result<Vec<ChannelView>, ServiceError> {
        let health = self.health_service()?;
        let file = self.config_file()?;
        let config = blocking(move || {
            let name = change
                .channel
                .as_ref()
                .map(|edit| edit.name.trim().to_owned());
            let check = |config: &Config| {
                let Some(name) = &name else { return Ok(()) };
                let built = config
                    .health
                    .notify
                    .iter()
                    .find(|channel| channel.name() == name)
                    .map(wizfs_health::notify::build_notifier);
                match built {
                    Some(Err(error)) => Err(ServiceError::BadRequest(format!(
                        "the change was not saved: {error}"
                    ))),
                    _ => Ok(()),
                }
            };
            // A channel that cannot send is not saved.
            file.change(
                |document| {
                    tables::change_channel(
                        document,
                        change.original.as_deref(),
                        change.channel.as_ref(),
                    )
                },
                check,
                true,
            )
        })
        .await?;
        health.set_channels(config.health.notify);
        Ok(health.channels())
    }
}

/// What a person should know about a policy change beyond its plan: the snapshots a
/// removed or renamed policy leaves behind (WiZFS then never destroys them).
fn preview_notes(
    change: &PolicyChange,
    after: &PlanView,
    managed_before: &[(String, String)],
) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(original) = &change.original else {
        return notes;
    };
    let still_managed = |snapshot: &str| {
        after.decisions.iter().any(|decision| {
            decision.snapshot == snapshot && decision.managed_by.as_ref() == Some(original)
        })
    };
    let left: Vec<&String> = managed_before
        .iter()
        .filter(|(managed, snapshot)| managed == original && !still_managed(snapshot))
        .map(|(_, snapshot)| snapshot)
        .collect();
    if !left.is_empty() {
        let (stay, it, carries) = match left.len() {
            1 => ("Its 1 snapshot stays".to_owned(), "it", "it carries"),
            count => (format!("Its {count} snapshots stay"), "them", "they carry"),
        };
        notes.push(format!(
            "{stay}, and WiZFS no longer destroys {it} ({carries} wizfs:managed={original}; a policy `{original}` covering its dataset takes {it} back). Destroy {it} by hand on the snapshots page when no longer needed."
        ));
    }
    if change.policy.is_none() {
        notes.push(format!("No more snapshots are taken for `{original}`."));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_with_its_mode_and_tightens_it_for_secrets() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("wizfsd.toml");
        std::fs::write(&path, "old").expect("writes");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("mode");
        write_atomically(&path, b"new", false).expect("replaces");
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), "new");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        write_atomically(&path, b"secret", true).expect("replaces");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers = std::fs::read_dir(directory.path()).expect("lists").count();
        assert_eq!(leftovers, 1, "no temporary file left");
    }

    #[test]
    fn a_change_that_does_not_read_as_a_configuration_is_not_written() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("wizfsd.toml");
        let text = "# mine\nlog = \"info\"\n";
        std::fs::write(&path, text).expect("writes");
        let file = ConfigFile::new(path.clone());
        let refused = file.change(
            |document| {
                document["policy"] = toml_edit::Item::ArrayOfTables({
                    let mut tables = toml_edit::ArrayOfTables::new();
                    let mut table = toml_edit::Table::new();
                    table["id"] = toml_edit::value("bad id!");
                    table["dataset"] = toml_edit::value("tank");
                    tables.push(table);
                    tables
                });
                Ok(())
            },
            |_| Ok(()),
            true,
        );
        assert!(
            matches!(&refused, Err(ServiceError::BadRequest(message)) if message.contains("not saved")),
            "{refused:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), text);
    }

    #[test]
    fn notes_say_what_a_removed_policy_leaves() {
        let change = PolicyChange {
            original: Some("home".into()),
            policy: None,
        };
        let after = PlanView {
            at: String::new(),
            due: Vec::new(),
            decisions: Vec::new(),
            destroy_count: 0,
            reclaimable: Vec::new(),
            errors: Vec::new(),
        };
        let before = vec![
            ("home".to_owned(), "tank/home@wizfs-home-1".to_owned()),
            ("home".to_owned(), "tank/home@wizfs-home-2".to_owned()),
            ("media".to_owned(), "tank/media@wizfs-media-1".to_owned()),
        ];
        assert_eq!(
            preview_notes(&change, &after, &before),
            vec![
                "Its 2 snapshots stay, and WiZFS no longer destroys them (they carry wizfs:managed=home; a policy `home` covering its dataset takes them back). Destroy them by hand on the snapshots page when no longer needed.".to_owned(),
                "No more snapshots are taken for `home`.".to_owned(),
            ]
        );
    }
}
