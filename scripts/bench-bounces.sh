#!/usr/bin/env bash
# Bounce parsing speed: `bulletin bounces DIR --json` (release build) against the reference
# classifier, libsisimai-perl (Sisimai->dump, JSON out), on the same folder of messages, in
# one hyperfine run. Prints messages per second for each and the ratio.
#
#   scripts/bench-bounces.sh [DIR]      (default: ../shared/corpus/bounces/eml)
#
# Needs: hyperfine, libsisimai-perl (apt-get install hyperfine libsisimai-perl).
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:-../shared/corpus/bounces/eml}"
[ -d "$dir" ] || { echo "error: $dir: no such folder" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "error: hyperfine is not installed" >&2; exit 1; }
perl -MSisimai -e1 2>/dev/null || { echo "error: libsisimai-perl is not installed" >&2; exit 1; }

cargo build --release --quiet
bin="$PWD/target/release/bulletin"
messages=$(find "$dir" -maxdepth 1 -type f | wc -l)
sisimai_version=$(perl -MSisimai -e 'print Sisimai->version')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "corpus: $dir ($messages messages); Sisimai $sisimai_version; $(nproc) CPUs" >&2
hyperfine --warmup 3 --min-runs 10 --export-json "$out/h.json" \
  -n bulletin "$bin bounces '$dir' --json > /dev/null 2>&1" \
  -n sisimai "perl -MSisimai -e 'print Sisimai->dump(\$ARGV[0], delivered => 0)' '$dir' > /dev/null"

python3 - "$out/h.json" "$messages" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
r = {x["command"]: x for x in data["results"]}
b, s = r["bulletin"]["mean"], r["sisimai"]["mean"]
print(f"bulletin: {b*1000:.1f} ms ± {r['bulletin']['stddev']*1000:.1f} for {n} messages = {n/b:,.0f} messages/s")
print(f"sisimai:  {s*1000:.1f} ms ± {r['sisimai']['stddev']*1000:.1f} for {n} messages = {n/s:,.0f} messages/s")
print(f"ratio (wall clock): bulletin is {s/b:.1f}x faster")
bc = r["bulletin"]["user"] + r["bulletin"]["system"]
sc = r["sisimai"]["user"] + r["sisimai"]["system"]
print(f"CPU time (user+sys): bulletin {bc*1000:.1f} ms = {n/bc:,.0f} messages/s; sisimai {sc*1000:.1f} ms = {n/sc:,.0f} messages/s; ratio {sc/bc:.1f}x")
PY
