#!/usr/bin/env bash
# Bulk-send figures for `bulletin send`, measured against Postfix's smtp-sink on loopback:
#
#   1. throughput: a bulk send of the flagship issue to a 5,000-member list over 8 connections,
#      and `smtp-source -s 8` sending the same number of messages of the same size to the same
#      sink, one after the other in one run;
#   2. the busiest second under --rate: a send at --rate 100/s, every message's arrival time
#      taken from smtp-sink's dump files, counted in every sliding one-second window;
#   3. peak memory (/usr/bin/time -v) of a real bulk send of a 1,000,000-member list.
#
# Usage: scripts/bench-bulk-send.sh            (all three)
#        BENCH_BIG=200000 scripts/bench-bulk-send.sh   (a smaller list for step 3)
#        BENCH_SKIP_BIG=1 scripts/bench-bulk-send.sh   (steps 1 and 2 only)
#        BENCH_ONLY_BIG=1 scripts/bench-bulk-send.sh   (step 3 only)
# Needs: cargo, python3, smtp-sink and smtp-source (Postfix), /usr/bin/time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MEMBERS=${BENCH_MEMBERS:-5000}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
RATE=${BENCH_RATE:-100/s}
RATE_MEMBERS=${BENCH_RATE_MEMBERS:-600}
BIG=${BENCH_BIG:-1000000}

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bulletin"

WORK=$(mktemp -d)
chmod 711 "$WORK"  # smtp-sink writes its dumps as nobody
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
cleanup() {
    stop_sinks
    rm -rf "$WORK"
}
trap cleanup EXIT

elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
per_second() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }

PROJECT="$WORK/project"
bench_project "$PROJECT"
cd "$PROJECT"

echo "machine: $(nproc) cores, $(uname -sr)"
echo "bulletin: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

# --- 1. throughput ------------------------------------------------------------------------
if [ -z "${BENCH_ONLY_BIG:-}" ]; then
gen_list "$MEMBERS" lists/members.csv
gen_list 1 lists/one.csv
"$BIN" send issues/flagship --list lists/one.csv --dry-run --outbox "$WORK/one" >/dev/null 2>&1
SIZE=$(stat -c %s "$WORK"/one/*.eml | head -1)
echo "message size: $SIZE bytes (flagship issue, images linked)"

start_sink
t0=$(now)
"$BIN" send issues/flagship --list lists/members.csv --smtp "smtp://127.0.0.1:$PORT" \
    --connections "$CONNECTIONS" --rate unlimited --yes 2>"$WORK/send.log" || { cat "$WORK/send.log"; exit 1; }
t1=$(now)
tail -1 "$WORK/send.log"
t2=$(now)
smtp-source -s "$CONNECTIONS" -m "$MEMBERS" -l "$SIZE" -f bounces@wmhtc.example.org \
    -t member@example.org "127.0.0.1:$PORT"
t3=$(now)
ours=$(per_second "$MEMBERS" "$t0" "$t1")
theirs=$(per_second "$MEMBERS" "$t2" "$t3")
echo "bulletin send, $MEMBERS members, $CONNECTIONS connections: $(elapsed "$t0" "$t1") s, $ours messages/s (whole command: list read twice, compile, build, send, journal)"
echo "smtp-source -s $CONNECTIONS -m $MEMBERS -l $SIZE: $(elapsed "$t2" "$t3") s, $theirs messages/s"
python3 -c "print(f'ratio: {$ours / $theirs:.2f}')"

# --- 2. the busiest second under --rate -------------------------------------------------------
DUMP="$WORK/dump"
mkdir -p "$DUMP" && chmod 777 "$DUMP"
start_sink -d "$DUMP/%H%M%S."
gen_list "$RATE_MEMBERS" lists/rate.csv
"$BIN" send issues/flagship --list lists/rate.csv --smtp "smtp://127.0.0.1:$PORT" \
    --connections "$CONNECTIONS" --rate "$RATE" --yes 2>"$WORK/rate.log" || { cat "$WORK/rate.log"; exit 1; }
tail -1 "$WORK/rate.log"
find "$DUMP" -type f -printf '%T@\n' | python3 -c "
import sys
t = sorted(float(x) for x in sys.stdin)
busiest, j = 0, 0
for i in range(len(t)):
    while t[i] - t[j] >= 1.0:
        j += 1
    busiest = max(busiest, i - j + 1)
print(f'--rate $RATE, $RATE_MEMBERS members: {len(t)} messages over {t[-1]-t[0]:.1f} s, busiest sliding 1-second window (dump file times): {busiest}')
"
fi

# --- 3. peak memory of a large send -----------------------------------------------------------
if [ -z "${BENCH_SKIP_BIG:-}" ]; then
    gen_list "$BIG" lists/big.csv
    echo "list: $BIG members, $(stat -c %s lists/big.csv) bytes"
    start_sink
    /usr/bin/time -v "$BIN" send issues/short --list lists/big.csv \
        --smtp "smtp://127.0.0.1:$PORT" --connections "$CONNECTIONS" --rate unlimited --yes \
        2>"$WORK/big.log" || true
    grep -E "accepted:|Maximum resident set size|Elapsed \(wall clock\)" "$WORK/big.log"
fi
