//! Every path of the API, named once: the daemon routes them, the console and the CLI call
//! them. Paths only (the method is in each constant's documentation); queries are the
//! request types of this crate.

/// `GET`: the daemon runs and can talk to ZFS (versions and pools for a signed-in user).
pub const HEALTHZ: &str = "/healthz";
/// `GET`: the signed-in user and the CSRF token.
pub const SESSION: &str = "/api/v1/session";
/// `GET`: search live data and every snapshot.
pub const SEARCH: &str = "/api/v1/search";
/// `POST`: reconcile the index with ZFS now.
pub const INDEX: &str = "/api/v1/index";
/// `GET`: pools.
pub const POOLS: &str = "/api/v1/pools";
/// `GET`: filesystems and volumes.
pub const DATASETS: &str = "/api/v1/datasets";
/// `GET`: a dataset's snapshots; `POST`: take a snapshot.
pub const SNAPSHOTS: &str = "/api/v1/snapshots";
/// `POST`: destroy snapshots.
pub const SNAPSHOTS_DESTROY: &str = "/api/v1/snapshots/destroy";
/// `GET`: what destroying snapshots would free.
pub const SNAPSHOTS_RECLAIMABLE: &str = "/api/v1/snapshots/reclaimable";
/// `GET`: a snapshot's user holds (`?snapshot=…`); `POST`: place a hold.
pub const HOLDS: &str = "/api/v1/holds";
/// `POST`: release a hold.
pub const HOLDS_RELEASE: &str = "/api/v1/holds/release";
/// `GET`: a dataset's bookmarks (`?dataset=…`); `POST`: bookmark a snapshot.
pub const BOOKMARKS: &str = "/api/v1/bookmarks";
/// `POST`: destroy a bookmark.
pub const BOOKMARKS_DESTROY: &str = "/api/v1/bookmarks/destroy";
/// `GET`: what changed since a snapshot (`zfs diff`).
pub const DIFF: &str = "/api/v1/diff";
/// `GET`: a directory, live or in a snapshot.
pub const BROWSE: &str = "/api/v1/browse";
/// `GET`: the unique versions of a file.
pub const VERSIONS: &str = "/api/v1/versions";
/// `POST`: what a restore would do.
pub const RESTORE_PLAN: &str = "/api/v1/restore/plan";
/// `POST`: restore.
pub const RESTORE: &str = "/api/v1/restore";
/// `GET`: a text diff of two versions.
pub const COMPARE: &str = "/api/v1/compare";
/// `GET`: one file's bytes, sandboxed (never active content of the console's origin).
pub const FILE: &str = "/api/v1/file";
/// `GET`: a file as itself, or a file or directory as a tar or ZIP archive (`format`).
pub const DOWNLOAD: &str = "/api/v1/download";
/// `GET`: snapshot policies.
pub const POLICIES: &str = "/api/v1/policies";
/// `GET`: what the policies would do now (dry run).
pub const POLICIES_PLAN: &str = "/api/v1/policies/plan";
/// `POST`: run the policies now.
pub const POLICIES_RUN: &str = "/api/v1/policies/run";
/// `POST`: destroy now what the policies no longer keep.
pub const POLICIES_PRUNE: &str = "/api/v1/policies/prune";
/// `POST`: what adding, changing or removing a policy would do (nothing is saved).
pub const POLICIES_PREVIEW: &str = "/api/v1/policies/preview";
/// `POST`: add, change or remove a policy (written to the configuration file, followed at
/// once).
pub const POLICIES_CHANGE: &str = "/api/v1/policies/change";
/// `GET`: backup jobs, each with its last run and last good backup.
pub const BACKUPS: &str = "/api/v1/backups";
/// `POST`: run a backup job now (the body's `job`).
pub const BACKUPS_RUN: &str = "/api/v1/backups/run";
/// `GET`: the runs of a backup job (`?job=`), newest first.
pub const BACKUPS_RUNS: &str = "/api/v1/backups/runs";
/// `GET`: disks, pools, sensors, findings and alerts.
pub const HEALTH: &str = "/api/v1/health";
/// `POST`: a health round now.
pub const HEALTH_CHECK: &str = "/api/v1/health/check";
/// `GET`: active alerts.
pub const HEALTH_ALERTS: &str = "/api/v1/health/alerts";
/// `GET`: history metrics, or one metric's points.
pub const HEALTH_HISTORY: &str = "/api/v1/health/history";
/// `POST`: send a test notification.
pub const HEALTH_TEST_NOTIFICATION: &str = "/api/v1/health/test-notification";
/// `GET`: the notification channels; `POST`: add, change or remove one (written to the
/// configuration file, followed at once).
pub const HEALTH_CHANNELS: &str = "/api/v1/health/channels";
/// `POST`: acknowledge an active alert.
pub const HEALTH_ACKNOWLEDGE: &str = "/api/v1/health/alerts/acknowledge";
/// `POST`: start a scrub of a pool now.
pub const HEALTH_SCRUB: &str = "/api/v1/health/scrub";
/// `POST`: start a SMART self-test of a disk now.
pub const HEALTH_SELF_TEST: &str = "/api/v1/health/self-test";
/// `GET`: the tasks running now and the last finished ones, with their progress.
pub const TASK_PROGRESS: &str = "/api/v1/tasks/progress";
/// `GET`: server-sent events of that work.
pub const EVENTS: &str = "/api/v1/events";

/// The daemon's control socket in its data directory: the same API for the CLI on the same
/// machine, root only.
pub const CONTROL_SOCKET: &str = "api.sock";

/// `GET`: the background tasks with their last and next runs.
pub const TASKS: &str = "/api/v1/tasks";
/// `GET`: a task's last runs (`?task=…&limit=…`).
pub const TASK_RUNS: &str = "/api/v1/tasks/runs";
/// `POST`: run a task now.
pub const TASK_TRIGGER: &str = "/api/v1/tasks/trigger";
