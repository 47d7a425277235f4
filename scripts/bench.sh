#!/usr/bin/env bash
# The benchmark suite: bulletin against its peers, side by side in one run, medians of several
# runs. Prints a table and writes it into docs/BENCHMARKS.md with the machine it ran on.
#
#   scripts/bench.sh            # full run: 5 runs per row, 5,000-member lists, 1,000,000 members
#   scripts/bench.sh --quick    # a fast try: 3 runs, small lists, 100,000 members
#   scripts/bench.sh --no-docs  # print the table only
#
# Rows:
#   1. build of the flagship: `bulletin build` against the mjml CLI (npm) on the same MJML;
#   2. compose: personalised messages per second with no network (render + MIME build), against
#      the rate the sink takes (smtp-source over 8 connections, row 3);
#   3. bulk send to Postfix's smtp-sink: `bulletin send` (the whole command: list, compile,
#      build, send, journal) against `smtp-source -d` with the same message size and count, over
#      1 and 8 connections;
#   4. bulk send against the Python `mailmerge` CLI (PyPI) on the same list, HTML and sink;
#   5. peak memory and wall time of a 1,000,000-member list sent to smtp-sink (a short issue),
#      and of a dry run into an outbox (one .eml file per member: 100,000 members by default,
#      BENCH_BIG_DRY=1000000 for a million files);
#   6. bounce parsing against libsisimai-perl on the shared bounce corpus.
#
# What it installs when missing: apt packages postfix (smtp-sink, smtp-source), libsisimai-perl,
# hyperfine, time, npm, python3-venv; mjml from npm and mailmerge from PyPI into a cache folder
# (BENCH_CACHE, default ~/.cache/bulletin-bench), never into the repository.
#
# Environment overrides: BENCH_RUNS, BENCH_MEMBERS, BENCH_MM_MEMBERS, BENCH_BIG, BENCH_BIG_DRY
# (0 skips the dry run of the big list), BENCH_CORPUS (bounce folder).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
DOCS=1
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --no-docs) DOCS=0 ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "bench: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    RUNS=${BENCH_RUNS:-3}; MEMBERS=${BENCH_MEMBERS:-2000}; MM_MEMBERS=${BENCH_MM_MEMBERS:-100}
    BIG=${BENCH_BIG:-100000}; BIG_DRY=${BENCH_BIG_DRY:-20000}
else
    RUNS=${BENCH_RUNS:-5}; MEMBERS=${BENCH_MEMBERS:-5000}; MM_MEMBERS=${BENCH_MM_MEMBERS:-500}
    BIG=${BENCH_BIG:-1000000}; BIG_DRY=${BENCH_BIG_DRY:-100000}
fi
CORPUS=${BENCH_CORPUS:-$ROOT/../shared/corpus/bounces/eml}
CACHE=${BENCH_CACHE:-$HOME/.cache/bulletin-bench}
MJML_VERSION=5.4.1
MAILMERGE_VERSION=2.3.0

log() { echo "bench: $*" >&2; }

# --- what it needs ---------------------------------------------------------------------------
install_apt() {
    local missing=()
    command -v smtp-sink >/dev/null || missing+=(postfix)
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    [ -x /usr/bin/time ] || missing+=(time)
    perl -MSisimai -e1 2>/dev/null || missing+=(libsisimai-perl)
    command -v npm >/dev/null || missing+=(npm)
    python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    [ "${#missing[@]}" = 0 ] && return
    log "installing ${missing[*]} (apt)"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}
install_apt
MJML="$CACHE/mjml/node_modules/.bin/mjml"
if [ ! -x "$MJML" ]; then
    log "installing mjml@$MJML_VERSION into $CACHE/mjml (npm)"
    mkdir -p "$CACHE/mjml"
    npm install --prefix "$CACHE/mjml" --no-audit --no-fund --loglevel=error "mjml@$MJML_VERSION" >&2
fi
MAILMERGE="$CACHE/venv/bin/mailmerge"
if [ ! -x "$MAILMERGE" ]; then
    log "installing mailmerge==$MAILMERGE_VERSION into $CACHE/venv (pip)"
    python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q "mailmerge==$MAILMERGE_VERSION" >&2
fi

