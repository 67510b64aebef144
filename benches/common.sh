# What the benches' scripts share; `source benches/common.sh` from the repository root.

# build_c_peer BIN SRC PKG LIB HINT [LIBS...]: compile the C program SRC into BIN (-O2)
# against pkg-config's PKG (-lLIB when pkg-config does not know it) and LIBS, unless BIN is
# newer than SRC; without a C compiler or with the library missing, say what to install
# (HINT) and exit 2.
build_c_peer() {
    local bin=$1 src=$2 pkg=$3 lib=$4 hint=$5 flags
    shift 5
    [[ -x $bin && ! $src -nt $bin ]] && return 0
    command -v "${CC:-cc}" >/dev/null || { echo "no C compiler: apt-get install gcc" >&2; exit 2; }
    mkdir -p "$(dirname "$bin")"
    flags=$(pkg-config --cflags --libs "$pkg" 2>/dev/null || echo "-l$lib")
    # shellcheck disable=SC2086
    "${CC:-cc}" -O2 -std=c11 -Wall -o "$bin.$$" "$src" $flags "$@" \
        || { echo "cannot build $src: apt-get install $hint" >&2; exit 2; }
    mv "$bin.$$" "$bin"
}

# prbs_ok LINE: a receiver's summary line (spandsp_modem rx --prbs, modem_rx_time … NPRBS)
# says it trained, found the PRBS, made no error and missed at most 8 bits (the last ones
# as the carrier drops).
prbs_ok() {
    grep -q 'trained=1' <<<"$1" && grep -q 'sync=1' <<<"$1" && grep -q ' errors=0 ' <<<"$1" \
        && awk -v m="$(sed -n 's/.*missing=\([0-9]*\).*/\1/p' <<<"$1")" 'BEGIN{exit !(m <= 8)}'
}
