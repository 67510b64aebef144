//! A private Postfix instance for the on-ramp's and the gateway's tests: its own
//! config_directory and queue_directory on a free loopback port, the
//! `virtual` delivery agent writing `fax@`, `fax-0@` … `fax-99@example.com` into Maildirs
//! under the test's folder, optionally STARTTLS (`smtpd_tls_security_level`) with a
//! certificate made here by openssl and Cyrus SASL AUTH (`sasldb`, users made with
//! `saslpasswd2`); or, with [`Options::relay`], relaying example.com to the gateway through
//! a `fax` transport. Postfix must run as root: [`available`] says whether the test can go on
//! (skip with a reason, or fail under CI). Include with `#[path = "common/postfix.rs"] mod postfix;`.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use softfax_peers::{require_peer, unavailable};

/// What the instance demands of its clients.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `smtpd_tls_security_level`: `None` (no TLS), `"may"` or `"encrypt"`.
    pub tls: Option<&'static str>,
    /// SASL users (user, password) in realm `postfix.test`; with users the instance relays
    /// only for authenticated clients (and, as `smtpd_tls_auth_only`, offers AUTH only after
    /// STARTTLS). Without, 127.0.0.0/8 may relay.
    pub users: Vec<(&'static str, &'static str)>,
    /// Relay example.com through a `fax` transport (`fax unix - - n - 1 smtp`, one
    /// recipient a delivery, as README's "Postfix integration" sets it up) to this next hop
    /// (`[127.0.0.1]:PORT`, or a list tried in order: Postfix 3.5 and later), instead of
    /// delivering to the Maildirs.
    pub relay: Option<String>,
}

/// A configured Postfix (started or not).
pub struct Postfix {
    pub dir: PathBuf,
    pub port: u16,
    /// The CA that signed the relay's certificate (PEM), when TLS is on.
    pub ca: Option<PathBuf>,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Postfix (and, for `opts`, openssl and saslpasswd2) are here and we are root.
pub fn available(opts: &Options) -> bool {
    if !require_peer("postfix", "postfix") {
        return false;
    }
    if opts.tls.is_some() && !require_peer("openssl", "openssl") {
        return false;
    }
    if !opts.users.is_empty() && !require_peer("saslpasswd2", "sasl2-bin") {
        return false;
    }
    if !is_root() {
        unavailable("postfix", "a private Postfix instance needs root");
        return false;
    }
    true
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA and a certificate it signed for `localhost` and 127.0.0.1 (in `dir`): the CA's PEM,
/// the certificate's, its key's.
pub fn make_certificate(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (cert, key, csr) = (
        dir.join("relay.pem"),
        dir.join("relay.key"),
        dir.join("relay.csr"),
    );
    let ext = dir.join("relay.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=softfax test CA", "-keyout"])
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-out")
        .arg(&cert)
        .arg("-extfile")
        .arg(&ext));
    (ca, cert, key)
}