log "building (release)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bulletin"
# The compose bench (benches/compose.rs) needs only the library: build it with rustc against the
# release library, which spares building the test-only dependencies; `cargo bench` otherwise.
COMPOSE_BIN="$ROOT/target/release/compose-bench"
if ! CARGO_MANIFEST_DIR="$ROOT" rustc --edition 2024 -C opt-level=3 -C debuginfo=line-tables-only --crate-type bin \
    "$ROOT/benches/compose.rs" -o "$COMPOSE_BIN" \
    --extern bulletin="$ROOT/target/release/libbulletin.rlib" \
    -L dependency="$ROOT/target/release/deps" 2>"$ROOT/target/release/compose-bench.log"; then
    log "building the compose bench with cargo (see target/release/compose-bench.log)"
    cargo bench --no-run --quiet --bench compose --manifest-path "$ROOT/Cargo.toml"
    COMPOSE_BIN=""
fi
compose_bench() {
    if [ -n "$COMPOSE_BIN" ]; then
        "$COMPOSE_BIN" "$@"
    else
        cargo bench --quiet --bench compose --manifest-path "$ROOT/Cargo.toml" -- "$@"
    fi
}

WORK=$(mktemp -d)
# shellcheck source=scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
cleanup() {
    stop_sinks
    rm -rf "$WORK"
}
trap cleanup EXIT

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# rate N T0 T1: N per second between T0 and T1
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {if (b > a) printf "%.0f", n/(b-a); else printf "-"}'; }
ROWS="$WORK/rows.tsv"
: >"$ROWS"
# row NAME BULLETIN PEER RATIO TARGET MET
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; log "row: $*"; publish; }
# met VALUE MIN -> yes/no
met() { awk -v v="$1" -v m="$2" 'BEGIN {print (v >= m) ? "yes" : "no"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

# --- the table: written after every row, so an interrupted run keeps what it measured -------
publish() {
CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
MACHINE="$(nproc) CPUs ($CPU), $(uname -sr), $(rustc --version), $(date -u '+%Y-%m-%d %H:%M UTC')"
MODE=$([ "$QUICK" = 1 ] && echo "quick" || echo "full")
TABLE=$(python3 - "$ROWS" "$MACHINE" "$MODE" "$RUNS" "$SIZE" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
machine, mode, runs, size = sys.argv[2:6]
out = [f"Machine: {machine}. Mode: {mode}, medians of {runs} runs (build and bounces: {int(runs)*2}); "
       f"message: the flagship issue, {int(size):,} bytes, images linked.", "",
       "| row | bulletin | peer | ratio | target | met? |", "| --- | --- | --- | --- | --- | --- |"]
out += ["| " + " | ".join(r) + " |" for r in rows]
print("\n".join(out))
PY
)
if [ "$DOCS" = 1 ]; then
    DOC="$ROOT/docs/BENCHMARKS.md"
    python3 - "$DOC" "$TABLE" <<'PY'
import os, sys
doc, table = sys.argv[1], sys.argv[2]
begin, end = "<!-- bench.sh: begin -->", "<!-- bench.sh: end -->"
block = f"{begin}\n{table}\n{end}"
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n\n" + begin + "\n" + end + "\n"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
    log "table written into docs/BENCHMARKS.md"
fi
}

# --- the project the sends use ---------------------------------------------------------------
PROJECT="$WORK/project"
bench_project "$PROJECT"
cd "$PROJECT"
gen_list "$MEMBERS" lists/members.csv
gen_list 1 lists/one.csv
"$BIN" send issues/flagship --list lists/one.csv --dry-run --yes --outbox "$WORK/one" >/dev/null 2>&1
SIZE=$(stat -c %s "$WORK"/one/*.eml | head -1)
log "message: $SIZE bytes (flagship, images linked)"

# A bulk send of LIST over CONNECTIONS to PORT from a clean state; prints messages/s and
# leaves the command's CPU seconds (user, system) in $WORK/send.cpu.
send_rate() {
    local list=$1 connections=$2 port=$3 n t0 t1
    n=$(($(wc -l <"$list") - 1))
    rm -rf .bulletin
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$WORK/send.cpu" \
        "$BIN" send issues/flagship --list "$list" --smtp "smtp://127.0.0.1:$port" \
        --connections "$connections" --rate unlimited --yes 2>"$WORK/send.log" ||
        { cat "$WORK/send.log" >&2; exit 1; }
    t1=$(now)
    grep -q "accepted: $n," "$WORK/send.log" || { log "not all accepted:"; tail -3 "$WORK/send.log" >&2; exit 1; }
    rate "$n" "$t0" "$t1"
}

# --- 1. build --------------------------------------------------------------------------------
log "1. build: bulletin vs mjml CLI, $RUNS+ runs each"
"$BIN" build issues/flagship --out "$WORK/ref" >/dev/null 2>&1
hyperfine --style none --warmup 2 --runs "$((RUNS * 2))" --export-json "$WORK/build.json" \
    -n bulletin "$BIN build issues/flagship --out $WORK/b" \
    -n mjml "$MJML $WORK/ref/flagship.mjml -o $WORK/mjml.html" >/dev/null
read -r B_MS M_MS < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print("%.1f %.1f" % (r["bulletin"], r["mjml"]))' "$WORK/build.json")
row "build flagship (ms, median)" "$B_MS ms" "$M_MS ms (mjml $MJML_VERSION)" "$(ratio "$M_MS" "$B_MS")x faster" "—" "—"

# --- 3. bulk send vs smtp-source (before 2: compose is compared to the sink's rate) ----------
declare -A SOURCE_RATE
for c in 1 8; do
    log "3. send over $c connection(s): bulletin vs smtp-source, $MEMBERS messages, $RUNS runs each"
    start_sink; port=$PORT
    ours=() theirs=()
    for _ in $(seq "$RUNS"); do
        ours+=("$(send_rate lists/members.csv "$c" "$port")")
        t0=$(now)
        smtp-source -d -s "$c" -m "$MEMBERS" -l "$SIZE" -f bounces@wmhtc.example.org \
            -t member@example.org "127.0.0.1:$port"
        t1=$(now)
        theirs+=("$(rate "$MEMBERS" "$t0" "$t1")")
    done
    stop_sinks
    o=$(median "${ours[@]}")
    t=$(median "${theirs[@]}")
    SOURCE_RATE[$c]=$t
    log "bulletin: ${ours[*]}; smtp-source: ${theirs[*]}"
    if [ "$c" = 8 ]; then target="≥ 0.8"; m=$(met "$(ratio "$o" "$t")" 0.8); else target="—"; m="—"; fi
    row "send to smtp-sink, $c conn. (msg/s)" "$o" "$t (smtp-source -d -s $c)" "$(ratio "$o" "$t")" "$target" "$m"
done

# --- 2. compose ------------------------------------------------------------------------------
log "2. compose: render + MIME build, no network, $RUNS rounds over $MEMBERS members"
COMPOSE=$(compose_bench "$PROJECT" "$PROJECT/issues/flagship" "$PROJECT/lists/members.csv" "$RUNS" \
    2>"$WORK/compose.log")
cat "$WORK/compose.log" >&2
row "compose, no network (msg/s)" "$COMPOSE" "${SOURCE_RATE[8]} (what the sink takes, 8 conn.)" \
    "$(ratio "$COMPOSE" "${SOURCE_RATE[8]}")" "≥ 10" "$(met "$(ratio "$COMPOSE" "${SOURCE_RATE[8]}")" 10)"

# --- 4. mailmerge ----------------------------------------------------------------------------
log "4. send: bulletin vs mailmerge, $MM_MEMBERS members, $RUNS runs each"
gen_list "$MM_MEMBERS" lists/mm.csv
start_sink; port=$PORT
MM="$WORK/mailmerge"
mkdir -p "$MM"
# The same HTML body (the flagship as bulletin built it), personalised with the member's name.
{
    echo "TO: {{email}}"
    echo "FROM: West Midlands HealthTech Cluster <news@wmhtc.example.org>"
    echo "SUBJECT: Cluster News"
    echo "Content-Type: text/html; charset=utf-8"
    echo
    echo "<p>Dear {{first_name}},</p>{% raw %}"
    cat "$WORK/ref/flagship.html"
    echo "{% endraw %}"
} >"$MM/template.txt"
printf '[smtp_server]\nhost = 127.0.0.1\nport = %s\nratelimit = 0\n' "$port" >"$MM/server.conf"
ours=() theirs=() ours_cpu=() theirs_cpu=()
# CPU milliseconds per message from a "user system" seconds file.
cpu_ms() { awk -v n="$MM_MEMBERS" '{printf "%.3f", ($1 + $2) * 1000 / n}' "$1"; }
for _ in $(seq "$RUNS"); do
    ours+=("$(send_rate lists/mm.csv 8 "$port")")
    ours_cpu+=("$(cpu_ms "$WORK/send.cpu")")
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$WORK/mm.cpu" \
        "$MAILMERGE" --template "$MM/template.txt" --database lists/mm.csv --config "$MM/server.conf" \
        --no-dry-run --no-limit --output-format raw >/dev/null
    t1=$(now)
    theirs+=("$(rate "$MM_MEMBERS" "$t0" "$t1")")
    theirs_cpu+=("$(cpu_ms "$WORK/mm.cpu")")
done
stop_sinks
log "bulletin: ${ours[*]}; mailmerge: ${theirs[*]}"
log "CPU ms per message: bulletin ${ours_cpu[*]}; mailmerge ${theirs_cpu[*]}"
o=$(median "${ours[@]}")
t=$(median "${theirs[@]}")
row "send vs mailmerge, $MM_MEMBERS members (msg/s)" "$o (8 conn.)" "$t (mailmerge $MAILMERGE_VERSION)" \
    "$(ratio "$o" "$t")" "≥ 20" "$(met "$(ratio "$o" "$t")" 20)"
oc=$(median "${ours_cpu[@]}")
tc=$(median "${theirs_cpu[@]}")
row "send vs mailmerge: CPU per message (ms, user + system)" "$oc" "$tc (mailmerge $MAILMERGE_VERSION)" \
    "$(ratio "$tc" "$oc")x lighter" "—" "—"

# --- 5. a big list ---------------------------------------------------------------------------
# peak RSS in MB and wall seconds from /usr/bin/time -v output
peak() {
    awk -F': ' '/Maximum resident set size/ {kb=$2} /Elapsed \(wall clock\)/ {w=$2}
        END {n=split(w, p, ":"); s=0; for (i=1; i<=n; i++) s=s*60+p[i]; printf "%.1f %.0f\n", kb/1024, s}' "$1"
}
log "5. $BIG members to smtp-sink, 8 connections (/usr/bin/time -v)"
gen_list "$BIG" lists/big.csv
start_sink; port=$PORT
rm -rf .bulletin
/usr/bin/time -v "$BIN" send issues/short --list lists/big.csv --smtp "smtp://127.0.0.1:$port" \
    --connections 8 --rate unlimited --yes 2>"$WORK/big.log" || { tail -5 "$WORK/big.log" >&2; exit 1; }
stop_sinks
grep "accepted:" "$WORK/big.log" >&2
read -r MB SECS < <(peak "$WORK/big.log")
row "$BIG members to smtp-sink: peak memory" "$MB MB" "—" "—" "< 100 MB" "$(awk -v m="$MB" 'BEGIN {print (m < 100) ? "yes" : "no"}')"
row "$BIG members to smtp-sink: wall time" "$SECS s ($(rate "$BIG" 0 "$SECS") msg/s)" "—" "—" "—" "—"
if [ "$BIG_DRY" != 0 ]; then
    log "5. $BIG_DRY members, dry run into an outbox (/usr/bin/time -v)"
    [ "$BIG_DRY" = "$BIG" ] || gen_list "$BIG_DRY" lists/big.csv
    rm -rf .bulletin # a dry run reads the journal: the send above would leave nothing to do
    /usr/bin/time -v "$BIN" send issues/short --list lists/big.csv --dry-run --yes \
        --outbox "$WORK/outbox" 2>"$WORK/dry.log" || { tail -5 "$WORK/dry.log" >&2; exit 1; }
    DISK=$(du -sm "$WORK/outbox" | cut -f1)
    rm -rf "$WORK/outbox"
    read -r MB SECS < <(peak "$WORK/dry.log")
    row "$BIG_DRY members, dry run: peak memory" "$MB MB" "—" "—" "< 100 MB" "$(awk -v m="$MB" 'BEGIN {print (m < 100) ? "yes" : "no"}')"
    row "$BIG_DRY members, dry run: wall time" "$SECS s ($(rate "$BIG_DRY" 0 "$SECS") files/s, $DISK MB)" "—" "—" "—" "—"
fi
rm -f lists/big.csv

# --- 6. bounces ------------------------------------------------------------------------------
if [ -d "$CORPUS" ]; then
    N=$(find "$CORPUS" -maxdepth 1 -type f | wc -l)
    log "6. bounces: bulletin vs Sisimai on $N messages"
    hyperfine --style none --warmup 2 --runs "$((RUNS * 2))" --export-json "$WORK/bounces.json" \
        -n bulletin "$BIN bounces '$CORPUS' --json" \
        -n sisimai "perl -MSisimai -e 'print Sisimai->dump(\$ARGV[0], delivered => 0)' '$CORPUS'" >/dev/null
    read -r B S < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
print("%.0f %.0f" % (n / r["bulletin"], n / r["sisimai"]))' "$WORK/bounces.json" "$N")
    row "bounce parsing, $N messages (msg/s)" "$B" "$S (Sisimai $(perl -MSisimai -e 'print Sisimai->version'))" "$(ratio "$B" "$S")x faster" "—" "—"
else
    log "6. skipped: no bounce corpus at $CORPUS (set BENCH_CORPUS)"
fi

echo
echo "$TABLE"
