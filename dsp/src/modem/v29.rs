//! ITU-T V29 (being written).
