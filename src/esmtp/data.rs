//! Message data after `354` (RFC 5321 §4.5.2 and §4.1.1.4): dot-unstuffing, CRLF.CRLF as
//! the only terminator (a bare-LF "." is data), the size counted as it streams and data past
//! `max_message_size` dropped (read on to the final dot, then answered `552 5.3.4`, RFC 1870).

/// The message-data receiver.
#[derive(Debug)]
pub struct DataReceiver {
    state: DState,
    /// The data so far (at most `max` bytes).
    pub data: Vec<u8>,
    /// Bytes seen, past `max` too.
    pub size: u64,
    /// The size limit.
    pub max: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DState {
    LineStart,
    Dot,
    DotCr,
    Mid,
    Cr,
}

impl DataReceiver {
    pub fn new(max: u64) -> DataReceiver {
        DataReceiver {
            state: DState::LineStart,
            data: Vec::new(),
            size: 0,
            max,
        }
    }

    fn push(&mut self, b: u8) {
        self.size += 1;
        if self.size <= self.max {
            self.data.push(b);
        }
    }

    /// Feed bytes; returns how many were used and whether the final dot was seen.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        for (i, &b) in input.iter().enumerate() {
            self.state = match (self.state, b) {
                (DState::LineStart, b'.') => DState::Dot,
                (DState::LineStart | DState::Mid, b'\r') => DState::Cr,
                (DState::LineStart | DState::Mid, _) => {
                    self.push(b);
                    DState::Mid
                }
                (DState::Dot, b'\r') => DState::DotCr,
                (DState::Dot, _) => {
                    self.push(b);
                    DState::Mid
                }
                (DState::DotCr, b'\n') => {
                    self.state = DState::LineStart;
                    return (i + 1, true);
                }
                (DState::DotCr | DState::Cr, b'\r') => {
                    self.push(b'\r');
                    DState::Cr
                }
                (DState::Cr, b'\n') => {
                    self.push(b'\r');
                    self.push(b'\n');
                    DState::LineStart
                }
                (DState::DotCr | DState::Cr, _) => {
                    self.push(b'\r');
                    self.push(b);
                    DState::Mid
                }
            };
        }
        (input.len(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_framing() {
        let mut r = DataReceiver::new(1000);
        // A bare LF "." is data; a first-line ".." is unstuffed; CR inside lines is kept.
        let (n, done) = r.feed(b"..a\r\nb\n.\nc\rd\r\n.\r\nMORE");
        assert!(done);
        assert_eq!(n, 17);
        assert_eq!(r.data, b".a\r\nb\n.\nc\rd\r\n");
        let mut r = DataReceiver::new(1000);
        assert_eq!(r.feed(b".\r\n"), (3, true));
        assert!(r.data.is_empty());
        let mut r = DataReceiver::new(1000);
        for b in b"x\r\n.\r" {
            assert!(!r.feed(&[*b]).1);
        }
        assert!(r.feed(b"\n").1);
        assert_eq!(r.data, b"x\r\n");
    }
}
