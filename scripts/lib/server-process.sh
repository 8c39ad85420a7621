# Functions shared by the scripts that run a throwaway server (broker.sh, redis.sh,
# postgres.sh) and by those that start such servers (test.sh, bench/run). Sourced, not run.
# A server script defines `start DIR [PORT]`, `stop DIR` and `die MESSAGE`, and ends with
# `service_main "$@"`.

# service_main ARGS...: a server script's command line, `start DIR [PORT]` or `stop DIR`,
# handed to its start and stop functions.
service_main() {
    case "${1:-}" in
        start)
            [[ $# -ge 2 && $# -le 3 ]] || service_usage
            start "$2" "${3:-}"
            ;;
        stop)
            [[ $# -eq 2 ]] || service_usage
            stop "$2"
            ;;
        *)
            service_usage
            ;;
    esac
}

service_usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
}

# check_port PORT: dies unless PORT is a TCP port number.
check_port() {
    if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
        die "bad port: $1"
    fi
}

# wait_serving NAME PID_FILE LOG TIMEOUT_S WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds. Dies, showing the end of LOG, when the process recorded in PID_FILE exits or when
# TIMEOUT_S seconds pass (WHAT says what NAME did not do in time).
wait_serving() {
    local name="$1" pid_file="$2" log="$3" timeout_s="$4" what="$5"
    shift 5
    local deadline=$((SECONDS + timeout_s))
    until "$@"; do
        if [[ -s "$pid_file" ]] && ! pid_running "$pid_file"; then
            tail -n 20 "$log" >&2 2>/dev/null || true
            die "$name exited during start"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$log" >&2 2>/dev/null || true
            die "$name did not $what within ${timeout_s}s"
        fi
        sleep 0.1
    done
}

# port_accepts PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: prints a loopback TCP port that nothing listens on, chosen below the kernel's
# ephemeral range: ports in that range are also the local ends of outgoing connections (and of
# servers that bind port 0), which a listener could not bind although nothing listens there.
free_port() {
    local low=32768 high port
    read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    ((low > 11024)) || low=32768
    for _ in $(seq 1 100); do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! port_accepts "$port"; then
            echo "$port"
            return
        fi
    done
    echo "free_port: no free loopback port found" >&2
    return 1
}

# pid_running PID_FILE: true while the pid recorded in PID_FILE is a live process.
pid_running() {
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid_file NAME PID_FILE TIMEOUT_S DIR: stops the process recorded in PID_FILE (SIGTERM,
# then SIGKILL after TIMEOUT_S seconds) and removes PID_FILE. NAME names the server and DIR its
# directory in what is printed.
stop_pid_file() {
    local name="$1" pid_file="$2" timeout_s="$3" dir="$4" pid deadline
    if ! pid_running "$pid_file"; then
        rm -f "$pid_file"
        echo "not running for $dir"
        return
    fi
    pid="$(cat "$pid_file")"
    kill -TERM "$pid"
    deadline=$((SECONDS + timeout_s))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "$name (pid $pid) ignored SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$pid_file"
    echo "stopped $name (pid $pid)"
}
