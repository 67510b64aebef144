//! A whole call between two softfax terminals back to back in simulated time, on the pages
//! of a TIFF: prints `simulated_s cpu_s terminals_per_core pages ok` (a terminal is one end of
//! a real-time call; CPU time of this process; `pages` received, `ok` when both ends ended
//! the call normally). Each repeat does what spandsp's pair does in
//! benches/spandsp_call_speed.sh: reads and decodes IN.tif, runs the call, and writes the
//! received pages to OUT.tif (MR, as `softfax fax recv` writes them).
//!
//!   cargo run --release --example fax_call_speed -- IN.tif OUT.tif [--no-ecm] [--repeat N]

#[path = "common/timing.rs"]
mod timing;

use softfax::dsp::fax::{Terminal, run_pair};
use softfax::dsp::t4::Coding;
use softfax::dsp::t30::Config;
use softfax::dsp::tiff;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(file), Some(out)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: fax_call_speed IN.tif OUT.tif [--no-ecm] [--repeat N]");
    };
    let ecm = !args.iter().any(|a| a == "--no-ecm");
    let repeat: u32 = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(5), |s| s.parse())?;
    let cfg = |id: &str| Config {
        ident: id.into(),
        ecm,
        ..Config::default()
    };
    let t0 = timing::cpu_seconds();
    let mut samples = 0;
    let mut ok = true;
    let mut got = 0;
    for _ in 0..repeat {
        let pages: Vec<_> = tiff::read_pages(&std::fs::read(file)?)?
            .into_iter()
            .map(|d| d.page)
            .collect();
        let mut a = Terminal::caller(cfg("a"), pages);
        let mut b = Terminal::answerer(cfg("b"));
        samples += run_pair(&mut a, &mut b, 3600);
        ok &= [&a, &b]
            .iter()
            .all(|t| t.outcome().is_some_and(|o| o.hangup.code() == 0));
        got = b.received_pages().len();
        let written = tiff::write_pages(
            b.received_pages(),
            tiff::WriteOptions {
                coding: Some(Coding::Mr { k: 4 }),
                align_eol: false,
            },
        )?;
        std::fs::write(out, written)?;
    }
    let cpu = (timing::cpu_seconds() - t0).max(0.01);
    let sim = samples as f64 / 8000.0;
    println!("{sim:.1} {cpu:.3} {:.0} {got} {ok}", 2.0 * sim / cpu);
    Ok(())
}
