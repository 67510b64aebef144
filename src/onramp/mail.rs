//! The fax-mail of a received fax (RFC 2305 §2.2 simple mode, RFC 2532 extended):
//! `multipart/mixed` with a `text/plain` summary of the call, then the pages as one
//! `image/tiff; application=faxbw` file (TIFF-F, RFC 3949 profile S: MH, one IFD a page),
//! and, when `[onramp] attach` asks, one `image/png` per page and an `application/pdf`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use softfax_dsp::image::Page;
use softfax_dsp::t4::Coding;
use softfax_dsp::tiff;

use super::config::Attach;
use super::spool::{CallEnd, CallStart};
use crate::accounting::rfc5322;

/// Everything the message says.
pub struct Fax<'a> {
    pub gateway_id: &'a str,
    pub from: &'a str,
    pub start: &'a CallStart,
    /// `None`: the call was cut off (the gateway stopped during it).
    pub end: Option<&'a CallEnd>,
    pub pages: &'a [Page],
    pub attach: Attach,
}

/// Printable ASCII without the characters that would end a quoted string or a header.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// The summary for people, CRLF line ends.
pub fn summary(f: &Fax) -> String {
    let mut t = String::new();
    let mut line = |k: &str, v: String| t.push_str(&format!("{k:<14}{v}\r\n"));
    let started = UNIX_EPOCH + Duration::from_secs(f.start.started_unix);
    line(
        "Fax from:",
        match f.end.map(|e| clean(&e.remote_ident)) {
            Some(id) if !id.is_empty() => id,
            _ => "(the caller sent no identity)".into(),
        },
    );
    line("Called:", clean(&f.start.called));
    line(
        "Line:",
        format!("{} ({})", clean(&f.start.port), clean(&f.start.uri)),
    );
    line("Received:", rfc5322(started));
    line("Pages:", f.pages.len().to_string());
    match f.end {
        Some(e) => {
            line(
                "Speed:",
                format!(
                    "{} bit/s {}, {}{}",
                    e.bit_rate,
                    e.modulation,
                    e.compression.to_uppercase(),
                    if e.ecm { ", ECM" } else { "" }
                ),
            );
            line(
                "Duration:",
                format!(
                    "{} s (fax signals {} s)",
                    e.call_s.floor() as u64,
                    e.modem_s.floor() as u64
                ),
            );
            line(
                "Result:",
                format!(
                    "{} (T.30 hangup {}, Q.850 cause {})",
                    e.hangup_text, e.hangup_code, e.q850
                ),
            );
        }
        None => line(
            "Result:",
            "the call was cut off when the gateway stopped; these are the pages it had kept".into(),
        ),
    }
    let bad: Vec<String> = f
        .pages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p.quality?)))
        .filter(|(_, q)| q.bad_rows > 0)
        .map(|(i, q)| {
            format!(
                "page {}: {} bad rows (at most {} in a row)",
                i + 1,
                q.bad_rows,
                q.max_consecutive_bad_rows
            )
        })
        .collect();
    line(
        "Copy quality:",
        if bad.is_empty() {
            "good (every row decoded)".into()
        } else {
            bad.join("; ")
        },
    );
    if let Some(p) = f.pages.first() {
        line(
            "Resolution:",
            format!("{} x {} dpi", p.resolution.x_dpi, p.resolution.y_dpi),
        );
    }
    t.push_str(&format!(
        "\r\nReceived by the softfax fax gateway {}.\r\n",
        f.gateway_id
    ));
    t
}

/// The whole message, CRLF line ends.
pub fn build(f: &Fax, date: SystemTime) -> Result<Vec<u8>, tiff::TiffError> {
    let id = &f.start.id;
    let boundary = format!("softfax-fax-{id}");
    let csi = f.end.map(|e| clean(&e.remote_ident)).unwrap_or_default();
    let who = if csi.is_empty() {
        "an unidentified fax".to_string()
    } else {
        csi.clone()
    };
    let n = f.pages.len();
    let mut m = String::new();
    m.push_str(&format!(
        "From: \"Fax {}\" <{}>\r\n",
        if csi.is_empty() { "gateway" } else { &csi },
        f.from
    ));
    m.push_str(&format!("To: <{}>\r\n", f.start.mailbox));
    m.push_str(&format!(
        "Subject: Fax from {who}, {n} page{}\r\n",
        if n == 1 { "" } else { "s" }
    ));
    m.push_str(&format!("Date: {}\r\n", rfc5322(date)));
    m.push_str(&format!("Message-ID: <fax-{id}@{}>\r\n", f.gateway_id));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is a fax received by a fax gateway, as MIME (RFC 2305).\r\n");
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    ));
    m.push_str(&summary(f));
    let mut out = m.into_bytes();
    let part = |out: &mut Vec<u8>, ctype: &str, name: &str, data: &[u8]| {
        out.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n"
            )
            .as_bytes(),
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        for chunk in b64.as_bytes().chunks(76) {
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
    };
    if f.attach.tiff {
        let tif = tiff::write_pages(
            f.pages,
            tiff::WriteOptions {
                coding: Some(Coding::Mh),
                align_eol: false,
            },
        )?;
        part(
            &mut out,
            "image/tiff; application=faxbw",
            &format!("fax-{id}.tif"),
            &tif,
        );
    }
    if f.attach.png {
        for (i, p) in f.pages.iter().enumerate() {
            let mut png = Vec::new();
            crate::pngout::page_png(p, &mut png).map_err(|e| tiff::TiffError::Unsupported {
                page: i,
                what: format!("PNG: {e}"),
            })?;
            part(
                &mut out,
                "image/png",
                &format!("fax-{id}-page-{}.png", i + 1),
                &png,
            );
        }
    }
    if f.attach.pdf {
        let pdf = super::pdf::write(f.pages).map_err(|e| tiff::TiffError::Unsupported {
            page: e.page.saturating_sub(1),
            what: e.to_string(),
        })?;
        part(&mut out, "application/pdf", &format!("fax-{id}.pdf"), &pdf);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(out)
}
