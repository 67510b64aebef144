#!/usr/bin/env bash
# Whole-call speed: two fax terminals back to back in simulated time, sending the same
# 3 pages (ITU charts 1, 2 and 4, fine, as one TIFF), with ECM (MMR) and without (MR) —
# spandsp's pair (benches/spandsp_call_pair.c, fax_tx/fax_rx) and softfax's pair
# (examples/fax_call_speed.rs, fax::run_pair), in the same run, CPU time of each process.
# Both sides do the same work in every timed repeat: read and decode the input TIFF, run the
# call, write the received pages to a TIFF. Prints simulated call seconds, CPU seconds,
# terminals per core (one terminal = one end of a real-time call), pages received, and the
# ratio softfax/spandsp — only after checking that both ends of both pairs ended the call
# normally, received all 3 pages, and wrote them pel for pel (libtiff's tifftopnm).
#
#   REPEAT=5 benches/spandsp_call_speed.sh
#
# Needs cc, libspandsp-dev and netpbm.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
SRC=benches/spandsp_call_pair.c
BIN=target/tmp/spandsp_call_pair
command -v "${CC:-cc}" >/dev/null || { echo "no C compiler: apt-get install gcc" >&2; exit 2; }
command -v tifftopnm >/dev/null || { echo "no tifftopnm: apt-get install netpbm" >&2; exit 2; }
if [[ ! -x $BIN || $SRC -nt $BIN ]]; then
    mkdir -p "$(dirname "$BIN")"
    FLAGS=$(pkg-config --cflags --libs spandsp 2>/dev/null || echo -lspandsp)
    # shellcheck disable=SC2086
    "${CC:-cc}" -O2 -std=c11 -Wall -o "$BIN.$$" "$SRC" $FLAGS -ltiff -lm \
        || { echo "cannot build $SRC: apt-get install libspandsp-dev" >&2; exit 2; }
    mv "$BIN.$$" "$BIN"
fi
cargo build --release --quiet --example fax_call_speed --bin softfax
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat vectors/ccitt-t24/pbm/itu1.pbm vectors/ccitt-t24/pbm/itu2.pbm vectors/ccitt-t24/pbm/itu4.pbm > "$TMP/three.pbm"
target/release/softfax t4 encode "$TMP/three.pbm" "$TMP/three.tif"

tifftopnm -quiet "$TMP/three.tif" > "$TMP/three.pnm"

# The received TIFF $1 holds the 3 pages, pel for pel, or the script stops.
same_pages() {
    tifftopnm -quiet "$1" > "$TMP/got.pnm" && cmp -s "$TMP/got.pnm" "$TMP/three.pnm" \
        || { echo "$2: the received pages differ from the sent ones" >&2; exit 1; }
}

printf '%-8s %-8s %10s %8s %16s %6s\n' mode peer call_s cpu_s terminals/core pages
for mode in ecm no-ecm; do
    sflag=""; xflag="--no-ecm"
    [[ $mode == ecm ]] && { sflag="--ecm"; xflag=""; }
    rm -f "$TMP/spandsp.tif" "$TMP/softfax.tif"
    # shellcheck disable=SC2086
    read -r s_sim s_cpu s_tpc s_pages s_res_a s_res_b < <("$BIN" "$TMP/three.tif" "$TMP/spandsp.tif" $sflag "$REPEAT")
    # shellcheck disable=SC2086
    read -r f_sim f_cpu f_tpc f_pages f_ok < <(target/release/examples/fax_call_speed "$TMP/three.tif" "$TMP/softfax.tif" $xflag --repeat "$REPEAT")
    [[ $s_pages == 3 && $s_res_a == 0 && $s_res_b == 0 ]] \
        || { echo "$mode: spandsp's call failed: pages=$s_pages results=$s_res_a/$s_res_b" >&2; exit 1; }
    [[ $f_pages == 3 && $f_ok == true ]] \
        || { echo "$mode: softfax's call failed: pages=$f_pages ok=$f_ok" >&2; exit 1; }
    same_pages "$TMP/spandsp.tif" "$mode spandsp"
    same_pages "$TMP/softfax.tif" "$mode softfax"
    printf '%-8s %-8s %10.1f %8.3f %16.0f %6s\n' "$mode" spandsp "$(echo "$s_sim / $REPEAT" | bc -l)" "$s_cpu" "$s_tpc" "$s_pages"
    printf '%-8s %-8s %10.1f %8.3f %16.0f %6s\n' "$mode" softfax "$(echo "$f_sim / $REPEAT" | bc -l)" "$f_cpu" "$f_tpc" "$f_pages"
    printf '%-8s ratio softfax/spandsp (terminals per core): %.2f\n' "$mode" "$(echo "$f_tpc / $s_tpc" | bc -l)"
done
