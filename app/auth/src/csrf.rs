//! Refusing cross-site requests that change state (cross-site request forgery).
//!
//! The session cookie is `SameSite=Strict`, so browsers do not send it with requests started
//! by other sites; this check is the second, independent layer, and the one that also covers
//! requests that carry no cookie (login and first-boot setup, where a forged request could
//! log the victim into an account of the attacker's choosing or set the password first).
//!
//! Safe methods (`GET`, `HEAD`, `OPTIONS`; HTTP methods are case-sensitive) always pass: they
//! must not change state. Other requests pass only if:
//! 1. a present `X-CSRF-Token` header equals the session's CSRF token (compared in constant
//!    time); when there is no session the header is ignored, since it could authorise nothing;
//! 2. a present `Sec-Fetch-Site` header says `same-origin` or `none` (typed by the user);
//! 3. a present `Origin` is this console's own origin (scheme, host and port, the host
//!    compared case-insensitively, default ports made explicit); `Origin: null` (sandboxed
//!    frames, `file:` pages, cross-origin redirects) is never the console and is refused;
//! 4. without `Origin`, a present `Referer` has this console's origin likewise;
//! 5. with neither (a non-browser client such as `curl` or the `wizfs` command), a request in
//!    a session must carry the session's CSRF token in `X-CSRF-Token`; one without a session
//!    passes, since browsers always send `Origin` or `Referer` on cross-site writes unless told
//!    not to, and then they still send no session cookie that a forgery could use.

use subtle::ConstantTimeEq as _;
use thiserror::Error;

/// The facts about an HTTP request that the check needs, borrowed from the request.
#[derive(Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The request method, as sent (`"POST"`).
    pub method: &'a str,
    /// The `Host` header (or HTTP/2 `:authority`): `host[:port]`.
    pub host: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Referer` header.
    pub referer: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub sec_fetch_site: Option<&'a str>,
    /// The `X-CSRF-Token` header.
    pub csrf_header: Option<&'a str>,
    /// The CSRF token of the request's session, if it has a valid session.
    pub session_csrf: Option<&'a str>,
    /// Whether the request arrived over TLS (the console's origin is then `https://…`).
    pub secure: bool,
}

impl std::fmt::Debug for RequestFacts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: Option<&str>| v.map(|_| "<redacted>");
        f.debug_struct("RequestFacts")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("origin", &self.origin)
            .field("referer", &self.referer)
            .field("sec_fetch_site", &self.sec_fetch_site)
            .field("csrf_header", &redact(self.csrf_header))
            .field("session_csrf", &redact(self.session_csrf))
            .field("secure", &self.secure)
            .finish()
    }
}

/// Why a request was refused as a possible forgery. Header values quoted in the messages
/// come from the client: they are shortened and printed escaped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsrfRejection {
    /// `X-CSRF-Token` is present but is not the session's CSRF token.
    #[error("the X-CSRF-Token header does not match the session's CSRF token")]
    TokenMismatch,
    /// A request in a session, from a client that sent neither `Origin` nor `Referer`,
    /// lacks `X-CSRF-Token`.
    #[error(
        "the request has neither an Origin nor a Referer header, so it must carry the \
         session's CSRF token in X-CSRF-Token, and it does not"
    )]
    MissingToken,
    /// `Sec-Fetch-Site` says the request was started by another site or origin.
    #[error(
        "the browser reports a {sec_fetch_site:?} request (Sec-Fetch-Site); only same-origin requests may change state"
    )]
    CrossSiteFetch {
        /// The `Sec-Fetch-Site` value.
        sec_fetch_site: String,
    },
    /// `Origin: null`: the request comes from an opaque origin, never from the console.
    #[error("the request comes from an opaque origin (Origin: null), not from this console")]
    NullOrigin,
    /// `Origin` cannot be parsed as `scheme://host[:port]`.
    #[error("the Origin header {origin:?} is not a valid http or https origin")]
    MalformedOrigin {
        /// The `Origin` value.
        origin: String,
    },
    /// `Origin` names another origin.
    #[error("the request comes from {origin:?}, not from this console's origin {expected:?}")]
    OriginMismatch {
        /// The `Origin` value.
        origin: String,
        /// This console's origin, as derived from `Host` and the connection.
        expected: String,
    },
    /// `Referer` cannot be parsed as an http or https URL.
    #[error("the Referer header {referer:?} is not a valid http or https URL")]
    MalformedReferer {
        /// The `Referer` value.
        referer: String,
    },
    /// `Referer` names a page of another origin.
    #[error(
        "the request comes from a page of {referer_origin:?} (Referer), not from this console's origin {expected:?}"
    )]
    RefererMismatch {
        /// The origin of the `Referer` URL.
        referer_origin: String,
        /// This console's origin.
        expected: String,
    },
    /// `Origin` or `Referer` must be compared with the request's own origin, but there is
    /// no `Host` header.
    #[error("the request has no Host header to compare its Origin or Referer with")]
    MissingHost,
    /// `Host` cannot be parsed as `host[:port]`.
    #[error("the Host header {host:?} is not a valid host[:port]")]
    MalformedHost {
        /// The `Host` value.
        host: String,
    },
}

