//! G.711 on the simulated line: linear → code → linear through [`crate::g711`].

use super::params::Law;

/// Linear → code → linear.
#[inline]
pub(crate) fn round_trip(law: Law, x: i16) -> i16 {
    law.decode_sample(law.encode_sample(x))
}
