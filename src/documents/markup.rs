//! Marked-up text parts as plain text for the text renderer ([`super::text`]).
//!
//! - `text/enriched` (RFC 1896 §2): formatting commands `<name>` / `</name>` (a name is up to
//!   60 letters, digits and hyphens; §2.1) are dropped, `<<` is a literal `<`; the text of a
//!   `<param>` … `</param>` is dropped (§2.3). Line breaks follow §2.2: a lone CRLF is a space,
//!   n consecutive CRLFs are n − 1 line breaks — except inside `<nofill>`, where every line
//!   break is kept. Unknown commands are ignored, as the RFC asks of a reader.
//! - `text/richtext` (RFC 1341 §7.1.3, its predecessor): the same command syntax, but every
//!   line break in the text is a space; `<nl>` breaks the line, `<np>` starts a new page, `<lt>`
//!   is a literal `<`, and `<comment>` … `</comment>` is dropped.
//! - `text/html`: through the `html2text` crate (html5ever's HTML5 parser): tags dropped,
//!   block elements and `<br>` kept as line and paragraph breaks, entities decoded, lists and
//!   tables laid out, links numbered with their URLs listed after the text; wrapped at the
//!   text page's 80 columns. `<script>` and `<style>` content is not text.
//!
//! Both converters take any input: the output is never longer than a small multiple of the
//! input, and nothing panics or recurses on nesting.

/// Longest command name (RFC 1896 §2.1: "no more than 60 characters").
const MAX_COMMAND: usize = 60;

