#!/usr/bin/env bash
# Start the action server, the Rasa server and the page server (the demo page, the presenter
# screen of training sessions and the attendees' pages); Ctrl-C (or SIGTERM) stops them all.
# `make run` calls this after building the index and training the model.
set -euo pipefail
source "$(dirname "$0")/servers.sh"

ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"  # the action server's URL and where conversations are kept
require_free_ports "$RASA_PORT" "$ACTION_PORT" "$WEB_PORT"
make_api_token

stop_servers() {
    stop_processes ${action_pid:-} ${rasa_pid:-} ${web_pid:-}
    wait 2>/dev/null || true
}
on_signal() {
    trap - INT TERM EXIT
    echo "==> stopping"
    stop_servers
    echo "==> stopped"
    exit 0
}
trap on_signal INT TERM
trap stop_servers EXIT

echo "==> starting the action server on 127.0.0.1:$ACTION_PORT (log: $LOG_DIR/actions.log)"
start_action_server "$ACTION_PORT" "$LOG_DIR/actions.log" "$RUN_DIR/actions.pid"
action_pid=$started_pid
echo "==> starting the Rasa server on port $RASA_PORT (log: $LOG_DIR/rasa.log)"
: >"$LOG_DIR/rasa.log"
start_rasa_server "$RASA_PORT" "$ENDPOINTS" "$LOG_DIR/rasa.log" "$RUN_DIR/rasa.pid"
rasa_pid=$started_pid
echo "==> starting the page server on $WEB_HOST:$WEB_PORT (log: $LOG_DIR/web.log)"
start_web_server "$LOG_DIR/web.log"
web_pid=$started_pid

wait_for "action server" "$action_pid" "$LOG_DIR/actions.log" curl -fs "http://127.0.0.1:$ACTION_PORT/health"
wait_for "Rasa server" "$rasa_pid" "$LOG_DIR/rasa.log" curl -fs "http://127.0.0.1:$RASA_PORT/"
wait_for "page server" "$web_pid" "$LOG_DIR/web.log" curl -fs "http://${WEB_HOST/#0.0.0.0/127.0.0.1}:$WEB_PORT/"
print_ready

# Keep going: a crashed action server is started again (members get an apology meanwhile, and
# answers resume without restarting Rasa); if the Rasa server or the page server stops,
# everything stops.
while true; do
    wait -n || true
    if ! kill -0 "$rasa_pid" 2>/dev/null; then
        echo "error: the Rasa server stopped unexpectedly; see $LOG_DIR/rasa.log" >&2
        exit 1
    fi
    if ! kill -0 "$web_pid" 2>/dev/null; then
        echo "error: the page server stopped unexpectedly; see $LOG_DIR/web.log" >&2
        exit 1
    fi
    if ! kill -0 "$action_pid" 2>/dev/null; then
        echo "==> the action server stopped; starting it again (log: $LOG_DIR/actions.log)"
        sleep 1
        start_action_server "$ACTION_PORT" "$LOG_DIR/actions.log" "$RUN_DIR/actions.pid"
        action_pid=$started_pid
    fi
done
