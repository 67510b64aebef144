//! Documents → fax pages: a fax-mail (RFC 5322 + MIME) becomes bilevel pages at fax geometry.
//!
//! What it implements: the content rules of RFC 3965 simple mode (ITU-T T.37) for an off-ramp —
//! MIME (RFC 2045–2049) with `image/tiff` (RFC 3302; profiles S and F of RFC 3949) and
//! `text/plain` cover notes in `multipart/mixed` — plus what real mail clients send around
//! them. The page geometry is T.4 §2: 1728 pels on the 215 mm scan line (R8), 3.85 / 7.7 / 15.4
//! lines per mm (standard / fine / superfine), A4 (297 mm) or Letter (279.4 mm) long.
//! The SMTP side follows `docs/contracts/smtp.md` (reply codes) and `docs/contracts/accounting.md`
//! (abort causes).
//!
//! How a message is walked ([`message_to_pages`]), parsed by mail-parser (any transfer
//! encoding; text decoded to UTF-8 from its declared charset):
//! - `multipart/alternative`: one alternative — the first non-empty `text/plain`, else the first
//!   non-empty `text/enriched` or `text/richtext`, else the first non-empty `text/html`, else
//!   the first TIFF, else the first nested multipart that renders (the issue asks for
//!   text/plain first; the reference page's "prefer TIFF" is noted but not followed).
//! - `multipart/signed`: the signed content only (the signature is not printable).
//! - `multipart/related` (RFC 2387): its root only (the `start` part, else the first): the
//!   other parts are what the root refers to, such as the pictures of an HTML page, which are
//!   not faxed.
//! - any other multipart (`mixed`, `digest`, `report`, unknown subtypes, RFC 2046
//!   §5.1.7): every part in order, each starting on a new page.
//! - `message/rfc822`: a header block (From, To, Cc, Subject, Date) and then its body.
//! - `text/plain` and unknown `text/*` (RFC 2046 §4.1.4): rendered, see [`text`].
//!   `text/enriched` (RFC 1896), `text/richtext` (RFC 1341) and `text/html`: turned into
//!   plain text first (commands and tags dropped, paragraph breaks kept, entities decoded),
//!   see [`markup`].
//! - `image/tiff` (also `image/tif`, `image/x-tiff`, `image/tiff-fx`, or
//!   `application/octet-stream` holding TIFF bytes): every page, see [`image`].
//! - `application/pdf` (or `application/octet-stream` holding a PDF): every page, rendered
//!   at the fax's resolution, see [`pdf`]; corrupt, encrypted or too slow: 554 5.6.1.
//! - anything else: refused (554 5.6.1, abort cause 3; 4 for text).
//!
//! Empty text parts make no page; a message that makes no page at all is
//! [`DocumentError::Empty`]. With `cover_page` a cover ([`cover`]) is put first and counted.
//!
//! **Limits** (hostile mail gets a clear error, memory stays bounded): at most [`MAX_PAGES`]
//! pages per fax (cover included), checked before a page is allocated; MIME nesting at most
//! [`MAX_DEPTH`] deep; TIFF pages at most [`MAX_SOURCE_PELS`] pels, a message's TIFFs at
//! most [`MAX_MESSAGE_SOURCE_PELS`] in all. Base64 and quoted-printable only shrink data.
//!
//! Greyscale and colour TIFFs (and bilevel ones in LZW or Deflate) are thresholded at 50 %
//! luminance ([`grey`]): users prefer a fax to a refusal. Every image is scaled, fitted to the
//! scan line and split or padded to the paper length by [`scale`].
//!
//! **Not supported:** palette, YCbCr, Lab, JPEG- and JBIG-coded TIFFs (profiles C/L/M/J),
//! PNG, GIF, JPEG — each is refused with the media type or the TIFF's problem in the reply;
//! right-to-left and CJK text (drawn as U+FFFD).
//!
//! Tested by: unit tests here and in the submodules; `tests/documents.rs` (messages written by
//! Python's `email` package with TIFFs written by libtiff's tools, compared with netpbm-scaled
//! references; text checked through the T.4 round trip); `fuzz/` target `mime_to_pages`.

pub mod cover;
pub mod font;
pub mod fuzzing;
pub mod grey;
pub mod image;
pub mod markup;
pub mod pdf;
pub mod scale;
pub mod text;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use softfax_dsp::image::{Page, Resolution};
use softfax_dsp::tiff::TiffError;

