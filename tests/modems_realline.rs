//! softfax's receivers on the lines of a fax call, as the fax terminal meets them: a TCF
//! with the long training, a pause, then the page — for V.17 with the short retrain (T.30
//! §5.3.2, V.17 §7), which starts from the equaliser the TCF trained. Both softfax's
//! transmitter and spandsp's (tests/peers/spandsp_modem.c) send, through softfax's line
//! simulator: a telephone channel with group delay, ±7 Hz carrier offset, ±100 ppm sender
//! clock, and a typical analogue leg (G.711, channel, low noise, weak echo).
//!
//! `matrix` (ignored; run by hand) prints every cell against spandsp's own receiver on the
//! same page; the regression tests hold softfax's receiver error-free where spandsp's is.

mod common;
#[path = "common/spandsp.rs"]
mod spandsp;

use softfax::dsp::linesim::{Echo, Law, LineModel, LineParams, LineSim};
use softfax::dsp::modem::common::PrbsChecker;
use softfax::dsp::modem::factory;
use softfax::dsp::modem::rate::{Modem, Rate, Training};
use softfax::dsp::modem::v17::V17Rx;
use softfax::dsp::modem::{Receiver, RxEvent, RxSink};
use spandsp::*;

fn rate_of(modem: &str, bps: u32) -> Rate {
    let m = match modem {
        "v21" => Modem::V21,
        "v27ter" => Modem::V27ter,
        "v29" => Modem::V29,
        _ => Modem::V17,
    };
    Rate::new(m, bps).unwrap()
}

/// softfax's transmitter: `lead` samples of silence, the modem with `nbits` PRBS bits.
fn softfax_tx(modem: &str, rate: u32, nbits: u64, training: Training, lead: usize) -> Vec<i16> {
    let mut tx = factory::transmitter(rate_of(modem, rate), -13.0, training);
    let bits = prbs23(nbits as usize);
    let mut it = bits.into_iter();
    let mut src = move || it.next().map(|b| b != 0);
    let mut out = vec![0i16; lead];
    let mut buf = [0i16; 160];
    loop {
        let n = tx.transmit(&mut buf, &mut src);
        out.extend_from_slice(&buf[..n]);
        if n < buf.len() {
            break;
        }
    }
    out
}

fn through(params: LineParams, samples: &[i16]) -> Vec<i16> {
    let mut sim = LineSim::new(params);
    let mut out = Vec::new();
    let mut all = Vec::with_capacity(samples.len() + 8);
    for c in samples.chunks(160) {
        sim.process(c, &mut out);
        all.extend_from_slice(&out);
    }
    all
}

/// Bits softfax's receiver delivers per trained carrier.
#[derive(Default)]
struct Segments {
    /// V.21: bits count from the carrier (FSK has no training).
    fsk: bool,
    open: bool,
    segs: Vec<Vec<u8>>,
    downs: usize,
}

impl RxSink for Segments {
    fn put_bit(&mut self, bit: bool) {
        if self.open
            && let Some(s) = self.segs.last_mut()
        {
            s.push(bit as u8)
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => {
                self.open = true;
                self.segs.push(Vec::new());
            }
            RxEvent::CarrierUp if self.fsk => {
                self.open = true;
                self.segs.push(Vec::new());
            }
            RxEvent::CarrierDown => {
                self.open = false;
                self.downs += 1;
            }
            _ => {}
        }
    }
}

/// PRBS errors of a trained segment against prbs23 (the checker synchronises itself), and
/// whether it began with the first bits sent.
fn check(bits: &[u8], nbits: u64) -> (PrbsChecker, bool) {
    let sent = prbs23(nbits as usize);
    let at = (0..bits.len().min(64)).find(|&i| bits[i..].starts_with(&sent[..64]));
    let mut chk = PrbsChecker::default();
    for &b in bits[at.unwrap_or(0)..].iter().take(nbits as usize) {
        chk.put(b != 0);
    }
    (chk, at.is_some())
}

