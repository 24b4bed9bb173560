# shellcheck shell=bash
# Process-group handling for scripts that start servers (sourced after lib/common.sh), the same
# scheme scripts/test uses: every server and every test phase runs as its own process group
# (setsid), is registered in $PG_RUN_DIR/pgids, and is ended as a whole group; a watchdog in its own
# session ends the registered groups if the script dies without running its trap (SIGKILL).
#
# The sourcing script sets PG_RUN_DIR (a scratch dir it owns) and calls pg_start_watchdog once,
# then pg_cleanup from its EXIT trap.

PG_SERVER_PIDS=()    # each server is its own process-group leader (setsid), so pid == pgid
PG_SERVER_NAMES=()
PG_PHASE_PID=""      # the running phase, also a process-group leader
PG_WATCHDOG_PID=""

# pg_kill_group PGID NAME: SIGTERM the process group, SIGKILL it if still there after 10 s, reap it.
pg_kill_group() {
  local pgid="$1" name="$2" n
  if kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for ((n = 0; n < 100; n++)); do
      kill -0 -- "-$pgid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 -- "-$pgid" 2>/dev/null; then
      nimbus_log "$name (pgid $pgid) ignored SIGTERM; killing"
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
  fi
  wait "$pgid" 2>/dev/null || true
}

pg_register()   { echo "$1" >>"$PG_RUN_DIR/pgids"; }
pg_unregister() { grep -vx "$1" "$PG_RUN_DIR/pgids" >"$PG_RUN_DIR/pgids.tmp" || true; mv -f "$PG_RUN_DIR/pgids.tmp" "$PG_RUN_DIR/pgids"; }

# pg_start_server NAME LOG CMD...: CMD in its own session/process group, output to LOG.
pg_start_server() {
  local name="$1" log="$2"; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  PG_SERVER_PIDS+=("$!")
  pg_register "$!"
  PG_SERVER_NAMES+=("$name")
}

pg_stop_servers() {
  local i
  for i in "${!PG_SERVER_PIDS[@]}"; do
    pg_kill_group "${PG_SERVER_PIDS[$i]}" "${PG_SERVER_NAMES[$i]}"
  done
  PG_SERVER_PIDS=()
  PG_SERVER_NAMES=()
}

# pg_run_phase CMD...: CMD as its own process group, waited for in the background so that a signal
# to this script is handled at once (the trap then ends the phase's whole group).
pg_run_phase() {
  local rc=0
  setsid "$@" &
  PG_PHASE_PID=$!
  pg_register "$PG_PHASE_PID"
  wait "$PG_PHASE_PID" || rc=$?
  pg_unregister "$PG_PHASE_PID"
  PG_PHASE_PID=""
  return "$rc"
}

pg_start_watchdog() {
  : >"$PG_RUN_DIR/pgids"
  # shellcheck disable=SC2016  # the watchdog's own variables
  setsid bash -c '
    script=$1 dir=$2 keep=$3
    while kill -0 "$script" 2>/dev/null; do sleep 1; done
    [ -f "$dir/pgids" ] || exit 0
    groups=$(cat "$dir/pgids")
    for g in $groups; do kill -TERM -- "-$g" 2>/dev/null; done
    sleep 5
    for g in $groups; do kill -KILL -- "-$g" 2>/dev/null; done
    [ "$keep" = 1 ] || rm -rf "$dir"
  ' nimbus-watchdog "$$" "$PG_RUN_DIR" "${NIMBUS_KEEP_TMP:-0}" </dev/null >/dev/null 2>&1 &
  PG_WATCHDOG_PID=$!
}

# pg_cleanup: the running phase, the watchdog and every server; then the scratch dir (unless
# NIMBUS_KEEP_TMP=1).
pg_cleanup() {
  [[ -z "$PG_PHASE_PID" ]] || pg_kill_group "$PG_PHASE_PID" "running phase"
  [[ -z "$PG_WATCHDOG_PID" ]] || { kill -KILL -- "-$PG_WATCHDOG_PID" 2>/dev/null || true; wait "$PG_WATCHDOG_PID" 2>/dev/null || true; }
  pg_stop_servers
  if [[ -n "${PG_RUN_DIR:-}" && -d "$PG_RUN_DIR" ]]; then
    if [[ "${NIMBUS_KEEP_TMP:-0}" == 1 ]]; then
      nimbus_log "kept server data and logs in $PG_RUN_DIR"
    else
      rm -rf "$PG_RUN_DIR"
    fi
  fi
}
