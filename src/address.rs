//! Minimal fax addresses: RFC 2304 / RFC 3192 (`FAX=+14085557442/T33S=123@domain`) over the
//! minimal PSTN address of RFC 2303 / RFC 3191 (`global-phone = "+" 1*(DIGIT / written-sep)`,
//! `written-sep = "-" / "."`). The rules (docs/contracts/smtp.md):
//!
//! 1. `FAX=` and `T33S=` are case-insensitive;
//! 2. any other `/KEY=` qualifier is refused;
//! 3. visual separators are dropped (`-` and `.` of the RFC, and `(` `)` that people write);
//!    what remains is `+` and 1–15 digits (E.164);
//! 4. a number without `+` is refused (no local numbers are configured);
//! 5. the T.33 sub-address is kept apart — it is not dialled;
//! 6. a quoted local part with spaces is refused (spaces are not separators).
//!
//! The domain is checked against the served domains by the caller ([`FaxAddress::domain`]).
//!
//! **Tested by:** the unit tests below and the `address` fuzz target.

/// A parsed fax address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxAddress {
    /// The E.164 number, `+` and digits only (`+14085557442`).
    pub number: String,
    /// The T.33 sub-address (`T33S=`), digits.
    pub subaddress: Option<String>,
    /// The domain after `@`, as written.
    pub domain: String,
}

/// Why an address is not a fax address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("no '@domain'")]
    NoDomain,
    #[error("the local part is not FAX=<number>")]
    NotFax,
    #[error("the local part is longer than 64 octets or the domain longer than 255")]
    TooLong,
    #[error("the number is empty")]
    EmptyNumber,
    #[error("the number must start with '+' (E.164)")]
    NotGlobal,
    #[error("'{0}' is not a digit or a visual separator")]
    BadCharacter(char),
    #[error("the number has {0} digits (E.164 allows 1 to 15)")]
    BadLength(usize),
    #[error("the qualifier '/{0}' is not supported (only /T33S=)")]
    UnknownQualifier(String),
    #[error("the T.33 sub-address must be 1 to 20 digits")]
    BadSubaddress,
}

impl AddressError {
    /// The RCPT reply for this error: `NotFax` is a mailbox that does not exist here
    /// (550 5.1.1), everything else a bad fax address syntax (553 5.1.3).
    pub fn reply_code(&self) -> (u16, &'static str) {
        match self {
            AddressError::NotFax | AddressError::NoDomain => (550, "5.1.1"),
            _ => (553, "5.1.3"),
        }
    }
}

/// Parse `FAX=…[/T33S=…]@domain` (the mailbox without angle brackets).
pub fn parse(mailbox: &str) -> Result<FaxAddress, AddressError> {
    let at = mailbox.rfind('@').ok_or(AddressError::NoDomain)?;
    let (local, domain) = (&mailbox[..at], &mailbox[at + 1..]);
    if domain.is_empty() {
        return Err(AddressError::NoDomain);
    }
    if local.len() > 64 || domain.len() > 255 {
        return Err(AddressError::TooLong);
    }
    let local = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or(local);
    // Compared as bytes: the local part may hold any UTF-8, and byte 4 need not be a char
    // boundary (found by fuzzing fax_address).
    if local.len() < 4 || !local.as_bytes()[..4].eq_ignore_ascii_case(b"FAX=") {
        return Err(AddressError::NotFax);
    }
    // "FAX=" is ASCII, so byte 4 is a char boundary here.
    let mut parts = local[4..].split('/');
    let number = parse_number(parts.next().unwrap_or(""))?;
    let mut subaddress = None;
    for q in parts {
        let (key, value) = q.split_once('=').unwrap_or((q, ""));
        if !key.eq_ignore_ascii_case("T33S") || subaddress.is_some() {
            return Err(AddressError::UnknownQualifier(truncate(q, 32)));
        }
        if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AddressError::BadSubaddress);
        }
        subaddress = Some(value.to_string());
    }
    Ok(FaxAddress {
        number,
        subaddress,
        domain: domain.to_string(),
    })
}

/// Normalise a written global phone number: drop the visual separators, keep `+` and the
/// digits (`+1408555-7442` → `+14085557442`).
pub fn parse_number(written: &str) -> Result<String, AddressError> {
    let rest = written.strip_prefix('+').ok_or(if written.is_empty() {
        AddressError::EmptyNumber
    } else {
        AddressError::NotGlobal
    })?;
    let mut out = String::with_capacity(16);
    out.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => out.push(c),
            '-' | '.' | '(' | ')' => {}
            c => return Err(AddressError::BadCharacter(c)),
        }
    }
    let digits = out.len() - 1;
    if !(1..=15).contains(&digits) {
        return Err(AddressError::BadLength(digits));
    }
    Ok(out)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A multi-byte character across byte 4 of the local part is an error, not a panic
    /// (fuzz/artifacts/fax_address/crash-435b…).
    #[test]
    fn non_ascii_local_part_is_not_fax() {
        assert!(matches!(
            parse("F16\u{339}erv@example.com"),
            Err(AddressError::NotFax)
        ));
        assert!(matches!(
            parse("FAX\u{e9}+1@example.com"),
            Err(AddressError::NotFax)
        ));
    }

    #[test]
    fn rfc_examples() {
        let a = parse("FAX=+1408555-7442@cisco.com").unwrap();
        assert_eq!(a.number, "+14085557442");
        assert_eq!(a.domain, "cisco.com");
        assert_eq!(a.subaddress, None);
        let a = parse("FAX=+1-202-3456789/T33S=6789@faxserv.org").unwrap();
        assert_eq!(a.number, "+12023456789");
        assert_eq!(a.subaddress.as_deref(), Some("6789"));
        assert_eq!(
            parse("fax=+1.202.3456789/t33s=1@x").unwrap().number,
            "+12023456789"
        );
        assert_eq!(
            parse("FAX=+1(408)555-7442@x").unwrap().number,
            "+14085557442"
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(parse("john@x"), Err(AddressError::NotFax));
        assert_eq!(parse("FAX=+1408"), Err(AddressError::NoDomain));
        assert_eq!(parse("FAX=14085557442@x"), Err(AddressError::NotGlobal));
        assert_eq!(parse("FAX=@x"), Err(AddressError::EmptyNumber));
        assert_eq!(parse("FAX=+@x"), Err(AddressError::BadLength(0)));
        assert_eq!(
            parse("FAX=+1234567890123456@x"),
            Err(AddressError::BadLength(16))
        );
        assert_eq!(
            parse("\"FAX=+1 408 555 7442\"@x"),
            Err(AddressError::BadCharacter(' '))
        );
        assert!(matches!(
            parse("FAX=+1408/X=1@x"),
            Err(AddressError::UnknownQualifier(_))
        ));
        assert_eq!(parse("FAX=+1408/T33S=@x"), Err(AddressError::BadSubaddress));
        assert_eq!(
            parse("FAX=+1408/T33S=1/T33S=2@x").unwrap_err().reply_code(),
            (553, "5.1.3")
        );
        assert_eq!(parse("bob@x").unwrap_err().reply_code(), (550, "5.1.1"));
    }
}
