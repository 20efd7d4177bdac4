#!/bin/sh
# The monitor's schedule, without cron: run a command, sleep, repeat.
#
#   attrition-monitor-loop [COMMAND ...]      default: attrition monitor --retrain --json
#
#   ATTRITION_MONITOR_INTERVAL_SECONDS  pause between the end of one run and the next (86400)
#   ATTRITION_MONITOR_MAX_RUNS          stop after this many runs, 0 = never (0); the loop then
#                                       exits with the last run's status
#   ATTRITION_MONITOR_HEARTBEAT         file touched before every run, for the health check
#
# A failing run (exit 1) or a run that found drift (exit 3 with --fail-on-drift) is logged and
# the loop goes on. SIGTERM/SIGINT stop it promptly, passing the signal to a run in progress.
set -u

interval="${ATTRITION_MONITOR_INTERVAL_SECONDS:-86400}"
max_runs="${ATTRITION_MONITOR_MAX_RUNS:-0}"
heartbeat="${ATTRITION_MONITOR_HEARTBEAT:-}"

log() {
    printf '%s monitor-loop: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

require_count() {
    case "$2" in
        '' | *[!0-9]*)
            log "$1 must be a non-negative integer, got '$2'"
            exit 2
            ;;
    esac
}

require_count ATTRITION_MONITOR_INTERVAL_SECONDS "$interval"
require_count ATTRITION_MONITOR_MAX_RUNS "$max_runs"
if [ "$#" -eq 0 ]; then
    set -- attrition monitor --retrain --json
fi

child=""
stop() {
    log "stopping"
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child"
    fi
    exit 0
}
trap stop TERM INT

runs=0
status=0
while :; do
    if [ -n "$heartbeat" ]; then
        touch "$heartbeat" || log "cannot touch heartbeat file $heartbeat"
    fi
    runs=$((runs + 1))
    log "run $runs: $*"
    "$@" &
    child=$!
    wait "$child"
    status=$?
    child=""
    case "$status" in
        0) log "run $runs finished" ;;
        3) log "run $runs finished: drift detected" ;;
        *) log "run $runs failed with exit status $status" ;;
    esac
    if [ "$max_runs" -gt 0 ] && [ "$runs" -ge "$max_runs" ]; then
        exit "$status"
    fi
    sleep "$interval" &
    child=$!
    wait "$child"
    child=""
done
