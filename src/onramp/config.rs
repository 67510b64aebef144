//! The on-ramp's part of `softfax.toml` (docs/contracts/config.md): `[onramp]` (the MTA that
//! takes received faxes, the sender address, the attachments, TLS and AUTH towards the
//! MTA), `[[route]]` (called number or port → mailbox, first match wins, `$1` captures)
//! and `[onramp.default]`. The answering lines themselves are `[[line]]`s with
//! `answer = true`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::smtp_client::{ClientOptions, TlsMode};

/// Which files the fax-mail carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attach {
    /// The pages as one TIFF-F file (image/tiff).
    pub tiff: bool,
    /// One PNG per page.
    pub png: bool,
    /// The pages as one PDF (T.6-coded images).
    pub pdf: bool,
}

impl Default for Attach {
    fn default() -> Self {
        Attach {
            tiff: true,
            png: false,
            pdf: false,
        }
    }
}

/// One `[[route]]`.
#[derive(Debug, Clone)]
pub struct Route {
    pub pattern: Regex,
    /// The mailbox, with `$1`, `${name}` naming the captures.
    pub to: String,
}

/// `[onramp]` with its routes.
#[derive(Debug, Clone)]
pub struct OnrampConfig {
    /// `host:port` of the MTA.
    pub relay: String,
    /// The envelope sender and `From:` of fax-mail.
    pub from: String,
    pub attach: Attach,
    pub routes: Vec<Route>,
    /// `[onramp.default] to`: the mailbox when no route matches.
    pub default_to: Option<String>,
    /// TLS and AUTH towards the relay.
    pub client: ClientOptions,
}

impl OnrampConfig {
    /// The mailbox for a call to `called` (the called number, or the line's `port` on lines
    /// that give none): the first `[[route]]` that matches, else `[onramp.default]`.
    pub fn mailbox(&self, called: &str) -> Option<String> {
        for r in &self.routes {
            if let Some(caps) = r.pattern.captures(called) {
                let mut to = String::new();
                caps.expand(&r.to, &mut to);
                if is_mailbox(&to) {
                    return Some(to);
                }
                tracing::error!(route = %r.pattern, called, to, "the route makes no mailbox; trying the next");
            }
        }
        self.default_to.clone()
    }
}

