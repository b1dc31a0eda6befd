//! The one check of a base URL, for `target.base_url` and `--base-url` alike: an `http://` or
//! `https://` scheme, a host, a port from 1 to 65535 when one is written. Credentials in the
//! URL (`http://user:${PASS}@host`) are taken out of it and become an
//! `Authorization: Basic …` header, so they never reach `Host`, the report or a file name.

use base64::Engine as _;

/// A base URL that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedUrl {
    /// The URL without credentials and without a trailing `/`, scheme in lowercase.
    pub url: String,
    /// `Basic …` when the URL carried `user:password@`.
    pub authorization: Option<String>,
    /// The credential strings to redact wherever they might appear: the password as written
    /// and decoded, and the header value.
    pub secrets: Vec<String>,
}

/// Why a base URL is refused: the message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlProblem {
    pub message: String,
    pub hint: String,
}

const EXAMPLE: &str = "e.g. `http://127.0.0.1:8080`, or `embedded` for the built-in demo server";

fn problem(message: String, hint: &str) -> UrlProblem {
    UrlProblem {
        message,
        hint: hint.to_string(),
    }
}

/// Checks `raw` (already trimmed of spaces by the caller or not). `shown` is how the URL may
/// be printed in a message (the caller redacts secrets).
pub(crate) fn check(raw: &str, redact: &dyn Fn(&str) -> String) -> Result<CheckedUrl, UrlProblem> {
    let u = raw.trim();
    let shown = |s: &str| redact(&mask_userinfo(s));
    let Some((scheme, rest)) = u.split_once("://") else {
        return Err(problem(
            format!("`{}` is not an http:// or https:// URL", shown(u)),
            EXAMPLE,
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(problem(
            format!(
                "`{}`: the scheme `{scheme}` is not supported; perfgate speaks http:// and https://",
                shown(u)
            ),
            EXAMPLE,
        ));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((ui, hp)) => (Some(ui), hp),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport).ok_or_else(|| {
        problem(
            format!("`{}` has no valid host", shown(u)),
            "a base URL is scheme://host[:port][/prefix], e.g. `http://127.0.0.1:8080`",
        )
    })?;
    if host.is_empty() {
        return Err(problem(format!("`{}` has no host", shown(u)), EXAMPLE));
    }
    if let Some(p) = port {
        let ok = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
        if !ok {
            return Err(problem(
                format!("`{}`: port `{p}` is not a port number", shown(u)),
                "a port is a whole number from 1 to 65535, e.g. `http://127.0.0.1:8080`",
            ));
        }
    }
    let clean = format!("{scheme}://{hostport}{tail}");
    let clean = clean.trim_end_matches('/').to_string();
    let parsed_ok = clean
        .parse::<http::Uri>()
        .map(|p| p.host().is_some())
        .unwrap_or(false);
    if !parsed_ok {
        return Err(problem(
            format!("`{}` is not a valid URL", shown(u)),
            EXAMPLE,
        ));
    }
    let mut secrets = Vec::new();
    let authorization = match userinfo {
        None => None,
        Some(ui) => {
            let (user, pass) = ui.split_once(':').unwrap_or((ui, ""));
            let user = percent_decode(user).ok_or_else(|| bad_escape(shown(u)))?;
            let pass_decoded = percent_decode(pass).ok_or_else(|| bad_escape(shown(u)))?;
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{pass_decoded}").as_bytes());
            secrets.push(pass.to_string());
            secrets.push(pass_decoded);
            secrets.push(token.clone());
            let header = format!("Basic {token}");
            secrets.push(header.clone());
            Some(header)
        }
    };
    Ok(CheckedUrl {
        url: clean,
        authorization,
        secrets,
    })
}

/// `s` with any `user:password@` shown as `***@`.
pub(crate) fn mask_userinfo(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, hostport)) => format!("{scheme}://***@{hostport}{}", &rest[end..]),
        None => s.to_string(),
    }
}

fn bad_escape(shown: String) -> UrlProblem {
    problem(
        format!("`{shown}`: the credentials have a bad %-escape"),
        "escape characters in user and password as %XX (e.g. `@` as %40)",
    )
}

/// `host[:port]` or `[v6][:port]` → (host, port as written).
fn split_host_port(hp: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &hp[..close + 2];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match hp.split_once(':') {
        Some((h, p)) => Some((h, Some(p))),
        None => Some((hp, None)),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(u: &str) -> CheckedUrl {
        check(u, &|s| s.to_string()).unwrap()
    }

    fn bad(u: &str) -> String {
        check(u, &|s| s.to_string()).unwrap_err().message
    }

    #[test]
    fn plain_urls_pass_and_lose_the_trailing_slash() {
        assert_eq!(ok("http://127.0.0.1:8080/").url, "http://127.0.0.1:8080");
        assert_eq!(ok("HTTPS://example.com/api").url, "https://example.com/api");
        assert_eq!(ok("http://[::1]:9/").url, "http://[::1]:9");
        assert!(ok("http://h").authorization.is_none());
    }

    #[test]
    fn ports_outside_the_range_and_other_schemes_are_refused() {
        for u in [
            "http://h:0",
            "http://h:65536",
            "http://h:99999",
            "http://h:",
            "http://h:8o",
        ] {
            assert!(bad(u).contains("is not a port number"), "{u}");
        }
        assert!(bad("ftp://h").contains("scheme `ftp`"));
        assert!(bad("127.0.0.1:8080").contains("not an http://"));
        assert!(bad("http://").contains("no host"));
    }

    #[test]
    fn credentials_become_a_basic_header_and_leave_the_url() {
        let c = ok("http://alice:p%40ss@127.0.0.1:8080/x");
        assert_eq!(c.url, "http://127.0.0.1:8080/x");
        // base64("alice:p@ss")
        assert_eq!(c.authorization.as_deref(), Some("Basic YWxpY2U6cEBzcw=="));
        assert!(c.secrets.contains(&"p@ss".to_string()));
        assert!(c.secrets.contains(&"p%40ss".to_string()));
        let e = check("http://a:hunter2@h:0", &|s| s.to_string()).unwrap_err();
        assert!(!e.message.contains("hunter2"), "{e:?}");
    }
}
