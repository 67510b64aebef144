//! The systemd notification protocol (`sd_notify(3)`), by hand: newline-separated
//! `VARIABLE=value` assignments in one datagram to the AF_UNIX socket named by
//! `$NOTIFY_SOCKET` — a path, or with a leading `@` a name in Linux's abstract namespace.
//! Without the variable every call does nothing, so the same binary runs outside systemd.
//!
//! Used by `softfax serve`: `READY=1` once the ports are bound and the workers run,
//! `STATUS=…` as the state changes, `RELOADING=1` around a SIGHUP reload, `STOPPING=1` when
//! draining, `WATCHDOG=1` at half of `$WATCHDOG_USEC` when the unit sets `WatchdogSec=`.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where notifications go (nowhere outside systemd).
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, Target)>,
}

#[derive(Debug, Clone)]
enum Target {
    Path(std::path::PathBuf),
    #[cfg(target_os = "linux")]
    Abstract(Vec<u8>),
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`.
    pub fn from_env() -> Notifier {
        Notifier::new(std::env::var_os("NOTIFY_SOCKET").as_deref())
    }

    /// For the socket named `socket` (as `$NOTIFY_SOCKET` names it), or none.
    pub fn new(socket: Option<&std::ffi::OsStr>) -> Notifier {
        use std::os::unix::ffi::OsStrExt;
        let target = match socket.map(|s| s.as_bytes()) {
            Some([b'/', ..]) => socket.map(|s| Target::Path(s.into())),
            #[cfg(target_os = "linux")]
            Some([b'@', name @ ..]) if !name.is_empty() => Some(Target::Abstract(name.to_vec())),
            Some(other) => {
                tracing::warn!(
                    "NOTIFY_SOCKET={}: not a socket path or @name; not notifying",
                    String::from_utf8_lossy(other)
                );
                None
            }
            None => None,
        };
        // Never block the caller: a full receive queue (systemd busy, or nobody reading)
        // drops the notification instead.
        let target = target.and_then(|t| {
            match UnixDatagram::unbound().and_then(|s| {
                s.set_nonblocking(true)?;
                Ok(s)
            }) {
                Ok(s) => Some((s, t)),
                Err(e) => {
                    tracing::warn!("sd_notify: cannot make a socket: {e}");
                    None
                }
            }
        });
        Notifier { target }
    }

    /// True when there is a systemd to tell.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Send `state` (one or more `VARIABLE=value` lines). Errors are logged, not returned:
    /// a notification must never stop the service.
    pub fn notify(&self, state: &str) {
        let Some((sock, target)) = &self.target else {
            return;
        };
        let r = match target {
            Target::Path(p) => sock.send_to(state.as_bytes(), p),
            #[cfg(target_os = "linux")]
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
            }
        };
        match r {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                tracing::debug!("sd_notify {state:?}: the socket's queue is full, dropped");
            }
            Err(e) => tracing::warn!("sd_notify {state:?}: {e}"),
        }
    }
}

/// Half of `$WATCHDOG_USEC` when the watchdog is on for this process (`$WATCHDOG_PID`
/// unset or ours), as `sd_watchdog_enabled(3)` reads them.
pub fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(Some(path.as_os_str()));
        assert!(n.enabled());
        n.notify("READY=1\nSTATUS=serving");
        let mut buf = [0u8; 256];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=serving");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn datagrams_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("softfax-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::new(Some(std::ffi::OsStr::new(&format!("@{name}"))));
        n.notify("WATCHDOG=1");
        let mut buf = [0u8; 64];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }

    #[test]
    fn no_socket_no_notifications() {
        assert!(!Notifier::new(None).enabled());
        assert!(!Notifier::new(Some(std::ffi::OsStr::new("relative"))).enabled());
        Notifier::new(None).notify("READY=1");
    }
}