impl Postfix {
    /// Write the instance's configuration into `dir` (made world-readable up to it: Postfix's
    /// daemons run as user postfix); not started.
    pub fn configure(dir: &Path, opts: &Options) -> Postfix {
        let mut p = dir.to_path_buf();
        while let Some(parent) = p.parent() {
            // The test's temporary folder and ours: the daemons must reach the Maildir.
            if p.starts_with(std::env::temp_dir()) && p != std::env::temp_dir() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).ok();
            }
            p = parent.to_path_buf();
        }
        for sub in ["queue", "data", "mail", "sasl"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The data directory (master.lock) belongs to the mail owner; the mailboxes to the
        // `virtual` agent's user (nobody).
        run(Command::new("chown").arg("postfix").arg(dir.join("data")));
        run(Command::new("chown")
            .arg("65534:65534")
            .arg(dir.join("mail")));
        let port = free_port();
        let d = dir.display();
        let mut main_cf = format!(
            "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = test
myorigin = postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_dns_support_level = disabled
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
"
        );
        if let Some(nexthop) = &opts.relay {
            main_cf.push_str(&format!(
                "relay_domains = example.com
transport_maps = texthash:{d}/transport
local_recipient_maps =
fax_destination_recipient_limit = 1
"
            ));
            std::fs::write(
                dir.join("transport"),
                format!("example.com fax:{nexthop}\n"),
            )
            .unwrap();
        } else {
            main_cf.push_str(&format!(
                "virtual_mailbox_domains = example.com
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = texthash:{d}/mailboxes
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
"
            ));
            // fax@ and fax-0@ … fax-99@example.com, each a Maildir (the trailing slash) of
            // its own (`virtual` takes no regular expression substitution).
            let mut boxes = String::from("fax@example.com example.com/fax/\n");
            for n in 0..100 {
                boxes.push_str(&format!("fax-{n}@example.com example.com/fax-{n}/\n"));
            }
            std::fs::write(dir.join("mailboxes"), boxes).unwrap();
        }
        let mut ca = None;
        if let Some(level) = opts.tls {
            let (c, cert, key) = make_certificate(dir);
            ca = Some(c);
            main_cf.push_str(&format!(
                "smtpd_tls_security_level = {level}
smtpd_tls_cert_file = {}
smtpd_tls_key_file = {}
smtpd_tls_loglevel = 1
",
                cert.display(),
                key.display()
            ));
        }
        if opts.users.is_empty() {
            main_cf.push_str(
                "mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
",
            );
        } else {
            let db = dir.join("sasldb2");
            for (user, password) in &opts.users {
                let mut child = Command::new("saslpasswd2")
                    .args(["-p", "-c", "-u", "postfix.test", "-f"])
                    .arg(&db)
                    .arg(user)
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(password.as_bytes())
                    .unwrap();
                assert!(child.wait().unwrap().success(), "saslpasswd2");
            }
            run(Command::new("chown").arg("postfix").arg(&db));
            std::fs::write(
                dir.join("sasl/smtpd.conf"),
                format!(
                    "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: {}\n",
                    db.display()
                ),
            )
            .unwrap();
            // Nobody relays without AUTH, and AUTH only over TLS.
            main_cf.push_str(&format!(
                "mynetworks = 192.0.2.1/32
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {d}/sasl
smtpd_sasl_local_domain = postfix.test
smtpd_tls_auth_only = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
"
            ));
        }
        std::fs::write(dir.join("main.cf"), main_cf).unwrap();
        // Debian's master.cf, without chroot (our queue is no jail), smtpd on our port.
        let default = std::fs::read_to_string("/etc/postfix/master.cf").unwrap_or_default();
        let mut master = String::new();
        for line in default.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if line.starts_with('#') || line.starts_with(char::is_whitespace) || f.len() < 8 {
                if !line.starts_with(char::is_whitespace) {
                    master.push_str(line);
                    master.push('\n');
                }
                continue;
            }
            if f[1] == "inet" {
                continue; // the system's listeners: ours is added below
            }
            let mut f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            f[4] = "n".into();
            master.push_str(&f.join(" "));
            master.push('\n');
        }
        master.push_str(&format!("127.0.0.1:{port} inet n - n - - smtpd\n"));
        if opts.relay.is_some() {
            master.push_str("fax unix - - n - 1 smtp\n  -o smtp_data_done_timeout=900s\n");
        }
        if !master.contains("postlog ") {
            master.push_str("postlog unix-dgram n - n - 1 postlogd\n");
        }
        std::fs::write(dir.join("master.cf"), master).unwrap();
        Postfix {
            dir: dir.to_path_buf(),
            port,
            ca,
        }
    }

    /// `postfix start`, then wait (bounded) until smtpd's port takes connections.
    pub fn start(&self) {
        let o = Command::new("postfix")
            .arg("-c")
            .arg(&self.dir)
            .arg("start")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "postfix start: {}{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "Postfix does not listen on {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `postfix stop`, and wait (bounded) until its master is gone.
    pub fn stop(&self) {
        let pid =
            std::fs::read_to_string(self.dir.join("queue/pid/master.pid")).unwrap_or_default();
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.dir)
            .arg("stop")
            .output();
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let start = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists()
                && start.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Postfix's log (without the start-up script's ownership warnings).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.contains("postfix-script"))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// The messages delivered to `mailbox` (`local` of `local@example.com`), in order.
    pub fn maildir(&self, mailbox: &str) -> Vec<PathBuf> {
        let new = self.dir.join("mail/example.com").join(mailbox).join("new");
        let mut v: Vec<PathBuf> = std::fs::read_dir(new)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Wait (at most `limit`) until Postfix's log has a line with `status=sent` for `rcpt`
    /// and return it; a `status=deferred` or `status=bounced` for it fails the test, as does
    /// the time running out (with Postfix's log and `context()`).
    pub fn wait_sent(&self, rcpt: &str, limit: Duration, context: impl Fn() -> String) -> String {
        let start = Instant::now();
        let to = format!("to=<{rcpt}>");
        loop {
            let log = self.log();
            let mine = || log.lines().filter(|l| l.contains(&to));
            if let Some(l) = mine().find(|l| l.contains("status=sent")) {
                return l.to_string();
            }
            if let Some(l) =
                mine().find(|l| l.contains("status=deferred") || l.contains("status=bounced"))
            {
                panic!("Postfix could not deliver to {rcpt}: {l}\n{}", context());
            }
            assert!(
                start.elapsed() < limit,
                "Postfix did not deliver to {rcpt} within {limit:?}:\n{log}\n{}",
                context()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Wait (at most `limit`) until Postfix has delivered `n` messages to `mailbox` and has
    /// nothing left in its queue; panics with Postfix's log otherwise.
    pub fn wait_delivered(&self, mailbox: &str, n: usize, limit: Duration) -> Vec<PathBuf> {
        let start = Instant::now();
        loop {
            let log = self.log();
            let sent = log
                .lines()
                .filter(|l| l.contains("status=sent (delivered to maildir)"))
                .count();
            let queued = log.lines().filter(|l| l.contains("(queue active)")).count();
            let removed = log.lines().filter(|l| l.ends_with(": removed")).count();
            let got = self.maildir(mailbox);
            if got.len() >= n && sent >= n && removed == queued {
                return got;
            }
            assert!(
                start.elapsed() < limit,
                "{n} message(s) in {mailbox}'s Maildir within {limit:?}, got {}:\n{log}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        // No daemon of ours outlives the test.
        self.stop();
    }
}
