//! `softfax report` (docs/contracts/cli.md): its smallest run (`--smoke`, every part, a few
//! cells) writes report.md and PNG figures that decode; the matrix cells it keeps — a clean
//! line and G.711 A-law in V.17 14400 ECM, both directions — pass against softfax itself and
//! against spandsp's fax terminal given as `--peer-send`/`--peer-recv` templates.

mod common;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::path::Path;
use std::process::{Command, Output};

fn report(dir: &Path, extra: &[&str]) -> (Output, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["report", "--smoke", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    (o, md)
}

/// Every image report.md links exists and is a PNG that decodes.
fn figures_decode(dir: &Path, md: &str) -> usize {
    let mut n = 0;
    for part in md.split("](").skip(1) {
        let name = &part[..part.find(')').unwrap()];
        if !name.ends_with(".png") {
            continue;
        }
        let f = std::fs::File::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut r = png::Decoder::new(std::io::BufReader::new(f))
            .read_info()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert!(info.width > 100 && info.height > 50, "{name}");
        n += 1;
    }
    n
}

#[test]
fn the_smallest_report_against_softfax() {
    let dir = tempfile::tempdir().unwrap();
    let (o, md) = report(dir.path(), &[]);
    for heading in [
        "## T.4/T.6 codecs on the ITU test charts",
        "## Bit error rate against SNR",
        "## Impairment matrix",
        "## Speed against the peers",
    ] {
        assert!(md.contains(heading), "{heading}\n{md}");
    }
    assert!(md.contains("**24/24** round trips"), "{md}");
    assert!(md.contains("### softfax sends: 2/2 cells pass"), "{md}");
    assert!(md.contains("### softfax receives: 2/2 cells pass"), "{md}");
    // codecs, two BER families, the matrix both ways.
    assert_eq!(figures_decode(dir.path(), &md), 5);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("matrix: softfax sends: 2/2"), "{err}");
}

#[test]
fn the_smallest_report_against_spandsp() {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = peer.display();
    let (_, md) = report(
        dir.path(),
        &[
            "--peer-recv",
            &format!("{p} recv {{out}} {{opts}}"),
            "--peer-send",
            &format!("{p} send {{pages}} {{opts}}"),
        ],
    );
    assert!(md.contains("### softfax sends: 2/2 cells pass"), "{md}");
    assert!(md.contains("### softfax receives: 2/2 cells pass"), "{md}");
    assert!(
        md.contains(&format!("receiving: `{p} recv {{out}} {{opts}}`")),
        "{md}"
    );
    // With libspandsp installed the report builds spandsp's modem peer and draws its BER
    // curves beside softfax's: the table gets spandsp's columns, with a figure for V.29
    // 9600 at the smoke run's SNRs where spandsp's pair is error-free at the top.
    assert!(md.contains("spandsp: no error from"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| v29 9600 |"))
        .unwrap_or_else(|| panic!("{md}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(
        cells[5].ends_with("dB"),
        "spandsp's V.29 9600 error-free point: {row}"
    );
}
