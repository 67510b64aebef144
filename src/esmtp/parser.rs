//! The SMTP command parser (RFC 5321 §4.1, with the parameters of RFC 1870 SIZE, RFC 6152
//! BODY, RFC 3461 DSN and RFC 4954 AUTH) — our own, because Cisco's `XACT` is a verb no
//! common parser knows. Input is one command line without its CRLF, as bytes; output a
//! typed [`Command`] or a [`ParseError`] that carries its reply code.
//!
//! Verbs are case-insensitive. `MAIL FROM:` / `RCPT TO:` accept the space some clients put
//! after the colon, drop a source route (`<@a,@b:user@d>`), keep a quoted local part's
//! content, and take `<postmaster>` without a domain. Every parameter is checked against
//! what EHLO advertised (SIZE, BODY=7BIT|8BITMIME, RET, ENVID, NOTIFY, ORCPT, AUTH); any
//! other is `555 5.5.4`.
//!
//! **Tested by:** the unit tests below and the `smtp_command` fuzz target.

use crate::envelope::{Body, MailParams, Notify, Ret};

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    Mail {
        path: String,
        params: MailParams,
    },
    Rcpt {
        path: String,
        params: RcptParams,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy(String),
    Expn,
    Help(String),
    StartTls,
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
    /// Cisco's XACCOUNTING verb.
    Xact,
}

/// RCPT parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcptParams {
    pub notify: Option<Notify>,
    /// `ORCPT=addr-type;xtext`, decoded: (`rfc822`, address).
    pub orcpt: Option<(String, String)>,
}

/// Why a line is not a command we take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Command unrecognized")]
    Unknown,
    #[error("Command not implemented")]
    NotImplemented,
    #[error("Invalid characters in command")]
    BadCharacters,
    #[error("Syntax error: {0}")]
    Syntax(&'static str),
    #[error("Invalid argument: {0}")]
    BadArgument(String),
    #[error("Parameter {0} not supported")]
    UnknownParameter(String),
}

impl ParseError {
    /// Reply code and enhanced status code (docs/contracts/smtp.md).
    pub fn reply_code(&self) -> (u16, &'static str) {
        match self {
            ParseError::Unknown => (500, "5.5.1"),
            ParseError::NotImplemented => (502, "5.5.1"),
            ParseError::BadCharacters => (500, "5.5.2"),
            ParseError::Syntax(_) => (501, "5.5.2"),
            ParseError::BadArgument(_) => (501, "5.5.4"),
            ParseError::UnknownParameter(_) => (555, "5.5.4"),
        }
    }
}

/// Parse one command line (without CRLF).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    if line.contains(&0) {
        return Err(ParseError::BadCharacters);
    }
    let line = std::str::from_utf8(line).map_err(|_| ParseError::BadCharacters)?;
    let line = line.trim_end_matches([' ', '\t']);
    let (verb, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], line[i + 1..].trim_start_matches([' ', '\t'])),
        None => (line, ""),
    };
    let upper = verb.to_ascii_uppercase();
    let no_args = |c: Command| {
        if rest.is_empty() {
            Ok(c)
        } else {
            Err(ParseError::Syntax("no arguments allowed"))
        }
    };
    match upper.as_str() {
        "EHLO" | "HELO" => {
            let domain = rest.split_whitespace().next().unwrap_or("");
            if domain.is_empty() {
                return Err(ParseError::Syntax(
                    "EHLO/HELO needs a domain or address literal",
                ));
            }
            if domain.len() > 255 {
                return Err(ParseError::BadArgument(
                    "domain longer than 255 octets".into(),
                ));
            }
            Ok(if upper == "EHLO" {
                Command::Ehlo(domain.to_string())
            } else {
                Command::Helo(domain.to_string())
            })
        }
        "MAIL" => {
            let r =
                strip_keyword(rest, "FROM:").ok_or(ParseError::Syntax("MAIL FROM:<address>"))?;
            let (path, params) = path_and_params(r)?;
            Ok(Command::Mail {
                path,
                params: mail_params(params)?,
            })
        }
        "RCPT" => {
            let r = strip_keyword(rest, "TO:").ok_or(ParseError::Syntax("RCPT TO:<address>"))?;
            let (path, params) = path_and_params(r)?;
            if path.is_empty() {
                return Err(ParseError::Syntax("an empty recipient"));
            }
            Ok(Command::Rcpt {
                path,
                params: rcpt_params(params)?,
            })
        }
        "DATA" => no_args(Command::Data),
        "RSET" => no_args(Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_args(Command::Quit),
        "VRFY" => {
            if rest.is_empty() {
                Err(ParseError::Syntax("VRFY needs an argument"))
            } else {
                Ok(Command::Vrfy(rest.to_string()))
            }
        }
        "EXPN" => Ok(Command::Expn),
        "HELP" => Ok(Command::Help(rest.to_string())),
        "STARTTLS" => {
            if rest.is_empty() {
                Ok(Command::StartTls)
            } else {
                Err(ParseError::BadArgument(
                    "STARTTLS takes no arguments".into(),
                ))
            }
        }
        "AUTH" => {
            let mut it = rest.split_whitespace();
            let mechanism = it
                .next()
                .ok_or(ParseError::Syntax("AUTH mechanism [initial-response]"))?
                .to_ascii_uppercase();
            let initial = it.next().map(str::to_string);
            if it.next().is_some() {
                return Err(ParseError::Syntax("AUTH mechanism [initial-response]"));
            }
            Ok(Command::Auth { mechanism, initial })
        }
        "XACT" => no_args(Command::Xact),
        "TURN" | "ETRN" | "ATRN" | "BDAT" | "BURL" | "SEND" | "SOML" | "SAML" => {
            Err(ParseError::NotImplemented)
        }
        _ => Err(ParseError::Unknown),
    }
}

