//! Which requests the gateway answers at all (issue 24): web pages must not be able to use
//! it. A keyless gateway on loopback serves "any local process", and a browser is not a
//! process the user meant to trust: a page on another site can send "simple" requests
//! (`text/plain` POSTs, no preflight) that spend the user's credits, and with DNS
//! rebinding (its own name re-pointed at 127.0.0.1) it can read the answers. So, before any
//! routing, [`Access::check`] decides on the request line and headers only:
//!
//! 1. **Host**: the `Host` must name the gateway — `localhost`, `127.0.0.1`, `[::1]`, the
//!    listen address (any IP literal when it listens on every interface: an IP cannot be
//!    re-pointed) or a name given with `--allowed-host`; else 421. A request without a
//!    `Host` (no browser sends one) passes.
//! 2. **Origin**: a request with an `Origin` passes only when it is the gateway's own (the
//!    origin's host and port are the request's `Host`) or one given with `--cors-origin`;
//!    else 403. A request without one that a browser marks as coming from another site
//!    (`Sec-Fetch-Site: cross-site`/`same-site`, as for `<img src>` or a `no-cors` GET) is
//!    refused too, except a top-level navigation (a link to the status page).
//! 3. **Content type**: a request with a body (POST, PUT, PATCH) must say
//!    `Content-Type: application/json` (parameters allowed): the content types a page may
//!    send without a preflight (`text/plain`, forms) get 415. A POST with an empty body and
//!    no content type (e.g. cancelling a stored response) passes.
//!
//! Allowed origins get CORS: a preflight is answered here ([`Verdict::Preflight`]), and
//! answers carry `Access-Control-Allow-Origin` with `Vary: Origin`. Non-browser clients
//! (SDKs, agents, curl) send no `Origin`, a loopback `Host` and JSON: they never notice.
//!
//! Pure and allocation-free on the way through (`cargo xtask bench` measures it).

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, HeaderValue, Method, header};

/// The names a gateway on loopback always answers to.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// What the gateway answers: the host names it is reached by and the browser origins
/// allowed to call it.
#[derive(Debug, Clone)]
pub struct Access {
    /// Lower-case host names without port (`[…]` around IPv6 literals).
    hosts: Vec<String>,
    /// Listening on every interface: any IP literal names the gateway.
    any_ip: bool,
    /// Allowed origins, lower-case, as browsers serialise them (`scheme://host[:port]`).
    cors_origins: Vec<String>,
}

impl Default for Access {
    /// Loopback names only, no CORS origin.
    fn default() -> Self {
        Access {
            hosts: LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect(),
            any_ip: false,
            cors_origins: Vec::new(),
        }
    }
}

/// A name or origin the gateway cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// Not a host name (`--allowed-host`).
    #[error(
        "invalid host name {0:?}: expected a name or address such as gw.example.com or 192.168.1.5"
    )]
    Host(String),
    /// Not an origin (`--cors-origin`).
    #[error(
        "invalid origin {0:?}: expected scheme://host[:port] with no path, such as http://localhost:3000"
    )]
    Origin(String),
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it; with an allowed cross-origin `Origin`, echo it in the CORS headers.
    Pass {
        /// The allowed origin to echo.
        cors: Option<HeaderValue>,
    },
    /// A CORS preflight from an allowed origin: answer it without a handler.
    Preflight {
        /// The allowed origin to echo.
        origin: HeaderValue,
    },
    /// Refuse it.
    Refuse(Refusal),
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Host` is not a name of the gateway (DNS rebinding): 421.
    ForeignHost,
    /// `Origin` is neither the gateway's own nor allowed, or a browser says the request
    /// comes from another site: 403.
    ForeignOrigin,
    /// A body that is not declared JSON: 415.
    NotJson,
}

impl Access {
    /// The access rules of a gateway listening on `listen`, reached also by the names
    /// `allowed_hosts` (a name, or `name:port`; the port is ignored) and called by the
    /// browser origins `cors_origins`.
    pub fn new(
        listen: SocketAddr,
        allowed_hosts: &[String],
        cors_origins: &[String],
    ) -> Result<Access, AccessError> {
        let mut access = Access::default();
        let ip = listen.ip();
        if ip.is_unspecified() {
            access.any_ip = true;
        } else {
            access.add_host(&ip_name(ip));
        }
        for host in allowed_hosts {
            let name = parse_host(host).ok_or_else(|| AccessError::Host(host.clone()))?;
            access.add_host(&name);
        }
        for origin in cors_origins {
            let normalised =
                parse_origin(origin).ok_or_else(|| AccessError::Origin(origin.clone()))?;
            if !access.cors_origins.contains(&normalised) {
                access.cors_origins.push(normalised);
            }
        }
        Ok(access)
    }

    /// Adds a name (already lower-case, without port) the gateway is reached by; used by
    /// the host for the name in `--listen NAME:PORT`.
    pub fn add_host(&mut self, name: &str) {
        let name = name.to_ascii_lowercase();
        if !self.hosts.contains(&name) {
            self.hosts.push(name);
        }
    }

    /// The decision on a request, from its method and headers.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Verdict {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if let Some(host) = host
            && !self.names_me(host)
        {
            return Verdict::Refuse(Refusal::ForeignHost);
        }
        let mut cors = None;
        if let Some(origin) = headers.get(header::ORIGIN) {
            let text = origin.to_str().unwrap_or_default();
            if self
                .cors_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(text.trim_end_matches('/')))
            {
                if method == Method::OPTIONS
                    && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
                {
                    return Verdict::Preflight {
                        origin: origin.clone(),
                    };
                }
                cors = Some(origin.clone());
            } else if !host.is_some_and(|host| same_origin(text, host)) {
                return Verdict::Refuse(Refusal::ForeignOrigin);
            }
        } else if from_another_site(method, headers) {
            return Verdict::Refuse(Refusal::ForeignOrigin);
        }
        if has_body(method) && !declares_json(headers) {
            return Verdict::Refuse(Refusal::NotJson);
        }
        Verdict::Pass { cors }
    }

    /// True when the `Host` value (`name[:port]`) names this gateway.
    fn names_me(&self, host: &str) -> bool {
        let name = host_name(host);
        let name = name.strip_suffix('.').unwrap_or(name);
        if self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return true;
        }
        self.any_ip && is_ip_literal(name)
    }
}

/// The host part of a `Host` value: `[::1]:4000` → `[::1]`, `localhost:4000` → `localhost`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        }
    } else {
        host.split(':').next().unwrap_or(host)
    }
}

fn is_ip_literal(name: &str) -> bool {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => name.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

/// How an address appears in a `Host` header.
fn ip_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `--allowed-host`: a name or IP, optionally with a port; lower-case, without the port.
fn parse_host(text: &str) -> Option<String> {
    let text = text.trim();
    let name = host_name(text);
    let rest = &text[name.len()..];
    let port_ok = rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && (is_ip_literal(name)
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    (port_ok && name_ok).then(|| name.trim_end_matches('.').to_ascii_lowercase())
}

/// `--cors-origin`: `http(s)://host[:port]`, as a browser writes it (lower-case, no
/// trailing `/`).
fn parse_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = text.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    parse_host(authority)?;
    (!authority.contains(['/', '?', '#', '@'])).then_some(text)
}

