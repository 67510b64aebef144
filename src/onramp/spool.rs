//! The on-ramp's spool: every received fax is a folder that moves through states by atomic
//! renames (each file written to a temporary name, fsynced, renamed, the folder fsynced):
//!
//! ```text
//! SPOOL/onramp/receiving/ID/   call.json, page-001.tif …    the call is on (each page is
//!                              on disk before it is confirmed with MCF)
//!              outbox/ID/      + message.eml, record.json   mailed until the MTA takes it
//!              sent/ID/        the MTA took it; the accounting record is then written and
//!                              the folder removed
//!              failed/ID/      the MTA refused it for good (5yz): kept for the postmaster
//! ```
//!
//! After a crash, [`Spool::recover`] turns every `receiving/` folder with pages into a
//! message (its summary says the call was cut off), finishes `sent/` folders, and leaves
//! `outbox/` to the sender. A message is sent again only when the crash fell between the
//! MTA's reply and the rename to `sent/` (the duplicate window of RFC 5321 §6.1); its
//! Message-ID is the same each time, so the receiving side can tell.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use softfax_dsp::image::Page;
use softfax_dsp::t4::Coding;
use softfax_dsp::tiff;

use crate::accounting::Record;
use crate::delivery::job::{sync_dir, write_durable};

/// What is known of a call when it starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallStart {
    pub id: String,
    pub uri: String,
    pub port: String,
    /// The called number, or the line's port on lines that give none.
    pub called: String,
    /// The mailbox the route chose.
    pub mailbox: String,
    /// RFC 3339.
    pub started: String,
    /// Unix seconds.
    pub started_unix: u64,
}

/// How the call went (written when it ended; missing after a crash mid-call).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallEnd {
    pub remote_ident: String,
    pub pages: u32,
    pub bit_rate: u32,
    pub modulation: String,
    pub ecm: bool,
    pub compression: String,
    pub resolution: String,
    pub hangup_code: u8,
    pub hangup_text: String,
    pub q850: u8,
    pub modem_s: f64,
    pub call_s: f64,
    /// When the call ended, Unix seconds (0 in spools written before it was kept).
    #[serde(default)]
    pub ended_unix: u64,
}

/// The spool folders of the on-ramp.
#[derive(Debug, Clone)]
pub struct Spool {
    root: PathBuf,
}

/// A folder of the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Receiving,
    Outbox,
    Sent,
    Failed,
}

impl State {
    fn dir(self) -> &'static str {
        match self {
            State::Receiving => "receiving",
            State::Outbox => "outbox",
            State::Sent => "sent",
            State::Failed => "failed",
        }
    }
}

impl Spool {
    /// Open (and create) `spool/onramp` and its folders.
    pub fn open(spool: &Path) -> std::io::Result<Spool> {
        let root = spool.join("onramp");
        for s in [State::Receiving, State::Outbox, State::Sent, State::Failed] {
            std::fs::create_dir_all(root.join(s.dir()))?;
        }
        Ok(Spool { root })
    }

    /// The folder of `id` in `state`.
    pub fn path(&self, state: State, id: &str) -> PathBuf {
        self.root.join(state.dir()).join(id)
    }

