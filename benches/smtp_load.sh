#!/usr/bin/env bash
# Load benchmark of the ESMTP gateway: SESSIONS concurrent SMTP sessions against `softfax
# serve`, each sending MSGS fax-mails (examples/smtp_load.rs), while PORTS lines place calls
# that take CALL_S seconds each. Reports the messages accepted per second, p50/p99 reply time
# (every reply, and the replies to the final dot), the longest reply, the final-dot replies
# by code, the calls the ports made meanwhile and the server's peak RSS.
#
#   benches/smtp_load.sh                      queue mode, 1000 sessions x 100 messages
#   benches/smtp_load.sh immediate            immediate mode, 1000 sessions x 1 message
#   benches/smtp_load.sh MODE SESSIONS MSGS   any size
#
# Environment: PORTS (24), CALL_S (2), LINE_WAIT_S (120: immediate mode's wait for a line),
# REPLY_TIMEOUT_S (600: a reply slower than this ends its session as an error), KEEP=1 keeps
# the server's folder (configuration, log, spool, accounting).
#
# The lines are `exec:sleep CALL_S`: a far end that never answers and hangs up after CALL_S
# seconds, so each call holds its port CALL_S seconds of wall-clock time and costs no CPU (a
# sim: call would spend its whole fax call's DSP in the same two cores as the server). The
# calls end `no_fax_answer` (450 4.4.1): in queue mode each job is tried once during the run
# and waits an hour for its retry; in immediate mode that is the reply to the final dot, and
# a session that found no line within LINE_WAIT_S gets 450 4.3.2.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-queue}
case "$MODE" in
    queue) SESSIONS=${2:-1000}; MSGS=${3:-100} ;;
    immediate) SESSIONS=${2:-1000}; MSGS=${3:-1} ;;
    *) echo "usage: $0 [queue|immediate [SESSIONS [MSGS]]]" >&2; exit 2 ;;
esac
PORTS=${PORTS:-24}
CALL_S=${CALL_S:-2}
LINE_WAIT_S=${LINE_WAIT_S:-120}
REPLY_TIMEOUT_S=${REPLY_TIMEOUT_S:-600}
# Two sockets per session (client and server) and the spool's files.
ulimit -n 65536 2>/dev/null || ulimit -n 8192
cargo build --release --quiet --bin softfax --example smtp_load
BIN=target/release/softfax
LOAD=target/release/examples/smtp_load
DIR=$(mktemp -d)
{
    cat <<TOML
gateway_id = "gw.load.test"
listen = "127.0.0.1:0"
spool = "$DIR/spool"
delivery = "$MODE"
domains = ["example.com"]
[[dialplan]]
match = "^\\\\+1408(\\\\d+)\$"
dial = "\$1"
[limits]
max_connections = $((SESSIONS + 100))
max_connections_per_ip = $((SESSIONS + 100))
max_recipients = 1
line_wait_s = $LINE_WAIT_S
[queue]
retry_s = [3600]
TOML
    for i in $(seq "$PORTS"); do
        printf '[[line]]\nuri = "exec:sleep %s"\nport = "port:%s"\n' "$CALL_S" "$i"
    done
} > "$DIR/softfax.toml"
"$BIN" serve --config "$DIR/softfax.toml" 2> "$DIR/serve.log" &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    # 200,000 spool files take minutes to unlink on a busy disk: in the background.
    if [ -n "${KEEP:-}" ]; then echo "kept: $DIR" >&2; else (rm -rf "$DIR" &); fi
}
trap cleanup EXIT
for _ in $(seq 100); do grep -qs "listening on" "$DIR/serve.log" && break; sleep 0.1; done
ADDR=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$DIR/serve.log" | head -1)
[ -n "$ADDR" ] || { cat "$DIR/serve.log" >&2; exit 1; }
OUT=$("$LOAD" "$ADDR" "$SESSIONS" "$MSGS" "$REPLY_TIMEOUT_S" 2> "$DIR/load.err")
CALLS=$( (grep -c . "$DIR/spool/accounting.jsonl" 2>/dev/null) || true); CALLS=${CALLS:-0}
STANDING=$( (find "$DIR/spool/queue" -name '*.job' 2>/dev/null || true) | wc -l)
RSS=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status")
get() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $OUT"; }
SECS=$(get seconds)
echo "$OUT"
[ -s "$DIR/load.err" ] && { echo "session errors (first 5):"; head -5 "$DIR/load.err"; }
printf "%-9s %-14s %-8s %-6s %-8s %-7s %-7s %-9s %-9s %-8s %-10s %-10s %-7s %s\n" \
    mode sessions accepted errors seconds msgs/s p50_ms p99_ms dot_p99 max_ms calls calls/s rss_MB dot_codes
printf "%-9s %-14s %-8s %-6s %-8s %-7s %-7s %-9s %-9s %-8s %-10s %-10s %-7s %s\n" \
    "$MODE" "${SESSIONS}x${MSGS}" "$(get accepted)" "$(get errors)" "$SECS" "$(get msgs_per_s)" \
    "$(get p50_ms)" "$(get p99_ms)" "$(get dot_p99_ms)" "$(get max_ms)" "$CALLS" \
    "$(awk -v c="$CALLS" -v s="$SECS" 'BEGIN { printf "%.1f", c / s }')" "$RSS" "$(get dot_codes)"
[ "$MODE" = queue ] && echo "jobs standing in the spool at the end: $STANDING"
true
