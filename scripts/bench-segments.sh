#!/usr/bin/env bash
# What `--where` and the daily quota cost a send, measured on the preflight of a large list:
#
#   1. the preflight of a 1,000,000-member list without a filter, with a one-test filter and
#      with a five-test one (the filter runs on every row the cleaner keeps);
#   2. the same preflight with a daily quota, when the project's journals hold 1,000,000
#      `accepted` records of another issue (the quota reads every journal of the project).
#
# The preflight is the whole command up to the confirmation: without --yes and without a
# terminal, `bulletin send` reads the lists and journals, prints the preflight and refuses
# to send (exit 1). Nothing is sent; the SMTP URL points at a closed port.
#
# Usage: scripts/bench-segments.sh                 (1,000,000 members and journal records)
#        BENCH_MEMBERS=200000 scripts/bench-segments.sh
# Needs: cargo, python3, /usr/bin/time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MEMBERS=${BENCH_MEMBERS:-1000000}
RUNS=${BENCH_RUNS:-3}

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bulletin"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" init "$WORK/p" >/dev/null
# answer the DNS checks at once: a nameserver on a closed loopback port
printf '\n[dns]\nnameserver = "127.0.0.1:9"\ntimeout_secs = 1\n' >>"$WORK/p/bulletin.toml"
python3 "$ROOT/scripts/gen-list.py" "$MEMBERS" "$WORK/p/lists/big.csv" --messy
cd "$WORK/p"

# The best of RUNS wall times (and the peak RSS of that run) of one preflight.
preflight() {
    local best="" rss=""
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/time" \
            "$BIN" send issues/first --list lists/big.csv --smtp smtp://127.0.0.1:9 "$@" \
            >/dev/null 2>"$WORK/err" </dev/null || true
        grep -q "refusing to send without confirmation" "$WORK/err" || {
            cat "$WORK/err" >&2
            exit 1
        }
        read -r t m < <(tail -n 1 "$WORK/time")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then
            best=$t
            rss=$m
        fi
    done
    echo "$best s, peak RSS $((rss / 1024)) MB"
}

echo "preflight of $MEMBERS members (best of $RUNS):"
echo "  no filter:                 $(preflight)"
echo "  --where (one test):        $(preflight --where "organisation contains 'nhs'")"
echo "  --where (five tests):      $(preflight --where "(organisation contains 'nhs' or last_name in ('Okafor', 'Patel', 'Novák')) and not email starts with 'z' and first_name is not empty")"
grep "member(s) match" "$WORK/err" | sed 's/^/  /'

mkdir -p "$WORK/p/.bulletin/journals"
python3 - "$MEMBERS" >"$WORK/p/.bulletin/journals/other.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])
# an hour ago: inside the quota's window
t = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
print('{"type":"header","version":1,"round":1,"issue":"other","list":"lists/other.csv","fingerprint":"x","started":"%s"}' % t)
for i in range(n):
    print('{"type":"attempt","round":1,"time":"%s","key":"%016x","email":"m%d@example.org","line":%d}' % (t, i, i, i + 2))
    print('{"type":"accepted","round":1,"time":"%s","key":"%016x","reply":"250 2.0.0 Ok"}' % (t, i))
EOF
echo "with $MEMBERS accepted records of another issue in the journals:"
echo "  no quota:                  $(preflight)"
echo "  --rate 2000000/d:          $(preflight --rate 2000000/d)"
grep "daily quota" "$WORK/err" | sed 's/^/  /'