    /// The ids in `state`, oldest first (ids start with the time).
    pub fn list(&self, state: State) -> std::io::Result<Vec<String>> {
        let mut ids: Vec<String> = std::fs::read_dir(self.root.join(state.dir()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .filter(|n| !n.starts_with('.'))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Start a call's folder with what is known at the start.
    pub fn begin(&self, start: &CallStart) -> std::io::Result<()> {
        let dir = self.path(State::Receiving, &start.id);
        std::fs::create_dir_all(&dir)?;
        sync_dir(&self.root.join(State::Receiving.dir()))?;
        write_json(&dir, "call.json", start)
    }

    /// Keep page `index` (0-based) of call `id`, durably.
    pub fn add_page(&self, id: &str, index: usize, page: &Page) -> std::io::Result<()> {
        let dir = self.path(State::Receiving, id);
        let data = tiff::write_pages(
            std::slice::from_ref(page),
            tiff::WriteOptions {
                coding: Some(Coding::Mh),
                align_eol: false,
            },
        )
        .map_err(std::io::Error::other)?;
        write_durable(&dir, &dir.join(page_name(index)), &data)
    }

    /// Record how the call ended.
    pub fn end(&self, id: &str, end: &CallEnd) -> std::io::Result<()> {
        write_json(&self.path(State::Receiving, id), "end.json", end)
    }

    /// What a `receiving/` folder holds: the start, the end (if the call ended), the pages.
    pub fn read_call(&self, id: &str) -> std::io::Result<(CallStart, Option<CallEnd>, Vec<Page>)> {
        let dir = self.path(State::Receiving, id);
        let start: CallStart = read_json(&dir.join("call.json"))?;
        let end: Option<CallEnd> = read_json(&dir.join("end.json")).ok();
        let mut pages = Vec::new();
        for i in 0.. {
            let p = dir.join(page_name(i));
            if !p.exists() {
                break;
            }
            let data = std::fs::read(&p)?;
            let decoded = tiff::read_pages(&data)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", p.display())))?;
            pages.extend(decoded.into_iter().map(|d| d.page));
        }
        Ok((start, end, pages))
    }

    /// When call `id` started and ended (Unix seconds), wherever its folder is now. A call
    /// cut off by a stop of the gateway ended when its last file was written.
    pub fn call_times(&self, id: &str) -> Option<(u64, u64)> {
        let dir = [State::Receiving, State::Outbox, State::Sent, State::Failed]
            .into_iter()
            .map(|s| self.path(s, id))
            .find(|d| d.join("call.json").is_file())?;
        let start: CallStart = read_json(&dir.join("call.json")).ok()?;
        let ended = match read_json::<CallEnd>(&dir.join("end.json")) {
            Ok(e) if e.ended_unix > 0 => e.ended_unix,
            Ok(e) => start.started_unix + e.call_s as u64,
            Err(_) => std::fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("page-"))
                .filter_map(|e| e.metadata().ok()?.modified().ok())
                .max()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(start.started_unix, |d| d.as_secs()),
        };
        Some((start.started_unix, ended))
    }

    /// Put the message and its accounting record beside the pages and move the call to
    /// the outbox.
    pub fn to_outbox(&self, id: &str, message: &[u8], record: &Record) -> std::io::Result<()> {
        let dir = self.path(State::Receiving, id);
        write_durable(&dir, &dir.join("message.eml"), message)?;
        write_json(&dir, "record.json", record)?;
        self.move_to(id, State::Receiving, State::Outbox)
    }

    /// A message waiting in the outbox and its record.
    pub fn outgoing(&self, id: &str) -> std::io::Result<(Vec<u8>, Record)> {
        let dir = self.path(State::Outbox, id);
        Ok((
            std::fs::read(dir.join("message.eml"))?,
            read_json(&dir.join("record.json"))?,
        ))
    }

    /// The record of a folder in `state`.
    pub fn record(&self, state: State, id: &str) -> std::io::Result<Record> {
        read_json(&self.path(state, id).join("record.json"))
    }

    /// Move `id` from one state to another (atomic; both folders fsynced).
    pub fn move_to(&self, id: &str, from: State, to: State) -> std::io::Result<()> {
        std::fs::rename(self.path(from, id), self.path(to, id))?;
        sync_dir(&self.root.join(to.dir()))?;
        sync_dir(&self.root.join(from.dir()))
    }

    /// Remove a folder (a sent message, or a call without a page).
    pub fn remove(&self, state: State, id: &str) -> std::io::Result<()> {
        std::fs::remove_dir_all(self.path(state, id))?;
        sync_dir(&self.root.join(state.dir()))
    }
}

fn page_name(index: usize) -> String {
    format!("page-{:03}.tif", index + 1)
}

fn write_json<T: Serialize>(dir: &Path, name: &str, v: &T) -> std::io::Result<()> {
    let mut data = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    data.write_all(b"\n")?;
    write_durable(dir, &dir.join(name), &data)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<T> {
    let data = std::fs::read(path)?;
    serde_json::from_slice(&data)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
}
