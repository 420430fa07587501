//! The target URL: where the sessions endpoint lives.

use std::fmt;

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed target such as `https://acme.hb-api.omtrdc.net` or
/// `http://127.0.0.1:8080/prefix`. The endpoint path is appended to its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUrl {
    pub scheme: Scheme,
    /// Host name or IP literal, without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (empty for the root).
    pub base_path: String,
}

/// Why a target URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{url:?} is not a usable target URL: {reason}")]
pub struct UrlError {
    pub url: String,
    pub reason: String,
}

impl TargetUrl {
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        let fail = |reason: &str| UrlError {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        if text.contains('#') {
            return Err(fail("fragments (#...) are not allowed"));
        }
        let uri: http::Uri = text.parse().map_err(|e: http::uri::InvalidUri| {
            fail(&format!("{e}; write e.g. http://127.0.0.1:8080"))
        })?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
            Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
            Some(other) => {
                return Err(fail(&format!(
                    "the scheme must be http or https, not {other:?}"
                )));
            }
            None => {
                return Err(fail(
                    "it needs a scheme and a host, e.g. http://127.0.0.1:8080",
                ));
            }
        };
        let authority = uri.authority().ok_or_else(|| fail("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(fail("user information (user@host) is not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(fail("it has no host"));
        }
        if uri.query().is_some() {
            return Err(fail("query strings are not supported in the target"));
        }
        // What follows the host: "" or ":<port>".
        let port_text = authority
            .as_str()
            .strip_prefix(authority.host())
            .unwrap_or_default();
        let port = match port_text.strip_prefix(':') {
            None => scheme.default_port(),
            Some("") => return Err(fail("the port after ':' is missing")),
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Err(fail("port 0 is not a port to connect to")),
                Ok(port) => port,
                Err(_) => return Err(fail(&format!("{p:?} is not a port (1 to 65535)"))),
            },
        };
        Ok(TargetUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            base_path: uri.path().trim_end_matches('/').to_string(),
        })
    }

    /// The request-target for `endpoint_path` (which starts with '/').
    pub fn request_path(&self, endpoint_path: &str) -> String {
        format!("{}{}", self.base_path, endpoint_path)
    }

    /// The `Host` header value: the port is left out when it is the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.host_header(),
            self.base_path
        )
    }
}

/// Checks an endpoint path such as `/api/v1/sessions`.
pub fn check_endpoint_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} must start with '/'"));
    }
    if path
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'#')
    {
        return Err(format!(
            "{path:?} holds whitespace, a control character or '#'"
        ));
    }
    path.parse::<http::uri::PathAndQuery>()
        .map(|_| ())
        .map_err(|e| format!("{path:?} is not a valid request path: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_prefixes() {
        let t = TargetUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port),
            (Scheme::Http, "127.0.0.1", 8080)
        );
        assert_eq!(t.request_path("/api/v1/sessions"), "/api/v1/sessions");
        assert_eq!(t.host_header(), "127.0.0.1:8080");

        let t = TargetUrl::parse("https://Acme.hb-api.omtrdc.net/").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Https, 443));
        assert_eq!(t.host_header(), "acme.hb-api.omtrdc.net");
        assert_eq!(t.to_string(), "https://acme.hb-api.omtrdc.net");

        let t = TargetUrl::parse("http://[::1]:9000/base/").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.host_header(), "[::1]:9000");
        assert_eq!(t.request_path("/api/v1/sessions"), "/base/api/v1/sessions");
    }

    #[test]
    fn refuses_urls_that_cannot_be_a_target() {
        for (url, reason) in [
            ("127.0.0.1:8080", "scheme"),
            ("ftp://example.com", "scheme must be http or https"),
            ("http://", "not a usable"),
            ("http://user:pw@host", "user information"),
            ("http://host/path?x=1", "query strings"),
            ("http://host/#frag", "fragments"),
            ("http://host:0", "port 0"),
            ("http://host:99999", "is not a port"),
            ("not a url", "not a usable"),
        ] {
            let err = TargetUrl::parse(url).expect_err(url);
            assert!(err.to_string().contains(reason), "{url}: {err}");
        }
    }

    #[test]
    fn endpoint_paths_must_be_clean_absolute_paths() {
        assert!(check_endpoint_path("/api/v1/sessions").is_ok());
        assert!(check_endpoint_path("api/v1/sessions").is_err());
        assert!(check_endpoint_path("/api v1").is_err());
        assert!(check_endpoint_path("/api\r\nX: y").is_err());
    }
}
