# Postfix's smtp-sink on free loopback ports, for the bench scripts (source this file).
# smtp-sink answers 250 to everything; stop_sinks (or the caller's exit trap) kills every one.

SINK_PIDS=()

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sink [OPTION...]: one smtp-sink on a free 127.0.0.1 port, with OPTIONs (e.g.
# -d DIR/%H%M%S. to keep the messages) before the address; sets PORT once it listens.
# Call it in the script's own shell, not in $( ): the sink must be remembered for stop_sinks.
start_sink() {
    local user=()
    PORT=$(free_port)
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    smtp-sink "${user[@]}" "$@" "127.0.0.1:$PORT" 1024 >/dev/null 2>&1 &
    SINK_PIDS+=("$!")
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "smtp-sink did not listen on 127.0.0.1:$PORT" >&2
    return 1
}

stop_sinks() {
    for pid in "${SINK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    SINK_PIDS=()
}

now() { date +%s.%N; }
