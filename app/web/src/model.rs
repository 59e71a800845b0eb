//! What the console shows, as the browser and the server exchange it: typed mirrors of the
//! REST API's JSON (`/api/v1/...`, written by `wizfsd::wire`). The server functions read the
//! REST answers into these types, so a field the console needs and the API lacks fails in
//! the tests of `wizfsd`, not in a user's browser. Only the fields the pages use are here;
//! serde ignores the rest.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub name: String,
    pub health: String,
    pub size: u64,
    pub allocated: u64,
    pub free: u64,
    pub capacity_percent: u8,
    pub fragmentation_percent: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    #[serde(default)]
    pub mountpoint: Option<String>,
    #[serde(default)]
    pub used: u64,
    #[serde(default)]
    pub available: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub name: String,
    pub dataset: String,
    pub short_name: String,
    pub creation: String,
    pub createtxg: u64,
    pub used: u64,
    pub referenced: u64,
    pub written: u64,
    pub holds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// As the browse server function gives it: the console path
    /// ([`crate::format::console_path`]), byte for byte also when it is not UTF-8.
    pub path: String,
    pub path_hex: String,
    pub kind: String,
    pub size: u64,
    pub modified: String,
    pub symlink_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSource {
    pub snapshot: Option<String>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersion {
    pub kind: String,
    pub size: u64,
    pub modified: String,
    pub is_live: bool,
    pub sources: Vec<VersionSource>,
    pub folded_snapshots: usize,
}

impl FileVersion {
    /// The newest snapshot holding this version (the one to restore from), if any.
    pub fn newest_snapshot(&self) -> Option<&str> {
        self.sources
            .iter()
            .rev()
            .find_map(|source| source.snapshot.as_deref())
    }
}

/// One hit of `GET /api/v1/search`, with what the page shows (the API's `path_hex` and
/// `modified_unix` are not read: they would only add to every page's hydration data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub dataset: String,
    /// The console path ([`crate::format::console_path`]) in the typed search; what the JSON
    /// gives (lossy where the name is not UTF-8) when decoded from the REST API.
    pub path: String,
    pub name: String,
    pub kind: String,
    pub size: u64,
    pub modified: String,
    pub first_snapshot: Option<String>,
    pub last_snapshot: Option<String>,
    pub path_live: bool,
    pub is_live_version: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchResults {
    pub total: u64,
    pub hits: Vec<SearchHit>,
    pub datasets: Vec<Facet>,
    pub extensions: Vec<Facet>,
    pub years: Vec<Facet>,
}

/// The search form, as it appears in the page's URL (`/search?q=…&deleted=true`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    pub q: String,
    /// substring, prefix, glob or fuzzy (empty: substring).
    #[serde(default)]
    pub r#match: String,
    #[serde(default)]
    pub dataset: String,
    /// file, directory or symlink (empty: all).
    #[serde(default)]
    pub r#type: String,
    #[serde(default)]
    pub ext: String,
    /// Sizes as people write them: `10M`, `1.5G`, `300k`, `42`.
    #[serde(default)]
    pub min_size: String,
    #[serde(default)]
    pub max_size: String,
    /// Dates as `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub before: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: usize,
}

impl SearchForm {
    /// Hits per page.
    pub const PAGE_SIZE: usize = 50;