/// `local@domain` without spaces, angle brackets or control characters.
fn is_mailbox(s: &str) -> bool {
    s.len() <= 254
        && s.rsplit_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnramp {
    relay: Spanned<String>,
    from: Spanned<String>,
    attach: Option<Vec<Spanned<String>>>,
    tls: Option<Spanned<String>>,
    ca: Option<String>,
    user: Option<String>,
    password: Option<String>,
    default: Option<RawDefault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefault {
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    to: Spanned<String>,
}

/// Check `[onramp]` and `[[route]]`; `answering` says whether any line has `answer = true`
/// (routes and answering lines need `[onramp]`); relative paths are taken from `base`.
/// `at` makes the configuration's error for a span, a key and a message.
pub fn parse<E>(
    raw: Option<RawOnramp>,
    routes: Vec<RawRoute>,
    answering: bool,
    base: &Path,
    at: &dyn Fn(Range<usize>, &str, String) -> E,
) -> Result<Option<OnrampConfig>, E> {
    let Some(o) = raw else {
        if answering {
            return Err(at(
                0..0,
                "onramp",
                "a line answers calls (answer = true) but there is no [onramp] to mail them through".into(),
            ));
        }
        if let Some(r) = routes.first() {
            return Err(at(
                r.pattern.span(),
                "route[1]",
                "[[route]] needs an [onramp] table".into(),
            ));
        }
        return Ok(None);
    };
    let relay = o.relay.as_ref().clone();
    if relay
        .rsplit_once(':')
        .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
    {
        return Err(at(
            o.relay.span(),
            "onramp.relay",
            format!("'{relay}' is not HOST:PORT"),
        ));
    }
    let from = o.from.as_ref().clone();
    if !is_mailbox(&from) {
        return Err(at(
            o.from.span(),
            "onramp.from",
            format!("'{from}' is not a mail address"),
        ));
    }
    let mut attach = Attach {
        tiff: false,
        png: false,
        pdf: false,
    };
    match &o.attach {
        None => attach = Attach::default(),
        Some(list) => {
            for a in list {
                match a.as_ref().as_str() {
                    "tiff" => attach.tiff = true,
                    "png" => attach.png = true,
                    "pdf" => attach.pdf = true,
                    other => {
                        return Err(at(
                            a.span(),
                            "onramp.attach",
                            format!("'{other}': expected \"tiff\", \"pdf\" or \"png\""),
                        ));
                    }
                }
            }
            if !(attach.tiff || attach.png || attach.pdf) {
                return Err(at(
                    0..0,
                    "onramp.attach",
                    "at least one of \"tiff\", \"pdf\", \"png\"".into(),
                ));
            }
        }
    }
    let tls = match o.tls.as_ref().map(|t| t.as_ref().as_str()) {
        None | Some("opportunistic") => TlsMode::Opportunistic,
        Some("off") => TlsMode::Off,
        Some("required") => TlsMode::Required,
        Some(other) => {
            return Err(at(
                o.tls.as_ref().map_or(0..0, |t| t.span()),
                "onramp.tls",
                format!("'{other}': expected \"off\", \"opportunistic\" or \"required\""),
            ));
        }
    };
    let auth = match (o.user, o.password) {
        (None, None) => None,
        (Some(u), Some(p)) => {
            if tls != TlsMode::Required {
                return Err(at(
                    0..0,
                    "onramp.user",
                    "AUTH credentials go only over verified TLS: set tls = \"required\"".into(),
                ));
            }
            Some((u, p))
        }
        _ => {
            return Err(at(
                0..0,
                "onramp.user",
                "user and password come together".into(),
            ));
        }
    };
    let ca = o.ca.map(|p| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { base.join(p) }
    });
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let pattern = Regex::new(r.pattern.as_ref()).map_err(|e| {
            at(
                r.pattern.span(),
                &format!("route[{}].match", i + 1),
                format!(
                    "not a regular expression: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
            )
        })?;
        if !r.to.as_ref().contains('@') {
            return Err(at(
                r.to.span(),
                &format!("route[{}].to", i + 1),
                format!("'{}' is not a mail address", r.to.as_ref()),
            ));
        }
        out.push(Route {
            pattern,
            to: r.to.as_ref().clone(),
        });
    }
    let default_to = match o.default {
        Some(d) if !is_mailbox(d.to.as_ref()) => {
            return Err(at(
                d.to.span(),
                "onramp.default.to",
                format!("'{}' is not a mail address", d.to.as_ref()),
            ));
        }
        Some(d) => Some(d.to.into_inner()),
        None => None,
    };
    if answering && out.is_empty() && default_to.is_none() {
        return Err(at(
            0..0,
            "onramp.default",
            "no [[route]] and no [onramp.default]: received faxes would have no mailbox".into(),
        ));
    }
    Ok(Some(OnrampConfig {
        relay,
        from,
        attach,
        routes: out,
        default_to,
        client: ClientOptions {
            tls,
            ca,
            auth,
            timeout: std::time::Duration::ZERO,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(list: &[(&str, &str)], default_to: Option<&str>) -> OnrampConfig {
        OnrampConfig {
            relay: "127.0.0.1:25".into(),
            from: "fax@gw.example.com".into(),
            attach: Attach::default(),
            routes: list
                .iter()
                .map(|(m, t)| Route {
                    pattern: Regex::new(m).unwrap(),
                    to: t.to_string(),
                })
                .collect(),
            default_to: default_to.map(String::from),
            client: ClientOptions::default(),
        }
    }

    #[test]
    fn first_matching_route_with_captures_else_the_default() {
        let c = routes(
            &[
                (r"^5557(\d{3})$", "fax-$1@example.com"),
                (r"^555", "sales@example.com"),
                (r"^(\d+)$", "$1"),
            ],
            Some("fax@example.com"),
        );
        assert_eq!(c.mailbox("5557001").as_deref(), Some("fax-001@example.com"));
        assert_eq!(c.mailbox("5551234").as_deref(), Some("sales@example.com"));
        // A route that makes no mailbox ("42") is passed over.
        assert_eq!(c.mailbox("42").as_deref(), Some("fax@example.com"));
        assert_eq!(
            c.mailbox("slot:1 port:2").as_deref(),
            Some("fax@example.com")
        );
        assert_eq!(routes(&[], None).mailbox("1"), None);
    }

    #[test]
    fn settings_are_checked() {
        let at = |_: Range<usize>, key: &str, msg: String| format!("{key}: {msg}");
        let raw = |text: &str| -> (Option<RawOnramp>, Vec<RawRoute>) {
            #[derive(Deserialize)]
            struct T {
                onramp: Option<RawOnramp>,
                #[serde(default)]
                route: Vec<RawRoute>,
            }
            let t: T = toml::from_str(text).unwrap();
            (t.onramp, t.route)
        };
        let ok = "[onramp]\nrelay = \"mx:25\"\nfrom = \"f@x\"\n[onramp.default]\nto = \"d@x\"\n";
        let (o, r) = raw(ok);
        let c = parse(o, r, true, Path::new("/"), &at).unwrap().unwrap();
        assert_eq!(
            (c.attach.tiff, c.client.tls),
            (true, TlsMode::Opportunistic)
        );
        for (text, want) in [
            (ok.replace("mx:25", "mx"), "onramp.relay"),
            (ok.replace("f@x", "nobody"), "onramp.from"),
            (
                format!("{ok}[[route]]\nmatch = \"(\"\nto = \"a@b\"\n"),
                "route[1].match",
            ),
            (
                ok.replace("from =", "attach = [\"gif\"]\nfrom ="),
                "onramp.attach",
            ),
            (
                ok.replace("from =", "user = \"u\"\npassword = \"p\"\nfrom ="),
                "onramp.user",
            ),
        ] {
            let (o, r) = raw(&text);
            let e = parse(o, r, true, Path::new("/"), &at).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        let e = parse(None, Vec::new(), true, Path::new("/"), &at).unwrap_err();
        assert!(e.starts_with("onramp:"), "{e}");
    }
}