/// At most this many pages per fax, cover page included.
pub const MAX_PAGES: usize = 100;
/// MIME parts nest at most this deep (multiparts and attached messages).
pub const MAX_DEPTH: usize = 32;
/// The largest TIFF page decoded, in pels (a 600 dpi A3 page is 70 M).
pub const MAX_SOURCE_PELS: u64 = 100_000_000;
/// The most TIFF pels one message may declare in all pages together.
pub const MAX_MESSAGE_SOURCE_PELS: u64 = 2_000_000_000;

/// The paper the pages are cut for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Length in mm.
    pub fn length_mm(self) -> f64 {
        match self {
            Paper::A4 => 297.0,
            Paper::Letter => 279.4,
        }
    }
}

/// How to render a message.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Resolution of the pages: [`Resolution::STANDARD`], `FINE` or `SUPERFINE` (R8 × 3.85,
    /// 7.7, 15.4 l/mm); R16 (408 dpi) widths are also handled.
    pub resolution: Resolution,
    pub paper: Paper,
    /// Put a generated cover page first.
    pub cover_page: bool,
    /// The fax number shown on the cover page, e.g. "+14085557442".
    pub recipient: String,
    /// The gateway's name shown on the cover page.
    pub gateway_id: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            resolution: Resolution::FINE,
            paper: Paper::A4,
            cover_page: false,
            recipient: String::new(),
            gateway_id: String::new(),
        }
    }
}

/// The pages of a fax, ready for T.4 coding.
#[derive(Debug, Clone, PartialEq)]
pub struct FaxDocument {
    /// Every page, `width` × paper length at the requested resolution, cover first.
    pub pages: Vec<Page>,
    /// How many of `pages` are generated cover pages (0 or 1): `fax_pages` counts them.
    pub cover_pages: usize,
}

/// Which component of the message a failure is about (abort_cause 3 or 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// TIFF and other images: abort_cause 3 ("TIF abort").
    Image,
    /// Text: abort_cause 4 ("text to fax process abort").
    Text,
}

/// Why a message cannot become fax pages.
#[derive(thiserror::Error, Debug)]
pub enum DocumentError {
    #[error("the message has nothing to fax: no text and no image")]
    Empty,
    #[error("{part}: unsupported media type {mime}")]
    UnsupportedMedia { part: String, mime: String },
    #[error("TIFF attachment {name}: {source}")]
    Tiff {
        name: String,
        #[source]
        source: TiffError,
    },
    #[error("PDF attachment {name}: {what}")]
    Pdf { name: String, what: String },
    #[error("too big for a fax: {what}")]
    Limit { kind: MediaKind, what: String },
    #[error("MIME structure: {0}")]
    Structure(String),
    #[error("bad render options: {0}")]
    Options(String),
}

impl DocumentError {
    /// A problem of the TIFF attachment `name`.
    pub fn tiff(name: &str, source: TiffError) -> DocumentError {
        DocumentError::Tiff {
            name: name.to_string(),
            source,
        }
    }

    /// The XACCOUNTING `abort_cause` (`docs/contracts/accounting.md`): 3 for TIFF and image problems, 4 for
    /// text and the mail-to-fax conversion as a whole.
    pub fn abort_cause(&self) -> u8 {
        match self {
            DocumentError::Tiff { .. } | DocumentError::Pdf { .. } => 3,
            DocumentError::UnsupportedMedia { mime, .. } => {
                if mime.starts_with("text/") {
                    4
                } else {
                    3
                }
            }
            DocumentError::Limit { kind, .. } => match kind {
                MediaKind::Image => 3,
                MediaKind::Text => 4,
            },
            DocumentError::Empty | DocumentError::Structure(_) | DocumentError::Options(_) => 4,
        }
    }

