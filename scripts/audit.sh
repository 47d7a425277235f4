#!/usr/bin/env bash
# Dependency audit with cargo-deny (deny.toml).
#
#   scripts/audit.sh            licences, bans and sources (offline), then known advisories
#   scripts/audit.sh --offline  licences, bans and sources only
#
# The advisory check downloads the RustSec advisory database from GitHub into
# ~/.cargo/advisory-dbs; a machine that reaches only package registries cannot run it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deny --version >/dev/null 2>&1; then
  cargo install --locked cargo-deny
fi

cargo deny --locked check licenses bans sources
if [ "${1:-}" != --offline ]; then
  cargo deny --locked check advisories
fi
