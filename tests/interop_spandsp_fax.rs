//! Whole fax calls between softfax and spandsp's own fax terminal (tests/peers/spandsp_fax.c,
//! on an `exec:` line). Each call is judged by both sides' own accounts — softfax's result
//! JSON and spandsp's report line (pages, bit rate, ECM, coding, bad rows), which must agree
//! with each other and with what the call asked for — and by the pages: whichever side
//! received writes a TIFF, libtiff decodes it (`tifftopnm`), and it must equal the source
//! PBM pel for pel. Skips with a printed reason without cc, libspandsp-dev or netpbm; fails
//! under CI.

mod common;
#[path = "common/fax_call.rs"]
mod fax_call;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::path::Path;

use fax_call::{Want, call, document, judge, peers};
use softfax::dsp::image::Page;

#[test]
fn spandsp_sends_softfax_receives() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, false, "", &[]);
    let json = String::from_utf8_lossy(&o.stdout);
    assert!(
        json.contains("\"remote_ident\":\"spandsp sender\""),
        "{json}"
    );
    let want = Want {
        rate: Some(14400),
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("spandsp -> softfax: {e}");
    }
}

#[test]
fn softfax_sends_spandsp_receives_at_4800() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, true, "", &["--max-rate", "4800"]);
    let want = Want {
        rate: Some(4800),
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("softfax -> spandsp at 4800: {e}");
    }
}

/// V.17 pages go with the short retrain after TCF, as spandsp's receiver expects.
#[test]
fn softfax_sends_spandsp_receives_at_14400() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, true, "", &[]);
    let want = Want {
        rate: Some(14400),
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("softfax -> spandsp at 14400: {e}");
    }
}

/// One call in one mode, judged; `Some(failure)` when it fails.
fn one_mode(
    peer: &Path,
    tif: &Path,
    source: &[Page],
    sending: bool,
    ecm: bool,
    rate: u32,
    compression: &str,
) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut peer_args = format!("--rate {rate} --compression {compression}");
    if ecm {
        peer_args.push_str(" --ecm");
    }
    let (o, out) = call(peer, dir.path(), tif, sending, &peer_args, &[]);
    let want = Want {
        rate: Some(rate),
        ecm,
        // MMR (T.6) needs ECM: without it the call falls back to MR.
        compression: if compression == "mmr" && !ecm {
            "mr"
        } else {
            compression
        },
    };
    judge(&o, &want, &out, source).err().map(|e| {
        let dir = if sending {
            "softfax->spandsp"
        } else {
            "spandsp->softfax"
        };
        format!("{dir} ecm={ecm} {rate} {compression}: {e}")
    })
}

/// The modes each direction runs: V.17 14400, V.29 9600, V.27ter 4800, each with ECM (MH,
/// MR, MMR) and without (MH, MR) — 15 calls.
fn modes() -> Vec<(bool, u32, &'static str)> {
    let mut modes = Vec::new();
    for ecm in [true, false] {
        for rate in [14400, 9600, 4800] {
            for comp in ["mh", "mr", "mmr"] {
                if comp == "mmr" && !ecm {
                    continue;
                }
                modes.push((ecm, rate, comp));
            }
        }
    }
    modes
}

/// Every mode in one direction, two pages each (ITU charts 1 and 4).
fn every_mode(sending: bool) {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1, 4]);
    let modes = modes();
    assert_eq!(modes.len(), 15);
    // Two at a time (the calls run in simulated time, bounded by CPU).
    let failures: Vec<String> = modes
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|s| {
                let hs: Vec<_> = pair
                    .iter()
                    .map(|&(ecm, rate, comp)| {
                        let (peer, tif, source) = (&peer, &tif, &source);
                        s.spawn(move || one_mode(peer, tif, source, sending, ecm, rate, comp))
                    })
                    .collect();
                hs.into_iter()
                    .filter_map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} modes failed:\n{}",
        failures.len(),
        modes.len(),
        failures.join("\n")
    );
}

#[test]
fn softfax_sends_to_spandsp_in_every_mode() {
    every_mode(true);
}

#[test]
fn spandsp_sends_to_softfax_in_every_mode() {
    every_mode(false);
}
