//! `/api/v1/backups…`: the backup jobs with their last runs, a run now, and a job's runs.

use axum::Json;
use axum::extract::State;
use wizfs_api::backups::{BackupJobQuery, BackupRunView, BackupsView};
use wizfs_api::routes;

use crate::http::{ApiError, ApiJson, ApiQuery, AppState};

async fn jobs(State(state): State<AppState>) -> Json<BackupsView> {
    Json(state.backups_view())
}

async fn run(
    State(state): State<AppState>,
    ApiJson(query): ApiJson<BackupJobQuery>,
) -> Result<Json<BackupRunView>, ApiError> {
    Ok(Json(state.run_backup(query).await?))
}

async fn runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<BackupJobQuery>,
) -> Result<Json<Vec<BackupRunView>>, ApiError> {
    Ok(Json(state.backup_runs(&query)?))
}

/// The routes of backups.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get(routes::BACKUPS, jobs)
        .post(routes::BACKUPS_RUN, run)
        .get(routes::BACKUPS_RUNS, runs)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::StatusCode;
    use wizfs_core::{DatasetName, PoolName};
    use wizfs_zfs::{FakeZfs, Scope, Zfs};

    use super::super::tests::{get_json, post_json};
    use super::*;

    const JOB: &str = "[[backup]]\nid = \"offsite\"\nschedule = \"daily\"\n\n[[backup.source]]\ndataset = \"tank/home\"\n\n[backup.target]\ntype = \"pool\"\ndataset = \"backup/wizfs\"\n\n[[backup]]\nid = \"cloud\"\nschedule = \"manual\"\n\n[[backup.source]]\ndataset = \"tank/home\"\n\n[backup.target]\ntype = \"ssh\"\nhost = \"backup.example.org\"\nuser = \"wizfs\"\ndataset = \"backup/wizfs\"\nhost_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMj1ZCw7MDcm4ZHR8kP0tA6C2h5bJ3o4OBF3Xxk0h2Ok\"\n";

    /// How many chain directories (with a manifest) a file target holds.
    fn wizfs_backup_chains(directory: &std::path::Path) -> usize {
        std::fs::read_dir(directory)
            .expect("lists")
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join("manifest.json").is_file())
            .count()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn jobs_run_by_hand_are_recorded_and_kept_across_restarts() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = FakeZfs::open(directory.path().join("pools")).expect("fake");
        for pool in ["tank", "backup"] {
            fake.create_pool(&PoolName::new(pool).expect("pool"), 1 << 30)
                .expect("pool");
        }
        let home = DatasetName::new("tank/home").expect("name");
        fake.create_filesystem(&home, &[]).expect("dataset");
        fake.create_filesystem(&DatasetName::new("backup/wizfs").expect("name"), &[])
            .expect("dataset");
        std::fs::write(
            fake.mountpoint(&home).expect("mounted").join("a.txt"),
            "one",
        )
        .expect("write");
        fake.create_snapshots(&[home.snapshot("s1").expect("name")], false, &[])
            .expect("snapshot");
        let zfs: Arc<dyn Zfs> = Arc::new(fake);
        let usb = directory.path().join("usb");
        std::fs::create_dir(&usb).expect("target directory");
        let text = format!(
            "{JOB}\n[[backup]]\nid = \"usb\"\nschedule = \"manual\"\n\n[[backup.source]]\ndataset = \"tank/home\"\n\n[backup.target]\ntype = \"files\"\ndirectory = \"{}\"\n",
            usb.display()
        );
        let jobs = wizfs_services::config::Config::parse(&text, std::path::Path::new("test"))
            .expect("configuration")
            .backups;
        let data = directory.path().join("state");
        let router =
            crate::server::router(AppState::new(zfs.clone()).with_backups(jobs.clone(), &data));

        let (status, view) = get_json(&router, "/api/v1/backups").await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["jobs"][0]["id"], "offsite");
        assert_eq!(view["jobs"][0]["due"], true, "never ran: {view}");
        assert_eq!(view["jobs"][0]["last_success"], serde_json::Value::Null);
        assert_eq!(view["jobs"][1]["due"], false, "manual: {view}");

        let (status, run) = post_json(
            &router,
            "/api/v1/backups/run",
            serde_json::json!({"job": "offsite"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{run}");
        assert_eq!(run["succeeded"], true, "{run}");
        assert_eq!(run["trigger"], "manual");
        assert!(
            run["bytes"].as_u64().is_some_and(|bytes| bytes > 0),
            "{run}"
        );
        assert!(
            run["datasets"][0]
                .as_str()
                .is_some_and(|line| line.contains("full send of @s1")),
            "{run}"
        );
        let received = DatasetName::new("backup/wizfs/tank/home").expect("name");
        assert_eq!(
            zfs.list_snapshots(&received, Scope::Dataset)
                .expect("list")
                .len(),
            1
        );

        // A target kind not built yet fails its run, saying so.
        let (status, run) = post_json(
            &router,
            "/api/v1/backups/run",
            serde_json::json!({"job": "cloud"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{run}");
        assert_eq!(run["succeeded"], false);
        assert!(
            run["errors"][0]
                .as_str()
                .is_some_and(|error| error.contains("not built yet")),
            "{run}"
        );
        // Into a directory: one chain of volumes.
        let (status, run) = post_json(
            &router,
            "/api/v1/backups/run",
            serde_json::json!({"job": "usb"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{run}");
        assert_eq!(run["succeeded"], true, "{run}");
        assert_eq!(
            wizfs_backup_chains(&usb),
            1,
            "one chain of tank/home: {run}"
        );
        let (status, body) = post_json(
            &router,
            "/api/v1/backups/run",
            serde_json::json!({"job": "nope"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

        // The record outlives the daemon.
        let again = crate::server::router(AppState::new(zfs).with_backups(jobs, &data));
        let (_, view) = get_json(&again, "/api/v1/backups").await;
        assert_eq!(
            view["jobs"][0]["due"], false,
            "ran in this day's bucket: {view}"
        );
        assert!(view["jobs"][0]["last_success"].is_string(), "{view}");
        let (status, runs) = get_json(&again, "/api/v1/backups/runs?job=cloud").await;
        assert_eq!(status, StatusCode::OK, "{runs}");
        assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    }
}
