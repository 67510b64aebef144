//! STARTTLS (rustls) and AUTH PLAIN/LOGIN against Python's smtplib and ssl: AUTH only
//! after TLS, a SHA-crypt password from the config, `require_auth`, STARTTLS no longer
//! offered once active, and input pipelined behind STARTTLS thrown away (RFC 3207 §4.2).
//! The certificate and the password hash come from the `openssl` tool.

#[path = "common/gateway.rs"]
mod gateway;

use std::process::Command;

use gateway::*;

const SESSION: &str = r#"
import smtplib, ssl, sys, json, socket
port, path = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = {}
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('client.test')
out['plain_ehlo'] = s.ehlo_resp.decode()
out['mail_before_auth'] = list(s.docmd('MAIL FROM:<a@b.org>'))
out['auth_before_tls'] = list(s.docmd('AUTH PLAIN AGFsaWNlAHNlY3JldA=='))
out['starttls'] = list(s.starttls(context=ctx))
s.ehlo('client.test')
out['tls_ehlo'] = s.ehlo_resp.decode()
try:
    s.login('alice', 'wrong')
    out['bad_login'] = 'accepted'
except smtplib.SMTPAuthenticationError as e:
    out['bad_login'] = [e.smtp_code, e.smtp_error.decode()]
s.esmtp_features['auth'] = 'LOGIN'
out['login'] = list(s.login('alice', 'secret'))
out['mail'] = list(s.docmd('MAIL FROM:<a@b.org>'))
out['rcpt'] = list(s.docmd('RCPT TO:<FAX=+1408555-7442@example.com>'))
code, msg = s.data(open(path, 'rb').read())
out['data'] = [code, msg.decode()]
s.quit()
# STARTTLS with a command pipelined behind it: the NOOP must be thrown away.
r = socket.create_connection(('127.0.0.1', port), timeout=30)
f = r.makefile('rb')
f.readline()
r.sendall(b'EHLO x\r\n')
while True:
    l = f.readline()
    if l[3:4] != b'-':
        break
r.sendall(b'STARTTLS\r\nNOOP\r\n')
out['starttls_raw'] = f.readline().decode()
t = ctx.wrap_socket(r, server_hostname='gw.example.com')
t.sendall(b'NOOP\r\n')
out['after_tls'] = t.recv(200).decode()
t.close()
for k, v in list(out.items()):
    if isinstance(v, list):
        out[k] = [x.decode() if isinstance(x, bytes) else x for x in v]
print(json.dumps(out))
"#;

#[test]
fn starttls_and_auth_with_smtplib() {
    if !require_peer("openssl", "openssl") || !require_peer("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=gw.example.com",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("openssl")
        .args(["passwd", "-6", "-salt", "softfaxsalt", "secret"])
        .output()
        .unwrap();
    let hash = String::from_utf8(o.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$6$"), "{hash}");
    let lines = format!(
        "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n\n[tls]\ncertificate = \"{}\"\nkey = \"{}\"\nrequire_auth = true\n\n[[user]]\nname = \"alice\"\npassword = \"{hash}\"\n",
        cert.display(),
        key.display()
    );
    let server = Server::start(dir.path(), &config("immediate", "", &lines));
    let msg = fax_mail("FAX=+1408555-7442@example.com", "Over TLS.", &chart_tiff());
    let path = dir.path().join("msg.eml");
    std::fs::write(&path, &msg).unwrap();
    let o = python(
        SESSION,
        &[&server.addr.port().to_string(), path.to_str().unwrap()],
    )
    .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let plain = v["plain_ehlo"].as_str().unwrap();
    assert!(plain.ends_with("\nSIZE 10485760\nSTARTTLS"), "{plain}");
    assert!(!plain.contains("AUTH"), "{plain}");
    assert_eq!(v["mail_before_auth"][0], 530);
    assert_eq!(v["mail_before_auth"][1], "5.7.0 Authentication required");
    assert_eq!(v["auth_before_tls"][0], 538);
    assert_eq!(v["starttls"][0], 220);
    assert_eq!(v["starttls"][1], "2.0.0 Ready to start TLS");
    let tls = v["tls_ehlo"].as_str().unwrap();
    assert!(tls.ends_with("\nSIZE 10485760\nAUTH PLAIN LOGIN"), "{tls}");
    assert!(!tls.contains("STARTTLS"), "{tls}");
    assert_eq!(v["bad_login"][0], 535);
    assert_eq!(
        v["bad_login"][1],
        "5.7.8 Authentication credentials invalid"
    );
    assert_eq!(v["login"][0], 235);
    assert_eq!(v["mail"][0], 250);
    assert_eq!(v["rcpt"][0], 250);
    assert_eq!(v["data"][0], 250);
    assert_eq!(
        v["data"][1],
        "2.5.0 Message delivered to remote fax machine"
    );
    assert_eq!(v["starttls_raw"], "220 2.0.0 Ready to start TLS\r\n");
    // Only the NOOP sent after the handshake is answered.
    assert_eq!(v["after_tls"], "250 2.0.0 OK\r\n");
}
