//! `Location` parsing: the session id a 201 names.

/// The session id in a `Location` under any of `endpoints` (the target's
/// base path with the endpoint, and the endpoint alone, for gateways that
/// strip the base path).
pub fn session_id_in<'l>(location: &'l [u8], endpoints: &[Vec<u8>]) -> Option<&'l [u8]> {
    endpoints.iter().find_map(|e| session_id(location, e))
}

/// The session id in a `Location` of the form `[scheme://host]ENDPOINT/<id>`:
/// non-empty, without `/`, `?`, `#` or spaces.
pub fn session_id<'l>(location: &'l [u8], endpoint: &[u8]) -> Option<&'l [u8]> {
    let mut path = location;
    for scheme in [&b"http://"[..], b"https://"] {
        if location.len() > scheme.len() && location[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &location[scheme.len()..];
            let host_end = rest.iter().position(|&b| b == b'/')?;
            if host_end == 0 {
                return None;
            }
            path = &rest[host_end..];
        }
    }
    let id = path.strip_prefix(endpoint)?.strip_prefix(b"/")?;
    // One table lookup per byte, no branches: this runs for every 201.
    let clean = !id.is_empty() && id.iter().fold(true, |ok, &b| ok & ID_BYTE[b as usize]);
    clean.then_some(id)
}

/// Bytes a session id may hold: visible ASCII but `/`, `?` and `#`.
static ID_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !matches!(b as u8, b'/' | b'?' | b'#');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &[u8] = b"/api/v1/sessions";

    #[test]
    fn locations_must_name_a_session_under_the_endpoint() {
        for (location, id) in [
            (&b"/api/v1/sessions/abc123"[..], Some(&b"abc123"[..])),
            (
                b"https://collector.example.net/api/v1/sessions/f00",
                Some(b"f00"),
            ),
            (b"HTTP://h:8080/api/v1/sessions/x", Some(b"x")),
            (b"/api/v1/sessions/", None),
            (b"/api/v1/sessions", None),
            (b"/api/v1/session/abc", None),
            (b"/api/v1/sessions/a/b", None),
            (b"/api/v1/sessions/a?b", None),
            (b"/api/v1/sessions/a b", None),
            (b"https:///api/v1/sessions/x", None),
            (b"sessions/abc", None),
            (b"", None),
        ] {
            assert_eq!(
                session_id(location, ENDPOINT),
                id,
                "{}",
                String::from_utf8_lossy(location)
            );
        }
    }
}
