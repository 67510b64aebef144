//! `softfax serve` as a systemd service: the notification protocol read by a Unix datagram
//! socket standing in for systemd (an abstract `@name`, as systemd passes it), the
//! watchdog, SIGHUP reloading the dial plan while a session opened before keeps working,
//! SIGTERM draining (421 to new sessions, the call under way finishes, the spool kept),
//! journald-style log lines; and the Debian package built, installed and its unit
//! checked by `systemd-analyze verify`.

#[path = "common/gateway.rs"]
mod gateway;

use std::io::{BufRead, BufReader};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gateway::*;

/// A socket systemd would own: NOTIFY_SOCKET=@name.
struct Systemd {
    sock: UnixDatagram,
    name: String,
    seen: Vec<String>,
}

impl Systemd {
    fn new(tag: &str) -> Systemd {
        let name = format!("softfax-test-{tag}-{}", std::process::id());
        let addr = UnixAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Systemd {
            sock,
            name: format!("@{name}"),
            seen: Vec::new(),
        }
    }

    /// Wait for a datagram containing the line `want`; returns that datagram.
    fn expect(&mut self, want: &str, within: Duration) -> String {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < within {
            if let Ok(n) = self.sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).to_string();
                self.seen.push(m.clone());
                if m.lines().any(|l| l == want) {
                    return m;
                }
            }
        }
        panic!("no {want:?} within {within:?}; got {:?}", self.seen);
    }
}

fn submit(c: &mut Client, number: &str) -> String {
    c.cmd("MAIL FROM:<sender@example.org>");
    let r = c.cmd(&format!("RCPT TO:<FAX={number}@example.com>"));
    if !r.starts_with("250") {
        return r;
    }
    c.cmd("DATA");
    c.send(format!("Subject: to {number}\r\n\r\nhello\r\n").as_bytes());
    c.cmd(".")
}

#[test]
fn notify_watchdog_reload_and_drain() {
    let dir = tempfile::tempdir().unwrap();
    // Each call lasts 2 s: the far end says nothing, then hangs up.
    let lines =
        "[[line]]\nuri = \"exec:sleep 2\"\nport = \"slot:1 port:1\"\n\n[queue]\nretry_s = [3600]\n";
    let text = config("queue", "", lines);
    let mut sd = Systemd::new("svc");
    let mut server = {
        std::fs::write(
            dir.path().join("softfax.toml"),
            text.replace("{dir}", &dir.path().display().to_string()),
        )
        .unwrap();
        Server::start_env(
            dir.path(),
            &[("NOTIFY_SOCKET", &sd.name), ("WATCHDOG_USEC", "200000")],
        )
    };
    let ready = sd.expect("READY=1", Duration::from_secs(10));
    assert!(ready.contains("STATUS=serving SMTP on"), "{ready}");
    sd.expect("WATCHDOG=1", Duration::from_secs(2));
    sd.expect("WATCHDOG=1", Duration::from_secs(2));

    // A session opened before the reload keeps the configuration it started with.
    let mut old = Client::connect(server.addr);
    old.reply();
    old.cmd("EHLO before.reload");
    std::fs::write(
        dir.path().join("softfax.toml"),
        text.replace("{dir}", &dir.path().display().to_string())
            .replace("deny = [", "deny = [\"^\\\\+14085557999\", "),
    )
    .unwrap();
    server.signal("-HUP");
    sd.expect("RELOADING=1", Duration::from_secs(5));
    sd.expect("READY=1", Duration::from_secs(5));
    let mut new = Client::connect(server.addr);
    new.reply();
    new.cmd("EHLO after.reload");
    new.cmd("MAIL FROM:<sender@example.org>");
    let r = new.cmd("RCPT TO:<FAX=+14085557999@example.com>");
    assert!(r.starts_with("550"), "the reloaded policy refuses: {r}");
    old.cmd("MAIL FROM:<sender@example.org>");
    let r = old.cmd("RCPT TO:<FAX=+14085557999@example.com>");
    assert!(r.starts_with("250"), "the old session's policy: {r}");
    old.cmd("RSET");

    // A configuration that does not load leaves the running one in place.
    std::fs::write(dir.path().join("softfax.toml"), "gateway_id = 5\n").unwrap();
    server.signal("-HUP");
    sd.expect("RELOADING=1", Duration::from_secs(5));
    sd.expect("READY=1", Duration::from_secs(5));
    let start = Instant::now();
    while !server.log().contains("reload refused") {
        assert!(start.elapsed() < Duration::from_secs(5), "{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }

    // Drain: two jobs, the first on its call when SIGTERM comes.
    let r1 = submit(&mut new, "+14085557001");
    let r2 = submit(&mut new, "+14085557002");
    assert!(r1.starts_with("250 2.0.0 Queued") && r2.starts_with("250 2.0.0 Queued"));
    let start = Instant::now();
    while !server.log().contains("dialling") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.signal("-TERM");
    sd.expect("STOPPING=1", Duration::from_secs(5));
    let mut late = Client::connect(server.addr);
    let greeting = late.reply();
    assert!(
        greeting.starts_with("421 4.3.2 gw.example.com"),
        "{greeting}"
    );
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{}", server.log());
    // The call under way ended and was accounted; no second call started; both jobs stay.
    let acct: Vec<_> = server
        .accounting()
        .into_iter()
        .filter(|r| r["status"] != "denied")
        .collect();
    assert_eq!(acct.len(), 1, "{acct:?}");
    assert_eq!(acct[0]["attempt"], 1);
    let jobs = std::fs::read_dir(dir.path().join("spool/queue"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".job")
        })
        .count();
    assert_eq!(jobs, 2, "the spool is kept");
    assert!(
        !server.log().contains('\u{1b}'),
        "no ANSI colours into a pipe"
    );
    server.kill9();
}

#[test]
fn log_lines_carry_journald_priorities() {
    let dir = tempfile::tempdir().unwrap();
    let text = config("immediate", "", "[[line]]\nuri = \"sim:\"\n")
        .replace("{dir}", &dir.path().display().to_string());
    std::fs::write(dir.path().join("softfax.toml"), text).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    // JOURNAL_STREAM names the stream by device and inode, as systemd sets it; both ends of
    // a pipe share them.
    let meta = {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&reader)
        ))
        .unwrap();
        format!("{}:{}", m.dev(), m.ino())
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["-v", "serve", "--config"])
        .arg(dir.path().join("softfax.toml"))
        .env("JOURNAL_STREAM", &meta)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(reader).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("listening on"), "{first}");
    signal(child.id(), "-TERM");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    child.wait().unwrap();
    let drain = rest
        .iter()
        .find(|l| l.contains("draining"))
        .unwrap_or_else(|| panic!("{rest:?}"));
    assert!(drain.starts_with("<6> INFO"), "{drain}");
    assert!(rest.iter().all(|l| !l.contains('\u{1b}')), "{rest:?}");
    // journald adds its own timestamps.
    assert!(!drain.contains("T0") && !drain.contains("Z "), "{drain}");
}

