# The pieces scripts/run.sh (`make run`) and scripts/cluster.sh (`make cluster`) share: settings,
# the API token, starting the servers, waiting for them, and stopping them. Sourced, not run.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The defaults of defaults.env (ports, offline/telemetry switches, the cluster's settings) for
# whatever the environment leaves unset or empty.
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
LOG_DIR="${LOG_DIR:-var/log}"
RUN_DIR="${RUN_DIR:-var/run}"  # the servers' process ids (and the API token, if made here)
# One compute thread per server: each handles one message at a time, and extra threads only
# fight each other and the other server for the cores (bench/results.md has the figures).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
    TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}" \
    TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
# The action server is reached only by the Rasa server, so it listens on loopback alone.
export ACTION_HOST="${ACTION_HOST:-127.0.0.1}"
export SANIC_HOST="$ACTION_HOST"
# Microsoft Teams settings (credentials.yml). Rasa cannot read credentials.yml if one of them is
# unset, so each is set, empty if not given: empty means the channel's default, and without an
# app id the Teams channel refuses every activity while the other channels work.
export TEAMS_APP_ID="${TEAMS_APP_ID:-}" TEAMS_APP_PASSWORD="${TEAMS_APP_PASSWORD:-}" \
    TEAMS_APP_TYPE="${TEAMS_APP_TYPE:-}" TEAMS_TENANT_ID="${TEAMS_TENANT_ID:-}" \
    TEAMS_OPENID_METADATA_URL="${TEAMS_OPENID_METADATA_URL:-}" TEAMS_TOKEN_URL="${TEAMS_TOKEN_URL:-}"
# Each server gets STOP_GRACE seconds to finish what it is doing after it is told to stop; then
# it is killed, so stopping never hangs.
STOP_GRACE="${STOP_GRACE:-15}"
mkdir -p var "$LOG_DIR" "$RUN_DIR"

require_free_ports() {  # port...
    for port in "$@"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "error: port $port is already in use; stop whatever is using it and try again." >&2
            exit 1
        fi
    done
}

# The Rasa HTTP API (/conversations/..., /model/...) answers only requests carrying this token
# (?token=...). Without RASA_API_TOKEN, a random token is made for this run and written to
# $RUN_DIR/rasa-api-token, readable by this user alone.
make_api_token() {
    rm -f "$RUN_DIR/rasa-api-token"
    if [ -z "${RASA_API_TOKEN:-}" ]; then
        RASA_API_TOKEN="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        (umask 077 && echo "$RASA_API_TOKEN" >"$RUN_DIR/rasa-api-token")
        api_token_from="the token in $RUN_DIR/rasa-api-token"
    else
        api_token_from="RASA_API_TOKEN"
    fi
    export RASA_API_TOKEN
}

# Sends each process its stop signal (SIGTERM unless given as pid:SIGNAL), waits up to
# STOP_GRACE seconds for all of them, then kills any left.
stop_processes() {  # pid[:signal]...
    local pids=() entry signal
    for entry in "$@"; do
        signal=TERM
        [[ "$entry" == *:* ]] && signal="${entry#*:}"
        kill "-$signal" "${entry%%:*}" 2>/dev/null || true
        pids+=("${entry%%:*}")
    done
    for _ in $(seq 1 $((STOP_GRACE * 5))); do
        local running=0 pid
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
}

# Each start_* function starts a server in the background and sets started_pid.
start_action_server() {  # port log pid-file
    .venv/bin/python -m rasa_sdk --actions actions --port "$1" >>"$2" 2>&1 &
    started_pid=$!
    echo "$started_pid" >"$3"
}

start_rasa_server() {  # port endpoints log pid-file [more rasa run options]
    .venv/bin/python scripts/rasa_server.py --model "$MODEL" --port "$1" --endpoints "$2" \
        --credentials credentials.yml --cors "${cors_origins[@]}" "${@:5}" >>"$3" 2>&1 &
    started_pid=$!
    echo "$started_pid" >"$4"
}

start_web_server() {  # log: the page server (the demo page, training sessions)
    .venv/bin/python -m pages --host "$WEB_HOST" --port "$WEB_PORT" >"$1" 2>&1 &
    started_pid=$!
}

wait_for() {  # name pid log command...: until the command succeeds
    for _ in $(seq 1 300); do
        if "${@:4}" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$2" 2>/dev/null; then
            echo "error: the $1 stopped while starting; the end of $3:" >&2
            tail -n 20 "$3" >&2
            exit 1
        fi
        sleep 1
    done
    echo "error: the $1 did not start within 5 minutes; see $3" >&2
    exit 1
}

print_ready() {
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
}
