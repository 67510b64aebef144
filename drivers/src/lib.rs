//! softfax line drivers (DESIGN §2): the `Line` seam between the DSP engine and the
//! telephone network — DAHDI channels (FXO, ISDN PRI), a sound card through cpal, `exec:`
//! child processes, the in-process `sim:` line and WAV taps.
//!
//! **Not supported yet:** every line type. The `Line` trait and its implementations land
//! with the T.30 terminal (issue 5) and the DAHDI/sound-card drivers (issue 7); until then
//! this crate is empty on purpose rather than holding placeholders.
