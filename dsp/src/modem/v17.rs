//! ITU-T V17 (being written).
