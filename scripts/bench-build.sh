#!/usr/bin/env bash
# Wall time of `bulletin build` on the flagship example against the official MJML compiler (the
# npm package `mjml`) compiling the same MJML, measured with hyperfine; prints the ratio.
#
#   scripts/bench-build.sh            # RUNS=20 by default
#   MJML_CACHE=/some/dir RUNS=50 scripts/bench-build.sh
#
# mjml is installed with npm into MJML_CACHE (default /tmp/mjml-bench) when missing, never into
# the repository. Needs node/npm, hyperfine and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

ISSUE=examples/2023-09-cluster-news
NAME=$(basename "$ISSUE")
CACHE=${MJML_CACHE:-/tmp/mjml-bench}
MJML_VERSION=${MJML_VERSION:-5.4.1}
RUNS=${RUNS:-20}

for tool in npm node hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "bench-build: $tool is needed" >&2; exit 1; }
done

MJML="$CACHE/node_modules/.bin/mjml"
if [ ! -x "$MJML" ]; then
  echo "installing mjml@$MJML_VERSION into $CACHE" >&2
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error "mjml@$MJML_VERSION" >&2
fi

cargo build --release --locked --quiet
BIN=target/release/bulletin

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The MJML both compilers get: what `bulletin build` compiles (content filled in).
"$BIN" build "$ISSUE" --out "$WORK/ref" >/dev/null

echo "bulletin $("$BIN" --version | cut -d' ' -f2), mjml $("$MJML" --version | tr '\n' ' ')" >&2
hyperfine --warmup 3 --runs "$RUNS" --export-json "$WORK/times.json" \
  -n "bulletin build" "$BIN build $ISSUE --out $WORK/bulletin" \
  -n "mjml CLI" "$MJML $WORK/ref/$NAME.mjml -o $WORK/mjml.html" >&2

jq -r '
  .results as $r
  | ($r[0].mean * 1000) as $b | ($r[1].mean * 1000) as $m
  | "bulletin build: \($b * 100 | round / 100) ms ± \($r[0].stddev * 100000 | round / 100) ms (mean of \($r[0].times | length))",
    "mjml CLI:       \($m * 100 | round / 100) ms ± \($r[1].stddev * 100000 | round / 100) ms (mean of \($r[1].times | length))",
    "ratio:          \($m / $b * 10 | round / 10)x"
' "$WORK/times.json"
