//! Every modem softfax has, through the line simulator: error-free on a clean line and
//! under the impairments the recommendations ask receivers to take (±100 ppm sample clock,
//! ±7 Hz carrier offset, −43 and 0 dBm0, µ-law and A-law transcoding, talker echo, a
//! telephone channel with group delay), and the BER targets set from spandsp's published
//! figures. Seeded, so deterministic.

use softfax::cli::ber::{Point, measure};
use softfax::cli::modem::{ModemKind, name, rates};
use softfax::dsp::linesim::{Echo, Law, LineModel, LineParams};

const ALL: [ModemKind; 4] = [
    ModemKind::V21,
    ModemKind::V27ter,
    ModemKind::V29,
    ModemKind::V17,
];

/// `bits` PRBS bits through the line; the point measured, after checking that (nearly) all
/// of them were counted: a receiver that loses the carrier early, or never delivers the
/// bits, would otherwise pass on the few it did.
fn run(kind: ModemKind, rate: u32, bits: u64, params: LineParams) -> Point {
    let p =
        measure(kind, rate, bits, params).unwrap_or_else(|e| panic!("{} {rate}: {e}", name(kind)));
    // The measurement leaves out the receiver's first 64 bits and the last 32 sent, and the
    // PRBS checker seeds itself from 23: 119 bits, and some slack for a late carrier.
    assert!(
        p.bits + 200 >= bits && p.bits <= bits,
        "{} {rate} ({params:?}): {} of {bits} bits counted: {p:?}",
        name(kind),
        p.bits
    );
    p
}

fn error_free(what: &str, kind: ModemKind, rate: u32, params: LineParams) {
    let bits = 20_000;
    let p = run(kind, rate, bits, params);
    let label = format!("{} {rate} {what} ({params:?}): {p:?}", name(kind));
    assert!(p.trained, "{label}");
    assert_eq!(p.errors, 0, "{label}");
}

#[test]
fn clean_line() {
    for kind in ALL {
        for &rate in rates(kind) {
            error_free("clean", kind, rate, LineParams::default());
        }
    }
}

#[test]
fn sample_clock_offset() {
    for kind in ALL {
        for &rate in rates(kind) {
            for ppm in [-100.0, 100.0] {
                error_free(
                    "clock",
                    kind,
                    rate,
                    LineParams {
                        drift_ppm: ppm,
                        snr_db: Some(40.0),
                        seed: 1,
                        ..Default::default()
                    },
                );
            }
        }
    }
}

#[test]
fn carrier_offset() {
    for kind in ALL {
        for &rate in rates(kind) {
            for hz in [-7.0, 7.0] {
                error_free(
                    "carrier",
                    kind,
                    rate,
                    LineParams {
                        carrier_offset_hz: hz,
                        snr_db: Some(40.0),
                        seed: 2,
                        ..Default::default()
                    },
                );
            }
        }
    }
}

#[test]
fn levels_and_companding() {
    for kind in ALL {
        for &rate in rates(kind) {
            // −13 dBm0 transmitted: −30 dB of loss gives −43 dBm0, +13 dB gives 0 dBm0.
            error_free(
                "-43 dBm0",
                kind,
                rate,
                LineParams {
                    gain_db: -30.0,
                    ..Default::default()
                },
            );
            error_free(
                "0 dBm0",
                kind,
                rate,
                LineParams {
                    gain_db: 13.0,
                    ..Default::default()
                },
            );
            error_free(
                "u-law",
                kind,
                rate,
                LineParams {
                    law: Some(Law::Ulaw),
                    ..Default::default()
                },
            );
            error_free(
                "A-law",
                kind,
                rate,
                LineParams {
                    law: Some(Law::Alaw),
                    gain_db: -20.0,
                    ..Default::default()
                },
            );
        }
    }
}

fn echo_params() -> LineParams {
    LineParams {
        echo: Some(Echo {
            delay_ms: 20.0,
            attenuation_db: 20.0,
        }),
        snr_db: Some(40.0),
        seed: 3,
        ..Default::default()
    }
}

fn channel_params() -> LineParams {
    LineParams {
        model: LineModel::Moderate,
        snr_db: Some(40.0),
        seed: 4,
        ..Default::default()
    }
}

#[test]
fn echo_and_channel() {
    for kind in ALL {
        for &rate in rates(kind) {
            for (what, params) in [("echo", echo_params()), ("channel", channel_params())] {
                error_free(what, kind, rate, params);
            }
        }
    }
}

/// BER at the data interface: at least as good as spandsp's figures on the same test.
#[test]
fn ber_targets() {
    let targets: &[(ModemKind, u32, f32, f64, u64)] = &[
        (ModemKind::V29, 9600, 18.0, 1.2e-3, 200_000),
        (ModemKind::V29, 9600, 20.0, 1e-4, 400_000),
        (ModemKind::V17, 14400, 22.0, 1.5e-3, 200_000),
        (ModemKind::V17, 14400, 24.0, 2e-5, 1_000_000),
    ];
    for &(kind, rate, snr, max_ber, bits) in targets {
        let params = LineParams {
            snr_db: Some(snr),
            seed: 0xBE5 + snr as u64,
            ..Default::default()
        };
        let p = run(kind, rate, bits, params);
        let label = format!(
            "{} {rate} at {snr} dB: {p:?}, BER {:.2e} (target ≤ {max_ber:.1e})",
            name(kind),
            p.ber()
        );
        assert!(p.trained, "{label}");
        assert!(p.ber() <= max_ber, "{label}");
        eprintln!("ok: {label}");
    }
}
