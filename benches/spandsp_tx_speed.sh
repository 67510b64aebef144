#!/usr/bin/env bash
# Transmit speed of spandsp's fax modems against softfax's, per modem and rate: each side
# makes SECONDS_OF_DATA of PRBS data at -13 dBm0 (training, data, ending), REPEAT times, a
# fresh transmitter each pass, blocks of 160 samples (spandsp: benches/spandsp_tx_time.c;
# softfax: examples/modem_tx_time.rs; CPU time of the process). Best of RUNS runs each.
# Before timing a modem, one pass of each side is written out and decoded by spandsp's
# receiver (tests/peers/spandsp_modem.c rx --prbs) and by softfax's (examples/modem_rx_time):
# both must train and give the PRBS back with no error and at most a few bits missing at
# the carrier's end; otherwise the script stops before any ratio.
# Prints Msamples/s, real-time channels per core (8000 samples/s each) and the ratio
# softfax/spandsp (> 1: softfax is faster), then one summary line per modem:
#   ratio tx MODEM RATE X.XX
#
#   REPEAT=20 RUNS=3 benches/spandsp_tx_speed.sh
#
# Needs cc and libspandsp-dev (pkg-config optional).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-20}
RUNS=${RUNS:-3}
SECONDS_OF_DATA=${SECONDS_OF_DATA:-60}
SRC=benches/spandsp_tx_time.c
BIN=target/tmp/spandsp_tx_time

RXBIN=target/tmp/spandsp_modem   # the receiver that judges both outputs
RXSRC=tests/peers/spandsp_modem.c
source benches/common.sh
build_c_peer "$BIN" "$SRC" spandsp spandsp libspandsp-dev -lm
build_c_peer "$RXBIN" "$RXSRC" spandsp spandsp "libspandsp-dev libtiff-dev" -ltiff -lm
cargo build --release --quiet --example modem_tx_time --example modem_rx_time
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# check WHO MODEM RATE FILE BITS: decode FILE with both receivers; stop unless both give
# the BITS of PRBS back without error (missing <= 8: the last bits as the carrier drops).
check() {
    local who=$1 modem=$2 rate=$3 file=$4 bits=$5 sp sf
    sp=$("$RXBIN" rx "$modem" "$rate" --prbs "$bits" < "$file" 2>&1 >/dev/null | tail -1)
    sf=$(target/release/examples/modem_rx_time "$modem" "$rate" "$file" 1 "$bits")
    for verdict in "spandsp rx: $sp" "softfax rx: $sf"; do
        prbs_ok "$verdict" || { echo "$who's $modem $rate signal does not decode: $verdict" >&2; exit 1; }
    done
}

# best SECONDS of RUNS runs of a command printing samples=N seconds=T
best() {
    local b="" s line
    for _ in $(seq "$RUNS"); do
        line=$("$@")
        s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
        samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$line")
        if [[ -z $b ]] || awk -v a="$s" -v b="$b" 'BEGIN{exit !(a<b)}'; then b=$s; fi
    done
    echo "$samples $b"
}

printf '%-8s %6s %14s %16s %14s %16s %8s\n' modem rate spandsp_Ms/s spandsp_ch/core softfax_Ms/s softfax_ch/core ratio
summary=""
for mr in v21:300 v27ter:2400 v27ter:4800 v29:7200 v29:9600 v17:7200 v17:9600 v17:12000 v17:14400; do
    modem=${mr%%:*}; rate=${mr#*:}
    bits=$((SECONDS_OF_DATA * rate))
    "$BIN" "$modem" "$rate" "$SECONDS_OF_DATA" 1 "$TMP/spandsp.raw" > /dev/null
    target/release/examples/modem_tx_time "$modem" "$rate" "$SECONDS_OF_DATA" 1 "$TMP/softfax.raw" > /dev/null
    check spandsp "$modem" "$rate" "$TMP/spandsp.raw" "$bits"
    check softfax "$modem" "$rate" "$TMP/softfax.raw" "$bits"
    read -r sp_n sp_t < <(best "$BIN" "$modem" "$rate" "$SECONDS_OF_DATA" "$REPEAT")
    read -r sf_n sf_t < <(best target/release/examples/modem_tx_time "$modem" "$rate" "$SECONDS_OF_DATA" "$REPEAT")
    line=$(awk -v m="$modem" -v r="$rate" -v a="$sp_n" -v t="$sp_t" -v b="$sf_n" -v u="$sf_t" 'BEGIN{
        sp = a / t; sf = b / u;
        printf "%-8s %6d %14.2f %16.0f %14.2f %16.0f %7.2fx\n", m, r, sp/1e6, sp/8000, sf/1e6, sf/8000, sf/sp }')
    echo "$line"
    summary+="ratio tx $modem $rate $(awk '{print substr($7, 1, length($7)-1)}' <<<"$line")"$'\n'
done
printf '%s' "$summary"
