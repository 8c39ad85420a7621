#!/usr/bin/env bash
# Runs a throwaway Redis server for development and tests: otad nodes share throttling and
# nonces through it (decision 0015), and the tests of src/redis read its address from
# OTAD_TEST_REDIS.
#
#   scripts/redis.sh start DIR [PORT]   start redis-server in the background on 127.0.0.1:PORT
#                                       (default 56379), wait until it answers PING, and print
#                                       its URL on the last line
#   scripts/redis.sh stop DIR           stop the server started for DIR
#
# What DIR holds:
#   redis.pid   the server's process id while it runs.
#   redis.log   the server's log.
# Nothing else: no persistence (no RDB snapshots, no append-only file), so every start is
# empty. No password and loopback only: for tests, never for data that matters.
#
# Works as root and as any other user: the server runs as the caller.
#
# Example:
#   dir="$(mktemp -d)"
#   export OTAD_TEST_REDIS="$(scripts/redis.sh start "$dir" | tail -n 1)"
#   ...
#   scripts/redis.sh stop "$dir"
set -euo pipefail

# shellcheck source=lib/server-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server-process.sh"

readonly DEFAULT_PORT=56379
readonly START_TIMEOUT_S=10
readonly STOP_TIMEOUT_S=10


die() {
    echo "redis.sh: $*" >&2
    exit 1
}

# True while the pid recorded in DIR/redis.pid is a live process.
running() {
    pid_running "$1/redis.pid"
}

# answers_ping CLI PORT: true when the server on 127.0.0.1:PORT answers PING.
answers_ping() {
    [[ "$("$1" -h 127.0.0.1 -p "$2" ping 2>/dev/null || true)" == PONG ]]
}

find_program() {
    command -v "$1" 2>/dev/null || { [[ -x "/usr/bin/$1" ]] && echo "/usr/bin/$1"; } ||
        die "$1 is not installed (scripts/deps.sh --test installs it)"
}

start() {
    local dir="$1" port="${2:-$DEFAULT_PORT}"
    check_port "$port"
    local server cli
    server="$(find_program redis-server)"
    cli="$(find_program redis-cli)"

    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    running "$dir" && die "already running for $dir (pid $(cat "$dir/redis.pid"))"
    port_accepts "$port" && die "port $port is already in use"

    rm -f "$dir/redis.pid"
    # --save '' and --appendonly no: nothing is written to disk. --daemonize yes: the server
    # detaches once it is set up and writes its pid file.
    "$server" --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
        2>>"$dir/redis.log" ||
        { tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true; die "redis-server failed to start"; }

    wait_serving redis-server "$dir/redis.pid" "$dir/redis.log" "$START_TIMEOUT_S" \
        "answer PING on port $port" answers_ping "$cli" "$port"
    echo "redis listening on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"), log $dir/redis.log)"
    echo "redis://127.0.0.1:$port/0"
}

stop() {
    stop_pid_file redis-server "$1/redis.pid" "$STOP_TIMEOUT_S" "$1"
}

service_main "$@"