/// softfax's receiver over `samples`; V.17 restarts for the short retrain after the first
/// carrier (as the fax terminal does after TCF). The last trained segment is checked.
fn softfax_rx(modem: &str, rate: u32, samples: &[i16], nbits: u64) -> (usize, PrbsChecker, bool) {
    let r = rate_of(modem, rate);
    let mut sink = Segments {
        fsk: modem == "v21",
        ..Default::default()
    };
    if let Rate::V17(v) = r {
        let mut rx = V17Rx::new(v);
        for c in samples.chunks(160) {
            let before = sink.downs;
            rx.receive(c, &mut sink);
            if sink.downs > before {
                rx.restart(v, true);
            }
        }
    } else {
        let mut rx = factory::receiver(r);
        for c in samples.chunks(160) {
            rx.receive(c, &mut sink);
        }
    }
    let last = sink.segs.last().cloned().unwrap_or_default();
    let (chk, aligned) = check(&last, nbits);
    (sink.segs.len(), chk, aligned)
}

struct Cell {
    name: &'static str,
    params: LineParams,
}

fn cells() -> Vec<Cell> {
    let base = LineParams {
        seed: 7,
        ..Default::default()
    };
    let pstn = LineParams {
        model: LineModel::Moderate,
        law: Some(Law::Ulaw),
        noise_dbm0: Some(-60.0),
        echo: Some(Echo {
            delay_ms: 20.0,
            attenuation_db: 24.0,
        }),
        ..base
    };
    vec![
        Cell {
            name: "clean",
            params: base,
        },
        Cell {
            name: "severe",
            params: LineParams {
                model: LineModel::Severe,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "moderate",
            params: LineParams {
                model: LineModel::Moderate,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "+7Hz",
            params: LineParams {
                carrier_offset_hz: 7.0,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "-7Hz",
            params: LineParams {
                carrier_offset_hz: -7.0,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "+100ppm",
            params: LineParams {
                drift_ppm: 100.0,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "-100ppm",
            params: LineParams {
                drift_ppm: -100.0,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "+50ppm",
            params: LineParams {
                drift_ppm: 50.0,
                snr_db: Some(40.0),
                ..base
            },
        },
        Cell {
            name: "pstn",
            params: pstn,
        },
        Cell {
            name: "pstn-severe",
            params: LineParams {
                model: LineModel::Severe,
                noise_dbm0: Some(-50.0),
                echo: Some(Echo {
                    delay_ms: 20.0,
                    attenuation_db: 15.0,
                }),
                ..pstn
            },
        },
        Cell {
            name: "pstn-alaw",
            params: LineParams {
                law: Some(Law::Alaw),
                gain_db: -10.0,
                ..pstn
            },
        },
    ]
}

/// A TCF (`tcf` bits, long training), 75 ms of silence, then the page (`nbits` PRBS bits;
/// V.17: the short retrain) from softfax's transmitter.
fn softfax_call(modem: &str, rate: u32, tcf: u64, nbits: u64) -> Vec<i16> {
    let short = modem == "v17";
    let mut audio = softfax_tx(modem, rate, tcf, Training::Long, 800);
    let training = if short {
        Training::Short
    } else {
        Training::Long
    };
    audio.extend(softfax_tx(modem, rate, nbits, training, 600));
    audio.extend(std::iter::repeat_n(0, 2000));
    audio
}

/// The same from spandsp's transmitter (its own lead-in and tail silences).
fn spandsp_call(modem: &str, rate: u32, tcf: u64, nbits: u64) -> Vec<i16> {
    let mut audio = spandsp_tx_prbs(modem, rate, tcf);
    audio.extend(spandsp_tx_prbs_opts(
        modem,
        rate,
        nbits,
        &TxOptions {
            short_train: modem == "v17",
            ..Default::default()
        },
    ));
    audio
}

/// The matrix: every cell × modem × transmitter, softfax's receiver on the call and
/// spandsp's on the page alone (long training; its short-retrain handling is its own). Run
/// by hand: `cargo test --release --test modems_realline matrix -- --ignored --nocapture`
/// (MATRIX_CELL, MATRIX_MODEM and MATRIX_BITS narrow it).
#[test]
#[ignore]
fn matrix() {
    if build_spandsp_modem().is_none() {
        return;
    }
    let want_cell = std::env::var("MATRIX_CELL").ok();
    let want_modem = std::env::var("MATRIX_MODEM").ok();
    let nbits: u64 = std::env::var("MATRIX_BITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    for cell in cells() {
        if want_cell.as_deref().is_some_and(|c| c != cell.name) {
            continue;
        }
        for &(modem, rate) in SPANDSP_MODEMS {
            if want_modem.as_deref().is_some_and(|m| !modem.starts_with(m)) {
                continue;
            }
            for tx in ["softfax", "spandsp"] {
                let (call, page) = if tx == "softfax" {
                    let mut page = softfax_tx(modem, rate, nbits, Training::Long, 800);
                    page.extend(std::iter::repeat_n(0, 2000));
                    (softfax_call(modem, rate, 3600, nbits), page)
                } else {
                    (
                        spandsp_call(modem, rate, 3600, nbits),
                        spandsp_tx_prbs(modem, rate, nbits),
                    )
                };
                let (segs, chk, aligned) =
                    softfax_rx(modem, rate, &through(cell.params, &call), nbits);
                let sp = spandsp_rx_prbs(modem, rate, &through(cell.params, &page), nbits);
                eprintln!(
                    "{:9} {modem:6} {rate:5} tx={tx:7} softfax: trainings={segs} \
                     aligned={aligned} bits={} errors={} | spandsp: trained={} bits={:?} \
                     errors={:?}",
                    cell.name, chk.bits, chk.errors, sp.trained, sp.prbs_bits, sp.errors
                );
            }
        }
    }
}

/// Issue 12, classes 5, 6, 2/3 and 7 on the receiving side: the V.17 page after the short
/// retrain, from both transmitters, error-free through the channel with group delay
/// (moderate), ±7 Hz, ±100 ppm and the analogue leg — where spandsp's receiver is too. (The
/// retrain took the acquisition's clock for the saved equaliser's, a third of a sample off
/// on a delay-distorted line, and held the carrier phase still through the symbols that
/// tell long training from short: 8° at 7 Hz.)
#[test]
fn v17_page_after_short_retrain() {
    let peer = build_spandsp_modem().is_some();
    let nbits = 30_000;
    for cell in cells() {
        if !["moderate", "+7Hz", "-7Hz", "+100ppm", "-100ppm", "pstn"].contains(&cell.name) {
            continue;
        }
        for rate in [14400, 9600] {
            let mut calls = vec![("softfax", softfax_call("v17", rate, 3600, nbits))];
            if peer {
                calls.push(("spandsp", spandsp_call("v17", rate, 3600, nbits)));
            }
            for (tx, call) in calls {
                let (segs, chk, aligned) =
                    softfax_rx("v17", rate, &through(cell.params, &call), nbits);
                let what = format!(
                    "{} V.17 {rate} from {tx}: trainings={segs} aligned={aligned} {chk:?}",
                    cell.name
                );
                assert_eq!(segs, 2, "{what}");
                assert!(aligned && chk.bits + 64 >= nbits, "{what}");
                assert_eq!(chk.errors, 0, "{what}");
            }
        }
    }
}

/// Issue 12, class 7, the modems' part: on a typical analogue leg (G.711, the moderate
/// channel, −60 dBm0 noise, an echo 24 dB down at 20 ms) V.21 and every image modem's long
/// training (the TCF) come through error-free from both transmitters, as through spandsp's
/// receiver. (Phase B's T1 timeouts on such a line are not the modems'.)
#[test]
fn phase_b_modems_on_an_analogue_leg() {
    let peer = build_spandsp_modem().is_some();
    let pstn = cells()
        .into_iter()
        .find(|c| c.name == "pstn")
        .unwrap()
        .params;
    let nbits = 3_000;
    for (modem, rate) in [
        ("v21", 300),
        ("v27ter", 4800),
        ("v29", 9600),
        ("v17", 14400),
    ] {
        let mut calls = vec![(
            "softfax",
            softfax_tx(modem, rate, nbits, Training::Long, 800),
        )];
        if peer {
            calls.push(("spandsp", spandsp_tx_prbs(modem, rate, nbits)));
        }
        for (tx, mut audio) in calls {
            audio.extend(std::iter::repeat_n(0, 2000));
            let (segs, chk, aligned) = softfax_rx(modem, rate, &through(pstn, &audio), nbits);
            let what =
                format!("{modem} {rate} from {tx}: trainings={segs} aligned={aligned} {chk:?}");
            assert_eq!(segs, 1, "{what}");
            assert!(aligned && chk.bits + 64 >= nbits, "{what}");
            assert_eq!(chk.errors, 0, "{what}");
        }
    }
}
