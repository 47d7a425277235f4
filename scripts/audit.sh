#!/usr/bin/env bash
# Dependency audit with cargo-deny (deny.toml): licences, bans, sources and known advisories.
#
#   scripts/audit.sh            all four checks; installs cargo-deny if missing
#   scripts/audit.sh --offline  licences, bans and sources only (no network at all)
#
# The advisory check needs the RustSec advisory database, a git repository on GitHub that
# cargo-deny keeps in ~/.cargo/advisory-dbs. When it cannot be fetched (a machine that reaches
# only package registries), the copy already there is used; with no copy at all the script
# says in its output that advisories were not checked, and fails only if
# AUDIT_REQUIRE_ADVISORIES=1. Exceptions, each with its reason, are in deny.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deny --version >/dev/null 2>&1; then
  echo "audit: installing cargo-deny" >&2
  cargo install --locked cargo-deny
fi

cargo deny --locked check licenses bans sources
[ "${1:-}" = --offline ] && exit 0

db_dir=${CARGO_HOME:-$HOME/.cargo}/advisory-dbs
if timeout 300 cargo deny --locked fetch db 2>/dev/null; then
  cargo deny --locked check advisories
elif compgen -G "$db_dir/advisory-db-*/crates" >/dev/null; then
  db=$(compgen -G "$db_dir/advisory-db-*" | head -1)
  echo "audit: the advisory database cannot be fetched; using the copy of $(git -C "$db" log -1 --format=%cs)" >&2
  cargo deny --locked --offline check advisories
else
  echo "audit: ADVISORIES NOT CHECKED: the RustSec advisory database cannot be fetched from" \
    "this machine and no copy is in $db_dir (run scripts/audit.sh where GitHub is reachable)" >&2
  if [ "${AUDIT_REQUIRE_ADVISORIES:-0}" = 1 ]; then exit 1; fi
fi
exit 0
