//! ITU-T G.711 µ-law and A-law (to be written).