    /// The form from a page's query parameters.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).unwrap_or_default();
        Self {
            q: text("q"),
            r#match: text("match"),
            dataset: text("dataset"),
            r#type: text("type"),
            ext: text("ext"),
            min_size: text("min_size"),
            max_size: text("max_size"),
            after: text("after"),
            before: text("before"),
            deleted: matches!(get("deleted").as_deref(), Some("true" | "on" | "1")),
            sort: text("sort"),
            page: get("page").and_then(|page| page.parse().ok()).unwrap_or(0),
        }
    }

    /// The page's URL for this form (`/search?q=…`), the inverse of [`Self::from_query`].
    pub fn url(&self) -> String {
        let page = if self.page == 0 {
            String::new()
        } else {
            self.page.to_string()
        };
        let mut url = String::from("/search");
        url.push_str(&crate::format::query(&[
            ("q", &self.q),
            ("match", &self.r#match),
            ("dataset", &self.dataset),
            ("type", &self.r#type),
            ("ext", &self.ext),
            ("min_size", &self.min_size),
            ("max_size", &self.max_size),
            ("after", &self.after),
            ("before", &self.before),
            ("deleted", if self.deleted { "true" } else { "" }),
            ("sort", &self.sort),
            ("page", &page),
        ]));
        url
    }

    /// Whether there is anything to search for.
    pub fn is_empty(&self) -> bool {
        self.q.trim().is_empty()
            && self.dataset.is_empty()
            && self.ext.is_empty()
            && self.min_size.is_empty()
            && self.max_size.is_empty()
            && self.after.is_empty()
            && self.before.is_empty()
            && !self.deleted
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub action: String,
    pub path: String,
    pub bytes: u64,
    pub replaces: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePlan {
    pub dataset: String,
    pub snapshot: String,
    pub destination: String,
    pub guard_snapshot: Option<String>,
    pub files: u64,
    pub directories: u64,
    pub bytes: u64,
    pub replaced: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub actions: Vec<Action>,
    pub refused: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub plan: RestorePlan,
    pub guard_snapshot: Option<String>,
    pub files: u64,
    pub bytes: u64,
    pub removed: u64,
}

/// What to restore and where: the body of `POST /api/v1/restore` (and `/restore/plan`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestoreForm {
    pub dataset: String,
    pub snapshot: String,
    pub path: String,
    /// `copy` or `original`.
    pub target: String,
    /// `merge` or `replace` (directories restored over the original).
    #[serde(default)]
    pub strategy: String,
}

impl RestoreForm {
    /// The REST API's restore body for this form: its (console) path as `path`, or as
    /// `path_hex` when it is not UTF-8 (see [`crate::format::console_path`]).
    pub fn wire(&self) -> RestoreBody<'_> {
        let (key, value) = crate::format::path_pair(&self.path);
        let hex = key == "path_hex";
        RestoreBody {
            dataset: &self.dataset,
            snapshot: &self.snapshot,
            path: (!hex).then_some(value),
            path_hex: hex.then_some(value),
            target: &self.target,
            // A copy has no strategy: the API takes none as its default.
            strategy: (!self.strategy.is_empty()).then_some(self.strategy.as_str()),
        }
    }
}

/// The body of `POST /api/v1/restore` and `/api/v1/restore/plan` ([`RestoreForm::wire`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreBody<'a> {
    pub dataset: &'a str,
    pub snapshot: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<&'a str>,
    pub target: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reclaim {
    pub dataset: String,
    pub snapshots: Vec<String>,
    pub reclaimable_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub checked_at: String,
    pub summary: PanelSummary,
    pub disks: Vec<Disk>,
    pub pools: Vec<PoolHealth>,
    pub alerts: Vec<Alert>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelSummary {
    pub status: String,
    pub disks: usize,
    pub pools: usize,
    pub pools_online: usize,
    pub active_alerts: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub device: String,
    pub state: String,
    pub identity: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<serde_json::Value>,
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolHealth {
    pub name: String,
    pub state: String,
    pub status: Option<String>,
    pub action: Option<String>,
    pub scrub: Option<serde_json::Value>,
    pub vdevs: Vec<Vdev>,
    pub severity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vdev {
    pub name: String,
    pub state: String,
    pub read_errors: u64,
    pub write_errors: u64,
    pub checksum_errors: u64,
    pub note: Option<String>,
    pub children: Vec<Vdev>,
}

/// One alert of the daemon's alert book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub severity: String,
    pub message: String,
    /// Seconds since the epoch.
    pub first_seen: i64,
    pub last_seen: i64,
    #[serde(default)]
    pub cleared: Option<i64>,
}

impl Health {
    /// Open alerts, worst first.
    pub fn open_alerts(&self) -> Vec<&Alert> {
        let rank = |severity: &str| match severity {
            "critical" => 0,
            "warning" => 1,
            _ => 2,
        };
        let mut open: Vec<&Alert> = self
            .alerts
            .iter()
            .filter(|alert| alert.cleared.is_none())
            .collect();
        open.sort_by_key(|alert| rank(&alert.severity));
        open
    }
}

/// One point of a history chart: the measurements of a time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub time: i64,
    pub average: f64,
    pub min: f64,
    pub max: f64,
}

/// A recorded series (`disk/<identity>/temperature`, `pool/<name>/capacity_percent`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub metric: String,
    pub from: i64,
    pub to: i64,
    pub points: Vec<ChartPoint>,
}

/// The dashboard in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub pools: Vec<Pool>,
    pub recent_snapshots: Vec<Snapshot>,
    pub snapshot_count: usize,
    pub health: Option<Health>,
    pub health_error: Option<String>,
    pub jobs: Vec<Job>,
}

