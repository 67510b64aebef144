//! The accounting record of every call (and of every job refused before a call), the
//! XACCOUNTING reply made from it (docs/contracts/accounting.md), and the JSON-lines log
//! `softfax accounting` reads.
//!
//! One JSON object per line, appended and flushed to disk (`fdatasync`) before the SMTP
//! reply or the DSN that reports it. The XACCOUNTING fields keep their names
//! (`fax_modem_time`, `fax_pages`, …, `CSID`); `status` is `ok` or the failure
//! (`busy`, `no_answer`, `no_fax_answer`, …).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The `hangup_text` of a call the gateway's stop (or crash) cut off (the on-ramp writes it;
/// RADIUS reports such a call as NAS-Reboot).
pub const CUT_OFF: &str = "The gateway stopped during the call";

/// One call (or refused job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the job ended (RFC 3339, UTC).
    pub time: String,
    /// `ok` or the failure.
    pub status: String,
    /// The status line of the reply (`Message delivered to remote fax machine`, `Modem busy`).
    pub status_text: String,
    pub reply_code: u16,
    pub enhanced_code: String,
    /// `x/y` seconds (docs/contracts/accounting.md).
    pub fax_modem_time: String,
    pub fax_pages: u32,
    pub gateway_id: String,
    /// `14400bps`.
    pub fax_connect_speed: String,
    pub transmit_bytes: u64,
    pub port_used: String,
    pub call_type: String,
    pub abort_cause: u8,
    #[serde(rename = "T30_error_code")]
    pub t30_error_code: u8,
    #[serde(rename = "ISDN_disconnect_code")]
    pub isdn_disconnect_code: u8,
    #[serde(rename = "CSID")]
    pub csid: String,
    pub message_id: String,
    pub sender: String,
    pub recipient: String,
    pub dial: String,
    pub hangup_text: String,
    pub ecm: bool,
    pub compression: String,
    pub resolution: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Pages of the document (cover page included).
    pub document_pages: u32,
    /// The spool id (queue mode) or the session's transaction id.
    pub job: String,
}

impl Record {
    /// The reply to the final dot: with XACCOUNTING the 12 lines of docs/contracts/accounting.md, else the
    /// status line alone. Every line ends in CRLF.
    pub fn reply(&self, xact: bool) -> String {
        let (c, e) = (self.reply_code, &self.enhanced_code);
        if !xact {
            return format!("{c} {e} {}\r\n", self.status_text);
        }
        let lines = [
            self.status_text.clone(),
            format!("fax_modem_time = {}", self.fax_modem_time),
            format!("fax_pages = {}", self.fax_pages),
            format!("gateway_id = {}", self.gateway_id),
            format!("fax_connect_speed = {}", self.fax_connect_speed),
            format!("transmit_bytes = {}", self.transmit_bytes),
            format!("port_used = {}", self.port_used),
            format!("call_type = {}", self.call_type),
            format!("abort_cause = {}", self.abort_cause),
            format!("T30_error_code = {}", self.t30_error_code),
            format!("ISDN_disconnect_code = {}", self.isdn_disconnect_code),
        ];
        let mut out = String::with_capacity(512);
        for l in lines {
            out.push_str(&format!("{c}-{e} {l}\r\n"));
        }
        out.push_str(&format!("{c} {e} CSID ={}\r\n", self.csid));
        out
    }

    /// The XACCOUNTING lines without codes (for a DSN's human-readable part).
    pub fn accounting_lines(&self) -> Vec<String> {
        self.reply(true)
            .lines()
            .map(|l| l.get(10..).unwrap_or("").to_string())
            .collect()
    }
}

/// The append-only log.
#[derive(Debug)]
pub struct Log {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Log {
    pub fn new(path: impl Into<PathBuf>) -> Log {
        Log {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and flush it to disk.
    pub fn append(&self, r: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(r).map_err(std::io::Error::other)?;
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// Every record (a line that does not parse is skipped with a warning: a crash may
    /// leave a torn last line).
    pub fn read(&self) -> std::io::Result<Vec<Record>> {
        read_log(&self.path)
    }
}

/// Read a JSON-lines accounting log.
pub fn read_log(path: &Path) -> std::io::Result<Vec<Record>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!(line = i + 1, "accounting log: skipping a bad line: {e}"),
        }
    }
    Ok(out)
}

/// RFC 3339 UTC (`2026-11-27T02:24:46Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// RFC 5322 date (`Fri, 27 Nov 2026 02:24:46 +0000`) for mail headers.
pub fn rfc5322(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d} {} {y:04} {:02}:{:02}:{:02} +0000",
        WD[days.rem_euclid(7) as usize],
        MON[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Why `--since` did not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "--since '{0}': expected a date (2026-11-27), a UTC time (2026-11-27T08:00[:00][Z]) or an age (30m, 12h, 7d)"
)]
pub struct BadSince(pub String);