    /// The SMTP reply for this failure: (code, enhanced code, one-line text). The text is
    /// printable ASCII and at most 400 characters, safe for any reply line.
    pub fn smtp_reply(&self) -> (u16, &'static str, String) {
        let (code, esc, text) = match self {
            DocumentError::Empty => (554, "5.6.0", self.to_string()),
            DocumentError::UnsupportedMedia { mime, .. } => {
                (554, "5.6.1", format!("unsupported media type {mime}"))
            }
            DocumentError::Tiff { source, .. } => match source {
                TiffError::NotBilevel { .. }
                | TiffError::Unsupported { .. }
                | TiffError::BigTiff => (554, "5.6.1", self.to_string()),
                _ => (554, "5.6.5", self.to_string()),
            },
            DocumentError::Pdf { .. } => (554, "5.6.1", self.to_string()),
            DocumentError::Limit { .. } => (554, "5.3.4", self.to_string()),
            DocumentError::Structure(_) => (554, "5.6.0", self.to_string()),
            DocumentError::Options(_) => (451, "4.3.5", self.to_string()),
        };
        (code, esc, reply_safe(&text, 400))
    }
}

/// `s` as printable ASCII (others become '?', whitespace runs one space), at most `max` chars.
fn reply_safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        if out.len() >= max {
            break;
        }
        let c = match c {
            c if c.is_ascii_graphic() => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// `s` without characters that take no cell (controls, combining marks …).
pub(crate) fn ignorable_str(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(text::ignorable) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .filter(|&c| !text::ignorable(c))
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// The page geometry for some options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub resolution: Resolution,
    /// Pels per row: 1728 at R8.
    pub width: u32,
    /// Rows per page (paper length).
    pub length: u32,
    /// Pels and lines per mm.
    pub x_per_mm: f64,
    pub y_per_mm: f64,
}

impl Geometry {
    /// The T.4 scan line: 1728 pels at R8 span 215 mm.
    pub const SCAN_LINE_MM: f64 = 215.0;

    pub fn new(resolution: Resolution, paper: Paper) -> Result<Geometry, DocumentError> {
        let (x, y) = (resolution.x_dpi, resolution.y_dpi);
        let ok = |v: f32| (50.0..=1200.0).contains(&v);
        if !(ok(x) && ok(y)) {
            return Err(DocumentError::Options(format!(
                "resolution {x} x {y} dpi (expected 50..1200 dpi, e.g. 204 x 196)"
            )));
        }
        let width = (1728.0 * f64::from(x) / 204.0).round() as u32;
        let y_per_mm = match y.round() as u32 {
            97..=99 => 3.85,
            195..=197 => 7.7,
            390..=392 => 15.4,
            _ => f64::from(y) / 25.4,
        };
        Ok(Geometry {
            resolution,
            width,
            length: (paper.length_mm() * y_per_mm).round() as u32,
            x_per_mm: f64::from(width) / Self::SCAN_LINE_MM,
            y_per_mm,
        })
    }

    /// A white page of this geometry.
    pub fn blank_page(&self) -> Page {
        Page::new(self.width, self.length, self.resolution)
    }
}

/// What one message may still use.
#[derive(Debug, Clone)]
pub struct Budget {
    pages_left: usize,
    source_pels_left: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

impl Budget {
    pub fn new() -> Budget {
        Budget {
            pages_left: MAX_PAGES,
            source_pels_left: MAX_MESSAGE_SOURCE_PELS,
        }
    }

    fn limit(kind: MediaKind) -> DocumentError {
        DocumentError::Limit {
            kind,
            what: format!("more than {MAX_PAGES} pages"),
        }
    }

    /// Fail unless `n` more pages fit.
    pub fn check_pages(&self, n: u64, kind: MediaKind) -> Result<(), DocumentError> {
        if n > self.pages_left as u64 {
            return Err(Self::limit(kind));
        }
        Ok(())
    }

    /// Use one page.
    pub fn take_page(&mut self, kind: MediaKind) -> Result<(), DocumentError> {
        self.pages_left = self.pages_left.checked_sub(1).ok_or(Self::limit(kind))?;
        Ok(())
    }

    /// Use `pels` of TIFF decoding.
    pub fn take_source_pels(&mut self, pels: u64, name: &str) -> Result<(), DocumentError> {
        self.source_pels_left =
            self.source_pels_left
                .checked_sub(pels)
                .ok_or_else(|| DocumentError::Limit {
                    kind: MediaKind::Image,
                    what: format!(
                        "the TIFF images up to {name} hold more than {} pels",
                        MAX_MESSAGE_SOURCE_PELS
                    ),
                })?;
        Ok(())
    }
}

/// Turn a whole RFC 5322 message into fax pages (see the module doc).
pub fn message_to_pages(
    raw_message: &[u8],
    opts: &RenderOptions,
) -> Result<FaxDocument, DocumentError> {
    let geom = Geometry::new(opts.resolution, opts.paper)?;
    if raw_message.iter().all(u8::is_ascii_whitespace) {
        return Err(DocumentError::Empty);
    }
    let msg = MessageParser::default()
        .parse(raw_message)
        .ok_or(DocumentError::Empty)?;
    let mut budget = Budget::new();
    if opts.cover_page {
        budget.take_page(MediaKind::Text)?;
    }
    let mut walker = Walker {
        geom: &geom,
        budget: &mut budget,
        pages: Vec::new(),
    };
    walker.message(&msg, 0)?;
    let mut pages = walker.pages;
    if pages.is_empty() {
        return Err(DocumentError::Empty);
    }
    let mut cover_pages = 0;
    if opts.cover_page {
        let info = cover::CoverInfo {
            to: opts.recipient.clone(),
            from: msg.from().map(address_text).unwrap_or_default(),
            subject: msg.subject().unwrap_or_default().to_string(),
            date: msg.date().map(|d| d.to_rfc822()).unwrap_or_default(),
            pages: pages.len() + 1,
            gateway_id: opts.gateway_id.clone(),
        };
        pages.insert(0, cover::render_cover(&info, &geom));
        cover_pages = 1;
    }
    tracing::debug!(pages = pages.len(), cover_pages, "message rendered");
    Ok(FaxDocument { pages, cover_pages })
}

fn address_text(a: &mail_parser::Address<'_>) -> String {
    let mut parts = Vec::new();
    for addr in a.iter() {
        match (addr.name(), addr.address()) {
            (Some(n), Some(e)) => parts.push(format!("{n} <{e}>")),
            (None, Some(e)) => parts.push(e.to_string()),
            (Some(n), None) => parts.push(n.to_string()),
            (None, None) => {}
        }
    }
    parts.join(", ")
}

/// Media types that are TIFF.
fn is_tiff_type(ctype: &str, subtype: &str) -> bool {
    ctype == "image" && matches!(subtype, "tiff" | "tif" | "x-tiff" | "tiff-fx")
}

fn looks_like_tiff(data: &[u8]) -> bool {
    data.starts_with(b"II*\0") || data.starts_with(b"MM\0*")
}

struct Walker<'a> {
    geom: &'a Geometry,
    budget: &'a mut Budget,
    pages: Vec<Page>,
}

impl Walker<'_> {
    fn message(&mut self, msg: &Message<'_>, depth: usize) -> Result<(), DocumentError> {
        if msg.parts.is_empty() {
            return Ok(());
        }
        self.part(msg, 0, depth)
    }

    fn part(&mut self, msg: &Message<'_>, id: u32, depth: usize) -> Result<(), DocumentError> {
        if depth > MAX_DEPTH {
            return Err(DocumentError::Structure(format!(
                "MIME parts nested more than {MAX_DEPTH} deep"
            )));
        }
        let Some(part) = msg.parts.get(id as usize) else {
            return Ok(());
        };
        let (ctype, subtype) = media_type(part);
        let mime = format!("{ctype}/{subtype}");
        let name = part
            .attachment_name()
            .map(|n| format!("'{n}'"))
            .unwrap_or_else(|| format!("part {}", id + 1));
        match &part.body {
            PartType::Multipart(children) => {
                if subtype == "alternative" {
                    self.alternative(msg, children, depth)
                } else if subtype == "signed" {
                    match children.first() {
                        Some(&c) => self.part(msg, c, depth + 1),
                        None => Ok(()),
                    }
                } else if subtype == "related" {
                    // RFC 2387 §3.2: the root is the part named by `start`, else the first; the
                    // others are resources of it (an HTML page's pictures), not pages.
                    let start = part
                        .content_type()
                        .and_then(|ct| ct.attribute("start"))
                        .map(|s| {
                            s.trim()
                                .trim_start_matches('<')
                                .trim_end_matches('>')
                                .trim()
                        });
                    let root = start
                        .and_then(|cid| {
                            children.iter().copied().find(|&c| {
                                msg.parts
                                    .get(c as usize)
                                    .and_then(|p| p.content_id())
                                    .is_some_and(|id| {
                                        id.trim_start_matches('<').trim_end_matches('>') == cid
                                    })
                            })
                        })
                        .or_else(|| children.first().copied());
                    match root {
                        Some(c) if c != id => self.part(msg, c, depth + 1),
                        _ => Ok(()),
                    }
                } else {
                    for &c in children {
                        if c == id {
                            continue;
                        }
                        self.part(msg, c, depth + 1)?;
                    }
                    Ok(())
                }
            }
            PartType::Message(inner) => {
                let block = header_block(inner);
                // A plain-text body shares its pages with the header block; any other body
                // starts on a page of its own after it.
                if let Some(root) = inner.parts.first()
                    && let PartType::Text(body) = &root.body
                    && media_type(root) == ("text".into(), "plain".into())
                {
                    let all = format!("{block}\n{body}");
                    text::render_text(&all, self.geom, self.budget, &mut self.pages)?;
                    return Ok(());
                }
                text::render_text(&block, self.geom, self.budget, &mut self.pages)?;
                self.message(inner, depth + 1)
            }
            PartType::Text(t) => {
                if ctype != "text" {
                    return Err(DocumentError::UnsupportedMedia { part: name, mime });
                }
                let plain = match subtype.as_str() {
                    "html" => html_text(t)?.into(),
                    "enriched" => markup::enriched_to_text(t, false).into(),
                    "richtext" => markup::enriched_to_text(t, true).into(),
                    _ => std::borrow::Cow::Borrowed(t.as_ref()),
                };
                text::render_text(&plain, self.geom, self.budget, &mut self.pages)?;
                Ok(())
            }
            PartType::Html(h) => {
                let plain = html_text(h)?;
                text::render_text(&plain, self.geom, self.budget, &mut self.pages)?;
                Ok(())
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                let octet = ctype == "application" && subtype == "octet-stream";
                let is_pdf = (ctype == "application"
                    && matches!(subtype.as_str(), "pdf" | "x-pdf"))
                    || (octet && b.starts_with(b"%PDF-"));
                let is_tiff = is_tiff_type(&ctype, &subtype) || (octet && looks_like_tiff(b));
                if is_pdf || is_tiff {
                    let mut to = scale::Target {
                        geom: self.geom,
                        budget: self.budget,
                        pages: &mut self.pages,
                    };
                    if is_pdf {
                        pdf::pdf_to_pages(b, &name, &mut to)?;
                    } else {
                        image::tiff_to_pages(b, &name, &mut to)?;
                    }
                    Ok(())
                } else if b.is_empty() && ctype != "text" {
                    // An empty attachment of any type carries nothing to fax, nor to refuse.
                    Ok(())
                } else {
                    Err(DocumentError::UnsupportedMedia { part: name, mime })
                }
            }
        }
    }

    fn alternative(
        &mut self,
        msg: &Message<'_>,
        children: &[u32],
        depth: usize,
    ) -> Result<(), DocumentError> {
        let get = |c: u32| msg.parts.get(c as usize);
        // The first non-empty text part of one of `subtypes`.
        let text_of = |subtypes: &[&str]| {
            children.iter().copied().find(|&c| {
                get(c).is_some_and(|p| {
                    let (t, s) = media_type(p);
                    t == "text"
                        && subtypes.contains(&s.as_str())
                        && matches!(&p.body, PartType::Text(x) | PartType::Html(x)
                            if !x.trim().is_empty())
                })
            })
        };
        let plain = text_of(&["plain"])
            .or_else(|| text_of(&["enriched", "richtext"]))
            .or_else(|| text_of(&["html"]));
        let tiff = children.iter().copied().find(|&c| {
            get(c).is_some_and(|p| {
                let (t, s) = media_type(p);
                is_tiff_type(&t, &s)
            })
        });
        if let Some(c) = plain.or(tiff) {
            return self.part(msg, c, depth + 1);
        }
        // Nested multiparts (e.g. multipart/related holding HTML and images): the first that
        // renders wins.
        let mut first_err = None;
        for &c in children {
            if get(c).is_some_and(|p| matches!(p.body, PartType::Multipart(_))) {
                let before = self.pages.len();
                let budget = self.budget.clone();
                match self.part(msg, c, depth + 1) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        self.pages.truncate(before);
                        *self.budget = budget;
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        match children.first().and_then(|&c| get(c)) {
            Some(p) => {
                let (t, s) = media_type(p);
                Err(DocumentError::UnsupportedMedia {
                    part: "multipart/alternative".into(),
                    mime: format!("{t}/{s}"),
                })
            }
            None => Ok(()),
        }
    }
}

/// An HTML part as text for the text pages; too deeply nested HTML is refused.
fn html_text(html: &str) -> Result<String, DocumentError> {
    markup::html_to_text(html, text::COLUMNS as usize).ok_or_else(|| DocumentError::Limit {
        kind: MediaKind::Text,
        what: format!(
            "an HTML part nests elements more than {} deep",
            markup::MAX_HTML_DEPTH
        ),
    })
}

/// The part's media type, lower case; text/plain when it has none (RFC 2045 §5.2).
fn media_type(part: &mail_parser::MessagePart<'_>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        ),
        None => match part.body {
            PartType::Message(_) => ("message".into(), "rfc822".into()),
            _ => ("text".into(), "plain".into()),
        },
    }
}

/// From, To, Cc, Subject and Date of an attached message, as text lines.
fn header_block(m: &Message<'_>) -> String {
    let mut s = String::from("---------- Attached message ----------\n");
    let mut line = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            s.push_str(k);
            s.push_str(&v.replace(['\r', '\n'], " "));
            s.push('\n');
        }
    };
    line("From:    ", m.from().map(address_text));
    line("To:      ", m.to().map(address_text));
    line("Cc:      ", m.cc().map(address_text));
    line("Subject: ", m.subject().map(str::to_string));
    line("Date:    ", m.date().map(|d| d.to_rfc822()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RenderOptions {
        RenderOptions::default()
    }

    fn black(p: &Page) -> usize {
        p.data.iter().map(|b| b.count_ones() as usize).sum()
    }

    #[test]
    fn geometry_per_resolution_and_paper() {
        for (res, paper, len) in [
            (Resolution::STANDARD, Paper::A4, 1143),
            (Resolution::FINE, Paper::A4, 2287),
            (Resolution::SUPERFINE, Paper::A4, 4574),
            (Resolution::STANDARD, Paper::Letter, 1076),
            (Resolution::FINE, Paper::Letter, 2151),
        ] {
            let g = Geometry::new(res, paper).unwrap();
            assert_eq!((g.width, g.length), (1728, len), "{res:?} {paper:?}");
        }
        let bad = Resolution {
            x_dpi: f32::NAN,
            y_dpi: 196.0,
        };
        assert!(matches!(
            Geometry::new(bad, Paper::A4),
            Err(DocumentError::Options(_))
        ));
    }

    #[test]
    fn plain_text_message() {
        let m = b"From: a@b.example\r\nSubject: hi\r\n\r\nHello, fax.\r\nSecond line.\r\n";
        let d = message_to_pages(m, &opts()).unwrap();
        assert_eq!(d.cover_pages, 0);
        assert_eq!(d.pages.len(), 1);
        let p = &d.pages[0];
        assert_eq!((p.width, p.height), (1728, 2287));
        assert!(black(p) > 500);
    }

    #[test]
    fn empty_messages_are_refused() {
        for m in [
            &b""[..],
            b"\r\n  \r\n",
            b"Subject: nothing\r\n\r\n",
            b"Subject: x\r\n\r\n   \r\n\r\n",
        ] {
            let e = message_to_pages(m, &opts()).unwrap_err();
            assert!(matches!(e, DocumentError::Empty), "{e}");
            assert_eq!(e.smtp_reply().0, 554);
            assert_eq!(e.abort_cause(), 4);
        }
    }

    #[test]
    fn unsupported_media_is_refused_with_its_type() {
        let m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAAAAACw=\r\n--b--\r\n";
        let e = message_to_pages(m, &opts()).unwrap_err();
        assert_eq!(
            e.smtp_reply(),
            (554, "5.6.1", "unsupported media type image/gif".into())
        );
        assert_eq!(e.abort_cause(), 3);
        let h = b"Content-Type: text/html\r\n\r\n<p>hi</p>\r\n";
        assert_eq!(message_to_pages(h, &opts()).unwrap().pages.len(), 1);
    }

    #[test]
    fn alternative_prefers_plain_text() {
        let m = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--b--\r\n";
        let d = message_to_pages(m, &opts()).unwrap();
        assert_eq!(d.pages.len(), 1);
        let only_gif = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: image/gif\r\n\r\nGIF89a\r\n--b--\r\n";
        let e = message_to_pages(only_gif, &opts()).unwrap_err();
        assert!(e.to_string().contains("image/gif"), "{e}");
    }

    #[test]
    fn cover_page_is_first_and_counted() {
        let m = b"From: Alice <alice@example.com>\r\nSubject: Quarterly report\r\nDate: Fri, 27 Nov 2026 02:00:00 +0000\r\n\r\nBody.\r\n";
        let o = RenderOptions {
            cover_page: true,
            recipient: "+14085557442".into(),
            gateway_id: "gw.example.com".into(),
            ..opts()
        };
        let d = message_to_pages(m, &o).unwrap();
        assert_eq!((d.pages.len(), d.cover_pages), (2, 1));
        assert!(black(&d.pages[0]) > black(&d.pages[1]));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut m = Vec::new();
        for i in 0..200 {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
        match message_to_pages(&m, &opts()) {
            Err(DocumentError::Structure(s)) => assert!(s.contains("nested"), "{s}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replies_are_single_printable_lines() {
        let e = DocumentError::UnsupportedMedia {
            part: "x".into(),
            mime: "image/\r\nEVIL\u{7f}é".into(),
        };
        let (_, _, t) = e.smtp_reply();
        assert!(t.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{t}");
        assert_eq!(t, "unsupported media type image/ EVIL??");
    }
}

#[cfg(test)]
mod structure_tests {
    use super::*;

    fn pages(m: &[u8]) -> Result<FaxDocument, DocumentError> {
        message_to_pages(m, &RenderOptions::default())
    }

    #[test]
    fn attached_message_gets_a_header_block_and_its_body() {
        let m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: Bob <bob@example.com>\r\nSubject: the original\r\n\r\nforwarded text\r\n--b--\r\n";
        let d = pages(m).unwrap();
        // The note, then the header block and the forwarded body on one page.
        assert_eq!(d.pages.len(), 2);
        let header_only =
            b"Content-Type: message/rfc822\r\n\r\nFrom: Bob <bob@example.com>\r\nSubject: s\r\n\r\n";
        assert_eq!(pages(header_only).unwrap().pages.len(), 1);
    }

    #[test]
    fn signed_mail_faxes_the_content_not_the_signature() {
        let m = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==\r\n--s--\r\n";
        assert_eq!(pages(m).unwrap().pages.len(), 1);
    }

    #[test]
    fn alternative_falls_back_to_tiff_then_nested_multiparts() {
        let page = Page::new(1728, 100, Resolution::FINE);
        let tif = softfax_dsp::tiff::write_pages(
            &[page],
            softfax_dsp::tiff::WriteOptions {
                coding: Some(softfax_dsp::t4::Coding::Mh),
                align_eol: false,
            },
        )
        .unwrap();
        let mut b64 = String::new();
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for c in tif.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                b64.push(if k <= c.len() {
                    A[(n >> (18 - 6 * k) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        let m = format!(
            "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--a\r\nContent-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--a--\r\n"
        );
        assert_eq!(pages(m.as_bytes()).unwrap().pages.len(), 1);
        let nested = b"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--a\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\ninner\r\n--m--\r\n--a--\r\n";
        assert_eq!(pages(nested).unwrap().pages.len(), 1);
    }

    #[test]
    fn octet_stream_tiff_is_recognised_and_other_binaries_refused() {
        let pdf = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n";
        let e = pages(pdf).unwrap_err();
        assert!(matches!(e, DocumentError::Pdf { .. }), "{e}");
        assert_eq!(e.smtp_reply().1, "5.6.1");
        assert_eq!(e.abort_cause(), 3);
        let junk = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n";
        assert!(matches!(
            pages(junk),
            Err(DocumentError::UnsupportedMedia { .. })
        ));
    }

    #[test]
    fn unknown_text_subtypes_render_as_plain_text() {
        let m = b"Content-Type: text/x-log; charset=us-ascii\r\n\r\n12:00 started\r\n";
        assert_eq!(pages(m).unwrap().pages.len(), 1);
    }
}
