//! The web console end to end in headless Chromium (Debian's chromium + chromedriver, driven
//! with fantoccini), against `wizfsd` on real OpenZFS in the demo VM through the forwarded
//! port, over HTTPS with the appliance's self-signed certificate pinned by its SPKI hash.
//! Run by `image/run-demo --smoke`, which boots the VM and sets:
//!
//! - `WIZFS_CONSOLE_URL`: `https://127.0.0.1:PORT`
//! - `WIZFS_CONSOLE_SPKI`: the certificate's SPKI SHA-256 (base64)
//! - `WIZFS_CONSOLE_JOB`: the VM's job folder; the guest describes the files it deleted in
//!   `out/console-scenario.env` and answers `out/console-verify-request` with what the CLI
//!   in the VM sees (`out/console-file`, `out/console-snapshots.json`, `out/console-verified`)
//! - `WIZFS_SCREENSHOTS`: where the page screenshots go (linked from docs/console.md)
//! - `WIZFS_AXE`: axe-core's `axe.min.js` (image/install-host-deps fetches it), run on every
//!   page at desktop and phone size: no WCAG 2 A or AA violation may remain
//!
//! The story: first-boot setup, the dashboard, a search that finds the deleted file, its
//! versions, a restore in place (proving hydration: the buttons only work once the wasm has
//! loaded), the guard snapshot, then the CLI in the VM confirms the file is back and the
//! guard exists; then a second deleted file whose name is Latin-1 (not UTF-8), found and
//! restored as a copy from its hydrated versions page, the copy listed by browse; then the
//! other pages, sign-out and sign-in, and results as you type; last a hostile SVG kept by a
//! snapshot, previewed and opened directly, whose script must not run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

fn environment(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (run image/run-demo --smoke)"))
}

/// chromedriver on a free loopback port, killed at the end.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium-driver)");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, port }
}

