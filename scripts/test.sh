#!/usr/bin/env bash
# Run every test of bulletin, installing what the tests need first (Postfix for smtp-sink and
# real bounces, Dovecot for the IMAP path, Chromium for the preview, the theme's contrast and the
# unsubscribe page, SpamAssassin for the flagship's score, curl for one-click unsubscribes as
# mailbox providers send them, dkimpy for DKIM, feedparser for the archive's feed, dnsmasq for the DNS checks, cargo-deny for the
# dependency audit; wrk for scripts/bench-unsubscribe.sh). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v smtp-sink >/dev/null 2>&1 || need+=(postfix)
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# dnsmasq serves the test zones of the deliverability (DNS) checks on loopback.
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
# SpamAssassin scores the flagship message as sent (local tests only).
command -v spamassassin >/dev/null 2>&1 || need+=(spamassassin)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# tmux shows a send as a person sees it in an 80-column terminal.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
# dkimpy checks DKIM signatures independently of our signer.
/usr/bin/python3 -c 'import dkim; dkim.verify' >/dev/null 2>&1 || need+=(python3-dkim)
# feedparser reads the archive's Atom feed as feed readers do.
/usr/bin/python3 -c 'import feedparser' >/dev/null 2>&1 || need+=(python3-feedparser)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing test dependencies: ${need[*]}" >&2
  $SUDO apt-get update -qq
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# Dependencies: licences, bans, sources and known advisories (cargo-deny, deny.toml).
scripts/audit.sh
cargo test --locked "$@"