/// `--since`: an RFC 3339-like UTC time or date, or an age before `now` (`90s`, `30m`,
/// `12h`, `7d`).
pub fn parse_since(s: &str, now: SystemTime) -> Result<SystemTime, BadSince> {
    let bad = || BadSince(s.to_string());
    let t = s.trim();
    if let Some(unit) = t.chars().last().filter(|c| "smhd".contains(*c)) {
        let n: u64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
        let secs = n.saturating_mul(match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => 86400,
        });
        return Ok(now
            .checked_sub(Duration::from_secs(secs))
            .unwrap_or(UNIX_EPOCH));
    }
    let t = t.trim_end_matches('Z');
    let (date, time) = t.split_once(['T', ' ']).unwrap_or((t, "00:00:00"));
    let dp: Vec<&str> = date.split('-').collect();
    let tp: Vec<&str> = time.split(':').collect();
    if dp.len() != 3 || !(2..=3).contains(&tp.len()) {
        return Err(bad());
    }
    let num = |x: &str, lo: i64, hi: i64| {
        x.parse::<i64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(bad)
    };
    let (y, m, d) = (
        num(dp[0], 1970, 9999)?,
        num(dp[1], 1, 12)?,
        num(dp[2], 1, 31)?,
    );
    let (hh, mm) = (num(tp[0], 0, 23)?, num(tp[1], 0, 59)?);
    let ss = if tp.len() == 3 { num(tp[2], 0, 60)? } else { 0 };
    let secs = days_from_civil(y, m as u32, d as u32) * 86400 + hh * 3600 + mm * 60 + ss;
    Ok(UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64))
}

fn parse_record_time(s: &str) -> Option<SystemTime> {
    parse_since(s, UNIX_EPOCH).ok()
}

