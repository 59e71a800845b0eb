//! HTTP security policy of the console, applied to every answer: the headers that keep the
//! browser from doing what an attacker would like (run script from a file on a pool, frame
//! the console, keep signed-in pages in its cache, send the console's URLs to other sites),
//! and the host names the console answers to (`HostCheck`, against DNS rebinding).
//!
//! - Console pages: a Content-Security-Policy with a fresh nonce per page
//!   ([`page_policy`], set by [`set_page_policy`] while the page renders): scripts only
//!   from the bundle (`'self'`) and the page's own inline hydration scripts (the nonce),
//!   WebAssembly allowed, `connect-src 'self'`, `frame-ancestors 'none'`.
//! - Files from the pools (`/api/v1/file`, downloads) carry their own policy
//!   ([`FILE_POLICY`]: `sandbox`, nothing loads, script never runs) — set by their handlers.
//! - Every other answer that set none gets [`DEFAULT_POLICY`] (nothing loads).
//! - Everywhere: `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (see
//!   [`REFERRER_POLICY`]),
//!   `X-Frame-Options` (legacy twin of `frame-ancestors`), `Cross-Origin-Opener-Policy`,
//!   `Cross-Origin-Resource-Policy`, HSTS over HTTPS, and `Cache-Control: no-store` on
//!   everything but the bundle's files.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use wizfs_auth::{AllowedHosts, HostRefusal};

/// The policy of answers that set none: nothing may load, nothing may frame them.
pub const DEFAULT_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The policy of a file read from a pool and shown inline: a sandbox (an opaque origin, no
/// script, no forms, no plug-ins) in which nothing loads; only the console may frame it
/// (the viewer page frames PDFs and text).
pub const FILE_POLICY: &str = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'";

/// The policy of a PDF shown inline. The browsers' PDF viewers do not run in a sandboxed
/// document (`sandbox` makes Chromium refuse to show the file), and they render a PDF in a
/// process and origin of their own that has no access to the console's pages or cookies;
/// nothing else may load or run in the document itself.
pub const PDF_POLICY: &str = "default-src 'none'; object-src 'self'; frame-ancestors 'self'";

/// The console's URLs (with the names of files and searches in them) never go to another
/// site: `same-origin` sends no `Referer` across origins. Not `no-referrer`: under it
/// browsers send `Origin: null` with the console's own form posts (sign-in, setup), which
/// the CSRF check must refuse as an opaque origin.
pub const REFERRER_POLICY: &str = "same-origin";

/// The Content-Security-Policy of a console page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self'; \
         connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's Content-Security-Policy header for the nonce Leptos gave this render.
/// Call it at the start of the render (the shell), on the server.
pub fn set_page_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// What [`headers`] needs to know of the server.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPolicy {
    /// Served over HTTPS: send HSTS.
    pub secure: bool,
}

/// The middleware that adds the security headers to every answer.
pub async fn headers(State(policy): State<HeaderPolicy>, request: Request, next: Next) -> Response {
    let cacheable = is_bundle_path(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY);
    let framable_by_console = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("frame-ancestors 'self'"));
    set(
        headers,
        header::X_FRAME_OPTIONS,
        if framable_by_console {
            "SAMEORIGIN"
        } else {
            "DENY"
        },
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, REFERRER_POLICY);
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if policy.secure {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        );
    }
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// How long the machine's addresses are trusted before an unknown IP literal in `Host`
/// makes them read again (addresses change with DHCP).
const ADDRESSES_FRESH_FOR: Duration = Duration::from_secs(5);

/// The host names and addresses the console answers to: configured names, the machine's
/// host name and its mDNS name, `localhost`, loopback and the machine's interface addresses
/// (read again when a request names an address not among them, at most every few seconds).
#[derive(Debug, Clone)]
pub struct HostCheck {
    names: Vec<String>,
    allowed: Arc<RwLock<(Instant, AllowedHosts)>>,
    /// Reads the machine's addresses (the system's interfaces; a fixed list in tests).
    addresses: fn() -> Vec<IpAddr>,
}

/// The machine's interface addresses.
fn interface_addresses() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces
            .into_iter()
            .map(|interface| interface.ip())
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "cannot list the machine's addresses");
            Vec::new()
        }
    }
}

impl HostCheck {
    /// The machine's own names and addresses plus `configured` names; `hostname` is the name
    /// the console is announced by (default: the system's host name).
    pub fn for_machine(configured: &[String], hostname: Option<&str>) -> Self {
        let system = wizfs_services::health::host_name();
        let mut names: Vec<String> = configured.to_vec();
        for name in [Some(system.as_str()), hostname].into_iter().flatten() {
            let name = name.trim().trim_end_matches('.');
            if name.is_empty() {
                continue;
            }
            names.push(name.to_owned());
            if let Some(label) = name.split('.').next() {
                names.push(format!("{label}.local"));
            }
        }
        Self::new(names, interface_addresses)
    }

    /// `names` and the addresses `addresses` reads.
    pub fn new(names: Vec<String>, addresses: fn() -> Vec<IpAddr>) -> Self {
        let allowed = AllowedHosts::new(&names, addresses());
        Self {
            names,
            allowed: Arc::new(RwLock::new((Instant::now(), allowed))),
            addresses,
        }
    }

    /// Whether a request whose `Host` (or `:authority`) is `host` is answered.
    pub fn check(&self, host: &str) -> Result<(), HostRefusal> {
        let (read_at, verdict, unknown_address) = {
            let allowed = self
                .allowed
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let verdict = allowed.1.check(host);
            // Only a refused IP literal may be a new address of the machine.
            let unknown_address = verdict.is_err()
                && wizfs_auth::hosts::parse_host(host)
                    .is_some_and(|parsed| allowed.1.is_unknown_address(&parsed));
            (allowed.0, verdict, unknown_address)
        };
        if verdict.is_ok() || !unknown_address || read_at.elapsed() < ADDRESSES_FRESH_FOR {
            return verdict;
        }
        let fresh = AllowedHosts::new(&self.names, (self.addresses)());
        let verdict = fresh.check(host);
        *self
            .allowed
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (Instant::now(), fresh);
        verdict
    }
}

/// A file of the browser bundle: `/pkg/` then segments of letters, digits, `_`, `-` and
/// `.`, none empty or starting with a dot.
pub fn is_bundle_path(path: &str) -> bool {
    path.strip_prefix("/pkg/").is_some_and(|rest| {
        rest.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machines_names_and_addresses_are_answered_and_others_refused() {
        let check = HostCheck::new(
            vec!["nas".into(), "nas.local".into(), "files.example.com".into()],
            || vec!["192.168.1.5".parse().unwrap()],
        );
        for host in [
            "nas:8080",
            "NAS.local",
            "files.example.com",
            "192.168.1.5:8080",
            "127.0.0.1:8080",
            "localhost",
        ] {
            assert!(check.check(host).is_ok(), "{host}");
        }
        for host in ["evil.example:8080", "192.168.1.6", "nas.evil.example"] {
            assert!(check.check(host).is_err(), "{host}");
        }
    }

    #[test]
    fn a_page_policy_allows_only_the_bundle_and_the_pages_own_scripts() {
        let policy = page_policy("abc123");
        for directive in [
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{directive}: {policy}");
        }
        assert!(!policy.contains("unsafe-eval'") || policy.contains("wasm-unsafe-eval"));
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(FILE_POLICY.starts_with("sandbox;"));
        assert!(FILE_POLICY.contains("default-src 'none'"));
    }
}
