#!/usr/bin/env bash
# Wall time of `bulletin archive` on 500 generated issues (copies of the flagship with their
# own subjects, dates and one image of their own each), release build, measured with hyperfine.
#
#   scripts/bench-archive.sh              # ISSUES=500 RUNS=5 by default
#   ISSUES=1000 RUNS=3 scripts/bench-archive.sh
#
# Needs hyperfine. Each run builds into an empty folder (a full build); a second series
# rebuilds into the same folder, where unchanged files are not written again.
set -euo pipefail
cd "$(dirname "$0")/.."

ISSUES=${ISSUES:-500}
RUNS=${RUNS:-5}
command -v hyperfine >/dev/null || { echo "bench-archive: hyperfine is needed" >&2; exit 1; }

cargo build --release --locked --quiet
BIN=$PWD/target/release/bulletin

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/project/issues"
cp -r templates lists "$WORK/project/"
sed '/^\[archive\]/,$d' bulletin.toml > "$WORK/project/bulletin.toml"
printf '\n[archive]\nbase_url = "https://news.example.org/"\n' >> "$WORK/project/bulletin.toml"
python3 - "$WORK/project/issues" "$ISSUES" <<'PY'
import datetime, pathlib, re, shutil, sys
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
flagship = pathlib.Path("examples/2023-09-cluster-news")
text = (flagship / "issue.toml").read_text()
day = datetime.date(2023, 9, 28)
for i in range(n):
    d = day - datetime.timedelta(days=7 * i)
    folder = out / f"{d.isoformat()}-news-{i:04d}"
    shutil.copytree(flagship, folder)
    # one image of each issue is its own (a different file, so a different hashed name)
    with open(folder / "banner.png", "ab") as f:
        f.write(i.to_bytes(4, "big"))
    t = text.replace("Cluster News – September 2023", f"Cluster News No. {n - i}")
    t = re.sub(r"^published = .*$", f"published = {d.isoformat()}", t, flags=re.M)
    (folder / "issue.toml").write_text(t)
PY

cd "$WORK/project"
echo "bulletin $("$BIN" --version | cut -d' ' -f2), $ISSUES issues, $(nproc) cores" >&2
"$BIN" archive --out "$WORK/check" >/dev/null 2>"$WORK/check.log"
tail -1 "$WORK/check.log" >&2
du -sh "$WORK/check" | cut -f1 | sed 's/^/site size: /' >&2
du -h "$WORK/check/feed.xml" | cut -f1 | sed 's/^/feed.xml: /' >&2
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "one full build: wall %e s, user %U s, system %S s, peak memory %M KB" \
    "$BIN" archive --out "$WORK/memory" >/dev/null 2>"$WORK/time.log" || true
  tail -1 "$WORK/time.log" >&2
fi
hyperfine --warmup 1 --runs "$RUNS" \
  -n "archive, empty folder" --prepare "rm -rf $WORK/site" "$BIN archive --out $WORK/site" \
  -n "archive, unchanged rebuild" "$BIN archive --out $WORK/check"
