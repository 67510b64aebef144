//! What the timing examples share: this process's CPU time and, for the modem timers
//! (`modem_tx_time`, `modem_rx_time`), their `MODEM RATE … REPEAT` arguments. Include with
//! `#[path = "common/timing.rs"] mod timing;` (not an example of its own: cargo takes only
//! `examples/*.rs` and `examples/*/main.rs`).
#![allow(dead_code)]

use nix::time::{ClockId, clock_gettime};

use softfax::cli::modem::ModemKind;

/// CPU seconds this process has used (user and system, every thread), to the nanosecond.
pub fn cpu_seconds() -> f64 {
    let t = clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).expect("a CPU clock");
    t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9
}

/// `MODEM RATE X REPEAT [OUT]` (`usage` names X): the modem, the rate, X as given, the
/// repeat count and the optional fifth argument (a file the timer writes what it made, for
/// the bench scripts to check before they time anything); a wrong count or an unknown modem
/// prints `usage` and exits 2.
pub fn modem_args(usage: &str) -> (ModemKind, u32, String, usize, Option<String>) {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if !(4..=5).contains(&a.len()) {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }
    let kind = match a[0].as_str() {
        "v21" => ModemKind::V21,
        "v27ter" => ModemKind::V27ter,
        "v29" => ModemKind::V29,
        "v17" => ModemKind::V17,
        m => {
            eprintln!("unknown modem {m}");
            std::process::exit(2)
        }
    };
    let rate: u32 = a[1].parse().expect("RATE");
    let repeat: usize = a[3].parse().expect("REPEAT");
    (kind, rate, a[2].clone(), repeat, a.get(4).cloned())
}
