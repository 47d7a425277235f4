#!/usr/bin/env bash
# One-click unsubscribes per second against `bulletin serve` (release build), with `wrk`:
# the server recording each POST durably (group commit into the suppression list) against the
# same server answering the same POSTs without recording (`--no-record`). Every request names
# a distinct member. Prints requests/s and latency percentiles of each run, then the ratio
# (median over the runs).
#
#   scripts/bench-unsubscribe.sh                # 3 runs of each, 10 s, 200 connections
#   BENCH_RUNS=5 BENCH_SECS=20 BENCH_CONNS=200 scripts/bench-unsubscribe.sh
#
# Needs: wrk (apt-get install wrk), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${BENCH_RUNS:-3}"
secs="${BENCH_SECS:-10}"
conns="${BENCH_CONNS:-200}"
threads="${BENCH_THREADS:-2}"
members="${BENCH_MEMBERS:-300000}"
port="${BENCH_PORT:-18181}"
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet
bin="$PWD/target/release/bulletin"
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A project with $members members and their tokens (HMAC-SHA256 of the address, base32, 16).
mkdir -p "$work/lists"
cat > "$work/bulletin.toml" <<TOML
[sender]
name = "Bench News"
email = "news@bench.test"
token_secret = "bench-secret"
[serve]
url = "http://127.0.0.1:$port"
post_rate = "unlimited"
TOML
python3 - "$work" "$members" <<'PY'
import base64, hashlib, hmac, sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/lists/members.csv", "w") as lst, open(f"{work}/tokens.txt", "w") as tok:
    lst.write("email\n")
    for i in range(n):
        email = f"member{i:07d}@example.org"
        lst.write(email + "\n")
        mac = hmac.new(b"bench-secret", b"member\0" + email.encode(), hashlib.sha256).digest()
        tok.write(base64.b32encode(mac).decode().lower()[:16] + "\n")
PY

cat > "$work/post.lua" <<'LUA'
-- Each request a one-click POST (RFC 8058) for the next member; threads take turns.
local made = 0
function setup(thread)
    thread:set("id", made)
    made = made + 1
end
function init(args)
    tokens = {}
    for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
    step = tonumber(os.getenv("THREADS"))
    i = id
end
function request()
    local t = tokens[(i % #tokens) + 1]
    i = i + step
    return wrk.format("POST", "/unsubscribe/" .. t,
        { ["Content-Type"] = "application/x-www-form-urlencoded" }, "List-Unsubscribe=One-Click")
end
LUA

start_server() {
    rm -f "$work/.bulletin/suppressed.csv"
    (cd "$work" && exec "$bin" serve --listen "127.0.0.1:$port" "$@" > /dev/null 2> "$work/serve.log") &
    server=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "error: bulletin serve did not start" >&2; cat "$work/serve.log" >&2; exit 1
}

stop_server() {
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

run() { # name, serve flags…
    local name=$1; shift
    start_server "$@"
    TOKENS="$work/tokens.txt" THREADS="$threads" wrk -t"$threads" -c"$conns" -d"${secs}s" \
        --latency -s "$work/post.lua" "http://127.0.0.1:$port" > "$work/$name.txt"
    stop_server
    local rps p50 p99 bad lines
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    bad=$(awk '/Non-2xx/ {print $5}' "$work/$name.txt")
    lines=$( [ -f "$work/.bulletin/suppressed.csv" ] && wc -l < "$work/.bulletin/suppressed.csv" || echo 0)
    echo "$name $rps $p50 $p99 ${bad:-0} $lines" | tee -a "$work/results.txt"
}

echo "bulletin serve, $members members, wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs; runs: $runs" >&2
echo "# run requests/s p50 p99 non-2xx lines-recorded" >&2
for _ in $(seq 1 "$runs"); do
    run no-record --no-record
    run durable
done

python3 - "$work/results.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(name, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == name)
d, n = med("durable", 1), med("no-record", 1)
p99 = [r[3] for r in rows if r[0] == "durable"]
print(f"durable:   {d:,.0f} POSTs/s (median), p99 latency per run: {', '.join(p99)}")
print(f"no-record: {n:,.0f} POSTs/s (median)")
print(f"ratio durable / no-record: {d / n:.2f}")
PY
