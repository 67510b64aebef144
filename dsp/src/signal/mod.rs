//! Signal-processing parts shared by the modems, the line simulator and the drivers: the
//! Kaiser window ([`window`]), the root-raised-cosine pulse of the modems' spectral
//! shaping ([`rrc`]), FIR filtering and the Hilbert transformer ([`fir`]), and a
//! windowed-sinc fractional resampler ([`resample`]). Pure functions and sans-IO filters;
//! sample rates are the caller's.

pub mod fir;
pub mod resample;
pub mod rrc;
pub mod window;
