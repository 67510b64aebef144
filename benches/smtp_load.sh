#!/usr/bin/env bash
# Load benchmark of the ESMTP gateway: N concurrent SMTP sessions (N = 10, 100, 1000 by
# default) against `softfax serve` with simulated lines, each sending MSGS fax-mails.
# Reports accepted messages/s, p50/p99 reply latency and the server's peak RSS.
#
#   benches/smtp_load.sh [MODE [MSGS [N…]]]     MODE = queue (default) | immediate
#
# queue: the final dot is answered once the job is fsync'd in the spool (workers fax in the
# background over 4 sim: lines); immediate: each reply waits for its fax call.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-queue}
MSGS=${2:-5}
shift $(( $# > 2 ? 2 : $# )) || true
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(10 100 1000)
ulimit -n 8192 2>/dev/null || true
cargo build --release --quiet --bin softfax --example smtp_load
BIN=target/release/softfax
LOAD=target/release/examples/smtp_load
printf "%-10s %-6s %-9s %-8s %-9s %-8s %-8s %-8s %s\n" mode sessions accepted errors msgs/s p50_ms p99_ms rss_MB seconds
for N in "${SIZES[@]}"; do
    DIR=$(mktemp -d)
    cat > "$DIR/softfax.toml" <<TOML
gateway_id = "gw.load.test"
listen = "127.0.0.1:0"
spool = "$DIR/spool"
delivery = "$MODE"
domains = ["example.com"]
[[line]]
uri = "sim:"
[[line]]
uri = "sim:"
[[line]]
uri = "sim:"
[[line]]
uri = "sim:"
[[dialplan]]
match = "^\\\\+1408(\\\\d+)$"
dial = "\$1"
[limits]
max_connections = 5000
max_connections_per_ip = 5000
line_wait_s = 600
[queue]
retry_s = [5]
TOML
    "$BIN" serve --config "$DIR/softfax.toml" 2> "$DIR/serve.log" &
    PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$DIR/serve.log" && break; sleep 0.1; done
    ADDR=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$DIR/serve.log" | head -1)
    OUT=$("$LOAD" "$ADDR" "$N" "$MSGS")
    RSS=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$PID/status")
    kill "$PID"; wait "$PID" 2>/dev/null || true
    get() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$OUT"; }
    printf "%-10s %-6s %-9s %-8s %-9s %-8s %-8s %-8s %s\n" "$MODE" "$N" "$(get accepted)" "$(get errors)" \
        "$(get msgs_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$RSS" "$(get seconds)"
    rm -rf "$DIR"
done
