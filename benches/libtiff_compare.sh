#!/usr/bin/env bash
# Times softfax and libtiff (tiffcp, libtiff-tools) on the same work in the same run and
# prints pages/s for both and the ratio (softfax / libtiff; > 1 = softfax is faster).
#
#   encode: uncompressed TIFF of N pages -> MH / MR (K=4) / MMR TIFF
#   decode: MH / MR / MMR TIFF of N pages -> uncompressed TIFF
#
# First codec only, in memory on both sides (softfax: examples/t4_codec_time.rs; libtiff:
# benches/libtiff_codec.c, built here against libtiff-dev, reading from and writing to memory
# streams); then the whole tools, which read and write the same files, so container parsing
# and file I/O are in both figures; before they are timed, each tool's output is checked
# against the other's (libtiff's tifftopnm reads softfax's coded pages back to the input
# pels, and softfax's decoded pages equal libtiff's, pel for pel). Pages: the 8 ITU charts
# repeated REPEAT times (default 16 -> 128 pages). Each measurement is the best of RUNS runs
# (default 5), in CPU seconds (user + system) of the process, so that other work on the
# machine does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-16}
RUNS=${RUNS:-5}
command -v tiffcp >/dev/null || { echo "tiffcp missing: apt-get install libtiff-tools" >&2; exit 2; }
command -v tifftopnm >/dev/null || { echo "tifftopnm missing: apt-get install netpbm" >&2; exit 2; }
LT_SRC=benches/libtiff_codec.c
LT=target/tmp/libtiff_codec
source benches/common.sh
build_c_peer "$LT" "$LT_SRC" libtiff-4 tiff libtiff-dev
cargo build --release --quiet --bin softfax --example t4_codec_time
SF=target/release/softfax
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for _ in $(seq "$REPEAT"); do cat vectors/ccitt-t24/pbm/itu{1..8}.pbm; done > "$TMP/pages.pbm"
PAGES=$((REPEAT * 8))
"$SF" t4 encode --compression none "$TMP/pages.pbm" "$TMP/none.tif"

best() { # best CPU time (user + system) in seconds of RUNS runs of "$@"
    python3 - "$RUNS" "$@" <<'PY'
import resource, subprocess, sys
runs = int(sys.argv[1]); cmd = sys.argv[2:]
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def once():
    t0 = cpu()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cpu() - t0
print(f"{min(once() for _ in range(runs)):.6f}")
PY
}
# The pels of a TIFF, as libtiff reads them.
pels() { tifftopnm -quiet "$1" 2>/dev/null; }
same() { # same pels in TIFFs $1 and $2, or stop
    cmp -s <(pels "$1") <(pels "$2") || { echo "$3: $1 and $2 differ" >&2; exit 1; }
}

echo "== codec only, in memory (softfax: examples/t4_codec_time.rs; libtiff: benches/libtiff_codec.c) =="
printf '%-8s %-7s %14s %14s %8s\n' coding dir softfax_pg/s libtiff_pg/s ratio
for pair in mh:g3:1d mr:g3:2d mmr:g4; do
    ours=${pair%%:*}; theirs=${pair#*:}
    tiffcp -r 100000 -c "$theirs" "$TMP/none.tif" "$TMP/codec-$ours.tif"  # one strip per page
    target/release/examples/t4_codec_time "$TMP/codec-$ours.tif" "$RUNS" > "$TMP/sf.txt"
    "$LT" "$TMP/codec-$ours.tif" "$RUNS" > "$TMP/lt.txt"
    python3 - "$ours" "$TMP/sf.txt" "$TMP/lt.txt" <<'PY'
import sys
c = sys.argv[1]
sf = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[2])}
lt = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[3])}
for d in ("encode", "decode"):
    (k, n), (l, _) = sf[d], lt[d]
    print(f"{c:<8} {d:<7} {n/k:14.1f} {n/l:14.1f} {l/k:7.2f}x")
PY
done
echo
echo "== whole tool: file in, file out (softfax t4 encode vs tiffcp) =="
printf '%-8s %-7s %14s %14s %8s\n' coding dir softfax_pg/s libtiff_pg/s ratio
for pair in mh:g3:1d mr:g3:2d mmr:g4; do
    ours=${pair%%:*}; theirs=${pair#*:}
    # libtiff's own encoding is the decode input for both tools.
    tiffcp -c "$theirs" "$TMP/none.tif" "$TMP/in-$ours.tif"
    # Check first: libtiff reads softfax's coding back to the input; softfax's decode of
    # libtiff's coding equals libtiff's own.
    "$SF" t4 encode --compression "$ours" --k 4 "$TMP/none.tif" "$TMP/sf-$ours.tif"
    same "$TMP/sf-$ours.tif" "$TMP/none.tif" "$ours encode"
    "$SF" t4 encode --compression none "$TMP/in-$ours.tif" "$TMP/sf-dec-$ours.tif"
    tiffcp -c none "$TMP/in-$ours.tif" "$TMP/lt-dec-$ours.tif"
    same "$TMP/sf-dec-$ours.tif" "$TMP/lt-dec-$ours.tif" "$ours decode"
    ke=$(best "$SF" t4 encode --compression "$ours" --k 4 "$TMP/none.tif" "$TMP/sf-$ours.tif")
    le=$(best tiffcp -c "$theirs" "$TMP/none.tif" "$TMP/lt-$ours.tif")
    kd=$(best "$SF" t4 encode --compression none "$TMP/in-$ours.tif" "$TMP/sf-dec-$ours.tif")
    ld=$(best tiffcp -c none "$TMP/in-$ours.tif" "$TMP/lt-dec-$ours.tif")
    python3 - "$ours" "$PAGES" "$ke" "$le" "$kd" "$ld" <<'PY'
import sys
c, n, ke, le, kd, ld = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
for d, k, l in (("encode", ke, le), ("decode", kd, ld)):
    print(f"{c:<8} {d:<7} {n/k:14.1f} {n/l:14.1f} {l/k:7.2f}x")
PY
done
