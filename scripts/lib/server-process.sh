# Functions shared by the scripts that run a throwaway server (broker.sh, redis.sh,
# postgres.sh). Sourced by them, not run.

# port_accepts PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
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