/// `FROM:` / `TO:` case-insensitively, then optional spaces.
fn strip_keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let head = s.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw)
        .then(|| s[kw.len()..].trim_start_matches(' '))
}

/// `<path> params…`: the address inside the angle brackets (source route removed, quotes
/// of a quoted local part removed) and the parameter text.
fn path_and_params(s: &str) -> Result<(String, &str), ParseError> {
    let inner = s
        .strip_prefix('<')
        .ok_or(ParseError::Syntax("the address must be in angle brackets"))?;
    // Find the closing '>' outside a quoted string.
    let (mut quoted, mut escaped, mut end) = (false, false, None);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let end = end.ok_or(ParseError::Syntax("missing '>'"))?;
    let mut path = &inner[..end];
    let params = &inner[end + 1..];
    if !params.is_empty() && !params.starts_with(' ') {
        return Err(ParseError::Syntax("a space must follow '>'"));
    }
    if path.starts_with('@') {
        // RFC 5321 §4.1.2 A-d-l: "@a,@b:mailbox"; ignore the route.
        path = path
            .split_once(':')
            .map(|(_, m)| m)
            .ok_or(ParseError::Syntax("a source route without ':'"))?;
    }
    if path.len() > 256 {
        return Err(ParseError::BadArgument(
            "path longer than 256 octets".into(),
        ));
    }
    let path = unquote_local(path)?;
    if path.chars().any(|c| c.is_control()) {
        return Err(ParseError::BadCharacters);
    }
    Ok((path, params.trim()))
}

/// `"FAX=+1 408"@x` → `FAX=+1 408@x` (the quotes go, the content stays: addresses are
/// checked afterwards).
fn unquote_local(path: &str) -> Result<String, ParseError> {
    let Some(rest) = path.strip_prefix('"') else {
        return Ok(path.to_string());
    };
    let mut out = String::with_capacity(path.len());
    let mut chars = rest.chars();
    loop {
        match chars.next() {
            None => return Err(ParseError::Syntax("unterminated quoted local part")),
            Some('\\') => out.push(chars.next().ok_or(ParseError::Syntax("dangling '\\'"))?),
            Some('"') => break,
            Some(c) => out.push(c),
        }
    }
    out.extend(chars);
    Ok(out)
}

fn params(s: &str) -> impl Iterator<Item = (String, &str)> {
    s.split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_ascii_uppercase(), v),
            None => (p.to_ascii_uppercase(), ""),
        })
}

