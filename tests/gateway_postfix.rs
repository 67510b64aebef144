//! Postfix as the real MTA in front of the gateway: a private Postfix instance (its own
//! config_directory and queue_directory, on free loopback ports) relays fax-mail for
//! example.com to `softfax serve` through a transport map
//! (`example.com fax:[127.0.0.1]:PORT`, master.cf `fax unix - - n - 1 smtp`), as README's
//! "Postfix integration" describes. Postfix must run as root; the test skips (with a
//! reason) when Postfix is missing or we are not root — except under CI=true.

#[path = "common/gateway.rs"]
mod gateway;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gateway::*;

struct Postfix {
    dir: PathBuf,
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.dir)
            .arg("stop")
            .output();
        // The master may take a moment; make sure no daemon of ours outlives the test.
        let pid =
            std::fs::read_to_string(self.dir.join("queue/pid/master.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let start = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists()
                && start.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

/// A private Postfix on `smtp_port` relaying example.com to `gateway_port`.
fn start_postfix(dir: &Path, smtp_port: u16, gateway_port: u16) -> Postfix {
    std::fs::create_dir_all(dir.join("queue")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    // The data directory (master.lock) belongs to the mail owner.
    let o = Command::new("chown")
        .arg("postfix")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert!(o.status.success(), "chown postfix: {o:?}");
    let d = dir.display();
    let main_cf = format!(
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
mynetworks = 127.0.0.0/8
relay_domains = example.com
transport_maps = texthash:{d}/transport
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
fax_destination_recipient_limit = 1
"
    );
    std::fs::write(dir.join("main.cf"), main_cf).unwrap();
    std::fs::write(
        dir.join("transport"),
        format!("example.com fax:[127.0.0.1]:{gateway_port}\n"),
    )
    .unwrap();
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
    master.push_str(&format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n"));
    master.push_str("fax unix - - n - 1 smtp\n  -o smtp_data_done_timeout=900s\n");
    if !master.contains("postlog ") {
        master.push_str("postlog unix-dgram n - n - 1 postlogd\n");
    }
    std::fs::write(dir.join("master.cf"), master).unwrap();
    let o = Command::new("postfix")
        .arg("-c")
        .arg(dir)
        .arg("start")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "postfix start: {}{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(dir.join("maillog")).unwrap_or_default()
    );
    Postfix {
        dir: dir.to_path_buf(),
    }
}

const SEND: &str = r#"
import smtplib, sys
port, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('client.test')
s.sendmail('sender@example.org', [rcpt], open(path, 'rb').read())
s.quit()
"#;

#[test]
fn postfix_relays_fax_mail_to_the_gateway() {
    if !require_peer("postfix", "postfix") {
        return;
    }
    if !is_root() {
        unavailable("postfix", "a private Postfix instance needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Postfix's daemons run as user postfix: they must reach the folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).unwrap();
    let server = Server::start(
        &gw_dir,
        &config(
            "immediate",
            "",
            "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n",
        ),
    );
    let smtp_port = free_port();
    let pf = start_postfix(&dir.path().join("postfix"), smtp_port, server.addr.port());
    let msg = fax_mail(
        "FAX=+1408555-7442@example.com",
        "Relayed by Postfix.",
        &chart_tiff(),
    );
    let path = dir.path().join("msg.eml");
    std::fs::write(&path, &msg).unwrap();
    let Some(o) = python(
        SEND,
        &[
            &smtp_port.to_string(),
            "FAX=+1408555-7442@example.com",
            path.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    assert!(
        o.status.success(),
        "submitting to Postfix: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Postfix queues it, then its `fax` transport delivers to the gateway.
    let log = pf.dir.join("maillog");
    let start = Instant::now();
    let sent = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains("status=sent")) {
            break l.to_string();
        }
        if let Some(l) = text
            .lines()
            .find(|l| l.contains("status=deferred") || l.contains("status=bounced"))
        {
            panic!("Postfix could not deliver: {l}\n{}", server.log());
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "Postfix did not deliver in time:\n{text}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        sent.contains("relay=127.0.0.1[127.0.0.1]")
            && sent.contains("250 2.5.0 Message delivered to remote fax machine"),
        "{sent}"
    );
    let records = server.accounting();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["status"], "ok");
    assert_eq!(records[0]["sender"], "sender@example.org");
    assert_eq!(records[0]["recipient"], "FAX=+1408555-7442@example.com");
    assert_eq!(records[0]["dial"], "5557442");
    // Postfix passed the DSN parameters on (DSN was offered).
    assert!(server.log().contains("dialling"), "{}", server.log());
}