async fn browser(driver: &Driver, profile: &Path, spki: &str) -> Client {
    let mut arguments = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    // Trust exactly the appliance's key, nothing else.
    arguments.push(format!("--ignore-certificate-errors-spki-list={spki}"));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": "/usr/bin/chromium", "args": arguments }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// Waits for an element to appear (up to `limit`); fails with the page's source.
async fn wait_for(client: &Client, css: &str, limit: Duration) -> fantoccini::elements::Element {
    let started = Instant::now();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            return element;
        }
        if started.elapsed() > limit {
            let url = client
                .current_url()
                .await
                .map(|url| url.to_string())
                .unwrap_or_default();
            let source = client.source().await.unwrap_or_default();
            panic!(
                "`{css}` did not appear within {limit:?} on {url}:\n{}",
                &source[..source.len().min(4000)]
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// axe-core's WCAG 2 A and AA rules on the page as it is now: one line per violation (rule,
/// impact, the first few elements), none when the page passes.
async fn accessibility_violations(client: &Client, axe: &str, page: &str) -> Vec<String> {
    client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(result => done(result.violations.map(v =>
                 `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)))
               .catch(error => done([`axe failed: ${error}`]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    found
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|line| format!("{page}: {}", line.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

async fn screenshot(client: &Client, directory: &Path, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(directory.join(format!("{name}.png")), png).expect("saving the screenshot");
}

/// (dataset, path, content) of the deleted file, and the run's stamp (also in the name of a
/// second deleted file, whose name is Latin-1).
fn scenario(job: &Path) -> (String, String, String, String) {
    let value = |key: &str| scenario_value(job, key);
    (
        value("dataset"),
        value("path"),
        value("content"),
        value("stamp"),
    )
}

/// Clicks the element `css` (which must be there).
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("`{css}`: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking `{css}`: {error}"));
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = wait_for(client, css, Duration::from_secs(30)).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("typing");
}

const PASSWORD: &str = "a long test password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_is_found_and_restored_in_place_from_the_browser() {
    let base = environment("WIZFS_CONSOLE_URL");
    let spki = environment("WIZFS_CONSOLE_SPKI");
    let job = PathBuf::from(environment("WIZFS_CONSOLE_JOB"));
    let shots = PathBuf::from(environment("WIZFS_SCREENSHOTS"));
    let axe = std::fs::read_to_string(environment("WIZFS_AXE"))
        .expect("axe-core (image/install-host-deps fetches it)");
    let mut inaccessible = Vec::new();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let (dataset, path, content, stamp) = scenario(&job);
    let name = path.rsplit('/').next().unwrap().to_owned();
    let profile = tempfile::tempdir().expect("a browser profile");
    let driver = start_driver();
    let client = browser(&driver, profile.path(), &spki).await;

    // First boot: the console asks for the admin password.
    client.goto(&format!("{base}/")).await.expect("the console");
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/setup")
    );
    wait_for(&client, "input[name=confirm]", Duration::from_secs(30)).await;
    screenshot(&client, &shots, "setup").await;
    inaccessible.extend(accessibility_violations(&client, &axe, "/setup").await);
    fill(&client, "input[name=password]", PASSWORD).await;
    fill(&client, "input[name=confirm]", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, ".pool", Duration::from_secs(60)).await;
    assert_eq!(client.current_url().await.unwrap().path(), "/");
    screenshot(&client, &shots, "dashboard").await;

    // Search, deleted files only; the daemon may still be indexing: reload until found.
    let search = format!("{base}/search?q={name}&deleted=true");
    let started = Instant::now();
    loop {
        client.goto(&search).await.unwrap();
        if client.find(Locator::Css("a.hit-name")).await.is_ok() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the deleted file was never found"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let hit = client.find(Locator::Css("a.hit-name")).await.unwrap();
    assert_eq!(hit.text().await.unwrap(), name);
    let row = client
        .find(Locator::Css("tr.hit"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("deleted"), "the hit is marked deleted: {row}");
    screenshot(&client, &shots, "search").await;
    hit.click().await.unwrap();
    wait_for(&client, "#version-path", Duration::from_secs(60)).await;
    let versions_page = client.current_url().await.unwrap().to_string();
    // The crumbs link the folder, then name the file once (its full path as the title).
    let shown = client.find(Locator::Css("#version-path")).await.unwrap();
    assert_eq!(
        shown.text().await.unwrap(),
        path.rsplit_once('/')
            .map_or(path.as_str(), |(_, name)| name)
    );
    assert_eq!(
        shown.attr("title").await.unwrap().as_deref(),
        Some(path.as_str())
    );

    // Restore in place.
    click_until_planned(&client, "button.restore-in-place").await;
    let plan = text_of(&client, "#restore-plan", Duration::from_secs(5)).await;
    assert!(
        plan.contains("guard snapshot"),
        "the plan announces the guard: {plan}"
    );
    screenshot(&client, &shots, "versions").await;
    wait_for(&client, "button.confirm-restore", Duration::from_secs(10))
        .await
        .click()
        .await
        .unwrap();
    let report = wait_for(&client, "#restore-report", Duration::from_secs(120)).await;
    let guard = report
        .find(Locator::Css("code.guard"))
        .await
        .expect("the guard snapshot")
        .text()
        .await
        .unwrap();
    assert!(
        guard.starts_with(&format!("{dataset}@wizfs-guard-")),
        "{guard}"
    );
    screenshot(&client, &shots, "restored").await;

    // The CLI in the VM: the file is back with its content, the guard snapshot exists.
    std::fs::write(job.join("out/console-verify-request"), format!("{path}\n")).unwrap();
    let started = Instant::now();
    while !job.join("out/console-verified").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the guest did not verify"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let restored = std::fs::read_to_string(job.join("out/console-file")).unwrap_or_default();
    assert_eq!(
        restored.trim_end(),
        content,
        "wizfs cat in the VM reads the restored file"
    );
    let snapshots: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(job.join("out/console-snapshots.json")).unwrap(),
    )
    .expect("wizfs --json snapshot list");
    assert!(
        snapshots
            .as_array()
            .unwrap()
            .iter()
            .any(|snapshot| snapshot["name"] == guard.as_str()),
        "wizfs snapshot list in the VM shows the guard {guard}: {snapshots}"
    );

    // A name an old client wrote in Latin-1 (not UTF-8): found, shown with `�`, restored as a
    // copy from the hydrated page, and listed by browse with its bytes (a `path_hex` link).
    let legacy = format!("caf\u{fffd}-{stamp}.txt");
    client
        .goto(&format!("{base}/search?q={stamp}&deleted=true"))
        .await
        .unwrap();
    wait_for(&client, "a.hit-name", Duration::from_secs(60)).await;
    // (The minutes file restored above may still be listed until the live layer is indexed.)
    let mut found = None;
    for hit in client.find_all(Locator::Css("a.hit-name")).await.unwrap() {
        if hit.text().await.unwrap() == legacy {
            found = Some(hit);
        }
    }
    let hit = found.unwrap_or_else(|| panic!("no hit named {legacy}"));
    assert!(
        hit.attr("href")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("path_hex="),
        "the link carries the name's bytes"
    );
    hit.click().await.unwrap();
    let shown = text_of(&client, "#version-path", Duration::from_secs(60)).await;
    assert_eq!(shown, legacy);
    click_until_planned(&client, "button.restore-copy").await;
    wait_for(&client, "button.confirm-restore", Duration::from_secs(10))
        .await
        .click()
        .await
        .unwrap();
    let report = text_of(&client, "#restore-report", Duration::from_secs(120)).await;
    assert!(report.contains("Restored."), "{report}");
    client
        .goto(&format!("{base}/browse?dataset={dataset}&path=Documents"))
        .await
        .unwrap();
    wait_for(&client, "table", Duration::from_secs(60)).await;
    let mut copies = Vec::new();
    for link in client
        .find_all(Locator::Css("a[href*='path_hex=']"))
        .await
        .unwrap()
    {
        copies.push(link.text().await.unwrap());
    }
    assert!(
        copies
            .iter()
            .any(|text| text.starts_with(&format!("caf\u{fffd}-{stamp}"))),
        "the restored copy is listed live with its Latin-1 name: {copies:?}"
    );

    // The other pages render (and are saved for the docs).
    for (page, css, shot) in [
        (format!("/browse?dataset={dataset}"), "table", "browse"),
        (
            format!("/snapshots?dataset={dataset}"),
            "table.snapshots",
            "snapshots",
        ),
        ("/health".to_owned(), "h2", "health"),
        ("/space".to_owned(), "main .card", "space"),
        ("/account".to_owned(), "table.sessions", "account"),
        ("/policies".to_owned(), "section.policy", "policies"),
        ("/notifications".to_owned(), "main .card", "notifications"),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        wait_for(&client, css, Duration::from_secs(60)).await;
        screenshot(&client, &shots, shot).await;
        inaccessible.extend(accessibility_violations(&client, &axe, &page).await);
    }
    // A policy added from the console: previewed (its first snapshot is due), saved into
    // wizfsd.toml, and the daemon's next run takes it.
    let policy = format!("smoke-{}", &stamp[stamp.len() - 6..]);
    client.goto(&format!("{base}/policies/edit")).await.unwrap();
    let started = Instant::now();
    loop {
        fill(&client, "#policy-id", &policy).await;
        fill(&client, "#policy-dataset", "tank/media").await;
        click(&client, "button.preview-policy").await;
        if wait_for_optional(&client, "section.policy-preview", Duration::from_secs(5)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Preview never showed the plan"
        );
    }
    let preview = text_of(&client, "section.policy-preview", Duration::from_secs(5)).await;
    assert!(
        preview.contains("takes"),
        "its first snapshot is due: {preview}"
    );
    screenshot(&client, &shots, "policy-edit").await;
    inaccessible.extend(accessibility_violations(&client, &axe, "/policies/edit").await);
    click(&client, "button.save-policy").await;
    let saved = text_of(&client, ".card.done", Duration::from_secs(30)).await;
    assert!(saved.contains("Saved to wizfsd.toml"), "{saved}");
    client.goto(&format!("{base}/policies")).await.unwrap();
    let started = Instant::now();
    loop {
        wait_for(&client, "section.policy", Duration::from_secs(60)).await;
        click(&client, "main button.primary").await;
        if wait_for_optional(&client, ".card.done", Duration::from_secs(10)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Run the policies now never answered"
        );
    }
    client
        .goto(&format!("{base}/api/v1/snapshots?dataset=tank%2Fmedia"))
        .await
        .unwrap();
    let snapshots = client.source().await.unwrap();
    assert!(
        snapshots.contains(&format!("tank/media@wizfs-{policy}-")),
        "the run took the new policy's snapshot: {snapshots}"
    );

    // The demo's backup job, run from the console into the second pool: it succeeds and
    // its last good backup is shown.
    client.goto(&format!("{base}/backups")).await.unwrap();
    let started = Instant::now();
    loop {
        wait_for(&client, "section.backup-job", Duration::from_secs(60)).await;
        click(&client, "button[aria-label='Run now: backup job offsite']").await;
        if wait_for_optional(&client, "div.backup-outcome", Duration::from_secs(60)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "Run now never answered"
        );
    }
    let outcome = text_of(&client, "div.backup-outcome", Duration::from_secs(5)).await;
    assert!(
        outcome.contains("offsite") && outcome.contains("done"),
        "the backup ran: {outcome}"
    );
    let card = text_of(&client, "section.backup-job", Duration::from_secs(30)).await;
    assert!(card.contains("Last good backup"), "{card}");
    screenshot(&client, &shots, "backups").await;
    inaccessible.extend(accessibility_violations(&client, &axe, "/backups").await);

    // A notification channel added from the console, used by the daemon at once: its test
    // message goes to the new webhook (nothing listens there, so it fails, naming it). Its
    // URL's path is a secret the pages never show.
    client
        .goto(&format!("{base}/notifications/edit"))
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        wait_for(&client, "#channel-kind", Duration::from_secs(60))
            .await
            .select_by_value("webhook")
            .await
            .unwrap();
        fill(&client, "#channel-name", "smoke-hook").await;
        fill(
            &client,
            "#channel-address",
            "http://127.0.0.1:9/hook-secret-path",
        )
        .await;
        screenshot(&client, &shots, "channel-edit").await;
        click(&client, "button.save-channel").await;
        if wait_for_optional(&client, ".card.done", Duration::from_secs(5)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Save never answered"
        );
    }
    inaccessible.extend(accessibility_violations(&client, &axe, "/notifications/edit").await);
    client.goto(&format!("{base}/notifications")).await.unwrap();
    let started = Instant::now();
    loop {
        wait_for(&client, "table.channels", Duration::from_secs(60)).await;
        click(
            &client,
            "button[aria-label='Send a test message to smoke-hook']",
        )
        .await;
        if wait_for_optional(&client, ".card.done", Duration::from_secs(10)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Send a test never answered"
        );
    }
    let result = text_of(&client, ".card.done", Duration::from_secs(5)).await;
    assert!(
        result.contains("smoke-hook") && result.contains("failed"),
        "the test went to the new channel: {result}"
    );
    let page = client.source().await.unwrap();
    assert!(
        !page.contains("hook-secret-path"),
        "a webhook's path is never shown"
    );
    for (page, css) in [
        ("/".to_owned(), ".pool"),
        (format!("/search?q={name}"), "a.hit-name"),
        (versions_page.replacen(&base, "", 1), "#version-path"),
        ("/duplicates".to_owned(), "main .card"),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        wait_for(&client, css, Duration::from_secs(60)).await;
        inaccessible.extend(accessibility_violations(&client, &axe, &page).await);
    }
    // Once hydrated, times are local with their age ("2026-12-07 13:40 · 3 hours ago").
    client
        .goto(&format!("{base}/browse?dataset={dataset}"))
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let shown = text_of(&client, "td time", Duration::from_secs(60)).await;
        if shown.contains(" · ") && (shown.ends_with(" ago") || shown.ends_with("just now")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "times stayed in UTC after hydration: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.goto(&format!("{base}/account")).await.unwrap();
    let session = text_of(&client, "table.sessions", Duration::from_secs(5)).await;
    assert!(
        session.contains("this session") && session.contains("HeadlessChrome"),
        "the account lists this browser's session: {session}"
    );

    // Every page at a phone's size (390 × 844): nothing wider than the screen.
    client.set_window_size(390, 844).await.unwrap();
    let mut too_wide = Vec::new();
    for (page, css, shot) in [
        ("/".to_owned(), ".pool", "phone-dashboard"),
        (format!("/search?q={name}"), "a.hit-name", "phone-search"),
        (
            versions_page.replacen(&base, "", 1),
            "#version-path",
            "phone-versions",
        ),
        (
            format!("/browse?dataset={dataset}"),
            "table",
            "phone-browse",
        ),
        (
            format!("/snapshots?dataset={dataset}"),
            "table.snapshots",
            "phone-snapshots",
        ),
        ("/health".to_owned(), "h2", "phone-health"),
        ("/space".to_owned(), "main .card", "phone-space"),
        ("/duplicates".to_owned(), "main .card", "phone-duplicates"),
        ("/backups".to_owned(), "main .card", "phone-backups"),
        ("/account".to_owned(), "table.sessions", "phone-account"),
        ("/policies".to_owned(), "section.policy", "phone-policies"),
        (
            "/policies/edit?id=alice".to_owned(),
            "form.policy-form",
            "phone-policy-edit",
        ),
        (
            "/notifications/edit?name=smoke-hook".to_owned(),
            "form.channel-form",
            "phone-channel-edit",
        ),
        (
            "/notifications".to_owned(),
            "main .card",
            "phone-notifications",
        ),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        wait_for(&client, css, Duration::from_secs(60)).await;
        let widths = client
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, client_width) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        if scroll > client_width {
            too_wide.push(format!("{page}: {scroll} px on a {client_width} px screen"));
        }
        screenshot(&client, &shots, shot).await;
        inaccessible
            .extend(accessibility_violations(&client, &axe, &format!("{page} (phone)")).await);
    }
    client.set_window_size(1280, 900).await.unwrap();

    // Results as you type (hydrated search page): no Enter pressed.
    client.goto(&format!("{base}/search")).await.unwrap();
    let started = Instant::now();
    loop {
        fill(&client, "#search-q", &name).await;
        if wait_for_optional(&client, "a.hit-name", Duration::from_secs(5)).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "typing never showed results"
        );
    }
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains(&name)
    );

    // Sign out, then in again.
    click(&client, "form.logout button").await;
    wait_for(&client, "input[name=password]", Duration::from_secs(30)).await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/login")
    );
    screenshot(&client, &shots, "login").await;
    inaccessible.extend(accessibility_violations(&client, &axe, "/login").await);
    fill(&client, "input[name=password]", "not the password").await;
    click(&client, "button[type=submit]").await;
    let error = text_of(&client, "p.error", Duration::from_secs(30)).await;
    assert!(error.contains("Wrong"), "{error}");
    fill(&client, "input[name=password]", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, ".pool", Duration::from_secs(60)).await;

    // A hostile SVG someone left on the share, kept by a snapshot: its script would read the
    // session's CSRF token and create a snapshot. Previewed in the console's viewer and
    // opened directly, it shows, and its script never runs.
    let svg = scenario_value(&job, "svg").replace('/', "%2F");
    let file =
        format!("dataset={dataset}&path={svg}&snapshot=smoke-{stamp}").replace("tank/", "tank%2F");
    client.goto(&format!("{base}/view?{file}")).await.unwrap();
    wait_for(&client, "section.viewer img", Duration::from_secs(60)).await;
    screenshot(&client, &shots, "preview-svg").await;
    client
        .goto(&format!("{base}/api/v1/file?{file}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    client
        .goto(&format!("{base}/api/v1/snapshots?dataset={dataset}"))
        .await
        .unwrap();
    let snapshots = client.source().await.unwrap();
    assert!(
        snapshots.contains(&format!("smoke-{stamp}")),
        "the snapshot list answered: {snapshots}"
    );
    assert!(
        !snapshots.contains(&format!("pwned-{stamp}")),
        "the SVG's script ran and created a snapshot"
    );

    assert!(
        inaccessible.is_empty() && too_wide.is_empty(),
        "axe-core found WCAG 2 A/AA violations:\n{}\npages wider than a phone: {too_wide:?}",
        inaccessible.join("\n")
    );
    client.close().await.unwrap();
}

/// One value of the guest's scenario (`out/console-scenario.env`).
fn scenario_value(job: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(job.join("out/console-scenario.env"))
        .expect("the guest's scenario (console-scenario.env)");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing in the scenario: {text}"))
        .to_owned()
}

/// The text of the element `css` once it appears (see [`wait_for`]).
async fn text_of(client: &Client, css: &str, limit: Duration) -> String {
    wait_for(client, css, limit)
        .await
        .text()
        .await
        .expect("the element's text")
}

/// Clicks the restore button `css` until the restore plan shows: the button works only once
/// the page has hydrated. Fails after two minutes, with the page's error if it shows one.
async fn click_until_planned(client: &Client, css: &str) {
    let started = Instant::now();
    loop {
        if let Ok(button) = client.find(Locator::Css(css)).await {
            let _ = button.click().await;
        }
        if client.find(Locator::Css("#restore-plan")).await.is_ok() {
            return;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let alert = match client.find(Locator::Css("p.error")).await {
                Ok(alert) => alert.text().await.unwrap_or_default(),
                Err(_) => "none: the page did not hydrate".into(),
            };
            panic!("{css}: the restore plan never appeared; error shown: {alert}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn wait_for_optional(client: &Client, css: &str, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if client.find(Locator::Css(css)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

#[test]
fn the_console_is_announced_on_the_lan() {
    let job = PathBuf::from(environment("WIZFS_CONSOLE_JOB"));
    let text = std::fs::read_to_string(job.join("out/discover.json"))
        .expect("`wizfs --json discover` ran in the VM (out/discover.json)");
    let found: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let consoles = found.as_array().expect("a list");
    assert!(
        consoles.iter().any(|console| console["https"] == true
            && console["port"] == 8080
            && console["path"] == "/"
            && console["version"]
                .as_str()
                .is_some_and(|version| !version.is_empty())),
        "the VM's browse found the console with its TXT records: {text}"
    );
}
