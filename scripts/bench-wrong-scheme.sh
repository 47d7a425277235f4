#!/usr/bin/env bash
# How long `bulletin send --to … --smtp smtp://HOST:PORT` takes to fail when PORT speaks TLS from
# the first byte (an implicit-TLS port such as 465, reached with the wrong scheme): a listener on
# loopback that, like Postfix with smtpd_tls_wrappermode, waits in silence for a TLS ClientHello
# (one thread per connection). Prints the error and the wall time of each run, with the
# configured greeting timeout (`[smtp] timeout_secs`), which the send no longer waits out.
#
#   scripts/bench-wrong-scheme.sh                   # 3 runs, timeout_secs = 60
#   BENCH_RUNS=5 BENCH_TIMEOUT=5 scripts/bench-wrong-scheme.sh
#   BULLETIN=path/to/another/bulletin scripts/bench-wrong-scheme.sh   # the same with another build
#
# Needs: python3, openssl (for the listener's throwaway certificate).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${BENCH_RUNS:-3}"
timeout="${BENCH_TIMEOUT:-60}"
port="${BENCH_PORT:-18465}"
for tool in python3 openssl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
if [ -z "${BULLETIN:-}" ]; then
    cargo build --release --quiet
    BULLETIN="$PWD/target/release/bulletin"
fi

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 - "$work" "$port" <<'PY' &
import socket, ssl, sys, threading
work, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{work}/cert.pem", f"{work}/key.pem")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(50)
def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)  # silent until a ClientHello comes
        t.sendall(b"220 tls.test ESMTP\r\n")
        t.recv(100)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
server=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

"$BULLETIN" init "$work/news" >/dev/null 2>&1
printf '\n[smtp]\ntimeout_secs = %s\n' "$timeout" >>"$work/news/bulletin.toml"
echo "smtp:// to an implicit-TLS port, timeout_secs = $timeout, $runs runs ($BULLETIN)"
for i in $(seq "$runs"); do
    start=$EPOCHREALTIME
    error=$(cd "$work/news" && "$BULLETIN" send issues/first --to me@example.org \
        --smtp "smtp://127.0.0.1:$port" 2>&1 >/dev/null | grep '^error' || true)
    end=$EPOCHREALTIME
    printf 'run %s: %s s: %s\n' "$i" "$(awk "BEGIN { printf \"%.1f\", $end - $start }")" "$error"
done
