# What the bench scripts share (source this file after setting ROOT): Postfix's smtp-sink on
# free loopback ports, member lists, and the project the sends use.
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

# gen_list N FILE: a list of N members (scripts/gen-list.py).
gen_list() { python3 "$ROOT/scripts/gen-list.py" "$1" "$2"; }

# bench_project DIR: the flagship issue and the templates, with images linked from an asset URL
# as a bulk send would do (so every message is the same text and HTML, personalised), and a
# short issue (`issues/short`) for the big lists: memory does not depend on the message's size,
# time does.
bench_project() {
    local dir=$1
    mkdir -p "$dir/lists" "$dir/issues/short"
    cp -r "$ROOT/templates" "$dir/"
    cp -r "$ROOT/examples/2023-09-cluster-news" "$dir/issues/flagship"
    cat >"$dir/issues/short/issue.toml" <<'EOF'
subject = "A short note"
title = "A SHORT NOTE"
editor_note = "One paragraph, for the big list."
EOF
    cat >"$dir/bulletin.toml" <<'EOF'
[sender]
name = "West Midlands HealthTech Cluster"
email = "news@wmhtc.example.org"
list_id = "Cluster News <cluster-news.wmhtc.example.org>"
postal_address = "Innovation Campus, 1 Example Way, Birmingham B1 1AA, United Kingdom"
bounce_address = "bounces@wmhtc.example.org"
unsubscribe_mailto = "unsubscribe@wmhtc.example.org"
unsubscribe_url = "https://wmhtc.example.org/unsubscribe/{token}"
token_secret = "benchmark-secret"

[send]
asset_base_url = "https://wmhtc.example.org/assets/2023-09"
rate = "unlimited"
EOF
}
