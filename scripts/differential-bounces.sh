#!/usr/bin/env bash
# Differential check of the bounce classifier against the reference (libsisimai-perl) on
# generated reports: N reports (default 3000) from scripts/lib/synthetic-bounces.py, in five
# layouts, each with a reply, a status code and a command drawn at random. Prints how often
# bulletin gives the reference's class and reason, and the commonest disagreements with an
# example each. Unlike the corpus test, it says nothing of real mail's mix of codes and words;
# it finds where the two classifiers decide differently when the code, the command and the
# words pull different ways.
#
#   scripts/differential-bounces.sh [N] [SEED]
#
# Needs: python3, libsisimai-perl (apt-get install libsisimai-perl).
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-3000}"
seed="${2:-1}"
perl -MSisimai -e1 2>/dev/null || { echo "error: libsisimai-perl is not installed" >&2; exit 1; }

cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 scripts/lib/synthetic-bounces.py "$out/eml" "$n" "$seed"

perl -MSisimai -e '
  opendir(my $d, $ARGV[0]) or die "$ARGV[0]: $!";
  for my $f (sort grep { /\.eml$/ } readdir $d) {
    for my $e (@{ Sisimai->make("$ARGV[0]/$f") || [] }) {
      print join("\t", $f, lc $e->recipient->address, $e->reason, $e->softbounce), "\n";
    }
  }' "$out/eml" > "$out/reference.tsv"
target/release/bulletin bounces "$out/eml" --json 2>/dev/null > "$out/bulletin.jsonl"

python3 - "$out/reference.tsv" "$out/bulletin.jsonl" "$out/eml" "$(perl -MSisimai -e 'print Sisimai->version')" <<'PY'
import collections, json, os, sys
ref_path, ours_path, eml, version = sys.argv[1:5]
ours = {}
for line in open(ours_path):
    j = json.loads(line)
    ours[(os.path.basename(j["file"]), j["recipient"])] = j
total = same_class = same_reason = 0
apart = collections.Counter()
example = {}
for line in open(ref_path):
    f, rcpt, reason, soft = line.rstrip("\n").split("\t")
    want = {"feedback": "complaint", "vacation": "auto-reply"}.get(
        reason, "hard" if soft == "0" else "soft")
    got = ours.get((f, rcpt))
    total += 1
    same_class += bool(got and got["class"] == want)
    same_reason += bool(got and got["reason"] == reason)
    if not got or got["class"] != want:
        key = (reason, got["reason"] if got else "(none)")
        apart[key] += 1
        example.setdefault(key, (f, got["diagnostic"] if got else ""))
print(f"{total} records from {len(os.listdir(eml))} generated reports; reference Sisimai {version}")
print(f"same class: {same_class} ({100 * same_class / max(total, 1):.1f}%)")
print(f"same reason: {same_reason} ({100 * same_reason / max(total, 1):.1f}%)")
print("class disagreements (reference reason -> bulletin reason), commonest first:")
for (want, got), count in apart.most_common(12):
    f, diag = example[(want, got)]
    print(f"  {count:4} {want} -> {got}   e.g. {f}: {diag[:110]}")
PY
