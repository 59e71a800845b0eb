//! The file viewer: one file of the live data or of a snapshot shown inside the console —
//! an image (SVG too, which an `<img>` never lets run script), a video or a song with the
//! browser's player, a PDF or a text in a frame — with its way back to the versions and a
//! download. The file itself comes from `/api/v1/file`, which the daemon serves inside a
//! sandbox (nothing in it runs as the console): whoever wrote a file on a pool may have
//! written it to attack the administrator who looks at it.

use leptos::prelude::*;

use crate::format::{PreviewKind, path_pair, preview_kind, query, shown};
use crate::layout::Layout;

#[component]
pub fn ViewPage() -> impl IntoView {
    let target = super::versions::entry_from_query();
    view! {
        <Layout title="Preview">
            {move || {
                let (dataset, path, snapshot) = target.get();
                let mut pairs = vec![("dataset", dataset.as_str()), path_pair(&path)];
                if !snapshot.is_empty() {
                    pairs.push(("snapshot", snapshot.as_str()));
                }
                let entry = query(&pairs);
                let file = format!("/api/v1/file{entry}");
                let name = shown(&path);
                let title = name.rsplit('/').next().unwrap_or_default().to_owned();
                let versions = format!("/versions{}", query(&[("dataset", &dataset), path_pair(&path)]));
                let source = if snapshot.is_empty() { "live".to_owned() } else { format!("snapshot {snapshot}") };
                let shown_file = match preview_kind(&title) {
                    PreviewKind::Image => view! { <img class="preview" src=file alt=format!("Preview of {title}")/> }.into_any(),
                    PreviewKind::Video => view! { <video class="preview" controls preload="metadata" src=file></video> }.into_any(),
                    PreviewKind::Audio => view! { <audio controls preload="metadata" src=file></audio> }.into_any(),
                    PreviewKind::Pdf => view! { <iframe class="preview-frame" title=format!("PDF {title}") src=file></iframe> }.into_any(),
                    PreviewKind::Text => view! { <iframe class="preview-frame" sandbox="" title=format!("Text of {title}") src=file></iframe> }.into_any(),
                    PreviewKind::None => view! { <p class="muted">"This kind of file has no preview: download it to open it."</p> }.into_any(),
                };
                view! {
                    <p class="crumbs"><a href=versions.clone()>{dataset.clone()} " / " {name.clone()}</a> " · " {source}</p>
                    <section class="card viewer">{shown_file}</section>
                    <p class="actions">
                        <a class="button" href=format!("/api/v1/download{entry}")>"Download"</a>
                        <a class="button" href=versions>"All versions"</a>
                    </p>
                }
            }}
        </Layout>
    }
}