/// A long-running piece of work (indexing, a restore) and how far it got; the daemon sends
/// these over `GET /api/v1/events` (server-sent events) as they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    /// `index` or `restore`.
    pub kind: String,
    pub title: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_forms_survive_the_url() {
        let form = SearchForm {
            q: "report 2026".into(),
            r#match: "fuzzy".into(),
            dataset: "tank/home".into(),
            r#type: "file".into(),
            ext: "pdf".into(),
            min_size: "10M".into(),
            max_size: String::new(),
            after: "2026-01-01".into(),
            before: String::new(),
            deleted: true,
            sort: "size".into(),
            page: 3,
        };
        let url = form.url();
        let query = url.strip_prefix("/search?").expect("a query");
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (
                    key.to_owned(),
                    value.replace("%20", " ").replace("%2F", "/"),
                )
            })
            .collect();
        let read = SearchForm::from_query(|key| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        });
        assert_eq!(read, form);
        assert_eq!(SearchForm::default().url(), "/search");
        assert!(SearchForm::default().is_empty());
        assert!(!form.is_empty());
    }

    #[test]
    fn alerts_are_open_and_worst_first() {
        let alert = |severity: &str, cleared: Option<i64>| Alert {
            severity: severity.into(),
            message: format!("{severity} problem"),
            first_seen: 1,
            last_seen: 2,
            cleared,
        };
        let health = Health {
            checked_at: String::new(),
            summary: PanelSummary {
                status: "warning".into(),
                disks: 0,
                pools: 0,
                pools_online: 0,
                active_alerts: 2,
            },
            disks: Vec::new(),
            pools: Vec::new(),
            alerts: vec![
                alert("info", None),
                alert("critical", Some(5)),
                alert("warning", None),
                alert("critical", None),
            ],
            problems: Vec::new(),
        };
        let open: Vec<&str> = health
            .open_alerts()
            .iter()
            .map(|alert| alert.severity.as_str())
            .collect();
        assert_eq!(open, ["critical", "warning", "info"]);
    }

    #[test]
    fn the_newest_snapshot_of_a_version_is_restored_from() {
        let version = FileVersion {
            kind: "file".into(),
            size: 1,
            modified: String::new(),
            is_live: false,
            sources: vec![
                VersionSource {
                    snapshot: Some("tank@a".into()),
                    created: None,
                },
                VersionSource {
                    snapshot: Some("tank@b".into()),
                    created: None,
                },
                VersionSource {
                    snapshot: None,
                    created: None,
                },
            ],
            folded_snapshots: 1,
        };
        assert_eq!(version.newest_snapshot(), Some("tank@b"));
    }
}