/// `text/enriched` (RFC 1896) or, with `richtext`, `text/richtext` (RFC 1341) as plain text.
pub fn enriched_to_text(src: &str, richtext: bool) -> String {
    let mut out = String::with_capacity(src.len());
    // Depth of <nofill> (enriched) and of dropped regions (<param>, richtext <comment>).
    let (mut nofill, mut dropped) = (0u32, 0u32);
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' if rest.starts_with("<<") => {
                if dropped == 0 {
                    out.push('<');
                }
                rest = &rest[2..];
            }
            '<' => {
                let body = &rest[1..];
                let end = body
                    .char_indices()
                    .take(MAX_COMMAND + 2)
                    .find(|&(_, c)| c == '>')
                    .map(|(i, _)| i);
                let cmd = end.map(|e| &body[..e]).filter(|cmd| {
                    let name = cmd.strip_prefix('/').unwrap_or(cmd);
                    !name.is_empty()
                        && name.len() <= MAX_COMMAND
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
                let (Some(cmd), Some(end)) = (cmd, end) else {
                    // Not a command: a stray '<' is text.
                    if dropped == 0 {
                        out.push('<');
                    }
                    rest = body;
                    continue;
                };
                rest = &body[end + 1..];
                let closing = cmd.starts_with('/');
                let name = cmd.trim_start_matches('/').to_ascii_lowercase();
                let step = |n: &mut u32| {
                    *n = if closing {
                        n.saturating_sub(1)
                    } else {
                        n.saturating_add(1)
                    }
                };
                match name.as_str() {
                    "param" => step(&mut dropped),
                    "comment" if richtext => step(&mut dropped),
                    "nofill" if !richtext => step(&mut nofill),
                    _ if dropped > 0 => {}
                    "nl" if richtext && !closing => out.push('\n'),
                    "np" if richtext && !closing => out.push('\x0c'),
                    "lt" if richtext && !closing => out.push('<'),
                    _ => {}
                }
            }
            '\r' | '\n' => {
                // A run of line breaks (CRLF, LF or CR each count one).
                let mut n = 0usize;
                while let Some(c) = rest.chars().next() {
                    match c {
                        '\r' => {
                            rest = rest.strip_prefix("\r\n").unwrap_or(&rest[1..]);
                            n += 1;
                        }
                        '\n' => {
                            rest = &rest[1..];
                            n += 1;
                        }
                        _ => break,
                    }
                }
                if dropped > 0 {
                    continue;
                }
                if richtext {
                    out.push(' ');
                } else if nofill > 0 {
                    out.extend(std::iter::repeat_n('\n', n));
                } else if n == 1 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', n - 1));
                }
            }
            c => {
                if dropped == 0 {
                    out.push(c);
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// HTML elements open at once, at most (see [`html_depth`]).
pub const MAX_HTML_DEPTH: usize = 256;

/// `text/html` as plain text wrapped at `columns`; `None` when the elements nest deeper than
/// [`MAX_HTML_DEPTH`] (the parser's cost grows with the square of the depth: 20 000 nested
/// list items take seconds).
pub fn html_to_text(src: &str, columns: usize) -> Option<String> {
    if html_depth(src) > MAX_HTML_DEPTH {
        return None;
    }
    Some(html_to_text_unchecked(src, columns))
}

/// How deep the elements of `src` nest, as a quick scan counts it (an upper bound of what an
/// HTML5 parser builds for mail): start tags minus end tags, not counting void elements
/// (`<br>`, `<img>` …), the elements a later sibling closes by itself (`<p>`, `<li>`, `<td>`
/// …), comments, declarations, and the text of `<script>` and `<style>`.
pub fn html_depth(src: &str) -> usize {
    const IGNORED: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option",
        "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html",
        "head", "body",
    ];
    let b = src.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off + 1;
        if b[i..].starts_with(b"!--") {
            i = find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let len = b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count();
        if len == 0 || !b[start].is_ascii_alphabetic() {
            continue;
        }
        let name = src[start..start + len].to_ascii_lowercase();
        let end = b[start..]
            .iter()
            .position(|&c| c == b'>')
            .map(|e| start + e);
        let self_closing = end.is_some_and(|e| e > 0 && b[e - 1] == b'/');
        i = end.map_or(b.len(), |e| e + 1);
        if IGNORED.contains(&name.as_str()) || self_closing {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if name == "script" || name == "style" {
            let close = format!("</{name}");
            let lower = src[i..].to_ascii_lowercase();
            i = lower.find(&close).map_or(b.len(), |e| i + e);
        } else {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn html_to_text_unchecked(src: &str, columns: usize) -> String {
    let cfg = html2text::config::plain_no_decorate()
        .allow_width_overflow()
        .link_footnotes(true);
    match cfg.string_from_read(src.as_bytes(), columns.max(20)) {
        Ok(s) => s,
        Err(e) => {
            // Only width troubles are documented; fall back to a wide render, then to the
            // source itself rather than losing the part.
            tracing::warn!(error = %e, "HTML part: rendered without wrapping");
            html2text::config::plain_no_decorate()
                .string_from_read(src.as_bytes(), 10_000)
                .unwrap_or_else(|_| src.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enriched_commands_params_and_line_breaks() {
        // RFC 1896's own sample (§ 7, shortened).
        let src = "<bold>Now</bold> is the time for <italic>all</italic>\r\ngood men\r\n<smaller>(and <<women>)</smaller> to\r\n<ignoreme>come</ignoreme>\r\n\r\nto the aid of their\r\n\r\n\r\n<color><param>red</param>country</color>.\r\n";
        assert_eq!(
            enriched_to_text(src, false),
            "Now is the time for all good men (and <women>) to come\nto the aid of their\n\ncountry. "
        );
        // nofill keeps every line break.
        assert_eq!(
            enriched_to_text("a\r\nb<nofill>\r\nc\r\nd</nofill>\r\ne", false),
            "a b\nc\nd e"
        );
        // Stray '<', over-long or odd "commands" are text; unknown commands are dropped.
        assert_eq!(
            enriched_to_text("1 < 2 <x-y>ok</x-y> <a b>", false),
            "1 < 2 ok <a b>"
        );
        let long = format!("<{}>", "a".repeat(61));
        assert_eq!(enriched_to_text(&long, false), long);
        assert_eq!(enriched_to_text("<param>unclosed", false), "");
        assert_eq!(enriched_to_text("</param></param>x", false), "x");
        assert_eq!(enriched_to_text("<", false), "<");
        assert_eq!(enriched_to_text("ä<bold>ö</bold>ü", false), "äöü");
    }

    #[test]
    fn richtext_nl_np_lt_and_comments() {
        assert_eq!(
            enriched_to_text("one\r\ntwo<nl>three<np><lt>four><comment>x</comment>", true),
            "one two\nthree\x0c<four>"
        );
    }

    #[test]
    fn html_paragraphs_entities_lists_and_scripts() {
        let html = "<html><head><title>t</title><style>p{color:red}</style><script>alert(1)</script></head>\
            <body><h1>Title</h1><p>Gr&uuml;&szlig;e &amp; &lt;hello&gt; &#x3a3;&#963; &euro;</p>\
            <p>Second<br>line</p><ul><li>one</li><li>two</li></ul></body></html>";
        let t = html_to_text(html, 80).unwrap();
        assert!(t.contains("Grüße & <hello> Σσ €"), "{t}");
        assert!(!t.contains("alert") && !t.contains("color"), "{t}");
        assert!(t.contains("Second\nline"), "{t}");
        assert!(t.contains("one") && t.contains("two"), "{t}");
        // Paragraphs are separated by a blank line.
        assert!(t.contains("€\n\nSecond"), "{t}");
        // Long paragraphs wrap at the columns asked for.
        let long = format!("<p>{}</p>", "word ".repeat(100));
        assert!(
            html_to_text(&long, 80)
                .unwrap()
                .lines()
                .all(|l| l.chars().count() <= 80)
        );
    }

    #[test]
    fn hostile_markup_terminates() {
        // Deep nesting is refused before the parser sees it; list items, paragraphs and void
        // elements by the thousand are not nesting.
        let deep = "<div>".repeat(50_000) + "x";
        assert_eq!(html_depth(&deep), 50_000);
        assert!(html_to_text(&deep, 80).is_none());
        let ok = "<div>".repeat(MAX_HTML_DEPTH) + "x";
        assert!(html_to_text(&ok, 80).unwrap().contains('x'));
        let flat = "<ul>".to_string() + &"<li>a<p>b<br><img src=x>".repeat(20_000) + "</ul>";
        assert_eq!(html_depth(&flat), 1);
        let closed = "<div><span>x</span></div>".repeat(10_000);
        assert_eq!(html_depth(&closed), 2);
        let hidden =
            "<script>".to_string() + &"<div>".repeat(1000) + "</script><!-- <div><div> -->";
        assert_eq!(html_depth(&hidden), 0);
        assert_eq!(html_depth("<a/><b/><<>< / x"), 0);
        let deep = "<b>".repeat(50_000) + "x";
        assert_eq!(enriched_to_text(&deep, false), "x");
        let _ = html_to_text("<table><tr><td>", 80);
        let _ = html_depth("<!--");
        let _ = html_depth("<script");
        let _ = html_depth("</");
        let _ = html_to_text(&"<table><tr><td>a".repeat(200), 80);
    }
}
