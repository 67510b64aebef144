//! A fax job — one recipient of one accepted message, as the spool stores it — and the
//! spool's durable write. The bottom of delivery: everything else here builds on it.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::envelope::Notify;

/// One fax job: one recipient of one message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub sender: String,
    /// The recipient as written (`FAX=+1408555-7442@example.com`).
    pub recipient: String,
    pub number: String,
    pub subaddress: Option<String>,
    pub dial: String,
    pub cover_page: bool,
    /// RCPT NOTIFY, as given.
    pub notify: Option<Notify>,
    pub orcpt: Option<String>,
    pub envid: Option<String>,
    pub ret_full: bool,
    pub helo: String,
    pub arrival: String,
    pub message_id: String,
    pub xact: bool,
}

/// Write `data` to `path` durably: a temporary file in `dir`, fsync, rename, fsync `dir`.
pub fn write_durable(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// `fsync` a folder, so that renames and removals in it are durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
