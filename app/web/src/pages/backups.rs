//! Backups: each configured job (`[[backup]]` of `wizfsd.toml`, docs/backup.md) — what it
//! copies where, on which schedule, when its last good backup was (the one date a person
//! asks for), how its last run went and what each dataset did — with Run now and its recent
//! runs. Kinds of target not built yet say so on their job.

use leptos::prelude::*;

use super::{badge, error_note, loading};
use crate::api::{RunBackup, backups};
use crate::format::bytes;
use crate::layout::Layout;
use wizfs_api::backups::{BackupJobView, BackupRunView};

#[component]
pub fn BackupsPage() -> impl IntoView {
    let run = ServerAction::<RunBackup>::new();
    let data = Resource::new(move || run.version().get(), |_| backups());
    view! {
        <Layout title="Backups">
            {move || run.value().get().map(|result| match result {
                Ok(run) => view! {
                    <div class=if run.succeeded { "card done backup-outcome" } else { "card backup-outcome" } role="status">
                        {format!("Backup job {}: ", run.job)}
                        {badge(if run.succeeded { "done".into() } else { "failed".into() })}
                        {run_details(&run)}
                    </div>
                }.into_any(),
                Err(error) => error_note(&error),
            })}
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) if view.jobs.is_empty() => view! {
                            <p class="card muted">
                                "No backup job is configured. Jobs are " <code>"[[backup]]"</code>
                                " tables of wizfsd.toml (docs/backup.md): to another pool of this machine, rotating disks or a directory today; SSH hosts and S3 come next."
                            </p>
                        }.into_any(),
                        Ok(view) => view.jobs.into_iter().map(|job| job_card(job, run)).collect_view().into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

fn job_card(job: BackupJobView, run: ServerAction<RunBackup>) -> impl IntoView {
    let id = job.id.clone();
    let label = format!("Run now: backup job {}", job.id);
    let state = if job.running {
        badge("running".into()).into_any()
    } else {
        match &job.last_run {
            Some(last) if last.succeeded => badge("ok".into()).into_any(),
            Some(_) => badge("failed".into()).into_any(),
            None => view! { <span class="muted">"never ran"</span> }.into_any(),
        }
    };
    let good = match &job.last_success {
        Some(time) => view! { "Last good backup: " {crate::moment::moment_of(time)} }.into_any(),
        None => view! { <strong>"No good backup yet."</strong> }.into_any(),
    };
    view! {
        <section class="card backup-job">
            <h2>{job.id.clone()} " " {state}</h2>
            <p>{job.sources.join("; ")} " → " <code>{job.target.clone()}</code> {format!(" ({})", job.target_kind)}</p>
            <p>{good}</p>
            <p class="muted small">
                {format!("Schedule: {}", job.schedule)}
                {job.due.then_some("; due now")}
            </p>
            {job.last_run.as_ref().map(|last| view! {
                <details>
                    <summary>"Last run"</summary>
                    {run_details(last)}
                </details>
            })}
            <button class="primary" aria-label=label disabled=job.running
                on:click=move |_| { run.dispatch(RunBackup { job: id.clone() }); }>"Run now"</button>
        </section>
    }
}

fn run_details(run: &BackupRunView) -> impl IntoView {
    let datasets = run
        .datasets
        .iter()
        .map(|line| view! { <li>{line.clone()}</li> })
        .collect_view();
    let errors = run
        .errors
        .iter()
        .map(|error| view! { <li class="error">{error.clone()}</li> })
        .collect_view();
    view! {
        <p class="small">
            {format!("{} run, ", run.trigger)} {crate::moment::moment_of(&run.started)}
            {format!(", {} sent.", bytes(run.bytes))}
        </p>
        <ul class="small">{datasets}{errors}</ul>
    }
}