/// Longest client-supplied value quoted in a rejection, in characters.
const QUOTE_MAX_CHARS: usize = 200;

fn quote(value: &str) -> String {
    value.chars().take(QUOTE_MAX_CHARS).collect()
}

/// Methods that must not change state, and so need no protection.
const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// Checks that `request` may change state. See the module documentation for the rules.
pub fn check(request: &RequestFacts<'_>) -> Result<(), CsrfRejection> {
    if SAFE_METHODS.contains(&request.method) {
        return Ok(());
    }

    if let (Some(header), Some(session)) = (request.csrf_header, request.session_csrf)
        && !bool::from(header.as_bytes().ct_eq(session.as_bytes()))
    {
        return Err(CsrfRejection::TokenMismatch);
    }

    if let Some(site) = request.sec_fetch_site {
        let site = site.trim();
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Err(CsrfRejection::CrossSiteFetch {
                sec_fetch_site: quote(site),
            });
        }
    }

    if let Some(origin) = request.origin.map(str::trim) {
        if origin == "null" {
            return Err(CsrfRejection::NullOrigin);
        }
        let expected = expected_origin(request)?;
        let Some(actual) = Origin::parse(origin) else {
            return Err(CsrfRejection::MalformedOrigin {
                origin: quote(origin),
            });
        };
        return if actual == expected {
            Ok(())
        } else {
            Err(CsrfRejection::OriginMismatch {
                origin: quote(origin),
                expected: expected.to_string(),
            })
        };
    }

    if let Some(referer) = request.referer.map(str::trim) {
        let expected = expected_origin(request)?;
        let Some(actual) = Origin::of_url(referer) else {
            return Err(CsrfRejection::MalformedReferer {
                referer: quote(referer),
            });
        };
        return if actual == expected {
            Ok(())
        } else {
            Err(CsrfRejection::RefererMismatch {
                referer_origin: actual.to_string(),
                expected: expected.to_string(),
            })
        };
    }

    // No Origin and no Referer: not a browser, or one told to hide where it comes from.
    match (request.session_csrf, request.csrf_header) {
        // The header, when both are present, matched above.
        (Some(_), Some(_)) | (None, _) => Ok(()),
        (Some(_), None) => Err(CsrfRejection::MissingToken),
    }
}