fn mail_params(s: &str) -> Result<MailParams, ParseError> {
    let mut m = MailParams::default();
    for (k, v) in params(s) {
        // Echo at most 60 characters of the value: replies stay under 512 octets (found by
        // fuzzing: a 4000-character SIZE= value came back whole).
        let bad = |what: &str| ParseError::BadArgument(format!("{k}={}: {what}", truncate(v, 60)));
        match k.as_str() {
            "SIZE" if m.size.is_none() => {
                m.size = Some(
                    v.parse()
                        .ok()
                        .filter(|_| v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| bad("not a number"))?,
                )
            }
            "BODY" if m.body.is_none() => {
                m.body = Some(match v.to_ascii_uppercase().as_str() {
                    "7BIT" => Body::SevenBit,
                    "8BITMIME" => Body::EightBitMime,
                    "BINARYMIME" => {
                        return Err(ParseError::UnknownParameter("BODY=BINARYMIME".into()));
                    }
                    _ => return Err(bad("expected 7BIT or 8BITMIME")),
                })
            }
            "RET" if m.ret.is_none() => {
                m.ret = Some(match v.to_ascii_uppercase().as_str() {
                    "FULL" => Ret::Full,
                    "HDRS" => Ret::Hdrs,
                    _ => return Err(bad("expected FULL or HDRS")),
                })
            }
            "ENVID" if m.envid.is_none() => {
                let d = xtext_decode(v).ok_or_else(|| bad("bad xtext"))?;
                if d.is_empty() || d.len() > 100 {
                    return Err(bad("1 to 100 characters"));
                }
                m.envid = Some(d);
            }
            // RFC 4954 §5: accepted and ignored (we are the final destination).
            "AUTH" => {
                xtext_decode(v).ok_or_else(|| bad("bad xtext"))?;
            }
            "SIZE" | "BODY" | "RET" | "ENVID" => return Err(bad("given twice")),
            _ => return Err(ParseError::UnknownParameter(truncate(&k, 40))),
        }
    }
    Ok(m)
}

fn rcpt_params(s: &str) -> Result<RcptParams, ParseError> {
    let mut r = RcptParams::default();
    for (k, v) in params(s) {
        let bad = |what: &str| ParseError::BadArgument(format!("{k}={}: {what}", truncate(v, 60)));
        match k.as_str() {
            "NOTIFY" if r.notify.is_none() => {
                let mut n = Notify::default();
                for item in v.split(',') {
                    match item.to_ascii_uppercase().as_str() {
                        "NEVER" => n.never = true,
                        "SUCCESS" => n.success = true,
                        "FAILURE" => n.failure = true,
                        "DELAY" => n.delay = true,
                        _ => return Err(bad("expected NEVER or SUCCESS,FAILURE,DELAY")),
                    }
                }
                if n.never && (n.success || n.failure || n.delay) {
                    return Err(bad("NEVER cannot be combined"));
                }
                r.notify = Some(n);
            }
            "ORCPT" if r.orcpt.is_none() => {
                let (ty, addr) = v
                    .split_once(';')
                    .ok_or_else(|| bad("expected TYPE;xtext"))?;
                let addr = xtext_decode(addr).ok_or_else(|| bad("bad xtext"))?;
                if ty.is_empty() || addr.is_empty() || addr.len() > 500 {
                    return Err(bad("empty or too long"));
                }
                if addr.chars().any(char::is_control) {
                    // An unencoded "+14…" decodes to a control character.
                    return Err(bad("control characters (was '+' left unencoded?)"));
                }
                r.orcpt = Some((ty.to_ascii_lowercase(), addr));
            }
            "NOTIFY" | "ORCPT" => return Err(bad("given twice")),
            _ => return Err(ParseError::UnknownParameter(truncate(&k, 40))),
        }
    }
    Ok(r)
}