#[test]
fn debian_package_builds_installs_and_its_unit_verifies() {
    if !require_peer("dpkg-deb", "dpkg") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let built = Command::new(root.join("packaging/build-deb.sh"))
        .arg(env!("CARGO_BIN_EXE_softfax"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let deb = String::from_utf8(built.stdout).unwrap().trim().to_string();
    let list = Command::new("dpkg-deb")
        .args(["-c", &deb])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    for f in [
        "./usr/bin/softfax",
        "./lib/systemd/system/softfax.service",
        "./etc/softfax/softfax.toml",
        "./var/spool/softfax/",
    ] {
        assert!(list.contains(f), "{f} missing from\n{list}");
    }
    let info = Command::new("dpkg-deb")
        .args(["-f", &deb, "Package", "Depends"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("Package: softfax"));

    // Install it for real: needs root, and a system without softfax installed already.
    let root_user = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if !root_user {
        softfax_peers::unavailable("dpkg -i", "needs root to install the package");
        return;
    }
    let installed = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", "softfax"])
        .output()
        .unwrap();
    if String::from_utf8_lossy(&installed.stdout).contains("installed") {
        softfax_peers::unavailable("dpkg -i", "a softfax package is installed already");
        return;
    }
    let run = |cmd: &str, args: &[&str]| {
        let o = Command::new(cmd).args(args).output().unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (ok, log) = run("dpkg", &["-i", &deb]);
    let cleanup = || {
        let _ = run("dpkg", &["--purge", "softfax"]);
    };
    if !ok {
        cleanup();
        panic!("dpkg -i: {log}");
    }
    let checks = std::panic::catch_unwind(|| {
        let (ok, v) = run("/usr/bin/softfax", &["--version"]);
        assert!(ok && v.starts_with("softfax "), "{v}");
        let (ok, u) = run("getent", &["passwd", "softfax"]);
        assert!(ok, "no softfax user: {u}");
        let (ok, owner) = run("stat", &["-c", "%U:%G %a", "/var/spool/softfax"]);
        assert!(ok && owner.trim() == "softfax:softfax 750", "{owner}");
        // The default configuration loads, read as the service user reads it.
        let (ok, l) = run(
            "runuser",
            &[
                "-u",
                "softfax",
                "--",
                "/usr/bin/softfax",
                "queue",
                "list",
                "--config",
                "/etc/softfax/softfax.toml",
            ],
        );
        assert!(ok && l.contains("0 job(s)"), "{l}");
        if softfax_peers::find_tool("systemd-analyze").is_some() {
            let (ok, v) = run(
                "systemd-analyze",
                &["verify", "/lib/systemd/system/softfax.service"],
            );
            assert!(ok, "systemd-analyze verify: {v}");
        }
    });
    cleanup();
    let (_, after) = run("dpkg-query", &["-W", "-f", "${Status}", "softfax"]);
    assert!(!after.contains("install ok installed"), "{after}");
    if let Err(e) = checks {
        std::panic::resume_unwind(e);
    }
}
