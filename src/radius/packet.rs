//! RADIUS packets as accounting uses them: the Accounting-Request (code 4) with its Request
//! Authenticator and the check of an Accounting-Response (code 5) (RFC 2866 §3, §4; the
//! packet and attribute layout of RFC 2865 §3, §5; Vendor-Specific, RFC 2865 §5.26).
//!
//! ```text
//! Code(1) Identifier(1) Length(2) Authenticator(16) Attributes(Type(1) Length(1) Value …)
//! Request Authenticator  = MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret)
//! Response Authenticator = MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret)
//! ```

use super::md5;

/// Accounting-Request (RFC 2866 §4.1).
pub const ACCOUNTING_REQUEST: u8 = 4;
/// Accounting-Response (RFC 2866 §4.2).
pub const ACCOUNTING_RESPONSE: u8 = 5;
/// The longest RADIUS packet (RFC 2865 §3).
pub const MAX_PACKET: usize = 4096;

/// Attribute types used here (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5).
pub mod attr {
    pub const USER_NAME: u8 = 1;
    pub const NAS_IP_ADDRESS: u8 = 4;
    pub const VENDOR_SPECIFIC: u8 = 26;
    pub const CALLED_STATION_ID: u8 = 30;
    pub const CALLING_STATION_ID: u8 = 31;
    pub const NAS_IDENTIFIER: u8 = 32;
    pub const ACCT_STATUS_TYPE: u8 = 40;
    pub const ACCT_DELAY_TIME: u8 = 41;
    pub const ACCT_OUTPUT_OCTETS: u8 = 43;
    pub const ACCT_SESSION_ID: u8 = 44;
    pub const ACCT_SESSION_TIME: u8 = 46;
    pub const ACCT_TERMINATE_CAUSE: u8 = 49;
    pub const EVENT_TIMESTAMP: u8 = 55;
    pub const NAS_PORT_ID: u8 = 87;
    pub const NAS_IPV6_ADDRESS: u8 = 95;
}

/// Acct-Status-Type values (RFC 2866 §5.1).
pub const START: u32 = 1;
pub const STOP: u32 = 2;

/// Cisco's vendor number (SMI Network Management Private Enterprise Code 9).
pub const VENDOR_CISCO: u32 = 9;

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(u32),
    Octets(Vec<u8>),
    /// A Vendor-Specific attribute: vendor, vendor type, string.
    Vendor(u32, u8, String),
}

/// An Accounting-Request's attributes, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(pub Vec<(u8, Value)>);

impl Attributes {
    pub fn text(&mut self, t: u8, v: &str) {
        if !v.is_empty() {
            self.0.push((t, Value::Text(v.to_string())));
        }
    }
    pub fn int(&mut self, t: u8, v: u32) {
        self.0.push((t, Value::Integer(v)));
    }
    pub fn octets(&mut self, t: u8, v: &[u8]) {
        self.0.push((t, Value::Octets(v.to_vec())));
    }
    /// A Cisco VSA (vendor 9) with a string value.
    pub fn cisco(&mut self, vendor_type: u8, v: &str) {
        self.0.push((
            attr::VENDOR_SPECIFIC,
            Value::Vendor(VENDOR_CISCO, vendor_type, v.to_string()),
        ));
    }

    /// The attributes on the wire. A string longer than an attribute can carry (253
    /// octets, 247 inside a VSA) is cut at a character boundary.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        for (t, v) in &self.0 {
            let body: Vec<u8> = match v {
                Value::Text(s) => cut(s, 253).as_bytes().to_vec(),
                Value::Integer(n) => n.to_be_bytes().to_vec(),
                Value::Octets(o) => o[..o.len().min(253)].to_vec(),
                Value::Vendor(vendor, vt, s) => {
                    let s = cut(s, 247).as_bytes();
                    let mut b = vendor.to_be_bytes().to_vec();
                    b.push(*vt);
                    b.push(s.len() as u8 + 2);
                    b.extend_from_slice(s);
                    b
                }
            };
            out.push(*t);
            out.push(body.len() as u8 + 2);
            out.extend_from_slice(&body);
        }
        out
    }
}

fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An Accounting-Request with `identifier`, signed with `secret`.
pub fn accounting_request(identifier: u8, attrs: &Attributes, secret: &[u8]) -> Vec<u8> {
    let body = attrs.encode();
    let len = (20 + body.len()).min(MAX_PACKET);
    let body = &body[..len - 20];
    let mut p = Vec::with_capacity(len);
    p.push(ACCOUNTING_REQUEST);
    p.push(identifier);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    let auth = md5::digest(&[&p, &[0u8; 16], body, secret]);
    p.extend_from_slice(&auth);
    p.extend_from_slice(body);
    p
}

/// Why a datagram is not the answer to our request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("{0} octets: shorter than a RADIUS header or than its Length field")]
    Short(usize),
    #[error("code {0}, not Accounting-Response")]
    Code(u8),
    #[error("identifier {got}, the request's was {want}")]
    Identifier { want: u8, got: u8 },
    #[error("the Response Authenticator does not match (wrong shared secret?)")]
    Authenticator,
}

/// Check that `resp` answers `request` (RFC 2866 §3): code, identifier, length and the
/// Response Authenticator. Octets past the Length field are padding and ignored (RFC 2865 §3).
pub fn check_response(request: &[u8], resp: &[u8], secret: &[u8]) -> Result<(), ResponseError> {
    if resp.len() < 20 || request.len() < 20 {
        return Err(ResponseError::Short(resp.len()));
    }
    let len = u16::from_be_bytes([resp[2], resp[3]]) as usize;
    if len < 20 || len > resp.len() {
        return Err(ResponseError::Short(resp.len()));
    }
    if resp[0] != ACCOUNTING_RESPONSE {
        return Err(ResponseError::Code(resp[0]));
    }
    if resp[1] != request[1] {
        return Err(ResponseError::Identifier {
            want: request[1],
            got: resp[1],
        });
    }
    let want = md5::digest(&[&resp[..4], &request[4..20], &resp[20..len], secret]);
    if want[..] != resp[4..20] {
        return Err(ResponseError::Authenticator);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout_and_authenticator() {
        let mut a = Attributes::default();
        a.int(attr::ACCT_STATUS_TYPE, START);
        a.text(attr::ACCT_SESSION_ID, "j1-1");
        a.cisco(5, "2");
        let p = accounting_request(7, &a, b"s3cret");
        assert_eq!(&p[..4], &[4, 7, 0, (p.len()) as u8]);
        assert_eq!(
            &p[20..],
            &[
                40, 6, 0, 0, 0, 1, // Acct-Status-Type = Start
                44, 6, b'j', b'1', b'-', b'1', // Acct-Session-Id
                26, 9, 0, 0, 0, 9, 5, 3, b'2', // Cisco-Fax-Pages = "2"
            ]
        );
        let mut zeroed = p.clone();
        zeroed[4..20].fill(0);
        zeroed.extend_from_slice(b"s3cret");
        assert_eq!(&p[4..20], &md5::digest(&[&zeroed]));
    }

    #[test]
    fn response_checks() {
        let req = accounting_request(9, &Attributes::default(), b"k");
        let mut resp = vec![5, 9, 0, 20];
        let auth = md5::digest(&[&resp, &req[4..20], b"k"]);
        resp.extend_from_slice(&auth);
        assert_eq!(check_response(&req, &resp, b"k"), Ok(()));
        assert_eq!(
            check_response(&req, &resp, b"other"),
            Err(ResponseError::Authenticator)
        );
        let mut wrong_id = resp.clone();
        wrong_id[1] = 8;
        assert!(matches!(
            check_response(&req, &wrong_id, b"k"),
            Err(ResponseError::Identifier { .. })
        ));
        assert_eq!(
            check_response(&req, &resp[..10], b"k"),
            Err(ResponseError::Short(10))
        );
        let mut long_len = resp.clone();
        long_len[3] = 200;
        assert_eq!(
            check_response(&req, &long_len, b"k"),
            Err(ResponseError::Short(20))
        );
    }

    #[test]
    fn long_strings_are_cut_to_fit() {
        let mut a = Attributes::default();
        a.text(attr::USER_NAME, &"é".repeat(200));
        let e = a.encode();
        assert_eq!(e[1] as usize, e.len());
        assert!(e.len() <= 255);
    }
}