/// RFC 3461 §4 xtext: `+HH` (upper-case hex) or a character 33–126 other than `+` and `=`.
pub fn xtext_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                let h = b.get(i + 1..i + 3)?;
                let hex = |c: u8| match c {
                    b'0'..=b'9' => Some(c - b'0'),
                    b'A'..=b'F' => Some(c - b'A' + 10),
                    _ => None,
                };
                out.push(hex(h[0])? << 4 | hex(h[1])?);
                i += 3;
            }
            b'=' => return None,
            c @ 33..=126 => {
                out.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// xtext encoding (for DSN fields that carry addresses).
pub fn xtext_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            o.push(b as char);
        } else {
            o.push_str(&format!("+{b:02X}"));
        }
    }
    o
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, ParseError> {
        parse(s.as_bytes())
    }

    #[test]
    fn cisco_transcript_lines() {
        assert_eq!(
            p("EHLO from anyserver.com"),
            Ok(Command::Ehlo("from".into()))
        );
        assert_eq!(
            p("mail from:<>"),
            Ok(Command::Mail {
                path: "".into(),
                params: MailParams::default()
            })
        );
        assert_eq!(
            p("rcpt to:<FAX=+1408555-7442@cisco.com>"),
            Ok(Command::Rcpt {
                path: "FAX=+1408555-7442@cisco.com".into(),
                params: RcptParams::default()
            })
        );
        assert_eq!(p("xact"), Ok(Command::Xact));
        assert_eq!(p("DATA"), Ok(Command::Data));
    }

    #[test]
    fn parameters() {
        let Ok(Command::Mail { params, .. }) =
            p("MAIL FROM:<a@b> SIZE=1000 BODY=8bitmime RET=HDRS ENVID=QQ+2B1 AUTH=<>")
        else {
            panic!()
        };
        assert_eq!(params.size, Some(1000));
        assert_eq!(params.body, Some(Body::EightBitMime));
        assert_eq!(params.ret, Some(Ret::Hdrs));
        assert_eq!(params.envid.as_deref(), Some("QQ+1"));
        let Ok(Command::Rcpt { path, params }) = p(
            "RCPT TO: <@relay.x,@y:FAX=+1408555-7442@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;FAX+3D+2B1408555-7442@example.com",
        ) else {
            panic!()
        };
        assert_eq!(path, "FAX=+1408555-7442@example.com");
        assert!(params.notify.unwrap().success && params.notify.unwrap().failure);
        assert_eq!(
            params.orcpt,
            Some(("rfc822".into(), "FAX=+1408555-7442@example.com".into()))
        );
        assert_eq!(
            p("MAIL FROM:<a@b> SMTPUTF8").unwrap_err().reply_code(),
            (555, "5.5.4")
        );
        assert_eq!(
            p("MAIL FROM:<a@b> BODY=BINARYMIME")
                .unwrap_err()
                .reply_code(),
            (555, "5.5.4")
        );
        assert_eq!(
            p("MAIL FROM:<a@b> SIZE=x").unwrap_err().reply_code(),
            (501, "5.5.4")
        );
        assert_eq!(
            p("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS")
                .unwrap_err()
                .reply_code(),
            (501, "5.5.4")
        );
        assert_eq!(
            p("RCPT TO:<a@b> ORCPT=rfc822;+14")
                .unwrap_err()
                .reply_code(),
            (501, "5.5.4")
        );
    }

    #[test]
    fn syntax_and_garbage() {
        assert_eq!(p("MAIL FROM:a@b").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(p("MAIL TO:<a@b>").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(p("RCPT TO:<>").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(p("RCPT TO:<a@b").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(p("FOO bar").unwrap_err().reply_code(), (500, "5.5.1"));
        assert_eq!(p("").unwrap_err().reply_code(), (500, "5.5.1"));
        assert_eq!(p("BDAT 10").unwrap_err().reply_code(), (502, "5.5.1"));
        assert_eq!(
            parse(b"NOOP \xff\xfe").unwrap_err().reply_code(),
            (500, "5.5.2")
        );
        assert_eq!(parse(b"NO\0OP").unwrap_err().reply_code(), (500, "5.5.2"));
        assert_eq!(p("DATA x").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(p("EHLO").unwrap_err().reply_code(), (501, "5.5.2"));
        assert_eq!(
            p("RCPT TO:<\"FAX=+1 408 555 7442\"@x>"),
            Ok(Command::Rcpt {
                path: "FAX=+1 408 555 7442@x".into(),
                params: RcptParams::default()
            })
        );
        assert_eq!(
            p("RCPT TO:<postmaster>").unwrap(),
            Command::Rcpt {
                path: "postmaster".into(),
                params: RcptParams::default()
            }
        );
    }

    #[test]
    fn xtext() {
        assert_eq!(xtext_encode("FAX=+1 x"), "FAX+3D+2B1+20x");
        assert_eq!(xtext_decode("FAX+3D+2B1+20x").as_deref(), Some("FAX=+1 x"));
        assert_eq!(xtext_decode("+1"), None);
        assert_eq!(xtext_decode("a=b"), None);
        assert_eq!(xtext_decode("+zz"), None);
    }
}
