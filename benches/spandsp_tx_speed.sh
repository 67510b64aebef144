#!/usr/bin/env bash
# Transmit speed of spandsp's fax modems against softfax's, per modem and rate: each side
# makes SECONDS_OF_DATA of PRBS data at -13 dBm0 (training, data, ending), REPEAT times, a
# fresh transmitter each pass, blocks of 160 samples (spandsp: benches/spandsp_tx_time.c;
# softfax: examples/modem_tx_time.rs; CPU time of the process). Best of RUNS runs each.
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

command -v "${CC:-cc}" >/dev/null || { echo "no C compiler: apt-get install gcc" >&2; exit 2; }
if [[ ! -x $BIN || $SRC -nt $BIN ]]; then
    mkdir -p "$(dirname "$BIN")"
    FLAGS=$(pkg-config --cflags --libs spandsp 2>/dev/null || echo -lspandsp)
    # shellcheck disable=SC2086
    "${CC:-cc}" -O2 -std=c11 -Wall -o "$BIN.$$" "$SRC" $FLAGS -lm \
        || { echo "cannot build $SRC: apt-get install libspandsp-dev" >&2; exit 2; }
    mv "$BIN.$$" "$BIN"
fi
cargo build --release --quiet --example modem_tx_time

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
    read -r sp_n sp_t < <(best "$BIN" "$modem" "$rate" "$SECONDS_OF_DATA" "$REPEAT")
    read -r sf_n sf_t < <(best target/release/examples/modem_tx_time "$modem" "$rate" "$SECONDS_OF_DATA" "$REPEAT")
    line=$(awk -v m="$modem" -v r="$rate" -v a="$sp_n" -v t="$sp_t" -v b="$sf_n" -v u="$sf_t" 'BEGIN{
        sp = a / t; sf = b / u;
        printf "%-8s %6d %14.2f %16.0f %14.2f %16.0f %7.2fx\n", m, r, sp/1e6, sp/8000, sf/1e6, sf/8000, sf/sp }')
    echo "$line"
    summary+="ratio tx $modem $rate $(awk '{print substr($7, 1, length($7)-1)}' <<<"$line")"$'\n'
done
printf '%s' "$summary"
