//! The account as a person meets it, through the whole application (guard, sign-in, the
//! account's forms and the server-rendered pages over `FakeZfs`): public pages that send
//! you where you belong, `GET /logout` that asks, the password changed from the console
//! (the old one then refused, other sessions ended, this one kept), and sessions listed and
//! ended one by one or all but this one.

use super::*;

/// Signs in with `password` (as another browser would); the session cookie.
async fn sign_in(console: &Console, password: &str, agent: &str) -> String {
    let mut request = form(
        "/login",
        &format!("user=admin&password={}", password.replace(' ', "+")),
        None,
    );
    request
        .headers_mut()
        .insert(header::USER_AGENT, agent.parse().unwrap());
    let (status, headers, _) = send(&console.router, request).await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/"),
        "sign-in as {agent}"
    );
    cookie_of(&headers)
}

async fn alive(console: &Console, cookie: &str) -> bool {
    send(&console.router, get("/api/v1/session", Some(cookie)))
        .await
        .0
        == StatusCode::OK
}

/// The ids of the sessions the account page lists, in its order.
fn listed_ids(page: &str) -> Vec<String> {
    page.match_indices(r#"name="id" value=""#)
        .map(|(at, needle)| page[at + needle.len()..at + needle.len() + 16].to_owned())
        .collect()
}

/// The id of the session whose row on the account page shows `text`.
fn id_of_row_with(page: &str, text: &str) -> String {
    let row = page
        .split("<tr>")
        .find(|row| row.contains(text))
        .unwrap_or_else(|| panic!("no row shows {text}: {page}"));
    listed_ids(row).pop().expect("the row's id")
}

#[tokio::test]
async fn public_pages_send_you_where_you_belong() {
    let console = console();
    let (status, headers, _) = send(&console.router, get("/login", None)).await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/setup"),
        "no password yet: sign-in leads to setup"
    );
    let (status, _, page) = send(&console.router, get("/setup", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"autocomplete="username""#),
        "setup names its user for password managers: {page}"
    );

    let cookie = set_up(&console).await;
    for (uri, cookie, to) in [
        ("/setup", None, "/login"),
        ("/setup", Some(cookie.as_str()), "/"),
        ("/login", Some(cookie.as_str()), "/"),
        (
            "/login?next=%2Fsnapshots",
            Some(cookie.as_str()),
            "/snapshots",
        ),
        (
            "/login?next=https%3A%2F%2Fexample.com",
            Some(cookie.as_str()),
            "/",
        ),
        ("/logout", None, "/login"),
    ] {
        let (status, headers, _) = send(&console.router, get(uri, cookie)).await;
        assert_eq!(
            (status, location(&headers)),
            (StatusCode::SEE_OTHER, to),
            "GET {uri} signed in: {}",
            cookie.is_some()
        );
    }
    let (status, _, page) = send(&console.router, get("/login", None)).await;
    assert_eq!(status, StatusCode::OK, "signed out, sign-in shows itself");
    assert!(page.contains(r#"autocomplete="username""#), "{page}");

    let (status, _, page) = send(&console.router, get("/logout", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "GET /logout asks: {page}");
    assert!(page.contains(r#"method="post" action="/logout""#), "{page}");
    assert!(alive(&console, &cookie).await, "asking signed nobody out");
}

#[tokio::test]
async fn the_password_is_changed_from_the_console() {
    let console = console();
    let here = set_up(&console).await;
    let elsewhere = sign_in(&console, PASSWORD, "Phone").await;
    let new = "a much longer passphrase";
    let change = |current: &str, password: &str, confirm: &str| {
        form(
            "/account/password",
            &format!("user=admin&current={current}&password={password}&confirm={confirm}")
                .replace(' ', "+"),
            Some(&here),
        )
    };
    for (request, code) in [
        (change("wrong password!", new, new), "error=wrong-password"),
        (
            change(PASSWORD, new, "something else"),
            "error=passwords-differ",
        ),
        (change(PASSWORD, "short", "short"), "error=too-short"),
        (change(PASSWORD, PASSWORD, PASSWORD), "error=same-as-old"),
    ] {
        let (status, headers, _) = send(&console.router, request).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location(&headers), format!("/account?{code}"));
        assert!(alive(&console, &elsewhere).await, "a refusal ends nothing");
    }
    let (_, _, page) = send(
        &console.router,
        get("/account?error=wrong-password", Some(&here)),
    )
    .await;
    assert!(
        page.contains("The current password is wrong; nothing was changed."),
        "{page}"
    );

    let (status, headers, _) = send(&console.router, change(PASSWORD, new, new)).await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/account?done=password-changed")
    );
    assert!(alive(&console, &here).await, "this session stays");
    assert!(!alive(&console, &elsewhere).await, "the others end");
    let (_, headers, _) = send(
        &console.router,
        form(
            "/login",
            &format!("password={}", PASSWORD.replace(' ', "+")),
            None,
        ),
    )
    .await;
    assert!(
        location(&headers).starts_with("/login?error="),
        "the old password is refused"
    );
    sign_in(&console, new, "Laptop").await;

    let (status, _, _) = send(
        &console.router,
        form(
            "/account/password",
            &format!("current={new}&password=x&confirm=x").replace(' ', "+"),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "only with a session");
}

#[tokio::test]
async fn sessions_are_listed_and_ended_from_the_console() {
    let console = console();
    let here = set_up(&console).await;
    let phone = sign_in(&console, PASSWORD, "Phone <Browser>").await;
    let laptop = sign_in(&console, PASSWORD, "Laptop").await;

    let (status, _, page) = send(&console.router, get("/account", Some(&here))).await;
    assert_eq!(status, StatusCode::OK);
    let ids = listed_ids(&page);
    assert_eq!(ids.len(), 3, "{page}");
    assert!(page.contains("this session"), "{page}");
    assert!(
        page.contains("Phone &lt;Browser&gt;"),
        "the agent shown as text: {page}"
    );
    assert!(page.contains("End the 2 other sessions"), "{page}");
    assert!(
        !page.contains(&here[here.find('=').unwrap() + 1..]),
        "no token on the page"
    );

    let this = id_of_row_with(&page, "this session");
    assert_eq!(ids[0], this, "this session is listed first");
    let phone_id = id_of_row_with(&page, "Phone");
    let (status, headers, _) = send(
        &console.router,
        form(
            "/account/sessions/end",
            &format!("id={phone_id}"),
            Some(&here),
        ),
    )
    .await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/account?done=session-ended")
    );
    assert!(!alive(&console, &phone).await, "the phone's session ended");
    assert!(alive(&console, &laptop).await && alive(&console, &here).await);
    let (_, headers, _) = send(
        &console.router,
        form(
            "/account/sessions/end",
            &format!("id={phone_id}"),
            Some(&here),
        ),
    )
    .await;
    assert_eq!(location(&headers), "/account?error=no-such-session");

    let (_, headers, _) = send(
        &console.router,
        form("/account/sessions/end", "", Some(&here)),
    )
    .await;
    assert_eq!(location(&headers), "/account?done=others-ended");
    assert!(!alive(&console, &laptop).await && alive(&console, &here).await);

    let (status, headers, _) = send(
        &console.router,
        form("/account/sessions/end", &format!("id={this}"), Some(&here)),
    )
    .await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/login"),
        "ending this session signs out"
    );
    assert!(!alive(&console, &here).await);
}