/// How `softfax accounting` prints the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// `softfax accounting`: the records since `since`, as a table, CSV or JSON lines.
pub fn render(records: &[Record], since: Option<SystemTime>, format: Format) -> String {
    let chosen: Vec<&Record> = records
        .iter()
        .filter(|r| match (since, parse_record_time(&r.time)) {
            (Some(s), Some(t)) => t >= s,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect();
    let mut out = String::new();
    match format {
        Format::Json => {
            for r in chosen {
                out.push_str(&serde_json::to_string(r).unwrap_or_default());
                out.push('\n');
            }
        }
        Format::Csv => {
            out.push_str("time,status,recipient,dial,fax_pages,fax_connect_speed,fax_modem_time,transmit_bytes,port_used,abort_cause,T30_error_code,ISDN_disconnect_code,CSID,attempt,reply,message_id\n");
            for r in chosen {
                let cells = [
                    r.time.clone(),
                    r.status.clone(),
                    r.recipient.clone(),
                    r.dial.clone(),
                    r.fax_pages.to_string(),
                    r.fax_connect_speed.clone(),
                    r.fax_modem_time.clone(),
                    r.transmit_bytes.to_string(),
                    r.port_used.clone(),
                    r.abort_cause.to_string(),
                    r.t30_error_code.to_string(),
                    r.isdn_disconnect_code.to_string(),
                    r.csid.clone(),
                    r.attempt.to_string(),
                    format!("{} {}", r.reply_code, r.enhanced_code),
                    r.message_id.clone(),
                ];
                let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&row.join(","));
                out.push('\n');
            }
        }
        Format::Table => {
            let head = [
                "time",
                "status",
                "recipient",
                "dial",
                "pages",
                "speed",
                "modem",
                "port",
                "abort",
                "T30",
                "Q850",
                "CSID",
            ];
            let rows: Vec<[String; 12]> = chosen
                .iter()
                .map(|r| {
                    [
                        r.time.clone(),
                        r.status.clone(),
                        r.recipient.clone(),
                        r.dial.clone(),
                        r.fax_pages.to_string(),
                        r.fax_connect_speed.clone(),
                        r.fax_modem_time.clone(),
                        r.port_used.clone(),
                        r.abort_cause.to_string(),
                        r.t30_error_code.to_string(),
                        r.isdn_disconnect_code.to_string(),
                        r.csid.clone(),
                    ]
                })
                .collect();
            let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    w[i] = w[i].max(c.chars().count());
                }
            }
            let fmt = |cells: Vec<&str>| {
                let mut l = String::new();
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        l.push_str("  ");
                    }
                    l.push_str(&format!("{c:<width$}", width = w[i]));
                }
                l.trim_end().to_string() + "\n"
            };
            out.push_str(&fmt(head.to_vec()));
            for r in &rows {
                out.push_str(&fmt(r.iter().map(String::as_str).collect()));
            }
            out.push_str(&format!("{} record(s)\n", rows.len()));
        }
    }
    out
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Record {
        Record {
            time: "2026-11-27T02:24:46Z".into(),
            status: "ok".into(),
            status_text: "Message delivered to remote fax machine".into(),
            reply_code: 250,
            enhanced_code: "2.5.0".into(),
            fax_modem_time: "32/41".into(),
            fax_pages: 2,
            gateway_id: "gw.example.com".into(),
            fax_connect_speed: "14400bps".into(),
            transmit_bytes: 16870,
            port_used: "slot:1 port:2".into(),
            call_type: "Fax Send".into(),
            abort_cause: 0,
            t30_error_code: 0,
            isdn_disconnect_code: 16,
            csid: "555-7442".into(),
            message_id: "<1@x>".into(),
            sender: "".into(),
            recipient: "FAX=+1408555-7442@example.com".into(),
            dial: "5557442".into(),
            hangup_text: "Normal and proper end of connection".into(),
            ecm: false,
            compression: "mr".into(),
            resolution: "fine".into(),
            attempt: 1,
            document_pages: 2,
            job: "j1".into(),
        }
    }

    #[test]
    fn the_design_reply_exactly() {
        let want = "250-2.5.0 Message delivered to remote fax machine\r\n\
250-2.5.0 fax_modem_time = 32/41\r\n\
250-2.5.0 fax_pages = 2\r\n\
250-2.5.0 gateway_id = gw.example.com\r\n\
250-2.5.0 fax_connect_speed = 14400bps\r\n\
250-2.5.0 transmit_bytes = 16870\r\n\
250-2.5.0 port_used = slot:1 port:2\r\n\
250-2.5.0 call_type = Fax Send\r\n\
250-2.5.0 abort_cause = 0\r\n\
250-2.5.0 T30_error_code = 0\r\n\
250-2.5.0 ISDN_disconnect_code = 16\r\n\
250 2.5.0 CSID =555-7442\r\n";
        assert_eq!(sample().reply(true), want);
        assert_eq!(
            sample().reply(false),
            "250 2.5.0 Message delivered to remote fax machine\r\n"
        );
        assert_eq!(sample().accounting_lines()[11], "CSID =555-7442");
    }

    #[test]
    fn times() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_746_286);
        assert_eq!(rfc3339(t), "2026-11-27T02:24:46Z");
        assert_eq!(rfc5322(t), "Fri, 27 Nov 2026 02:24:46 +0000");
        assert_eq!(parse_since("2026-11-27T02:24:46Z", t).unwrap(), t);
        assert_eq!(
            parse_since("2026-11-27", t).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_795_737_600)
        );
        assert_eq!(parse_since("1h", t).unwrap(), t - Duration::from_secs(3600));
        assert!(parse_since("yesterday", t).is_err());
        assert!(parse_since("2026-13-01", t).is_err());
    }

    #[test]
    fn json_round_trip_and_formats() {
        let r = sample();
        let j = serde_json::to_string(&r).unwrap();
        assert!(j.contains("\"T30_error_code\":0") && j.contains("\"CSID\":\"555-7442\""));
        assert_eq!(serde_json::from_str::<Record>(&j).unwrap(), r);
        let t = render(std::slice::from_ref(&r), None, Format::Table);
        assert!(t.contains("5557442") && t.ends_with("1 record(s)\n"), "{t}");
        let since = parse_since("2026-11-28", UNIX_EPOCH).unwrap();
        assert!(render(std::slice::from_ref(&r), Some(since), Format::Json).is_empty());
        let c = render(&[r], None, Format::Csv);
        assert!(c.lines().nth(1).unwrap().contains("slot:1 port:2"), "{c}");
    }
}