/// An `Origin` (`scheme://host[:port]`) of the page the request's `Host` names.
fn same_origin(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// A browser's Fetch Metadata says the request comes from another site's page, and it is
/// not the user following a link (a top-level GET navigation).
fn from_another_site(method: &Method, headers: &HeaderMap) -> bool {
    let site = headers
        .get("sec-fetch-site")
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !(site.eq_ignore_ascii_case(b"cross-site") || site.eq_ignore_ascii_case(b"same-site")) {
        return false;
    }
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"navigate"));
    !(navigation && (method == Method::GET || method == Method::HEAD))
}

fn has_body(method: &Method) -> bool {
    method == Method::POST || method == Method::PUT || method == Method::PATCH
}

/// `Content-Type: application/json` (any parameters), or no content type on an empty
/// body.
fn declares_json(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        Some(value) => {
            let essence = value
                .as_bytes()
                .split(|b| *b == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            essence.eq_ignore_ascii_case(b"application/json")
        }
        None => {
            !headers.contains_key(header::TRANSFER_ENCODING)
                && headers
                    .get(header::CONTENT_LENGTH)
                    .is_none_or(|len| len.as_bytes() == b"0")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn loopback() -> Access {
        Access::new("127.0.0.1:4000".parse().unwrap(), &[], &[]).unwrap()
    }

    const PASS: Verdict = Verdict::Pass { cors: None };
    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn hosts_that_name_the_gateway_pass_others_are_refused() {
        let access = Access::new(
            "127.0.0.1:4000".parse().unwrap(),
            &["GW.example.com:443".to_owned(), "10.0.0.7".to_owned()],
            &[],
        )
        .unwrap();
        for host in [
            "localhost:4000",
            "LOCALHOST",
            "localhost.:4000",
            "127.0.0.1:4000",
            "[::1]:4000",
            "gw.example.com",
            "10.0.0.7:4000",
        ] {
            assert_eq!(
                access.check(&Method::GET, &request(&[("host", host)])),
                PASS,
                "{host}"
            );
        }
        for host in [
            "evil.example:4000",
            "localhost.evil.example",
            "127.0.0.2:4000",
            "[::2]:4000",
            "10.0.0.8",
            "",
        ] {
            assert_eq!(
                access.check(&Method::GET, &request(&[("host", host)])),
                Verdict::Refuse(Refusal::ForeignHost),
                "{host}"
            );
        }
        // No browser leaves it out.
        assert_eq!(access.check(&Method::GET, &HeaderMap::new()), PASS);
    }

    #[test]
    fn every_interface_means_any_ip_literal_but_no_other_name() {
        let access = Access::new("0.0.0.0:4000".parse().unwrap(), &[], &[]).unwrap();
        for host in ["192.168.1.5:4000", "[fe80::1]:4000", "localhost"] {
            assert_eq!(
                access.check(&Method::GET, &request(&[("host", host)])),
                PASS,
                "{host}"
            );
        }
        assert_eq!(
            access.check(&Method::GET, &request(&[("host", "rebound.example:4000")])),
            Verdict::Refuse(Refusal::ForeignHost)
        );
        let v6 = Access::new("[::1]:4000".parse().unwrap(), &[], &[]).unwrap();
        assert!(v6.names_me("[::1]:4000"));
        let lan = Access::new("192.168.1.5:4000".parse().unwrap(), &[], &[]).unwrap();
        assert!(lan.names_me("192.168.1.5:4000"));
        assert!(!lan.names_me("192.168.1.6:4000"));
    }

    #[test]
    fn foreign_origins_are_refused_own_and_allowed_ones_pass() {
        let access = Access::new(
            "127.0.0.1:4000".parse().unwrap(),
            &[],
            &["http://localhost:3000/".to_owned()],
        )
        .unwrap();
        let post = |origin: &str| {
            access.check(
                &Method::POST,
                &request(&[("host", "127.0.0.1:4000"), ("origin", origin), JSON]),
            )
        };
        assert_eq!(
            post("http://evil.example"),
            Verdict::Refuse(Refusal::ForeignOrigin)
        );
        assert_eq!(
            post("http://127.0.0.1:5555"),
            Verdict::Refuse(Refusal::ForeignOrigin)
        );
        assert_eq!(post("null"), Verdict::Refuse(Refusal::ForeignOrigin));
        assert_eq!(post("http://127.0.0.1:4000"), PASS);
        assert_eq!(
            post("http://LOCALHOST:3000"),
            Verdict::Pass {
                cors: Some(HeaderValue::from_static("http://LOCALHOST:3000"))
            }
        );
        let preflight = request(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
        ]);
        assert_eq!(
            access.check(&Method::OPTIONS, &preflight),
            Verdict::Preflight {
                origin: HeaderValue::from_static("http://localhost:3000")
            }
        );
        let foreign_preflight = request(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
        ]);
        assert_eq!(
            access.check(&Method::OPTIONS, &foreign_preflight),
            Verdict::Refuse(Refusal::ForeignOrigin)
        );
    }

    #[test]
    fn browsers_saying_another_site_are_refused_but_links_are_followed() {
        let access = loopback();
        let get = |site: &str, mode: &str| {
            access.check(
                &Method::GET,
                &request(&[
                    ("host", "127.0.0.1:4000"),
                    ("sec-fetch-site", site),
                    ("sec-fetch-mode", mode),
                ]),
            )
        };
        assert_eq!(
            get("cross-site", "no-cors"),
            Verdict::Refuse(Refusal::ForeignOrigin)
        );
        assert_eq!(
            get("same-site", "no-cors"),
            Verdict::Refuse(Refusal::ForeignOrigin)
        );
        assert_eq!(get("cross-site", "navigate"), PASS);
        assert_eq!(get("same-origin", "no-cors"), PASS);
        assert_eq!(get("none", "navigate"), PASS);
    }

    #[test]
    fn bodies_must_be_declared_json() {
        let access = loopback();
        let post = |pairs: &[(&str, &str)]| access.check(&Method::POST, &request(pairs));
        assert_eq!(post(&[JSON]), PASS);
        assert_eq!(
            post(&[("content-type", "Application/JSON; charset=utf-8")]),
            PASS
        );
        for bad in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
        ] {
            assert_eq!(
                post(&[("content-type", bad), ("content-length", "20")]),
                Verdict::Refuse(Refusal::NotJson),
                "{bad}"
            );
        }
        assert_eq!(
            post(&[("content-length", "20")]),
            Verdict::Refuse(Refusal::NotJson)
        );
        assert_eq!(
            post(&[("transfer-encoding", "chunked")]),
            Verdict::Refuse(Refusal::NotJson)
        );
        assert_eq!(post(&[("content-length", "0")]), PASS);
        assert_eq!(post(&[]), PASS);
        assert_eq!(
            access.check(&Method::GET, &request(&[("content-type", "text/plain")])),
            PASS
        );
    }

    #[test]
    fn flags_are_checked() {
        let listen: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        for good in [
            "gw.example.com",
            "gw.example.com:8443",
            "[fd00::1]:80",
            "10.1.2.3",
        ] {
            assert!(
                Access::new(listen, &[good.to_owned()], &[]).is_ok(),
                "{good}"
            );
        }
        for bad in ["", "http://gw", "gw/path", "gw:", "gw:x", "a b"] {
            assert_eq!(
                Access::new(listen, &[bad.to_owned()], &[]).unwrap_err(),
                AccessError::Host(bad.to_owned())
            );
        }
        for good in [
            "http://localhost:3000",
            "https://ui.example.com/",
            "HTTP://X",
        ] {
            assert!(
                Access::new(listen, &[], &[good.to_owned()]).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "localhost:3000",
            "ftp://x",
            "http://x/app",
            "*",
            "http://",
            "null",
        ] {
            assert_eq!(
                Access::new(listen, &[], &[bad.to_owned()]).unwrap_err(),
                AccessError::Origin(bad.to_owned())
            );
        }
    }
}
