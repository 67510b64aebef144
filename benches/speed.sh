#!/usr/bin/env bash
# Every speed ratio of issue 13 from one run, against the peers on the same input and output:
#
#   T.4/T.6 codecs vs libtiff, in process and as whole processes (benches/libtiff_compare.sh)
#   modem receivers vs spandsp (benches/spandsp_rx_speed.sh)
#   modem transmitters vs spandsp (benches/spandsp_tx_speed.sh)
#   the fax terminal pair vs spandsp's (benches/spandsp_call_speed.sh)
#   real-time channels per core on sim: lines (benches/sim_channels.rs; no peer to run)
#
# Each part checks its outputs before it times anything (libtiff decodes softfax's pages and
# softfax libtiff's to the same pels; receivers trained; calls ended normally with the pages
# pel for pel) and stops with a message otherwise. A part whose peer is missing is skipped
# with the reason. Run from a fresh clone after `cargo build --release`:
#
#   benches/speed.sh                  # everything (several minutes)
#   PARTS="t4 call" benches/speed.sh  # some parts: t4 rx tx call channels
#
# The last thing printed is one table, tab-separated, for `softfax report` and the README:
#   what  softfax  peer  ratio  check
# `softfax` and `peer` are the figures the part measures (pages/s, Msamples/s, terminals
# per core, channels per core), `ratio` softfax/peer (> 1 = softfax is faster), `check` ok,
# or skipped and why. The machine is printed first.
set -uo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-"t4 rx tx call channels"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROWS="$TMP/rows.tsv"
: > "$ROWS"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$ROWS"; }
want() { [[ " $PARTS " == *" $1 "* ]]; }
# run NAME CMD...: CMD's output into $TMP/NAME.txt and shown; fails as CMD does.
run() {
    local name=$1; shift
    "$@" > "$TMP/$name.txt" 2> "$TMP/$name.err"; local rc=$?
    cat "$TMP/$name.txt"; [[ $rc == 0 ]] || cat "$TMP/$name.err"
    return $rc
}
# skip WHAT NAME: a table row for a part that did not run, with the reason it gave.
skip() { row "$1" - - - "skipped: $(tail -1 "$TMP/$2.err")"; }

echo "machine: $(uname -m), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

if want t4; then
    echo; echo "== T.4/T.6 vs libtiff (benches/libtiff_compare.sh)"
    if run t4 bash benches/libtiff_compare.sh; then
        # "coding dir softfax_pg/s libtiff_pg/s ratio" in two sections: codec, then tool.
        awk '/^== codec/{s="in process"} /^== whole/{s="whole process"}
             $2=="encode"||$2=="decode" {r=$5; sub("x$","",r);
               printf "T.4 %s %s %s (pages/s)\t%s\t%s\t%s\tok\n", toupper($1), $2, s, $3, $4, r}' \
            "$TMP/t4.txt" >> "$ROWS"
    else
        skip "T.4 vs libtiff" t4
    fi
fi

if want rx; then
    echo; echo "== modem receivers vs spandsp (benches/spandsp_rx_speed.sh)"
    if run rx bash benches/spandsp_rx_speed.sh; then
        # "modem rate signal_s spandsp_Ms/s spandsp_ch/core softfax_Ms/s ratio"
        awk 'NR>1 {r=$7; sub("x$","",r);
               printf "%s %s receive (Msamples/s)\t%s\t%s\t%s\t%s\n", $1, $2, $6, $4, r,
                      ($6=="-" ? "skipped: softfax has no such receiver" : "ok")}' \
            "$TMP/rx.txt" >> "$ROWS"
    else
        skip "modem receivers vs spandsp" rx
    fi
fi

if want tx; then
    echo; echo "== modem transmitters vs spandsp"
    if [[ -f benches/spandsp_tx_speed.sh ]]; then
        if run tx bash benches/spandsp_tx_speed.sh; then
            # "modem rate spandsp_Ms/s spandsp_ch/core softfax_Ms/s softfax_ch/core ratio",
            # then "ratio tx MODEM RATE R" lines (left out here): the columns found by name.
            awk 'NR==1 {for (i=1;i<=NF;i++) {if ($i ~ /^softfax/ && !sf) sf=i; if ($i ~ /^spandsp/ && !sp) sp=i}}
                 NR>1 && NF>2 && $1!="ratio" {r=$NF; sub("x$","",r);
                   printf "%s %s transmit (Msamples/s)\t%s\t%s\t%s\tok\n", $1, $2, (sf?$sf:"-"), (sp?$sp:"-"), r}' \
                "$TMP/tx.txt" >> "$ROWS"
        else
            skip "modem transmitters vs spandsp" tx
        fi
    else
        echo "skipped: no benches/spandsp_tx_speed.sh in this tree"
        row "modem transmitters vs spandsp" - - - "skipped: no benches/spandsp_tx_speed.sh"
    fi
fi

if want call; then
    echo; echo "== fax terminal pair vs spandsp's (benches/spandsp_call_speed.sh)"
    if run call bash benches/spandsp_call_speed.sh; then
        # "mode peer call_s cpu_s terminals/core pages" per peer, then the ratio line.
        awk '$2=="spandsp" {sp[$1]=$5} $2=="softfax" {sf[$1]=$5}
             $2=="ratio" {printf "fax terminal pair, 3 pages, %s (terminals/core)\t%s\t%s\t%s\tok\n",
                          $1, sf[$1], sp[$1], $NF}' "$TMP/call.txt" >> "$ROWS"
    else
        skip "fax terminal pair vs spandsp" call
    fi
fi

if want channels; then
    echo; echo "== real-time channels per core on sim: lines (benches/sim_channels.rs)"
    # A filter no criterion benchmark matches: only the summary runs.
    if run ch cargo bench --quiet --bench sim_channels -- summary-only; then
        # The last two columns: real-time channels per core, and memory per channel.
        awk '/^sim:/ {name=substr($0,1,32); sub(/ +$/,"",name);
                      printf "channels per core, %s (each: 2 terminals + line)\t%s\t-\t-\tno peer to run (spandsp is not a terminal farm); %s KiB/channel\n",
                      name, $(NF-1), $NF}' "$TMP/ch.txt" >> "$ROWS"
    else
        skip "channels per core" ch
    fi
fi

echo
echo "== summary (tab-separated)"
printf 'what\tsoftfax\tpeer\tratio\tcheck\n'
cat "$ROWS"
