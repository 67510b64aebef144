//! The line simulator (to be written).
