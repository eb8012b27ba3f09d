#!/usr/bin/env bash
# Start the action server, the Rasa server and the page server (the demo page, the presenter
# screen of training sessions and the attendees' pages); Ctrl-C (or SIGTERM) stops them all.
# `make run` calls this after building the index and training the model.
set -euo pipefail
cd "$(dirname "$0")/.."

# The defaults of defaults.env (the ports RASA_PORT, ACTION_PORT and WEB_PORT, and the
# offline/telemetry switches) for whatever the environment leaves unset or empty.
while IFS='=' read -r name value; do
    [ -n "${!name:-}" ] || export "$name=$value"
done < <(grep -E '^[A-Z_][A-Z0-9_]*=' defaults.env)
# endpoints.yml's action_endpoint URL reads ACTION_PORT.
export RASA_PORT ACTION_PORT WEB_PORT
WEB_HOST="${WEB_HOST:-127.0.0.1}"
# The web pages (origins) that may use the chat: the Rasa server's CORS and, through
# credentials.yml, the socket.io channel. Space- or comma-separated.
export CORS_ORIGINS="${CORS_ORIGINS:-http://localhost:$WEB_PORT}"
read -ra cors_origins <<<"${CORS_ORIGINS//,/ }"
MODEL="${RASA_MODEL:-models/current.tar.gz}"
ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"  # the action server's URL and where conversations are kept
LOG_DIR="${LOG_DIR:-var/log}"
RUN_DIR="${RUN_DIR:-var/run}"  # the servers' process ids (and the API token, if made here)
# One compute thread per server: each handles one message at a time, and extra threads only
# fight each other and the other server for the cores (bench/results.md has the figures).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
    TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}" \
    TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
# The action server is reached only by the Rasa server, so it listens on loopback alone.
export SANIC_HOST="${ACTION_HOST:-127.0.0.1}"
# Microsoft Teams settings (credentials.yml). Rasa cannot read credentials.yml if one of them is
# unset, so each is set, empty if not given: empty means the channel's default, and without an
# app id the Teams channel refuses every activity while the other channels work.
export TEAMS_APP_ID="${TEAMS_APP_ID:-}" TEAMS_APP_PASSWORD="${TEAMS_APP_PASSWORD:-}" \
    TEAMS_APP_TYPE="${TEAMS_APP_TYPE:-}" TEAMS_TENANT_ID="${TEAMS_TENANT_ID:-}" \
    TEAMS_OPENID_METADATA_URL="${TEAMS_OPENID_METADATA_URL:-}" TEAMS_TOKEN_URL="${TEAMS_TOKEN_URL:-}"

mkdir -p var "$LOG_DIR" "$RUN_DIR"
for port in "$RASA_PORT" "$ACTION_PORT" "$WEB_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "error: port $port is already in use; stop whatever is using it and try again." >&2
        exit 1
    fi
done
# The Rasa HTTP API (/conversations/..., /model/...) answers only requests carrying this token
# (?token=...). Without RASA_API_TOKEN, a random token is made for this run and written to
# $RUN_DIR/rasa-api-token, readable by this user alone.
rm -f "$RUN_DIR/rasa-api-token"
if [ -z "${RASA_API_TOKEN:-}" ]; then
    RASA_API_TOKEN="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    (umask 077 && echo "$RASA_API_TOKEN" >"$RUN_DIR/rasa-api-token")
    api_token_from="the token in $RUN_DIR/rasa-api-token"
else
    api_token_from="RASA_API_TOKEN"
fi
export RASA_API_TOKEN

# Each server gets STOP_GRACE seconds to finish what it is doing after SIGTERM; then it is
# killed, so stopping never hangs.
STOP_GRACE="${STOP_GRACE:-15}"
stop_servers() {
    local pids=(${action_pid:-} ${rasa_pid:-} ${web_pid:-})
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 $((STOP_GRACE * 5))); do
        running=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
        [ "$running" = 0 ] && break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "==> process $pid did not stop within $STOP_GRACE s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
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

start_action_server() {
    .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" >>"$LOG_DIR/actions.log" 2>&1 &
    action_pid=$!
    echo "$action_pid" >"$RUN_DIR/actions.pid"
}

echo "==> starting the action server on 127.0.0.1:$ACTION_PORT (log: $LOG_DIR/actions.log)"
start_action_server
echo "==> starting the Rasa server on port $RASA_PORT (log: $LOG_DIR/rasa.log)"
.venv/bin/python scripts/rasa_server.py --model "$MODEL" --port "$RASA_PORT" \
    --endpoints "$ENDPOINTS" --credentials credentials.yml --cors "${cors_origins[@]}" \
    >"$LOG_DIR/rasa.log" 2>&1 &
rasa_pid=$!
echo "$rasa_pid" >"$RUN_DIR/rasa.pid"
echo "==> starting the page server on $WEB_HOST:$WEB_PORT (log: $LOG_DIR/web.log)"
.venv/bin/python -m pages --host "$WEB_HOST" --port "$WEB_PORT" >"$LOG_DIR/web.log" 2>&1 &
web_pid=$!

wait_for() {  # name url pid log
    for _ in $(seq 1 300); do
        if curl -fs -o /dev/null "$2"; then return 0; fi
        if ! kill -0 "$3" 2>/dev/null; then
            echo "error: the $1 stopped while starting; the end of $4:" >&2
            tail -n 20 "$4" >&2
            exit 1
        fi
        sleep 1
    done
    echo "error: the $1 did not start within 5 minutes; see $4" >&2
    exit 1
}
wait_for "action server" "http://127.0.0.1:$ACTION_PORT/health" "$action_pid" "$LOG_DIR/actions.log"
wait_for "Rasa server" "http://127.0.0.1:$RASA_PORT/" "$rasa_pid" "$LOG_DIR/rasa.log"
wait_for "page server" "http://${WEB_HOST/#0.0.0.0/127.0.0.1}:$WEB_PORT/" "$web_pid" "$LOG_DIR/web.log"

if [ -n "$TEAMS_APP_ID" ]; then
    teams="Microsoft Teams posts to https://<this server>/webhooks/teams/webhook (app $TEAMS_APP_ID)"
else
    teams="Microsoft Teams is off: TEAMS_APP_ID is not set (docs/teams.md)"
fi
cat <<INFO
==> ready
    Ask over REST:
      curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
           -d '{"sender":"me","message":"Can I comment on a planning application on Facebook?"}'
    Chat in the demo page: http://localhost:$WEB_PORT/
    Run a training session: http://localhost:$WEB_PORT/present (attendees' phones need WEB_HOST=0.0.0.0)
    Rasa's HTTP API (/conversations/...) needs ?token= with $api_token_from
    Chat widgets connect over socket.io to http://localhost:$RASA_PORT from $CORS_ORIGINS
    $teams
    Press Ctrl-C to stop the servers.
INFO
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
        start_action_server
    fi
done
