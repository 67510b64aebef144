#!/usr/bin/env bash
# Receive speed of spandsp's fax modems (the peer tests/peers/spandsp_modem.c), per modem
# and rate, on a 60 s signal made by spandsp's own transmitter (PRBS data, -13 dBm0).
#
# For each modem/rate: `spandsp_modem tx MODEM RATE --prbs N` writes ~60 s of signal to a
# raw s16le file, then `spandsp_modem bench MODEM RATE FILE REPEAT` runs the receiver over
# it REPEAT times (CPU time, CLOCK_PROCESS_CPUTIME_ID; blocks of 160 samples; receiver set
# up afresh each pass). Best of RUNS runs. Prints Msamples/s and real-time channels per core
# (one channel = 8000 samples/s).
#
#   REPEAT=20 RUNS=5 benches/spandsp_rx_speed.sh
#
# Needs cc and libspandsp-dev (pkg-config optional).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-20}
RUNS=${RUNS:-5}
SECONDS_OF_SIGNAL=${SECONDS_OF_SIGNAL:-60}
SRC=tests/peers/spandsp_modem.c
BIN=target/tmp/spandsp_modem   # where the tests build it too (CARGO_TARGET_TMPDIR)

source benches/common.sh
build_c_peer "$BIN" "$SRC" spandsp spandsp "libspandsp-dev libtiff-dev" -ltiff -lm

cargo build --release --quiet --example modem_rx_time
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

printf '%-8s %6s %10s %14s %16s %14s %8s\n' modem rate signal_s spandsp_Ms/s spandsp_ch/core softfax_Ms/s ratio
for mr in v21:300 v27ter:2400 v27ter:4800 v29:7200 v29:9600 v17:7200 v17:9600 v17:12000 v17:14400; do
    modem=${mr%%:*}; rate=${mr#*:}
    raw="$TMP/$modem-$rate.raw"
    nprbs=$((SECONDS_OF_SIGNAL * rate))
    "$BIN" tx "$modem" "$rate" --prbs "$nprbs" > "$raw" 2>/dev/null
    line=$("$BIN" rx "$modem" "$rate" --prbs "$nprbs" < "$raw" 2>&1 >/dev/null | tail -1)
    prbs_ok "$line" || { echo "$modem $rate: spandsp does not decode its own signal: $line" >&2; exit 1; }
    best=""
    for _ in $(seq "$RUNS"); do
        # stdout: samples=S seconds=T ...; stderr: trained=1 check
        line=$("$BIN" bench "$modem" "$rate" "$raw" "$REPEAT" 2>"$TMP/err")
        grep -q 'trained=1' "$TMP/err" || { echo "$modem $rate: receiver did not train" >&2; exit 1; }
        samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$line")
        secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
        if [[ -z $best ]] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$secs; fi
    done
    signal_s=$(awk -v s="$samples" -v r="$REPEAT" 'BEGIN{printf "%.1f", s/r/8000}')

    # softfax's receiver on the same "$raw" (same REPEAT, best of RUNS, CPU time); the ratio
    # is softfax Msamples/s over spandsp Msamples/s (> 1 = softfax is faster). A modem softfax
    # does not have yet prints "-".
    sf_secs=""
    for _ in $(seq "$RUNS"); do
        line=$(target/release/examples/modem_rx_time "$modem" "$rate" "$raw" "$REPEAT" "$nprbs" 2>/dev/null) || { sf_secs=""; break; }
        prbs_ok "$line" || { echo "softfax $modem $rate: receiver did not decode the PRBS: $line" >&2; exit 1; }
        secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
        if [[ -z $sf_secs ]] || awk -v a="$secs" -v b="$sf_secs" 'BEGIN{exit !(a<b)}'; then sf_secs=$secs; fi
    done

    awk -v m="$modem" -v r="$rate" -v sig="$signal_s" -v s="$samples" -v t="$best" -v sf="$sf_secs" 'BEGIN{
        ms = s / t / 1e6; ch = s / t / 8000;
        if (sf != "") { sfms = sprintf("%.2f", s / sf / 1e6); ratio = sprintf("%.2fx", t / sf) }
        else { sfms = "-"; ratio = "-" }
        printf "%-8s %6d %10s %14.2f %16.0f %14s %8s\n", m, r, sig, ms, ch, sfms, ratio }'
done
