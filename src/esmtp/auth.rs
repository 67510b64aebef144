//! What AUTH needs besides the session's state (RFC 4954): the client's base64 responses
//! decoded — PLAIN's `authzid NUL authcid NUL passwd` (RFC 4616 §2) and LOGIN's user name and
//! password — and a password checked against the SHA-crypt hash of its `[[user]]`.

use base64::Engine as _;

use crate::config::User;

/// A base64 response as text (`None`: not base64, or not UTF-8).
pub fn text(response: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
}

/// A PLAIN response: (user, password), or the text of the 501 reply.
pub fn plain(response: &str) -> Result<(String, String), &'static str> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .map_err(|_| "Bad base64")?;
    let parts: Vec<&[u8]> = raw.split(|&c| c == 0).collect();
    if parts.len() != 3 {
        return Err("PLAIN wants authzid NUL authcid NUL password");
    }
    Ok((
        String::from_utf8_lossy(parts[1]).to_string(),
        String::from_utf8_lossy(parts[2]).to_string(),
    ))
}

/// Is `pass` the password of `user`? (`$6$` is SHA-512 crypt, anything else SHA-256.)
pub fn verify(users: &[User], user: &str, pass: &str) -> bool {
    users.iter().any(|u| {
        u.name == user
            && if u.password_hash.starts_with("$6$") {
                sha_crypt::sha512_check(pass, &u.password_hash).is_ok()
            } else {
                sha_crypt::sha256_check(pass, &u.password_hash).is_ok()
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        // "\0alice\0secret" and "bob".
        assert_eq!(
            plain("AGFsaWNlAHNlY3JldA=="),
            Ok(("alice".into(), "secret".into()))
        );
        assert_eq!(plain("not base64!"), Err("Bad base64"));
        assert_eq!(
            plain("YWxpY2U="),
            Err("PLAIN wants authzid NUL authcid NUL password")
        );
        assert_eq!(text(" Ym9i "), Some("bob".into()));
        assert_eq!(text("/w=="), None);
        assert!(!verify(&[], "alice", "secret"));
    }
}
