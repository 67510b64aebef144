//! Bodies of the cargo-fuzz targets `smtp_command` and `fax_address`
//! (fuzz/fuzz_targets/), kept here so that `tests/fuzz_corpus.rs` replays the committed
//! corpora through the same code on the stable toolchain.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::parser::{self, Command};
use super::session::{Action, MAX_AUTH_LINE, Session, SessionConfig};
use crate::address;
use crate::config::Config;

/// SMTP words the grammar mode strings together.
const TOKENS: &[&[u8]] = &[
    b"EHLO client.test\r\n",
    b"HELO x\r\n",
    b"MAIL FROM:<",
    b"RCPT TO:<",
    b"FAX=+1408555-7442",
    b"@example.com",
    b"@other.org",
    b">",
    b" SIZE=",
    b" NOTIFY=SUCCESS,FAILURE",
    b" ORCPT=rfc822;FAX+3D+2B1",
    b" RET=HDRS ENVID=x",
    b" BODY=8BITMIME",
    b"DATA\r\n",
    b"\r\n.\r\n",
    b"\r\n",
    b"\n",
    b".",
    b"..",
    b"XACT\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"VRFY x\r\n",
    b"AUTH PLAIN AGEAYg==\r\n",
    b"AUTH LOGIN\r\n",
    b"STARTTLS\r\n",
    b"QUIT\r\n",
    b"/T33S=12",
    b"postmaster",
    b"\"FAX=+1 4\"",
    b"\0",
    b"\xff",
];

fn config() -> Arc<SessionConfig> {
    static CFG: OnceLock<Arc<SessionConfig>> = OnceLock::new();
    CFG.get_or_init(|| {
        let text = "gateway_id = \"gw.fuzz.example\"\nlisten = \"127.0.0.1:0\"\nspool = \"/nonexistent\"\ndomains = [\"example.com\"]\n[[line]]\nuri = \"sim:\"\n[[dialplan]]\nmatch = \"^\\\\+1408(\\\\d+)$\"\ndial = \"$1\"\ncover_page = true\n[policy]\ndeny = [\"^\\\\+1900\"]\n[limits]\nmax_message_size = 4096\n";
        Arc::new(SessionConfig {
            config: Arc::new(Config::parse(text, "fuzz", Path::new("/")).expect("valid")),
            tls_available: false,
        })
    })
    .clone()
}

/// Parse one line, then drive a whole session with the input — raw (byte 0 even) or as
/// a string of SMTP words (byte 0 odd: every byte picks a word) — fed in pieces. Checks:
/// no panic, every reply is whole CRLF lines under 512 octets with a 3-digit code, buffered
/// input stays bounded.
pub fn smtp_command(data: &[u8]) {
    if let Ok(Command::Rcpt { path, .. }) = parser::parse(data) {
        assert!(!path.is_empty());
    }
    let [sel, rest @ ..] = data else { return };
    let input: Vec<u8> = if sel & 1 == 1 {
        rest.iter()
            .flat_map(|&b| TOKENS[b as usize % TOKENS.len()].iter().copied())
            .collect()
    } else {
        rest.to_vec()
    };
    let chunk = 1 + (*sel as usize >> 1);
    let mut s = Session::new(config(), None);
    let check = |s: &mut Session| {
        while let Some(a) = s.poll() {
            match a {
                Action::Send(b) => {
                    assert!(b.ends_with(b"\r\n"));
                    for line in b.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                        assert!(line.len() < 512, "reply line too long");
                        assert!(line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit));
                    }
                }
                Action::Deliver(m) => {
                    assert!(!m.recipients.is_empty());
                    assert!(m.data.len() <= 4096);
                    s.delivered("250 2.5.0 ok\r\n".into());
                }
                Action::StartTls => s.tls_started(),
                _ => {}
            }
        }
    };
    check(&mut s);
    for piece in input.chunks(chunk) {
        s.input(piece);
        check(&mut s);
        assert!(
            s.buffered() <= MAX_AUTH_LINE,
            "input buffer grew to {}",
            s.buffered()
        );
        if s.is_closed() {
            break;
        }
    }
    s.eof();
    check(&mut s);
}

/// RFC 2304 addresses: no panic; what parses is `+` and 1–15 digits and parses again the
/// same when written back without separators.
pub fn fax_address(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = address::parse_number(s);
    if let Ok(a) = address::parse(s) {
        assert!(a.number.starts_with('+'));
        let digits = &a.number[1..];
        assert!((1..=15).contains(&digits.len()));
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        let again = address::parse(&format!("FAX={}@{}", a.number, a.domain)).expect("round trip");
        assert_eq!(again.number, a.number);
    }
}
