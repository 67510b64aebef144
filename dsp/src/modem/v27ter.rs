//! ITU-T V27TER (being written).
