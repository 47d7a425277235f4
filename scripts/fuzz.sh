#!/usr/bin/env bash
# Fuzz bulletin's parsers of untrusted input with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# TARGET is one of: issue (issue.toml parsing + compile + render), list (CSV list reading),
# bounce (bounce message parsing). SECONDS is the wall-clock time per target (default 600).
# Each run grows fuzz/corpus/TARGET, then minimises it (cargo fuzz cmin). A crash leaves its
# input in fuzz/artifacts/TARGET/ and stops the script with a non-zero status; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-…
#
# Environment:
#   FUZZ_SANITIZER  address | none (default none: the targets are safe Rust, libFuzzer finds
#                   panics, overflows, hangs and runaway memory without ASan, at twice the speed)
#   FUZZ_SEEDS      extra folder of seed inputs (read only). The inputs found from them go to a
#                   scratch corpus, not into fuzz/corpus.
#   FUZZ_JOBS       parallel jobs per target (default 1)
#
# The bounce target is built with optimisations and overflow checks but without debug
# assertions: mail-parser 0.11.9 holds a debug_assert! that malformed multiparts reach (see
# docs/FUZZING.md); release builds, which users run, compile it out, and libFuzzer would stop
# on it at every run. The other targets keep debug assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(issue list bounce)
which=${1:-all}
seconds=${2:-600}
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes nightly-only flags to rustc; this lets a stable toolchain accept them.
export RUSTC_BOOTSTRAP=1

if [ "$which" != all ]; then
  case " ${targets[*]} " in
    *" $which "*) targets=("$which") ;;
    *) echo "unknown target $which (one of: ${targets[*]}, all)" >&2; exit 2 ;;
  esac
fi

for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  [ -f "fuzz/$t.dict" ] && args+=(-dict="$PWD/fuzz/$t.dict")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
  dirs=("$PWD/$corpus")
  if [ -n "${FUZZ_SEEDS:-}" ]; then
    scratch=$(mktemp -d)
    dirs=("$scratch" "$PWD/$corpus" "$FUZZ_SEEDS")
    echo "fuzz $t: new inputs go to $scratch (seeded from $FUZZ_SEEDS)" >&2
  fi
  echo "fuzz $t: ${seconds}s, sanitizer $sanitizer" >&2
  TIMEFORMAT="fuzz $t: %R s wall, %U s user, %S s system"
  build=(-s "$sanitizer")
  flags=${RUSTFLAGS:-}
  if [ "$t" = bounce ]; then
    build+=(-O)
    flags="$flags -Coverflow-checks=on"
  fi
  time RUSTFLAGS="$flags" cargo fuzz run "${build[@]}" "$t" "${dirs[@]}" -- "${args[@]}"
  if [ -z "${FUZZ_SEEDS:-}" ]; then
    RUSTFLAGS="$flags" cargo fuzz cmin "${build[@]}" "$t" >/dev/null 2>&1 ||
      echo "fuzz $t: cmin failed" >&2
    echo "fuzz $t: corpus $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1)" >&2
  fi
done