fn expected_origin(request: &RequestFacts<'_>) -> Result<Origin, CsrfRejection> {
    let host = request.host.ok_or(CsrfRejection::MissingHost)?.trim();
    let scheme = if request.secure {
        Scheme::Https
    } else {
        Scheme::Http
    };
    Origin::from_authority(scheme, host)
        .ok_or_else(|| CsrfRejection::MalformedHost { host: quote(host) })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("http") {
            Some(Self::Http)
        } else if s.eq_ignore_ascii_case("https") {
            Some(Self::Https)
        } else {
            None
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A normalised web origin: scheme, lower-case host (IPv6 literals keep their brackets)
/// and explicit port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl Origin {
    /// Parses an `Origin` header value: `scheme://host[:port]`, nothing more.
    fn parse(value: &str) -> Option<Self> {
        let (scheme, authority) = value.split_once("://")?;
        Self::from_authority(Scheme::parse(scheme)?, authority)
    }

    /// The origin of an absolute http or https URL (a `Referer` value).
    fn of_url(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Self::from_authority(Scheme::parse(scheme)?, rest.get(..end)?)
    }

    /// Parses `host[:port]` (the `Host` header, or the authority of a URL without user
    /// information).
    fn from_authority(scheme: Scheme, authority: &str) -> Option<Self> {
        if authority.is_empty()
            || authority
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '@' | '/' | '\\'))
        {
            return None;
        }
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (literal, after) = rest.split_once(']')?;
            if literal.is_empty()
                || !literal
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
            {
                return None;
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?),
            };
            (authority.get(..literal.len() + 2)?, port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || (host.contains(['[', ']']) && !host.starts_with('[')) {
            return None;
        }
        let port = match port {
            None => scheme.default_port(),
            Some(digits) => {
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok()?
            }
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "c3Vic3RpdHV0ZS1mb3ItYS1yZWFsLWNzcmYtdG9rZW4";
    const OTHER: &str = "b3RoZXItY3NyZi10b2tlbi1mcm9tLWEtc3RhbGUtcGFn";

    fn post() -> RequestFacts<'static> {
        RequestFacts {
            method: "POST",
            host: Some("nas.local"),
            secure: true,
            ..RequestFacts::default()
        }
    }

    /// Which rejection, by variant, without the quoted values.
    fn kind(result: &Result<(), CsrfRejection>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(CsrfRejection::TokenMismatch) => "token-mismatch",
            Err(CsrfRejection::MissingToken) => "missing-token",
            Err(CsrfRejection::CrossSiteFetch { .. }) => "cross-site-fetch",
            Err(CsrfRejection::NullOrigin) => "null-origin",
            Err(CsrfRejection::MalformedOrigin { .. }) => "malformed-origin",
            Err(CsrfRejection::OriginMismatch { .. }) => "origin-mismatch",
            Err(CsrfRejection::MalformedReferer { .. }) => "malformed-referer",
            Err(CsrfRejection::RefererMismatch { .. }) => "referer-mismatch",
            Err(CsrfRejection::MissingHost) => "missing-host",
            Err(CsrfRejection::MalformedHost { .. }) => "malformed-host",
        }
    }

    #[test]
    fn rules_table() {
        let cases: Vec<(&str, RequestFacts<'static>, &str)> = vec![
            // Safe methods.
            (
                "GET passes even cross-site",
                RequestFacts {
                    method: "GET",
                    origin: Some("https://evil.example"),
                    sec_fetch_site: Some("cross-site"),
                    ..post()
                },
                "ok",
            ),
            (
                "HEAD passes",
                RequestFacts {
                    method: "HEAD",
                    ..post()
                },
                "ok",
            ),
            (
                "OPTIONS passes",
                RequestFacts {
                    method: "OPTIONS",
                    ..post()
                },
                "ok",
            ),
            (
                "lower-case get is not GET",
                RequestFacts {
                    method: "get",
                    origin: Some("https://evil.example"),
                    ..post()
                },
                "origin-mismatch",
            ),
            // Browser requests.
            (
                "cross-site form post",
                RequestFacts {
                    origin: Some("https://evil.example"),
                    referer: Some("https://evil.example/page"),
                    sec_fetch_site: Some("cross-site"),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "cross-site-fetch",
            ),
            (
                "cross-site form post from an old browser",
                RequestFacts {
                    origin: Some("https://evil.example"),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "same-site but other origin",
                RequestFacts {
                    origin: Some("https://printer.nas.local"),
                    sec_fetch_site: Some("same-site"),
                    ..post()
                },
                "cross-site-fetch",
            ),
            (
                "same-origin fetch",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    sec_fetch_site: Some("same-origin"),
                    csrf_header: Some(SESSION),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "ok",
            ),
            (
                "same-origin form post without token",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    sec_fetch_site: Some("same-origin"),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "ok",
            ),
            (
                "user-initiated (Sec-Fetch-Site: none)",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    sec_fetch_site: Some("none"),
                    ..post()
                },
                "ok",
            ),
            (
                "host and origin differ only in case",
                RequestFacts {
                    host: Some("NAS.Local"),
                    origin: Some("HTTPS://nas.LOCAL"),
                    ..post()
                },
                "ok",
            ),
            (
                "default port explicit on one side",
                RequestFacts {
                    host: Some("nas.local:443"),
                    origin: Some("https://nas.local"),
                    ..post()
                },
                "ok",
            ),
            (
                "non-default port on both sides",
                RequestFacts {
                    host: Some("nas.local:8443"),
                    origin: Some("https://nas.local:8443"),
                    ..post()
                },
                "ok",
            ),
            (
                "port mismatch",
                RequestFacts {
                    host: Some("nas.local:8443"),
                    origin: Some("https://nas.local:9443"),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "port missing from origin",
                RequestFacts {
                    host: Some("nas.local:8443"),
                    origin: Some("https://nas.local"),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "http origin on an https console",
                RequestFacts {
                    origin: Some("http://nas.local"),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "https origin on an http console",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    secure: false,
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "http console, http origin",
                RequestFacts {
                    host: Some("192.168.1.20:8080"),
                    origin: Some("http://192.168.1.20:8080"),
                    secure: false,
                    ..post()
                },
                "ok",
            ),
            (
                "IPv6 literal host",
                RequestFacts {
                    host: Some("[fd00::20]:8443"),
                    origin: Some("https://[FD00::20]:8443"),
                    ..post()
                },
                "ok",
            ),
            (
                "IPv6 literal, other address",
                RequestFacts {
                    host: Some("[fd00::20]"),
                    origin: Some("https://[fd00::21]"),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "suffix trick",
                RequestFacts {
                    origin: Some("https://nas.local.evil.example"),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "null origin",
                RequestFacts {
                    origin: Some("null"),
                    referer: Some("https://nas.local/"),
                    ..post()
                },
                "null-origin",
            ),
            (
                "origin with a path is malformed",
                RequestFacts {
                    origin: Some("https://nas.local/"),
                    ..post()
                },
                "malformed-origin",
            ),
            (
                "origin with user information is malformed",
                RequestFacts {
                    origin: Some("https://nas.local@evil.example"),
                    ..post()
                },
                "malformed-origin",
            ),
            (
                "origin of another scheme",
                RequestFacts {
                    origin: Some("chrome-extension://abcdef"),
                    ..post()
                },
                "malformed-origin",
            ),
            (
                "origin must be checked against a host",
                RequestFacts {
                    host: None,
                    origin: Some("https://nas.local"),
                    ..post()
                },
                "missing-host",
            ),
            (
                "malformed host",
                RequestFacts {
                    host: Some("nas.local:https"),
                    origin: Some("https://nas.local"),
                    ..post()
                },
                "malformed-host",
            ),
            (
                "port out of range",
                RequestFacts {
                    host: Some("nas.local:65536"),
                    origin: Some("https://nas.local:65536"),
                    ..post()
                },
                "malformed-host",
            ),
            // Referer when Origin is missing.
            (
                "missing Origin, same-origin Referer",
                RequestFacts {
                    referer: Some("https://nas.local/snapshots?pool=tank#top"),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "ok",
            ),
            (
                "missing Origin, cross-site Referer",
                RequestFacts {
                    referer: Some("https://evil.example/nas.local"),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "referer-mismatch",
            ),
            (
                "missing Origin, http Referer on https console",
                RequestFacts {
                    referer: Some("http://nas.local/login"),
                    ..post()
                },
                "referer-mismatch",
            ),
            (
                "missing Origin, referer with query straight after host",
                RequestFacts {
                    referer: Some("https://nas.local?x=1"),
                    ..post()
                },
                "ok",
            ),
            (
                "malformed Referer",
                RequestFacts {
                    referer: Some("/relative/path"),
                    ..post()
                },
                "malformed-referer",
            ),
            // Non-browser clients and the token.
            ("curl login without session", post(), "ok"),
            (
                "curl in a session with the token",
                RequestFacts {
                    csrf_header: Some(SESSION),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "ok",
            ),
            (
                "curl in a session without the token",
                RequestFacts {
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "missing-token",
            ),
            (
                "curl in a session with a wrong token",
                RequestFacts {
                    csrf_header: Some(OTHER),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "token-mismatch",
            ),
            (
                "empty token",
                RequestFacts {
                    csrf_header: Some(""),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "token-mismatch",
            ),
            (
                "token prefix",
                RequestFacts {
                    csrf_header: Some(&SESSION[..20]),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "token-mismatch",
            ),
            (
                "wrong token beats a matching Origin",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    sec_fetch_site: Some("same-origin"),
                    csrf_header: Some(OTHER),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "token-mismatch",
            ),
            (
                "right token does not excuse a foreign Origin",
                RequestFacts {
                    origin: Some("https://evil.example"),
                    csrf_header: Some(SESSION),
                    session_csrf: Some(SESSION),
                    ..post()
                },
                "origin-mismatch",
            ),
            (
                "stale token without a session is ignored",
                RequestFacts {
                    origin: Some("https://nas.local"),
                    csrf_header: Some(OTHER),
                    ..post()
                },
                "ok",
            ),
            (
                "DELETE is protected too",
                RequestFacts {
                    method: "DELETE",
                    origin: Some("https://evil.example"),
                    ..post()
                },
                "origin-mismatch",
            ),
        ];
        for (name, facts, expected) in cases {
            assert_eq!(kind(&check(&facts)), expected, "{name}: {facts:?}");
        }
    }

    #[test]
    fn messages_say_what_was_wrong() {
        let err = check(&RequestFacts {
            host: Some("nas.local:8443"),
            origin: Some("https://evil.example"),
            ..post()
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the request comes from \"https://evil.example\", not from this console's \
             origin \"https://nas.local:8443\""
        );
        let err = check(&RequestFacts {
            sec_fetch_site: Some("cross-site"),
            ..post()
        })
        .unwrap_err();
        assert!(err.to_string().contains("\"cross-site\""), "{err}");
    }

    #[test]
    fn quoted_values_are_short_and_escaped() {
        let long = format!("https://nas\nlocal{}", "a".repeat(5000));
        let err = check(&RequestFacts {
            origin: Some(&long),
            ..post()
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.len() < 400, "{} bytes", msg.len());
        assert!(
            matches!(err, CsrfRejection::MalformedOrigin { .. }),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn debug_redacts_tokens() {
        let facts = RequestFacts {
            csrf_header: Some(OTHER),
            session_csrf: Some(SESSION),
            ..post()
        };
        let debug = format!("{facts:?}");
        assert!(
            !debug.contains(SESSION) && !debug.contains(OTHER),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
