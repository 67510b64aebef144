//! Tones: CNG, CED, DTMF, call progress (to be written).
